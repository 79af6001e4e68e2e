package digest

import (
	"testing"
)

// The benchmarks follow /work/shared/peerbench/README.md: the same names,
// workloads and unit of work as BenchmarkDigestClient/impl=icholy and
// BenchmarkDigestServer/impl=icholy there.

// BenchmarkDigestClient: what a UAC does on a 401: parse the
// WWW-Authenticate value, compute the answer, serialize the Authorization
// value.
func BenchmarkDigestClient(b *testing.B) {
	w := loadWorkload(b)
	wwwAuth := headerValue(b, "401-register.sip", "WWW-Authenticate")
	opts := Options{Username: w.username, Password: w.password,
		Request: Request{Method: w.method, URI: w.uri}, Cnonce: w.cnonce, NC: 1}
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			chal, err := ParseChallenge(wwwAuth)
			if err != nil {
				b.Fatal(err)
			}
			cr, err := Respond(&chal, &opts)
			if err != nil {
				b.Fatal(err)
			}
			if cr.Response != w.response {
				b.Fatal("bad response")
			}
			_ = cr.String()
		}
	})
}

// BenchmarkDigestServer: what a registrar does: parse the Authorization
// value, recompute the response with the stored password, compare.
func BenchmarkDigestServer(b *testing.B) {
	w := loadWorkload(b)
	authz := headerValue(b, "register-auth.sip", "Authorization")
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cr, err := ParseCredentials(authz)
			if err != nil {
				b.Fatal(err)
			}
			if err := Check(&cr, Request{Method: w.method}, cr.Username, w.password); err != nil {
				b.Fatal(err)
			}
		}
	})
	// impl=ours-verify does more than the peer's unit of work: Server.Verify
	// also checks the nonce's HMAC and age and records the nonce count. The
	// Authorization values, with counts that increase, are made in batches
	// outside the timer.
	b.Run("impl=ours-verify", func(b *testing.B) {
		s := &Server{Realm: "biloxi.example.com", Secret: []byte("benchmark secret"), Algorithms: []Algorithm{MD5}}
		req := Request{Method: w.method, URI: w.uri}
		var batch []string
		next := 0
		refill := func() {
			cl := &Client{Username: w.username, Password: w.password, Cnonce: func() string { return w.cnonce }}
			chal := s.Challenges(false)[0]
			batch = batch[:0]
			for range 1024 {
				cr, err := cl.Authorize(&chal, req)
				if err != nil {
					b.Fatal(err)
				}
				batch = append(batch, cr.String())
			}
			next = 0
		}
		refill()
		b.ReportAllocs()
		for b.Loop() {
			if next == len(batch) {
				b.StopTimer()
				refill()
				b.StartTimer()
			}
			cr, err := ParseCredentials(batch[next])
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Verify(&cr, req, w.username, w.password); err != nil {
				b.Fatal(err)
			}
			next++
		}
	})
}

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
}

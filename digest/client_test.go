package digest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// counter returns a deterministic cnonce source: c1, c2, ...
func counter() func() string {
	n := 0
	return func() string { n++; return "c" + strconv.Itoa(n) }
}

func TestClientNonceCount(t *testing.T) {
	cl := &Client{Username: "alice", Password: "pw", Cnonce: counter()}
	req := Request{Method: "INVITE", URI: "sip:bob@example.com"}
	a := Challenge{Realm: "example.com", Nonce: "n1", QOP: "auth", Algorithm: SHA256}
	b := Challenge{Realm: "proxy.example.com", Nonce: "p1", QOP: "auth"}
	a2 := a
	a2.Nonce, a2.Stale = "n2", true
	steps := []struct {
		chal       *Challenge
		nc         uint32
		cnonce     string
		wantNonce  string
		wantRealm  string
		wantAlg    Algorithm
		wantOpaque string
	}{
		{&a, 1, "c1", "n1", "example.com", SHA256, ""},
		{&a, 2, "c1", "n1", "example.com", SHA256, ""},
		{&b, 1, "c2", "p1", "proxy.example.com", "", ""},
		{&a, 3, "c1", "n1", "example.com", SHA256, ""},
		{&a2, 1, "c3", "n2", "example.com", SHA256, ""}, // stale: new nonce, count restarts
		{&b, 2, "c2", "p1", "proxy.example.com", "", ""},
	}
	for i, s := range steps {
		cr, err := cl.Authorize(s.chal, req)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if cr.NC != s.nc || cr.Cnonce != s.cnonce || cr.Nonce != s.wantNonce || cr.Realm != s.wantRealm || cr.Algorithm != s.wantAlg {
			t.Errorf("step %d: got nc=%d cnonce=%s nonce=%s realm=%s alg=%s, want nc=%d cnonce=%s nonce=%s realm=%s alg=%s",
				i, cr.NC, cr.Cnonce, cr.Nonce, cr.Realm, cr.Algorithm, s.nc, s.cnonce, s.wantNonce, s.wantRealm, s.wantAlg)
		}
		if err := Check(&cr, req, "alice", "pw"); err != nil {
			t.Errorf("step %d: Check: got %v, want nil", i, err)
		}
	}
}

func TestClientDefaultCnonce(t *testing.T) {
	cl := &Client{Username: "u", Password: "p"}
	seen := map[string]bool{}
	for i := range 3 {
		chal := Challenge{Realm: "r", Nonce: "n" + strconv.Itoa(i), QOP: "auth"}
		cr, err := cl.Authorize(&chal, Request{Method: "REGISTER", URI: "sip:r"})
		if err != nil {
			t.Fatal(err)
		}
		if len(cr.Cnonce) != 32 || seen[cr.Cnonce] {
			t.Fatalf("cnonce %q: got a repeated or short value, want 32 fresh hex digits", cr.Cnonce)
		}
		seen[cr.Cnonce] = true
	}
}

func TestRespondQOPAndOpaque(t *testing.T) {
	body := []byte("v=0\r\n")
	tests := []struct {
		name     string
		chal     Challenge
		want     string // qop
		wantErr  error
		optQOP   string
		noCnonce bool
	}{
		{name: "auth preferred", chal: Challenge{QOP: "auth-int, auth"}, want: "auth"},
		{name: "auth-int only", chal: Challenge{QOP: "auth-int"}, want: "auth-int"},
		{name: "auth-int asked", chal: Challenge{QOP: "auth,auth-int"}, optQOP: "auth-int", want: "auth-int"},
		{name: "no qop", chal: Challenge{}, want: ""},
		{name: "no qop, sess needs cnonce", chal: Challenge{Algorithm: MD5Sess}, noCnonce: true, wantErr: errors.New("any")},
		{name: "unknown qop", chal: Challenge{QOP: "auth-conf"}, wantErr: ErrUnsupported},
		{name: "auth-int not offered", chal: Challenge{QOP: "auth"}, optQOP: "auth-int", wantErr: ErrUnsupported},
		{name: "unknown algorithm", chal: Challenge{Algorithm: "SHA-1"}, wantErr: ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.chal.Realm, tt.chal.Nonce, tt.chal.Opaque = "r", "n", "op\"aque"
			o := Options{Username: "u", Password: "p", Request: Request{Method: "INVITE", URI: "sip:x", Body: body}, Cnonce: "cn", QOP: tt.optQOP}
			if tt.noCnonce {
				o.Cnonce = ""
			}
			cr, err := Respond(&tt.chal, &o)
			if tt.wantErr != nil {
				if err == nil || tt.wantErr == ErrUnsupported && !errors.Is(err, ErrUnsupported) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cr.QOP != tt.want || cr.Opaque != "op\"aque" {
				t.Fatalf("got qop %q opaque %q, want %q %q", cr.QOP, cr.Opaque, tt.want, "op\"aque")
			}
			if (cr.NC != 0) != (tt.want != "") || (cr.Cnonce != "") != (tt.want != "") {
				t.Errorf("got nc=%d cnonce=%q, want both only with a qop", cr.NC, cr.Cnonce)
			}
			if err := Check(&cr, o.Request, "u", "p"); err != nil {
				t.Errorf("Check: got %v, want nil", err)
			}
			if tt.want == "auth-int" {
				other := o.Request
				other.Body = []byte("v=1\r\n")
				if err := Check(&cr, other, "u", "p"); !errors.Is(err, ErrBadResponse) {
					t.Errorf("Check with another body: got %v, want %v", err, ErrBadResponse)
				}
			}
		})
	}
}

func TestStrongest(t *testing.T) {
	tests := []struct {
		name string
		algs []Algorithm
		want int
	}{
		{"RFC 8760 order", []Algorithm{SHA512_256, SHA256, MD5}, 0},
		{"reverse order", []Algorithm{MD5, SHA256, "sha-512-256-SESS"}, 2},
		{"absent means MD5", []Algorithm{"", "SHA-1"}, 0},
		{"tie keeps the first", []Algorithm{SHA256Sess, SHA256}, 0},
		{"none supported", []Algorithm{"SHA-1", "AKAv1-MD5"}, -1},
		{"empty", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chals := make([]Challenge, len(tt.algs))
			for i, a := range tt.algs {
				chals[i] = Challenge{Realm: "r", Nonce: "n", Algorithm: a, QOP: "auth"}
			}
			if got := Strongest(chals); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
	unsupportedQOP := []Challenge{{Algorithm: SHA256, QOP: "auth-conf"}, {Algorithm: MD5, QOP: "auth"}}
	if got := Strongest(unsupportedQOP); got != 1 {
		t.Errorf("with an unsupported qop: got %d, want 1", got)
	}
}

func TestRejects(t *testing.T) {
	sent := Credentials{Realm: "r", Nonce: "n1"}
	tests := []struct {
		name string
		chal Challenge
		want bool
	}{
		{"same realm, not stale: wrong password", Challenge{Realm: "r", Nonce: "n2"}, true},
		{"stale: retry with the new nonce", Challenge{Realm: "r", Nonce: "n2", Stale: true}, false},
		{"another realm: a proxy asks too", Challenge{Realm: "proxy", Nonce: "p"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.chal.Rejects(&sent); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUserHash(t *testing.T) {
	if got := UserHash("SHA-1", "u", "r"); got != "" {
		t.Errorf("unsupported algorithm: got %q, want empty", got)
	}
	// userhash=true on the server side: Check matches the hashed name.
	chal := Challenge{Realm: "r", Nonce: "n", QOP: "auth", Algorithm: SHA256, Userhash: true}
	cr, err := Respond(&chal, &Options{Username: "alice", Password: "pw", Request: Request{Method: "REGISTER", URI: "sip:r"}, Cnonce: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if cr.Username != UserHash(SHA256, "alice", "r") {
		t.Errorf("username: got %s, want the userhash", cr.Username)
	}
	if err := Check(&cr, Request{Method: "REGISTER"}, "alice", "pw"); err != nil {
		t.Errorf("Check: got %v, want nil", err)
	}
	if err := Check(&cr, Request{Method: "REGISTER"}, "mallory", "pw"); !errors.Is(err, ErrBadResponse) {
		t.Errorf("Check as another user: got %v, want %v", err, ErrBadResponse)
	}
}

func TestAllocs(t *testing.T) {
	w := loadWorkload(t)
	wwwAuth := headerValue(t, "401-register.sip", "WWW-Authenticate")
	authz := headerValue(t, "register-auth.sip", "Authorization")
	opts := Options{Username: w.username, Password: w.password, Request: Request{Method: w.method, URI: w.uri}, Cnonce: w.cnonce, NC: 1}
	var buf []byte
	// Values of 300 to 512 bytes still take one allocation, the result.
	longChal := Challenge{Realm: strings.Repeat("r", 300), Nonce: "n", QOP: "auth"}
	longCreds := Credentials{Username: "u", Realm: strings.Repeat("r", 300), Response: w.response, NC: 1}
	tests := []struct {
		name string
		max  float64
		f    func()
	}{
		{"ParseChallenge", 0, func() { _, _ = ParseChallenge(wwwAuth) }},
		{"ParseCredentials", 0, func() { _, _ = ParseCredentials(authz) }},
		{"client: parse, respond, String", 2, func() {
			chal, _ := ParseChallenge(wwwAuth)
			cr, _ := Respond(&chal, &opts)
			_ = cr.String()
		}},
		{"client: AppendTo a reused buffer", 1, func() {
			chal, _ := ParseChallenge(wwwAuth)
			cr, _ := Respond(&chal, &opts)
			buf = cr.AppendTo(buf[:0])
		}},
		{"Challenge.String", 1, func() { _ = longChal.String() }},
		{"Credentials.String", 1, func() { _ = longCreds.String() }},
		{"server: parse and Check", 0, func() {
			cr, _ := ParseCredentials(authz)
			if Check(&cr, Request{Method: w.method}, w.username, w.password) != nil {
				panic("check failed")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tt.f); got > tt.max {
				t.Fatalf("got %v allocs, want at most %v", got, tt.max)
			}
		})
	}
}

// TestLongInputs: values longer than the stack scratch buffer hash the same
// way (the buffer spills to the heap).
func TestLongInputs(t *testing.T) {
	long := strings.Repeat("x", 700)
	chal := Challenge{Realm: long, Nonce: long, QOP: "auth", Algorithm: SHA256Sess}
	o := Options{Username: long, Password: long, Request: Request{Method: "INVITE", URI: "sip:" + long}, Cnonce: long}
	cr, err := Respond(&chal, &o)
	if err != nil {
		t.Fatal(err)
	}
	// The same digest computed with plain string concatenation.
	h := func(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }
	ha1 := h(h(long+":"+long+":"+long) + ":" + long + ":" + long)
	ha2 := h("INVITE:sip:" + long)
	want := h(ha1 + ":" + long + ":00000001:" + long + ":auth:" + ha2)
	if cr.Response != want {
		t.Fatalf("got %s, want %s", cr.Response, want)
	}
	if err := Check(&cr, o.Request, long, long); err != nil {
		t.Fatalf("Check: got %v, want nil", err)
	}
}

// TestClientConcurrent: one Client shared by goroutines hands out every nonce
// count exactly once.
func TestClientConcurrent(t *testing.T) {
	cl := &Client{Username: "u", Password: "p"}
	chal := Challenge{Realm: "r", Nonce: "n", QOP: "auth"}
	const workers, each = 4, 50
	ncs := make(chan uint32, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				cr, err := cl.Authorize(&chal, Request{Method: "OPTIONS", URI: "sip:r"})
				if err != nil {
					t.Error(err)
					return
				}
				ncs <- cr.NC
			}
		})
	}
	wg.Wait()
	close(ncs)
	seen := make(map[uint32]bool)
	for nc := range ncs {
		if seen[nc] || nc < 1 || nc > workers*each {
			t.Fatalf("nc %d: got a repeated or out-of-range count", nc)
		}
		seen[nc] = true
	}
	if len(seen) != workers*each {
		t.Fatalf("got %d distinct counts, want %d", len(seen), workers*each)
	}
}

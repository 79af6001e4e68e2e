package digest

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injectable clock for Server.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newTestServer(clock *fakeClock) *Server {
	return &Server{Realm: "example.com", Secret: []byte("0123456789abcdef0123456789abcdef"),
		Opaque: "op", NonceLifetime: time.Minute, MaxNonces: 4, Now: clock.Now}
}

var register = Request{Method: "REGISTER", URI: "sip:example.com"}

// login answers the server's first challenge as a client would.
func login(t *testing.T, s *Server, cl *Client, stale bool) (Credentials, []Challenge) {
	t.Helper()
	chals := s.Challenges(stale)
	i := Strongest(chals)
	if i < 0 {
		t.Fatal("no supported challenge")
	}
	cr, err := cl.Authorize(&chals[i], register)
	if err != nil {
		t.Fatal(err)
	}
	return cr, chals
}

func TestServerChallenges(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := newTestServer(clock)
	chals := s.Challenges(true)
	if len(chals) != 2 || chals[0].Algorithm != SHA256 || chals[1].Algorithm != MD5 {
		t.Fatalf("got %+v, want SHA-256 then MD5", chals)
	}
	for _, c := range chals {
		if c.Realm != "example.com" || c.Opaque != "op" || !c.Stale || c.QOP != "auth" || len(c.Nonce) != 64 || c.Nonce != chals[0].Nonce {
			t.Errorf("got %+v, want realm, opaque, stale, qop=auth and one 64-digit nonce", c)
		}
		parsed, err := ParseChallenge(c.String())
		if err != nil || !reflect.DeepEqual(parsed, c) {
			t.Errorf("ParseChallenge(%q): got %+v, %v, want %+v", c.String(), parsed, err, c)
		}
	}
	if n := s.Nonce(); n == chals[0].Nonce {
		t.Errorf("two nonces in the same instant: got equal %s", n)
	}
}

func TestServerVerify(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := newTestServer(clock)
	cl := &Client{Username: "alice", Password: "pw", Cnonce: counter()}
	cr, chals := login(t, s, cl, false)

	check := func(name string, cr Credentials, req Request, user, pass string, want error) {
		t.Helper()
		err := s.Verify(&cr, req, user, pass)
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
	}
	check("first answer", cr, register, "alice", "pw", nil)
	check("same nc again", cr, register, "alice", "pw", ErrReplay)

	next, _ := cl.Authorize(&chals[0], register)
	check("nc 2", next, register, "alice", "pw", nil)
	check("nc 1 after 2", cr, register, "alice", "pw", ErrReplay)

	bad, _ := (&Client{Username: "alice", Password: "wrong", Cnonce: counter()}).Authorize(&chals[0], register)
	check("wrong password", bad, register, "alice", "pw", ErrBadResponse)

	other := next
	other.Realm = "evil.com"
	check("other realm", other, register, "alice", "pw", ErrBadResponse)
	other = next
	other.Opaque = "changed"
	check("opaque changed", other, register, "alice", "pw", ErrBadNonce)
	other = next
	other.Algorithm = SHA512_256
	check("algorithm not offered", other, register, "alice", "pw", ErrUnsupported)
	other = next
	other.QOP = "auth-int"
	check("qop not offered", other, register, "alice", "pw", ErrUnsupported)
	check("uri differs from the Request-URI", next, Request{Method: "REGISTER", URI: "sip:other"}, "alice", "pw", ErrBadResponse)

	// A nonce this server did not issue, with a right response for it.
	forged := Challenge{Realm: "example.com", Nonce: strings.Repeat("0", 64), Opaque: "op", QOP: "auth", Algorithm: SHA256}
	fc, _ := cl.Authorize(&forged, register)
	check("forged nonce", fc, register, "alice", "pw", ErrBadNonce)
	short := forged
	short.Nonce = "abc"
	fc, _ = cl.Authorize(&short, register)
	check("malformed nonce", fc, register, "alice", "pw", ErrBadNonce)
	// Another server's secret.
	s2 := newTestServer(clock)
	s2.Secret = []byte("another secret, another server!!")
	cr2, _ := login(t, s2, cl, false)
	check("other server's nonce", cr2, register, "alice", "pw", ErrBadNonce)
}

func TestServerStale(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := newTestServer(clock)
	cl := &Client{Username: "alice", Password: "pw", Cnonce: counter()}
	cr, chals := login(t, s, cl, false)
	if err := s.Verify(&cr, register, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute + time.Second)
	next, _ := cl.Authorize(&chals[0], register)
	if err := s.Verify(&next, register, "alice", "pw"); !errors.Is(err, ErrStale) {
		t.Fatalf("expired nonce: got %v, want %v", err, ErrStale)
	}
	// Stale only for a right response: a wrong password stays wrong.
	bad, _ := (&Client{Username: "alice", Password: "nope", Cnonce: counter()}).Authorize(&chals[0], register)
	if err := s.Verify(&bad, register, "alice", "pw"); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("expired nonce, wrong password: got %v, want %v", err, ErrBadResponse)
	}
	// The client retries on the stale challenge without asking the user.
	retry := s.Challenges(true)
	if retry[0].Rejects(&next) {
		t.Fatal("Rejects on a stale challenge: got true, want false")
	}
	cr, _ = cl.Authorize(&retry[0], register)
	if cr.NC != 1 {
		t.Errorf("nc after a new nonce: got %d, want 1", cr.NC)
	}
	if err := s.Verify(&cr, register, "alice", "pw"); err != nil {
		t.Fatalf("after the stale retry: got %v, want nil", err)
	}
	// A nonce from the future (clock skew, forgery with the secret) is refused.
	clock.Advance(-time.Hour)
	cr, _ = cl.Authorize(&retry[0], register)
	if err := s.Verify(&cr, register, "alice", "pw"); !errors.Is(err, ErrBadNonce) {
		t.Fatalf("nonce from the future: got %v, want %v", err, ErrBadNonce)
	}
}

// TestServerBoundedTable: the nc table never grows beyond MaxNonces, and a
// nonce dropped from it can never be accepted again (it is stale).
func TestServerBoundedTable(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := newTestServer(clock) // MaxNonces: 4
	var first Credentials
	var firstChal Challenge
	for i := range 10 {
		clock.Advance(time.Millisecond)
		cl := &Client{Username: "alice", Password: "pw", Cnonce: counter()}
		cr, chals := login(t, s, cl, false)
		if err := s.Verify(&cr, register, "alice", "pw"); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		if i == 0 {
			first, firstChal = cr, chals[0]
		}
		if n := len(s.counts); n > 4 {
			t.Fatalf("after %d logins: got %d tracked nonces, want at most 4", i+1, n)
		}
	}
	if err := s.Verify(&first, register, "alice", "pw"); !errors.Is(err, ErrStale) {
		t.Errorf("replay of a dropped nonce: got %v, want %v", err, ErrStale)
	}
	next, _ := (&Client{Username: "alice", Password: "pw", Cnonce: counter()}).Authorize(&firstChal, register)
	next.NC = 7
	if err := s.Verify(&next, register, "alice", "pw"); err == nil {
		t.Errorf("dropped nonce with a higher nc: got nil, want an error")
	}
}

func TestServerConcurrent(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := newTestServer(clock)
	s.MaxNonces = 0 // default bound
	s.Secret = nil  // random secret at first use
	var wg sync.WaitGroup
	errs := make(chan error, 8*20)
	for range 8 {
		wg.Go(func() {
			cl := &Client{Username: "alice", Password: "pw"}
			chals := s.Challenges(false)
			for range 20 {
				cr, err := cl.Authorize(&chals[0], register)
				if err == nil {
					err = s.Verify(&cr, register, "alice", "pw")
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("got %v, want nil", err)
	}
}

func TestServerVerifyAllocs(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := newTestServer(clock)
	cl := &Client{Username: "alice", Password: "pw", Cnonce: counter()}
	chals := s.Challenges(false)
	creds := make([]Credentials, 110)
	for i := range creds {
		creds[i], _ = cl.Authorize(&chals[0], register)
	}
	if err := s.Verify(&creds[0], register, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	i := 1
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.Verify(&creds[i], register, "alice", "pw"); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Fatalf("Verify of a known nonce: got %v allocs, want 0", allocs)
	}
	// A right response computed with nc 0: counts start at 1.
	zero := creds[0]
	zero.NC = 0
	h, _ := zero.Algorithm.parse()
	in := inputs{h: h, username: "alice", realm: zero.Realm, password: "pw", nonce: zero.Nonce,
		cnonce: zero.Cnonce, qop: zero.QOP, method: register.Method, uri: zero.URI}
	var out [maxHex]byte
	zero.Response = string(in.response(&out))
	if err := Check(&zero, register, "alice", "pw"); err != nil {
		t.Fatalf("Check with nc 0: got %v, want nil", err)
	}
	if err := s.Verify(&zero, register, "alice", "pw"); !errors.Is(err, ErrReplay) {
		t.Errorf("Verify with nc 0: got %v, want %v", err, ErrReplay)
	}
}

func TestServerAlgorithms(t *testing.T) {
	body := []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n")
	invite := Request{Method: "INVITE", URI: "sip:bob@example.com", Body: body}
	for _, alg := range []Algorithm{MD5, MD5Sess, SHA256, SHA256Sess, SHA512_256, SHA512_256Sess} {
		for _, qop := range []string{"auth", "auth-int"} {
			t.Run(string(alg)+"/"+qop, func(t *testing.T) {
				clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
				s := newTestServer(clock)
				s.Algorithms, s.QOP = []Algorithm{alg}, "auth,auth-int"
				chals := s.Challenges(false)
				if len(chals) != 1 || chals[0].Algorithm != alg {
					t.Fatalf("got %+v, want one %s challenge", chals, alg)
				}
				// Through the header values, as on the wire.
				chal, err := ParseChallenge(chals[0].String())
				if err != nil {
					t.Fatal(err)
				}
				for nc := uint32(1); nc <= 3; nc++ {
					cr, err := Respond(&chal, &Options{Username: "alice", Password: "pw", Request: invite, Cnonce: "cn", NC: nc, QOP: qop})
					if err != nil {
						t.Fatal(err)
					}
					got, err := ParseCredentials(cr.String())
					if err != nil {
						t.Fatal(err)
					}
					if err := s.Verify(&got, invite, "alice", "pw"); err != nil {
						t.Fatalf("nc %d: got %v, want nil", nc, err)
					}
				}
				other := invite
				other.Method = "BYE"
				cr, _ := Respond(&chal, &Options{Username: "alice", Password: "pw", Request: invite, Cnonce: "cn", NC: 4, QOP: qop})
				if err := s.Verify(&cr, other, "alice", "pw"); !errors.Is(err, ErrBadResponse) {
					t.Errorf("another method: got %v, want %v", err, ErrBadResponse)
				}
			})
		}
	}
}

func TestReplayWindow(t *testing.T) {
	steps := []struct {
		nc   uint32
		want bool
	}{
		{5, true}, {5, false}, {3, true}, {3, false}, {4, true}, {6, true},
		{1, true}, {2, true}, {1, false}, {100, true}, {36, false}, {37, true},
		{37, false}, {99, true}, {100, false}, {1000, true}, {999, true}, {100, false},
	}
	e := nonceCount{}
	for i, s := range steps {
		if got := e.accept(s.nc); got != s.want {
			t.Fatalf("step %d, nc %d: got %v, want %v", i, s.nc, got, s.want)
		}
	}
}

package ua

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/sipmsg"
)

// registrar is a tiny in-test registrar over loopback UDP: it challenges
// with digest.Server, answers 423 below minExpires, grants grant seconds
// and records every REGISTER it saw.
type registrar struct {
	t          *testing.T
	conn       *net.UDPConn
	srv        digest.Server
	password   string
	minExpires int
	grant      int

	mu   sync.Mutex
	seen []*sipmsg.Message
	ch   chan *sipmsg.Message
	done chan struct{}
}

func startRegistrar(t *testing.T, password string, minExpires, grant int) *registrar {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &registrar{t: t, conn: conn, srv: digest.Server{Realm: "test", Algorithms: []digest.Algorithm{digest.MD5}},
		password: password, minExpires: minExpires, grant: grant, ch: make(chan *sipmsg.Message, 64), done: make(chan struct{})}
	go r.serve()
	t.Cleanup(func() { conn.Close(); <-r.done })
	return r
}

func (r *registrar) port() int { return r.conn.LocalAddr().(*net.UDPAddr).Port }

func (r *registrar) serve() {
	defer close(r.done)
	buf := make([]byte, 65536)
	for {
		n, from, err := r.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		req, err := sipmsg.Parse(buf[:n])
		if err != nil || req.Method != "REGISTER" {
			continue
		}
		r.mu.Lock()
		r.seen = append(r.seen, req.Clone())
		r.mu.Unlock()
		select {
		case r.ch <- req.Clone():
		default:
		}
		resp := r.answer(req)
		r.conn.WriteToUDP([]byte(resp.String()), from)
	}
}

func (r *registrar) answer(req *sipmsg.Message) *sipmsg.Message {
	challenge := func(stale bool) *sipmsg.Message {
		resp := sipmsg.NewResponse(req, 401, "")
		resp.SetToTag("reg")
		for _, c := range r.srv.Challenges(stale) {
			resp.Add("WWW-Authenticate", c.String())
		}
		return resp
	}
	v := req.Get("Authorization")
	if v == "" {
		return challenge(false)
	}
	cr, err := digest.ParseCredentials(v)
	if err != nil {
		return sipmsg.NewResponse(req, 400, "")
	}
	if err := r.srv.Verify(&cr, digest.Request{Method: "REGISTER", URI: req.RequestURI.String()}, "alice", r.password); err != nil {
		return challenge(errors.Is(err, digest.ErrStale))
	}
	exp, _ := req.Expires()
	if exp != 0 && int(exp) < r.minExpires {
		resp := sipmsg.NewResponse(req, 423, "")
		resp.SetToTag("reg")
		resp.Add("Min-Expires", strconv.Itoa(r.minExpires))
		return resp
	}
	resp := sipmsg.NewResponse(req, 200, "")
	resp.SetToTag("reg")
	if exp != 0 {
		c, _ := req.Contact()
		c.Params = c.Params.Set("expires", strconv.Itoa(r.grant))
		resp.Add("Contact", c.String())
	}
	return resp
}

// next waits for the next REGISTER.
func (r *registrar) next(t *testing.T) *sipmsg.Message {
	t.Helper()
	select {
	case m := <-r.ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no REGISTER arrived")
		return nil
	}
}

func newRegUA(port int, password string, expiry time.Duration, events chan string) *UA {
	return New(Config{
		Username: "alice", AuthUsername: "alice", Password: password,
		Host: "127.0.0.1", Port: port, ListenAddr: "127.0.0.1:0",
		RegisterExpiry: expiry, RegisterRetry: time.Second, T1: 50 * time.Millisecond,
		OnRegistered:   func() { events <- "registered" },
		OnUnregistered: func() { events <- "unregistered" },
		OnError:        func(err error) { events <- "error: " + err.Error() },
	})
}

func expires(t *testing.T, m *sipmsg.Message) int {
	t.Helper()
	e, err := m.Expires()
	if err != nil {
		t.Fatalf("REGISTER without Expires: %v", err)
	}
	return int(e)
}

func TestRegisterRefreshUnregister(t *testing.T) {
	// Min-Expires 30 makes the first ask (10 s) get 423; the registrar then
	// grants only 2 s, so the refresh comes after about 1 s.
	reg := startRegistrar(t, "secret", 30, 2)
	events := make(chan string, 16)
	u := newRegUA(reg.port(), "secret", 10*time.Second, events)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if got := <-events; got != "registered" {
		t.Errorf("event: got %q, want registered", got)
	}
	// 401, authorized 423, authorized 200: three requests, then the refresh
	// (challenged again, then accepted).
	var msgs []*sipmsg.Message
	for range 5 {
		msgs = append(msgs, reg.next(t))
	}
	wantExpires := []int{10, 10, 30, 30, 30}
	var lastSeq uint32
	for i, m := range msgs {
		if got, want := m.CallID(), msgs[0].CallID(); got != want {
			t.Errorf("REGISTER %d Call-ID: got %q, want %q", i, got, want)
		}
		cs, _ := m.CSeq()
		if cs.Seq <= lastSeq {
			t.Errorf("REGISTER %d CSeq: got %d, want more than %d", i, cs.Seq, lastSeq)
		}
		lastSeq = cs.Seq
		if got := expires(t, m); got != wantExpires[i] {
			t.Errorf("REGISTER %d Expires: got %d, want %d", i, got, wantExpires[i])
		}
	}
	if !u.Registered() {
		t.Errorf("Registered: got false, want true")
	}
	if err := u.Disconnect(ctx); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	// Drain refreshes that raced with Disconnect; the last REGISTER must
	// remove the binding.
	reg.mu.Lock()
	last := reg.seen[len(reg.seen)-1]
	reg.mu.Unlock()
	if got := expires(t, last); got != 0 {
		t.Errorf("last REGISTER Expires: got %d, want 0", got)
	}
	if got := <-events; got != "unregistered" {
		t.Errorf("event: got %q, want unregistered", got)
	}
}

// TestRegisterZeroGrant: a registrar whose 2xx gives our binding 0 s
// (Contact ...;expires=0) has not registered us (RFC 3261 §10.2.4): Connect
// fails, and the UA does not count itself registered (which would refresh
// the binding every second).
func TestRegisterZeroGrant(t *testing.T) {
	reg := startRegistrar(t, "secret", 0, 0)
	events := make(chan string, 16)
	u := newRegUA(reg.port(), "secret", time.Minute, events)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := u.Connect(ctx)
	var re *RegistrationError
	if !errors.As(err, &re) || !errors.Is(err, errZeroGrant) {
		t.Fatalf("Connect: got %v, want a RegistrationError wrapping errZeroGrant", err)
	}
	if u.Registered() {
		t.Error("Registered: got true, want false")
	}
}

func TestRegisterBadPassword(t *testing.T) {
	reg := startRegistrar(t, "secret", 0, 60)
	events := make(chan string, 16)
	u := newRegUA(reg.port(), "wrong", time.Minute, events)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := u.Connect(ctx)
	var re *RegistrationError
	if !errors.As(err, &re) || re.Code != 401 || !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("Connect: got %v, want a 401 RegistrationError wrapping ErrAuthFailed", err)
	}
	reg.mu.Lock()
	n := len(reg.seen)
	reg.mu.Unlock()
	if n != 2 {
		t.Errorf("REGISTERs sent: got %d, want 2 (no retry loop on a bad password)", n)
	}
	if u.Connected() {
		t.Errorf("Connected after a failed Connect: got true, want false")
	}
}

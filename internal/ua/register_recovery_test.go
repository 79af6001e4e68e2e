package ua

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

func connect(t *testing.T, u *UA) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { u.Disconnect(context.Background()) })
}

// A 401 with stale=true to credentials we sent is answered at once with
// the same password and the new nonce (RFC 7616 §3.3), not reported as a
// bad password.
func TestRegisterStaleNonce(t *testing.T) {
	f := startFake(t, transport.UDP, "127.0.0.1:0", 60)
	f.setScript(func(n int, req *sipmsg.Message) *sipmsg.Message {
		if n != 1 {
			return nil
		}
		resp := sipmsg.NewResponse(req, 401, "")
		resp.SetToTag("reg")
		for _, c := range f.srv.Challenges(true) {
			resp.Add("WWW-Authenticate", c.String())
		}
		return resp
	})
	events := make(chan string, 16)
	u := fakeUA(f, events, nil)
	connect(t, u)
	waitEvent(t, events, "registered")
	var creds []digest.Credentials
	for range 3 {
		s := f.nextRegister(t)
		if v := s.msg.Get("Authorization"); v != "" {
			cr, err := digest.ParseCredentials(v)
			if err != nil {
				t.Fatalf("Authorization: %v", err)
			}
			creds = append(creds, cr)
		}
	}
	if len(creds) != 2 {
		t.Fatalf("authorized REGISTERs: got %d, want 2 (the stale one and its retry): %v", len(creds), creds)
	}
	if creds[0].Nonce == creds[1].Nonce {
		t.Errorf("retry after stale: got the old nonce %q, want the new one", creds[1].Nonce)
	}
	if got, want := creds[1].Username, "alice"; got != want {
		t.Errorf("retry username: got %q, want %q", got, want)
	}
	if got, want := f.bound(), 1; got != want {
		t.Errorf("bindings: got %d, want %d", got, want)
	}
	select {
	case e := <-events:
		t.Errorf("event after the stale retry: got %q, want none", e)
	default:
	}
}

// backoff doubles from the base per failure, is capped at
// maxRegisterBackoff, and jitters by at most ±20%: the bounds are exact,
// taken with the smallest and the largest jitter.
func TestRegisterBackoffBounds(t *testing.T) {
	lowest := func(int64) int64 { return 0 }
	highest := func(n int64) int64 { return n - 1 }
	tests := []struct {
		base     time.Duration
		failures int
		mid      time.Duration
	}{
		{time.Second, 1, time.Second},
		{time.Second, 2, 2 * time.Second},
		{time.Second, 3, 4 * time.Second},
		{time.Second, 9, 256 * time.Second},
		{time.Second, 10, maxRegisterBackoff},
		{time.Second, 1000, maxRegisterBackoff},
		{0, 1, 2 * time.Second},
		{-time.Second, 2, 4 * time.Second},
		{10 * time.Minute, 1, maxRegisterBackoff},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%d", tt.base, tt.failures), func(t *testing.T) {
			if got, want := backoff(tt.base, tt.failures, lowest), tt.mid-tt.mid/5; got != want {
				t.Errorf("smallest jitter: got %v, want %v", got, want)
			}
			if got, want := backoff(tt.base, tt.failures, highest), tt.mid+tt.mid/5; got != want {
				t.Errorf("largest jitter: got %v, want %v", got, want)
			}
			for range 100 {
				d := backoff(tt.base, tt.failures, rand.Int64N)
				if d < tt.mid-tt.mid/5 || d > tt.mid+tt.mid/5 {
					t.Fatalf("got %v, want within ±20%% of %v", d, tt.mid)
				}
			}
		})
	}
}

// The registration loop's schedule with an injected clock: refreshes at
// half the granted expiry; after failures (5xx and timeouts) exponential
// backoff from RegisterRetry with jitter; reset after a success. OnError
// fires once per distinct failure, OnUnregistered and OnRegistered once per
// transition.
func TestRegisterRetrySchedule(t *testing.T) {
	f := startFake(t, transport.UDP, "127.0.0.1:0", 2)
	// Authorized refreshes after Connect's: 503 ×3, 200, timeout ×2, 200.
	f.setScript(func(n int, req *sipmsg.Message) *sipmsg.Message {
		switch n {
		case 2, 3, 4:
			resp := sipmsg.NewResponse(req, 503, "")
			resp.SetToTag("reg")
			return resp
		case 6, 7:
			return drop
		}
		return nil
	})
	var rec delayRecorder
	events := make(chan string, 32)
	u := fakeUA(f, events, func(c *Config) {
		c.RegisterRetry = time.Second
		c.schedule = rec.schedule
	})
	connect(t, u)
	for _, want := range []string{"registered", "unregistered", "error: ua: registration failed: 503",
		"registered", "unregistered", "error: ua: registration failed: transaction", "registered"} {
		waitEvent(t, events, want)
	}
	if err := u.Disconnect(context.Background()); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	waitEvent(t, events, "unregistered")
	select {
	case e := <-events:
		t.Errorf("extra event: got %q, want none", e)
	default:
	}
	delays := rec.delays()
	refresh := time.Second // half the granted 2 s
	// Index: the delay set after Connect, then after each refresh.
	want := []struct{ lo, hi time.Duration }{
		{refresh, refresh},
		{800 * time.Millisecond, 1200 * time.Millisecond}, // 503, first failure
		{1600 * time.Millisecond, 2400 * time.Millisecond},
		{3200 * time.Millisecond, 4800 * time.Millisecond},
		{refresh, refresh}, // success resets
		{800 * time.Millisecond, 1200 * time.Millisecond}, // timeout, first failure again
		{1600 * time.Millisecond, 2400 * time.Millisecond},
		{refresh, refresh},
	}
	if len(delays) < len(want) {
		t.Fatalf("delays: got %v, want at least %d", delays, len(want))
	}
	for i, w := range want {
		if d := delays[i]; d < w.lo || d > w.hi {
			t.Errorf("delay %d: got %v, want within [%v, %v]", i, d, w.lo, w.hi)
		}
	}
}

// Keepalives go out at the configured interval: a double CRLF datagram on
// UDP, a CRLFCRLF ping on the TCP connection of the registration, answered
// with pongs so the binding stays.
func TestRegisterKeepalive(t *testing.T) {
	for _, proto := range []transport.Protocol{transport.UDP, transport.TCP} {
		t.Run(proto.String(), func(t *testing.T) {
			f := startFake(t, proto, "127.0.0.1:0", 60)
			events := make(chan string, 16)
			u := fakeUA(f, events, func(c *Config) { c.KeepaliveInterval = 20 * time.Millisecond })
			connect(t, u)
			waitEvent(t, events, "registered")
			first := f.nextRegister(t).from
			f.nextRegister(t)
			for range 5 {
				if got := f.nextPing(t); got != first {
					t.Errorf("keepalive from: got %s, want %s (where REGISTER came from)", got, first)
				}
			}
			select {
			case s := <-f.regs:
				t.Errorf("REGISTER while keepalives were answered: got %s", s.msg.Get("CSeq"))
			case e := <-events:
				t.Errorf("event: got %q, want none", e)
			default:
			}
		})
	}
}

// A TCP connection to the registrar that dies, closed by the registrar or
// failed by a keepalive without pong, re-registers at once over a new
// connection.
func TestRegisterDeadConnection(t *testing.T) {
	tests := []struct {
		name string
		kill func(f *fakeRegistrar)
		keep time.Duration
	}{
		{"closed", (*fakeRegistrar).closeConns, 0},
		{"no pong", func(f *fakeRegistrar) {
			f.mu.Lock()
			f.pong = false
			f.mu.Unlock()
		}, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, transport.TCP, "127.0.0.1:0", 60)
			events := make(chan string, 16)
			u := fakeUA(f, events, func(c *Config) {
				c.KeepaliveInterval = tt.keep
				c.KeepaliveTimeout = 100 * time.Millisecond
			})
			connect(t, u)
			waitEvent(t, events, "registered")
			old := f.nextRegister(t).from
			f.nextRegister(t)
			tt.kill(f)
			waitEvent(t, events, "unregistered")
			s := f.nextRegister(t)
			if s.from == old {
				t.Errorf("re-REGISTER came over the old connection %s", old)
			}
			waitEvent(t, events, "registered")
			if got, want := f.bound(), 1; got != want {
				t.Errorf("bindings: got %d, want %d", got, want)
			}
		})
	}
}

// A registrar that restarts on the same port, losing its bindings, gets
// ours back without anything done by the user: over UDP by the failing
// refresh and the backoff; over TCP by the closed connection, a failed
// dial, and the backoff.
func TestRegisterRegistrarRestart(t *testing.T) {
	for _, proto := range []transport.Protocol{transport.UDP, transport.TCP} {
		t.Run(proto.String(), func(t *testing.T) {
			f := startFake(t, proto, "127.0.0.1:0", 1)
			events := make(chan string, 16)
			u := fakeUA(f, events, nil)
			connect(t, u)
			waitEvent(t, events, "registered")
			f.stop()
			waitEvent(t, events, "unregistered")
			waitEvent(t, events, "error: ")
			f.restart(t)
			waitEvent(t, events, "registered")
			if got, want := f.bound(), 1; got != want {
				t.Errorf("bindings after the restart: got %d, want %d", got, want)
			}
		})
	}
}

// With an outbound proxy, REGISTER goes to the proxy's address with a
// preloaded Route carrying lr, the Request-URI still naming the registrar's
// domain (RFC 3261 §8.1.2, §10.2).
func TestRegisterOutboundProxy(t *testing.T) {
	f := startFake(t, transport.UDP, "127.0.0.1:0", 60)
	events := make(chan string, 16)
	u := fakeUA(f, events, func(c *Config) {
		c.Host, c.Port = "registrar.example", 5060
		c.OutboundProxy = f.addr
	})
	connect(t, u)
	waitEvent(t, events, "registered")
	s := f.nextRegister(t)
	routes, err := s.msg.Route()
	if err != nil || len(routes) != 1 {
		t.Fatalf("Route: got %v (%v), want one", routes, err)
	}
	if got, want := routes[0].URI.Host+":"+fmt.Sprint(routes[0].URI.Port), f.addr; got != want {
		t.Errorf("Route address: got %s, want %s", got, want)
	}
	if !routes[0].URI.Params.Has("lr") {
		t.Errorf("Route %s: want lr", routes[0].URI)
	}
	if got, want := s.msg.RequestURI.String(), "sip:registrar.example"; got != want {
		t.Errorf("Request-URI: got %s, want %s", got, want)
	}
}

// RFC 3581: our Via asks for rport; Via and Contact carry the port the
// SIP socket is really bound to.
func TestRegisterRPortAndContactPort(t *testing.T) {
	f := startFake(t, transport.UDP, "127.0.0.1:0", 60)
	events := make(chan string, 16)
	u := fakeUA(f, events, nil)
	connect(t, u)
	waitEvent(t, events, "registered")
	s := f.nextRegister(t)
	via, err := s.msg.Via()
	if err != nil {
		t.Fatalf("Via: %v", err)
	}
	if port, ok := via.RPort(); !ok || port != 0 {
		t.Errorf("Via rport: got %d, %v, want an empty rport", port, ok)
	}
	_, bound := u.LocalAddr()
	src := s.from[strings.LastIndexByte(s.from, ':')+1:]
	if got, want := fmt.Sprint(bound), src; got != want {
		t.Errorf("advertised port: got %s, want the socket's %s", got, want)
	}
	if via.Port != bound {
		t.Errorf("Via port: got %d, want %d", via.Port, bound)
	}
	c, err := s.msg.Contact()
	if err != nil {
		t.Fatalf("Contact: %v", err)
	}
	if got, want := c.URI.Host+":"+fmt.Sprint(c.URI.Port), "127.0.0.1:"+src; got != want {
		t.Errorf("Contact: got %s, want %s", got, want)
	}
}

// A refresh whose TCP connection closes before the answer ends at once
// and the binding is registered again over a new connection, instead of
// waiting for Timer F (64*T1 = 32 s here), without an error: the refresh
// itself tries again at once when a connection closed under it.
func TestRegisterConnectionClosedDuringRefresh(t *testing.T) {
	f := startFake(t, transport.TCP, "127.0.0.1:0", 2)
	f.setScript(func(n int, req *sipmsg.Message) *sipmsg.Message {
		if n == 2 {
			return hangUp
		}
		return nil
	})
	events := make(chan string, 16)
	u := fakeUA(f, events, func(c *Config) { c.T1 = 500 * time.Millisecond })
	connect(t, u)
	waitEvent(t, events, "registered")
	waitEvent(t, events, "unregistered")
	waitEvent(t, events, "registered")
	if got, want := f.bound(), 1; got != want {
		t.Errorf("bindings: got %d, want %d", got, want)
	}
}

// TestRegisterRetryAfter: a registrar's 503 with Retry-After (RFC 3261
// §20.33) holds the next attempt back that long, beyond the backoff, and
// no longer than the backoff's cap; the error carries it.
func TestRegisterRetryAfter(t *testing.T) {
	f := startFake(t, transport.UDP, "127.0.0.1:0", 2)
	f.setScript(func(n int, req *sipmsg.Message) *sipmsg.Message {
		switch n {
		case 2, 3:
			resp := sipmsg.NewResponse(req, 503, "")
			resp.SetToTag("reg")
			resp.Add("Retry-After", map[int]string{2: "30", 3: "3600 (maintenance)"}[n])
			return resp
		}
		return nil
	})
	var rec delayRecorder
	events := make(chan string, 32)
	var retryAfter atomic.Int64
	u := fakeUA(f, events, func(c *Config) {
		c.RegisterRetry = time.Second
		c.schedule = rec.schedule
		c.OnError = func(err error) {
			var re *RegistrationError
			if errors.As(err, &re) {
				retryAfter.Store(int64(re.RetryAfter))
			}
			events <- "error: " + err.Error()
		}
	})
	connect(t, u)
	for _, want := range []string{"registered", "unregistered", "error: ua: registration failed: 503", "registered"} {
		waitEvent(t, events, want)
	}
	if got := time.Duration(retryAfter.Load()); got != 30*time.Second {
		t.Errorf("RegistrationError.RetryAfter: got %v, want 30s", got)
	}
	want := []time.Duration{time.Second, 30 * time.Second, maxRegisterBackoff, time.Second}
	delays := rec.waitDelays(t, len(want))
	for i, w := range want {
		if delays[i] != w {
			t.Errorf("delay %d: got %v, want %v", i, delays[i], w)
		}
	}
}

// delayRecorder is a registration schedule (Config.schedule) that records
// each delay the loop asks for and waits a millisecond instead: the
// test's clock runs fast.
type delayRecorder struct {
	mu    sync.Mutex
	d     []time.Duration
	added chan struct{} // a token after each delay; made on first use
}

func (r *delayRecorder) schedule(d time.Duration) time.Duration {
	r.mu.Lock()
	r.d = append(r.d, d)
	added := r.addedLocked()
	r.mu.Unlock()
	select {
	case added <- struct{}{}:
	default: // a token waits already
	}
	return time.Millisecond
}

func (r *delayRecorder) addedLocked() chan struct{} {
	if r.added == nil {
		r.added = make(chan struct{}, 1)
	}
	return r.added
}

// waitDelays returns the delays once there are at least n: the loop asks
// for the next delay after it reports the attempt before it.
func (r *delayRecorder) waitDelays(t *testing.T, n int) []time.Duration {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		d, added := slices.Clone(r.d), r.addedLocked()
		r.mu.Unlock()
		if len(d) >= n {
			return d
		}
		select {
		case <-added:
		case <-deadline:
			t.Fatalf("delays: got %v within 5 s, want at least %d", d, n)
		}
	}
}

// delays returns the delays recorded so far.
func (r *delayRecorder) delays() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.d)
}

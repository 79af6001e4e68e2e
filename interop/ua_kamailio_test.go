//go:build interop

package interop

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/audiotest"
)

// kamailioPhone returns a Phone registered with k as user.
func kamailioPhone(t *testing.T, k *kamailio, user string, expiry time.Duration, errs chan<- error) xphone.Phone {
	t.Helper()
	return registeredPhone(t, k, user, errs, func(c *xphone.Config) { c.RegisterExpiry = expiry })
}

// registeredPhone returns a Phone registered with k (UDP, password
// "secret") as user, after edit adjusted its Config; errs, when not nil,
// gets what OnError reports.
func registeredPhone(t *testing.T, k *kamailio, user string, errs chan<- error, edit func(*xphone.Config)) xphone.Phone {
	t.Helper()
	cfg := xphone.Config{
		Username: user, Password: "secret", Host: "127.0.0.1", Port: k.port,
		RegisterExpiry: time.Minute, MediaTimeout: -1,
		RTPAddress: netip.MustParseAddr("127.0.0.1"),
	}
	edit(&cfg)
	p, err := xphone.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if errs != nil {
		p.OnError(func(err error) { errs <- err })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Connect(ctx); err != nil {
		t.Fatalf("Connect %s (%s): %v", user, cfg.Transport, err)
	}
	t.Cleanup(func() { p.Disconnect(context.Background()) })
	return p
}

// TestUAKamailioRegisterRefresh registers with digest auth, asking for
// Kamailio's min_expires (10 s), and checks the binding is still there
// after the granted expiry passed (so it was refreshed) and gone after
// Disconnect.
func TestUAKamailioRegisterRefresh(t *testing.T) {
	k := startKamailio(t)
	errs := make(chan error, 8)
	p := kamailioPhone(t, k, "1001", 10*time.Second, errs)
	if got, want := p.State(), xphone.PhoneRegistered; got != want {
		t.Fatalf("State: got %v, want %v", got, want)
	}
	eventually(t, 5*time.Second, "binding in usrloc", func() error { return k.registered(t, "1001", "sip:1001@127.0.0.1") })
	select {
	case err := <-errs:
		t.Fatalf("OnError: %v", err)
	case <-time.After(13 * time.Second):
	}
	if err := k.registered(t, "1001", "sip:1001@127.0.0.1"); err != nil {
		t.Fatalf("after the granted 10 s: %v", err)
	}
	if got, want := p.State(), xphone.PhoneRegistered; got != want {
		t.Errorf("State after refresh: got %v, want %v", got, want)
	}
	if err := p.Disconnect(context.Background()); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	eventually(t, 5*time.Second, "binding removed", func() error {
		if k.registered(t, "1001", "sip:1001@127.0.0.1") == nil {
			return errStillRegistered
		}
		return nil
	})
}

type stillRegistered struct{}

func (stillRegistered) Error() string { return "binding still in usrloc" }

var errStillRegistered error = stillRegistered{}

// toneTo writes a tone to c until it ends.
func toneTo(c xphone.Call, freq float64) {
	g := audiotest.ToneGenerator{Freq: freq, SampleRate: 8000, Amplitude: 8000}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		f := make([]int16, 160)
		g.Fill(f)
		select {
		case c.PCMWriter() <- f:
		case <-c.Context().Done():
			return
		}
		select {
		case <-t.C:
		case <-c.Context().Done():
			return
		}
	}
}

func hear(t *testing.T, c xphone.Call, frames int) []int16 {
	t.Helper()
	var out []int16
	deadline := time.After(15 * time.Second)
	for n := 0; n < frames; n++ {
		select {
		case f, ok := <-c.PCMReader():
			if !ok {
				t.Fatalf("PCMReader closed after %d frames", n)
			}
			out = append(out, f...)
		case <-deadline:
			t.Fatalf("got %d frames, want %d", n, frames)
		}
	}
	return out
}

// TestUAKamailioCallBetweenPhones: 1001 calls 1002 through Kamailio (407
// answered, Record-Route followed), audio both ways by tone, BYE from the
// callee through the route set.
func TestUAKamailioCallBetweenPhones(t *testing.T) {
	k := startKamailio(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ca, cb := callThrough(ctx, t, k)
	go toneTo(ca, 440)
	go toneTo(cb, 1000)
	hearTone(t, cb, 440)  // 1002 hears 1001
	hearTone(t, ca, 1000) // 1001 hears 1002
	calleeHangsUp(ctx, t, ca, cb)
}

// TestUAKamailioLargeInviteOverTCP: an INVITE larger than 1300 bytes
// for Kamailio's UDP address goes over TCP to the same port instead (RFC
// 3261 §18.1.1), its Via saying so; Kamailio takes it, challenges it and
// relays it to the callee over UDP, and the call is set up and ended
// through the route set.
func TestUAKamailioLargeInviteOverTCP(t *testing.T) {
	k := startKamailio(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, incoming := phonesThrough(t, k)
	ca, cb := dialAccepted(ctx, t, a, incoming, xphone.WithHeader("X-Pad", strings.Repeat("p", 700)))
	vias := cb.Header("Via")
	if len(vias) == 0 || !strings.HasPrefix(vias[len(vias)-1], "SIP/2.0/TCP ") {
		t.Errorf("the caller's Via at the callee: %q, want SIP/2.0/TCP", vias)
	}
	calleeHangsUp(ctx, t, ca, cb)
}

func asReason(err error, r *xphone.EndReason) bool {
	v, ok := err.(xphone.EndReason)
	if ok {
		*r = v
	}
	return ok
}

// TestUAKamailioInDialogAuth: Kamailio challenges requests inside dialogs
// too (WITH_DLG_AUTH): the caller's re-INVITE (hold) and the callee's BYE
// each get a 407 and go through with credentials (RFC 3261 §22), so the
// hold takes and the caller hears the hang-up.
func TestUAKamailioInDialogAuth(t *testing.T) {
	k := startKamailioWith(t, kamailioOptions{defines: []string{"WITH_DLG_AUTH"}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ca, cb := callThrough(ctx, t, k)
	if err := ca.Hold(ctx); err != nil {
		t.Fatalf("Hold through a proxy that challenges it: %v", err)
	}
	if got, want := ca.State(), xphone.StateOnHold; got != want {
		t.Errorf("caller state: got %v, want %v", got, want)
	}
	calleeHangsUp(ctx, t, ca, cb) // the BYE is challenged too
}

// TestUAKamailioServiceRoute: Kamailio's 2xx to REGISTER names it in
// Service-Route (RFC 3608) and it refuses an initial INVITE that does not
// carry that route (WITH_SERVICE_ROUTE): the call goes through.
func TestUAKamailioServiceRoute(t *testing.T) {
	k := startKamailioWith(t, kamailioOptions{defines: []string{"WITH_SERVICE_ROUTE"}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ca, cb := callThrough(ctx, t, k)
	calleeHangsUp(ctx, t, ca, cb)
}

// callThrough registers phones 1001 and 1002 with k and has 1001 call
// 1002, which accepts; it returns both ends of the call.
func callThrough(ctx context.Context, t *testing.T, k *kamailio) (caller, callee xphone.Call) {
	t.Helper()
	a, incoming := phonesThrough(t, k)
	return dialAccepted(ctx, t, a, incoming)
}

// phonesThrough registers phones 1001 and 1002 with k; 1002 accepts every
// call and hands it to incoming.
func phonesThrough(t *testing.T, k *kamailio) (caller xphone.Phone, incoming chan xphone.Call) {
	t.Helper()
	a := kamailioPhone(t, k, "1001", time.Minute, nil)
	b := kamailioPhone(t, k, "1002", time.Minute, nil)
	incoming = make(chan xphone.Call, 2)
	b.OnIncoming(func(c xphone.Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
		incoming <- c
	})
	return a, incoming
}

// dialAccepted has a call 1002 and returns both ends once 1002 accepted.
func dialAccepted(ctx context.Context, t *testing.T, a xphone.Phone, incoming chan xphone.Call, opts ...xphone.DialOption) (caller, callee xphone.Call) {
	t.Helper()
	ca, err := a.Dial(ctx, "1002", opts...)
	if err != nil {
		t.Fatalf("Dial 1002: %v", err)
	}
	select {
	case cb := <-incoming:
		return ca, cb
	case <-ctx.Done():
		t.Fatal("1002 got no call")
	}
	return nil, nil
}

// calleeHangsUp ends cb and checks that ca ends as a remote hang-up: the
// BYE went through the route set.
func calleeHangsUp(ctx context.Context, t *testing.T, ca, cb xphone.Call) {
	t.Helper()
	if err := cb.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	select {
	case <-ca.Context().Done():
	case <-ctx.Done():
		t.Fatal("the caller's call did not end on the callee's BYE")
	}
	var r xphone.EndReason
	if cause := context.Cause(ca.Context()); !asReason(cause, &r) || r != xphone.EndRemoteHangup {
		t.Errorf("caller end: got %v, want %v", cause, xphone.EndRemoteHangup)
	}
}

// TestUAKamailioCallsInARow: the caller's second INVITE goes out with the
// credentials of the first one's challenge (pre-emptive, RFC 3261 §22.3)
// and Kamailio takes them: of the two INVITEs, only the first is answered
// 407 (its sl:407_replies statistic).
func TestUAKamailioCallsInARow(t *testing.T) {
	k := startKamailio(t)
	a, incoming := phonesThrough(t, k)
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		ca, cb := dialAccepted(ctx, t, a, incoming)
		calleeHangsUp(ctx, t, ca, cb)
		cancel()
	}
	out, err := k.kamcmd(t, "stats.get_statistics", "sl:")
	if err != nil {
		t.Fatalf("kamcmd: %v: %s", err, out)
	}
	if !strings.Contains(out, "sl:407_replies = 1\n") {
		t.Errorf("Kamailio's statistics: want sl:407_replies = 1 (the second INVITE not challenged), got:\n%s", out)
	}
}

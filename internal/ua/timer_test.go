package ua

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/transport"
)

// timerUnitTest makes one session-timer second last 10 ms: a 90 s interval
// is refreshed every 450 ms and expires at 600 ms (900 ms for the
// refresher).
const timerUnitTest = 10 * time.Millisecond

// newPhone returns a connected UA on loopback built from the test defaults
// with edit applied.
func newPhone(t *testing.T, proto transport.Protocol, edit func(*Config)) *UA {
	t.Helper()
	cfg := Config{
		Username:   "test",
		Transport:  proto,
		ListenAddr: "127.0.0.1:0",
		UserAgent:  "xphone-test",
		Media:      media.Options{Address: netip.MustParseAddr("127.0.0.1"), MediaTimeout: -1},
		Codecs:     []string{"PCMU"},
	}
	if edit != nil {
		edit(&cfg)
	}
	u := New(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := u.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		if u.Connected() {
			u.Disconnect(context.Background())
		}
	})
	return u
}

// armed records each session-timer arming of a phone.
type armed chan dialog.SessionTimer

func (a armed) hook(_ *Call, t dialog.SessionTimer) {
	select {
	case a <- t:
	default:
	}
}

// next returns the next arming or fails the test after 10 s.
func (a armed) next(t *testing.T, who string) dialog.SessionTimer {
	t.Helper()
	select {
	case st := <-a:
		return st
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: session timer not armed", who)
	}
	return dialog.SessionTimer{}
}

// timerConfig enables session timers with the short test unit.
func timerConfig(interval, minSE uint32, hook armed, more func(*Config)) func(*Config) {
	return func(c *Config) {
		c.SessionTimer = time.Duration(interval) * time.Second
		c.minSE = minSE
		c.timerUnit = timerUnitTest
		c.timerArmed = hook.hook
		if more != nil {
			more(c)
		}
	}
}

// dialAccepted places a call from a to b, which accepts it, and returns
// both ends.
func dialAccepted(t *testing.T, a *UA, b *UA, incoming chan *Call, proto transport.Protocol, target string) (*Call, *Call) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if target == "" {
		target = sipAddr(b, proto)
	}
	ca, err := a.Dial(ctx, target, DialOptions{})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	select {
	case cb := <-incoming:
		return ca, cb
	case <-ctx.Done():
		t.Fatal("no incoming call")
	}
	return nil, nil
}

// endBoth hangs up ca and waits for cb to end.
func endBoth(t *testing.T, ca, cb *Call) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ca.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
	select {
	case <-cb.Done():
	case <-ctx.Done():
		t.Errorf("the other side did not end (state %v)", cb.State())
	}
}

func acceptInto(t *testing.T, ch chan *Call) func(*Call) {
	return func(c *Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
		ch <- c
	}
}

func TestSessionTimerRefreshes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// callerTimers false: the caller has timers disabled (no
		// Supported: timer), so the callee must refresh.
		callerTimers  bool
		wantRefresher string
	}{
		{"caller-refreshes", true, "caller"},
		{"callee-refreshes-for-a-caller-without-timers", false, "callee"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			aArm, bArm := make(armed, 64), make(armed, 64)
			incoming := make(chan *Call, 1)
			b := newPhone(t, transport.UDP, timerConfig(90, 90, bArm, func(c *Config) { c.OnIncoming = acceptInto(t, incoming) }))
			aEdit := timerConfig(90, 90, aArm, nil)
			if !tc.callerTimers {
				aEdit = func(c *Config) { c.timerArmed = aArm.hook }
			}
			a := newPhone(t, transport.UDP, aEdit)
			ca, cb := dialAccepted(t, a, b, incoming, transport.UDP, "")

			refresher, other := aArm, bArm
			if tc.wantRefresher == "callee" {
				refresher, other = bArm, aArm
			}
			// The initial arming and then one per refresh, three times.
			for i := range 4 {
				st := refresher.next(t, tc.wantRefresher)
				if got, want := st, (dialog.SessionTimer{Interval: 90, WeRefresh: true}); got != want {
					t.Fatalf("refresher arming %d: got %+v, want %+v", i, got, want)
				}
			}
			if tc.callerTimers {
				for i := range 3 {
					if got, want := other.next(t, "non-refresher"), (dialog.SessionTimer{Interval: 90}); got != want {
						t.Fatalf("non-refresher arming %d: got %+v, want %+v", i, got, want)
					}
				}
			}
			// Three refreshes spanned more than one expiry period of the
			// non-refresher: the refreshes kept the call up.
			for _, c := range []*Call{ca, cb} {
				if got, want := c.State(), StateActive; got != want {
					t.Errorf("state after refreshes: got %v, want %v", got, want)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ca.End(ctx); err != nil {
				t.Fatalf("End: %v", err)
			}
			<-cb.Done()
		})
	}
}

func TestSessionTimerExpiresWithoutRefresh(t *testing.T) {
	t.Parallel()
	incoming := make(chan *Call, 1)
	bArm := make(armed, 64)
	b := newPhone(t, transport.UDP, timerConfig(90, 90, bArm, func(c *Config) { c.OnIncoming = acceptInto(t, incoming) }))
	// The caller negotiates the refresher role but never refreshes.
	a := newPhone(t, transport.UDP, timerConfig(90, 90, nil, func(c *Config) { c.noRefresh = true }))
	ca, cb := dialAccepted(t, a, b, incoming, transport.UDP, "")
	if got, want := bArm.next(t, "callee"), (dialog.SessionTimer{Interval: 90}); got != want {
		t.Fatalf("callee timer: got %+v, want %+v", got, want)
	}
	for _, c := range []*Call{cb, ca} {
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the call did not end when the session expired")
		}
	}
	if got, want := cb.Reason(), EndTimeout; got != want {
		t.Errorf("non-refresher reason: got %v, want %v", got, want)
	}
	if got, want := ca.Reason(), EndRemoteHangup; got != want {
		t.Errorf("caller reason (BYE from the callee): got %v, want %v", got, want)
	}
}

func TestSessionTimer422Retry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                 string
		ask, calleeMin, want uint32
	}{
		{"below-min-se-retried", 90, 120, 120},
		{"accepted-as-asked", 150, 120, 150},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			incoming := make(chan *Call, 1)
			bArm := make(armed, 64)
			b := newPhone(t, transport.UDP, timerConfig(1800, tc.calleeMin, bArm, func(c *Config) {
				c.OnIncoming = acceptInto(t, incoming)
			}))
			a := newPhone(t, transport.UDP, timerConfig(tc.ask, 90, nil, nil))
			ca, cb := dialAccepted(t, a, b, incoming, transport.UDP, "")
			defer endBoth(t, ca, cb)
			if got, want := bArm.next(t, "callee"), (dialog.SessionTimer{Interval: tc.want}); got != want {
				t.Errorf("callee timer: got %+v, want %+v", got, want)
			}
			ca.mu.Lock()
			got := ca.timer.t
			inv := ca.invite
			ca.mu.Unlock()
			if want := (dialog.SessionTimer{Interval: tc.want, WeRefresh: true}); got != want {
				t.Errorf("caller timer: got %+v, want %+v", got, want)
			}
			se, err := inv.SessionExpires()
			if err != nil || se.Delta != tc.want {
				t.Errorf("INVITE Session-Expires: got %v (%v), want %d", se.Delta, err, tc.want)
			}
			if got, want := cb.State(), StateActive; got != want {
				t.Errorf("callee state: got %v, want %v", got, want)
			}
		})
	}
}

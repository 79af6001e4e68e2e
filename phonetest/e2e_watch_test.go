package phonetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// TestE2EWatch: Carol's phone watches Bob's line through the PBX (a busy
// lamp field): idle at first, ringing with Alice as caller while Alice's
// call rings, busy once Bob answers, idle again after the hang-up.
func TestE2EWatch(t *testing.T) {
	alice, _, in, got := watchBob(t)
	// wait returns the first status in state want, skipping others (a
	// line passes through trying before it rings).
	wait := func(want xphone.LineState) xphone.LineStatus {
		t.Helper()
		timeout := time.After(e2eWait)
		for {
			select {
			case s := <-got:
				if s.State == want {
					return s
				}
			case <-timeout:
				t.Fatalf("Bob's line never went %v", want)
			}
		}
	}
	if s := wait(xphone.LineIdle); s.Target != "bob" || s.Calls != 0 {
		t.Errorf("first status: got %+v", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	dialed := dialAsync(t, ctx, alice, "bob")
	callee := in.next(t)
	if s := wait(xphone.LineRinging); !strings.HasPrefix(s.Caller, "sip:alice@") {
		t.Errorf("ringing: got caller %q, want Alice", s.Caller)
	}
	if err := callee.Accept(ctx); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	wait(xphone.LineBusy)
	caller := <-dialed
	if caller == nil {
		t.FailNow()
	}
	if err := caller.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	wait(xphone.LineIdle)
}

// TestE2EPresence: Carol watches Bob's presence through the PBX: online
// while Bob's phone is registered; then what Bob publishes (SetPresence:
// away with a note, back); offline once his phone disconnects (which
// removes the publication and the binding).
func TestE2EPresence(t *testing.T) {
	pbx := startE2E(t, PBXConfig{})
	carol := e2ePhone(t, e2eConfig(pbx, "carol"))
	bob, err := xphone.New(e2eConfig(pbx, "bob"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	if err := bob.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	got := make(chan xphone.Presence, 4)
	stop, err := carol.WatchPresence("bob", func(p xphone.Presence) { got <- p })
	if err != nil {
		t.Fatalf("WatchPresence: %v", err)
	}
	defer stop(context.Background())
	next := func(what string) xphone.Presence {
		t.Helper()
		select {
		case p := <-got:
			return p
		case <-time.After(e2eWait):
			t.Fatalf("%s: no presence", what)
			return xphone.Presence{}
		}
	}
	if p := next("registered"); p != (xphone.Presence{Target: "bob", Online: true}) {
		t.Errorf("while registered: got %+v", p)
	}
	// Bob publishes his own presence; it overrides the registration.
	for _, want := range []xphone.Presence{{Target: "bob", Note: "In a meeting"}, {Target: "bob", Online: true, Note: "Back"}} {
		if err := bob.SetPresence(ctx, want.Online, want.Note); err != nil {
			t.Fatalf("SetPresence: %v", err)
		}
		if p := next("published"); p != want {
			t.Errorf("after SetPresence: got %+v, want %+v", p, want)
		}
	}
	// Disconnect removes the publication, then the binding: offline at last.
	if err := bob.Disconnect(ctx); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	for {
		p := next("after Disconnect")
		if !p.Online {
			if p.Note != "" {
				t.Errorf("after Disconnect: got %+v, want no note", p)
			}
			break
		}
	}
}

// TestE2EPickup: Carol watches Bob's line and picks up Alice's call while
// it rings there (RFC 3891 §3 through the PBX, with the dialog the line's
// NOTIFY names): Alice's Dial returns a call with Carol, Bob's ringing call
// ends cancelled, and Alice and Carol hear each other's tones.
func TestE2EPickup(t *testing.T) {
	alice, carol, in, got := watchBob(t)
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	dialed := dialAsync(t, ctx, alice, "bob")
	ringing := in.next(t)
	var st xphone.LineStatus
	for st.State != xphone.LineRinging || st.Ringing == (xphone.RingingCall{}) {
		select {
		case st = <-got:
		case <-time.After(e2eWait):
			t.Fatalf("Bob's line never rang with its dialog named (last %+v)", st)
		}
	}
	if st.Ringing.CallID != ringing.CallID() {
		t.Errorf("ringing call: got Call-ID %q, want %q", st.Ringing.CallID, ringing.CallID())
	}
	cp, err := dial(t, carol, st.Caller, xphone.WithPickup(st.Ringing))
	if err != nil {
		t.Fatalf("Carol's pickup: %v", err)
	}
	var ac xphone.Call
	select {
	case ac = <-dialed:
	case <-time.After(e2eWait):
		t.Fatal("Alice's Dial did not return")
	}
	if ac == nil {
		t.FailNow()
	}
	if ac.CallID() != cp.CallID() || ac.State() != xphone.StateActive {
		t.Errorf("Alice's call: Call-ID %q state %v, want Carol's %q, active", ac.CallID(), ac.State(), cp.CallID())
	}
	ringing.waitEnded(t, "bob", xphone.EndCancelled)
	sendTone(t, ac, 600)
	sendTone(t, cp, 1000)
	hearTone(t, "carol", cp, 600)
	hearTone(t, "alice", ac, 1000)
	if err := cp.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	cp.waitEnded(t, "carol", xphone.EndLocalHangup)
}

// watchBob starts the PBX and the phones of Alice, Bob and Carol, Carol
// watching Bob's line: it returns Alice's and Carol's phones, Bob's
// incoming calls and Carol's line reports.
func watchBob(t *testing.T) (alice, carol xphone.Phone, bobIn *inbox, lamp chan xphone.LineStatus) {
	t.Helper()
	pbx := startE2E(t, PBXConfig{})
	alice = e2ePhone(t, e2eConfig(pbx, "alice"))
	bob := e2ePhone(t, e2eConfig(pbx, "bob"))
	carol = e2ePhone(t, e2eConfig(pbx, "carol"))
	carol.OnError(func(err error) { t.Errorf("carol: %v", err) })
	bobIn = listen(bob, nil)
	lamp = make(chan xphone.LineStatus, 8)
	stop, err := carol.Watch("bob", func(s xphone.LineStatus) { lamp <- s })
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	t.Cleanup(func() { stop(context.Background()) })
	return alice, carol, bobIn, lamp
}

// dialAsync has p Dial target on a goroutine; the channel gets the call,
// or nil after reporting the error.
func dialAsync(t *testing.T, ctx context.Context, p xphone.Phone, target string) chan xphone.Call {
	dialed := make(chan xphone.Call, 1)
	go func() {
		c, err := p.Dial(ctx, target)
		if err != nil {
			t.Errorf("Dial %s: %v", target, err)
		}
		dialed <- c
	}()
	return dialed
}

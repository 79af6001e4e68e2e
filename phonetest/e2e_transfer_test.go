package phonetest

import (
	"context"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// TestE2EAttendedTransfer: three phones registered with the PBX. Alice
// talks with Bob, consults Carol, then transfers Bob to Carol (REFER with
// Replaces, RFC 5589 §7). Bob's INVITE with Replaces goes through the PBX;
// Carol's phone answers it in place of the consultation (OnReplaced, no
// OnIncoming), Alice's two calls end as transferred and Carol's
// consultation as replaced; then Bob and Carol hear each other's tones on
// the new call, and Bob hangs up.
func TestE2EAttendedTransfer(t *testing.T) {
	pbx := startE2E(t, PBXConfig{})
	alice := e2ePhone(t, e2eConfig(pbx, "alice"))
	bob := e2ePhone(t, e2eConfig(pbx, "bob"))
	carol := e2ePhone(t, e2eConfig(pbx, "carol"))
	accept := func(c xphone.Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
	}
	bobIn, carolIn := listen(bob, accept), listen(carol, accept)

	ab, err := dial(t, alice, "bob")
	if err != nil {
		t.Fatalf("Dial bob: %v", err)
	}
	ba := bobIn.next(t)
	ac, err := dial(t, alice, "carol")
	if err != nil {
		t.Fatalf("Dial carol: %v", err)
	}
	ca := carolIn.next(t)
	replaced := make(chan xphone.Call, 1)
	ca.OnReplaced(func(n xphone.Call) { replaced <- n })

	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	if err := ab.Call.AttendedTransfer(ctx, ac.Call); err != nil {
		t.Fatalf("AttendedTransfer: %v", err)
	}
	ab.waitEnded(t, "alice-bob", xphone.EndTransferred)
	ac.waitEnded(t, "alice-carol", xphone.EndTransferred)
	ba.waitEnded(t, "bob-alice", xphone.EndTransferred)
	ca.waitEnded(t, "carol-alice", xphone.EndReplaced)
	var cb xphone.Call
	select {
	case cb = <-replaced:
	case <-time.After(e2eWait):
		t.Fatal("Carol's OnReplaced was not called")
	}
	calls := bob.Calls()
	if len(calls) != 1 || calls[0].CallID() != cb.CallID() || calls[0].Direction() != xphone.Outbound {
		t.Fatalf("Bob's calls: got %d, want his outbound call to Carol", len(calls))
	}
	bc := watch(calls[0])
	if n := len(alice.Calls()); n != 0 {
		t.Errorf("Alice's calls: got %d, want 0", n)
	}
	if got := carol.Calls(); len(got) != 1 || got[0].CallID() != cb.CallID() {
		t.Errorf("Carol's calls: got %d, want only the replacing one", len(got))
	}
	select {
	case c := <-carolIn.calls:
		t.Errorf("Carol's OnIncoming got %s", c.CallID())
	default:
	}

	sendTone(t, bc, 600)
	sendTone(t, cb, 1000)
	hearTone(t, "carol", cb, 600)
	hearTone(t, "bob", bc, 1000)
	cbw := watch(cb)
	if err := bc.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	bc.waitEnded(t, "bob-carol", xphone.EndLocalHangup)
	cbw.waitEnded(t, "carol-bob", xphone.EndRemoteHangup)
}

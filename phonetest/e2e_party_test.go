package phonetest

import (
	"context"
	"strings"
	"testing"

	"github.com/xphone-go/xphone"
)

// Through the PBX, which asserts no identity: the callee learns the
// caller's number and name from From (WithCallerID), the caller names
// the party it called from its To; neither is marked asserted.
func TestE2ERemoteParty(t *testing.T) {
	pbx := startE2E(t, PBXConfig{})
	alice, bob := e2ePhone(t, e2eConfig(pbx, "alice")), e2ePhone(t, e2eConfig(pbx, "bob"))
	in := listen(bob, func(c xphone.Call) {
		if err := c.Reject(context.Background(), 486, ""); err != nil {
			t.Errorf("Reject: %v", err)
		}
	})
	out, err := dial(t, alice, "bob", xphone.WithCallerID("alice", "Alice Liddell"))
	if err == nil {
		t.Fatalf("Dial: answered (%v), want busy", out.State())
	}
	callee := in.next(t)
	got := callee.RemoteParty()
	if got.Name != "Alice Liddell" || got.Number != "alice" || got.Asserted || got.Private || !strings.HasPrefix(got.URI, "sip:alice@") {
		t.Errorf("callee's RemoteParty: got %+v, want Alice Liddell, sip:alice@..., not asserted", got)
	}
	callee.waitEnded(t, "callee", xphone.EndRejected)
}

// The caller's view, answered: the party it called (the To of its INVITE)
// until and after the answer, which asserts nothing here.
func TestE2ERemotePartyOutbound(t *testing.T) {
	pbx := startE2E(t, PBXConfig{})
	alice, bob := e2ePhone(t, e2eConfig(pbx, "alice")), e2ePhone(t, e2eConfig(pbx, "bob"))
	listen(bob, func(c xphone.Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
	})
	out, err := dial(t, alice, "bob")
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	got := out.RemoteParty()
	if got.Number != "bob" || got.Asserted || !strings.HasPrefix(got.URI, "sip:bob@") {
		t.Errorf("caller's RemoteParty: got %+v, want sip:bob@..., not asserted", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	if err := out.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	out.waitEnded(t, "caller", xphone.EndLocalHangup)
}

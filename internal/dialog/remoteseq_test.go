package dialog

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/xphone-go/xphone/sipmsg"
)

// inDialog builds a request of method with CSeq seq in the dialog of the
// invite and ok200 fixtures, sent by the side whose tag is from to the
// side whose tag is to.
func inDialog(t *testing.T, method string, seq uint32, from, to string) *sipmsg.Message {
	t.Helper()
	return parse(t, fmt.Sprintf(`%s sip:x@192.0.2.4 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK%s%d
Max-Forwards: 70
To: <sip:x@example.com>;tag=%s
From: <sip:y@example.com>;tag=%s
Call-ID: a84b4c76e66710
CSeq: %d %s
Content-Length: 0

`, method, strings.ToLower(method), seq, to, from, seq, method))
}

// newUAC is the caller's dialog of the invite and ok200 fixtures: its
// remote sequence number is empty (RFC 3261 §12.1.2).
func newUAC(t *testing.T) *Dialog {
	t.Helper()
	d, err := NewUAC(parse(t, invite), parse(t, ok200), sipmsg.Address{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRemoteSeqEmpty: a caller's dialog starts with an empty remote
// sequence number (RFC 3261 §12.1.2), not with 0: the first request the
// callee sends in it is in order whatever its CSeq, 0 too, and sets it
// (§12.2.2); from then on a CSeq must be higher, so a second 0 is out of
// order. ACK and CANCEL, which repeat the INVITE's CSeq, neither check
// nor set it.
func TestRemoteSeqEmpty(t *testing.T) {
	const bob, alice = "a6c85cf", "1928301774" // remote and local tags of newUAC
	d := newUAC(t)
	if d.HasRemoteSeq {
		t.Fatalf("new caller's dialog: remote sequence number %d set, want empty", d.RemoteSeq)
	}
	if err := d.Receive(inDialog(t, "ACK", 0, bob, alice)); err != nil || d.HasRemoteSeq {
		t.Errorf("ACK: got %v, set %v; want nil and still empty", err, d.HasRemoteSeq)
	}
	for _, step := range []struct {
		method string
		seq    uint32
		want   error
	}{
		{"NOTIFY", 0, nil},
		{"NOTIFY", 0, ErrCSeqOrder},
		{"INFO", 0, ErrCSeqOrder},
		{"CANCEL", 0, nil},
		{"INFO", 1, nil},
		{"BYE", 1, ErrCSeqOrder},
		{"BYE", 2, nil},
	} {
		if err := d.Receive(inDialog(t, step.method, step.seq, bob, alice)); !errors.Is(err, step.want) {
			t.Errorf("%s with CSeq %d: got %v, want %v", step.method, step.seq, err, step.want)
		}
	}
	if !d.HasRemoteSeq || d.RemoteSeq != 2 {
		t.Errorf("remote sequence number: got %d (set %v), want 2", d.RemoteSeq, d.HasRemoteSeq)
	}
}

// TestRemoteSeqFromInvite: the callee's dialog takes its remote sequence
// number from the dialog-creating request (RFC 3261 §12.1.1), 0 too: an
// in-dialog request with that CSeq again is out of order.
func TestRemoteSeqFromInvite(t *testing.T) {
	const bob, alice = "b0b", "1928301774" // local and remote tags
	req := parse(t, strings.Replace(invite, "CSeq: 314159 INVITE", "CSeq: 0 INVITE", 1))
	d, err := NewUAS(req, bob, sipmsg.Address{})
	if err != nil {
		t.Fatal(err)
	}
	if !d.HasRemoteSeq || d.RemoteSeq != 0 {
		t.Fatalf("callee's dialog: remote sequence number %d (set %v), want 0, set", d.RemoteSeq, d.HasRemoteSeq)
	}
	if err := d.Receive(inDialog(t, "BYE", 0, alice, bob)); !errors.Is(err, ErrCSeqOrder) {
		t.Errorf("BYE with the INVITE's CSeq 0: got %v, want ErrCSeqOrder", err)
	}
	if err := d.Receive(inDialog(t, "BYE", 1, alice, bob)); err != nil {
		t.Errorf("BYE with CSeq 1: %v", err)
	}
}

// TestSetRemoteSeq: SetRemoteSeq, as a dialog that continues another's
// CSeq uses it, sets the remote sequence number, 0 too.
func TestSetRemoteSeq(t *testing.T) {
	const bob, alice = "a6c85cf", "1928301774"
	d := newUAC(t)
	d.SetRemoteSeq(0)
	if err := d.Receive(inDialog(t, "NOTIFY", 0, bob, alice)); !errors.Is(err, ErrCSeqOrder) {
		t.Errorf("NOTIFY with CSeq 0 after SetRemoteSeq(0): got %v, want ErrCSeqOrder", err)
	}
	if err := d.Receive(inDialog(t, "NOTIFY", 1, bob, alice)); err != nil {
		t.Errorf("NOTIFY with CSeq 1: %v", err)
	}
}

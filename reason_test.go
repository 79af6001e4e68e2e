package xphone

import (
	"errors"
	"testing"

	"github.com/xphone-go/xphone/internal/ua"
)

// TestEndCausePeerReasons: a call's context cause wraps the peer's Reason
// headers (PeerReasons) beside its EndReason, and reads them out.
func TestEndCausePeerReasons(t *testing.T) {
	cause := endCause(ua.EndRemoteHangup, ua.PeerReasons{
		{Protocol: "SIP", Cause: -1},
		{Protocol: "Q.850", Cause: 16, Text: "Terminated"},
	})
	var why PeerReasons
	if !errors.Is(cause, EndRemoteHangup) || !errors.As(cause, &why) {
		t.Fatalf("cause %v: want EndRemoteHangup and PeerReasons", cause)
	}
	if why.Cause("q.850") != 16 || why.Cause("SIP") != -1 || why.Cause("X") != -1 {
		t.Errorf("Cause: got Q.850 %d, SIP %d, X %d; want 16, -1, -1", why.Cause("q.850"), why.Cause("SIP"), why.Cause("X"))
	}
	if got, want := cause.Error(), `xphone: call ended: remote hangup: peer's reason: SIP, Q.850 cause 16 "Terminated"`; got != want {
		t.Errorf("Error: got %q, want %q", got, want)
	}
	if c := endCause(ua.EndRemoteHangup, nil); c != EndRemoteHangup {
		t.Errorf("without reasons: got %v, want EndRemoteHangup itself", c)
	}
}

package xphone

import (
	"errors"
	"testing"
	"time"

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

// TestStatusErrorPeerReasons: a final response's reasons come with the
// *StatusError Dial returns and with the call's context cause.
func TestStatusErrorPeerReasons(t *testing.T) {
	se := &ua.StatusError{Code: 486, Reason: "Busy Here", Reasons: ua.PeerReasons{{Protocol: "Q.850", Cause: 17}}, RetryAfter: time.Minute}
	var got *StatusError
	if err := convertErr(se); !errors.As(err, &got) || got.PeerReasons.Cause("Q.850") != 17 || got.RetryAfter != time.Minute || !errors.Is(err, ErrBusy) {
		t.Errorf("convertErr: got %v (%+v), want a busy StatusError with Q.850 cause 17", err, got)
	}
	var why PeerReasons
	if cause := endCause(ua.EndBusy, se); !errors.Is(cause, EndBusy) || !errors.As(cause, &why) || why.Cause("Q.850") != 17 {
		t.Errorf("endCause: got %v, want EndBusy with Q.850 cause 17", cause)
	}
	if got := (&StatusError{Code: 486}).PeerReasons; got != nil {
		t.Errorf("no reasons: got %v, want nil", got)
	}
	if got := convertErr(&ua.StatusError{Code: 480}).(*StatusError).PeerReasons; got != nil {
		t.Errorf("converted without reasons: got %#v, want nil", got)
	}
}

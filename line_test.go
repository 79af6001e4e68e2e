package xphone

import (
	"errors"
	"testing"

	"github.com/xphone-go/xphone/internal/dialoginfo"
)

func TestLineStatus(t *testing.T) {
	d := func(dir, state, remote string) dialoginfo.Dialog {
		return dialoginfo.Dialog{ID: dir + state, Direction: dir, State: state, Remote: remote}
	}
	for _, tc := range []struct {
		name    string
		dialogs []dialoginfo.Dialog
		want    LineStatus
	}{
		{"idle", nil, LineStatus{Target: "1002", State: LineIdle}},
		{"ringing", []dialoginfo.Dialog{d("recipient", "early", "sip:1001@pbx")},
			LineStatus{Target: "1002", State: LineRinging, Calls: 1, Caller: "sip:1001@pbx"}},
		{"ringing without direction", []dialoginfo.Dialog{d("", "proceeding", "")},
			LineStatus{Target: "1002", State: LineRinging, Calls: 1}},
		{"dialing out", []dialoginfo.Dialog{d("initiator", "trying", "sip:x@y")},
			LineStatus{Target: "1002", State: LineBusy, Calls: 1}},
		{"talking, another ringing", []dialoginfo.Dialog{d("recipient", "early", "sip:a@b"), d("recipient", "confirmed", "sip:c@d")},
			LineStatus{Target: "1002", State: LineBusy, Calls: 2}},
		{"ringing, dialog named", []dialoginfo.Dialog{{ID: "1", CallID: "c@h", LocalTag: "bob", RemoteTag: "alice", Direction: "recipient", State: "early", Remote: "sip:a@b"}},
			LineStatus{Target: "1002", State: LineRinging, Calls: 1, Caller: "sip:a@b", Ringing: RingingCall{CallID: "c@h", LocalTag: "bob", RemoteTag: "alice"}}},
		{"ringing, tags missing", []dialoginfo.Dialog{{ID: "1", CallID: "c@h", LocalTag: "bob", Direction: "recipient", State: "early"}},
			LineStatus{Target: "1002", State: LineRinging, Calls: 1}},
	} {
		if got := lineStatus("1002", dialoginfo.Info{Full: true, Dialogs: tc.dialogs}); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if LineRinging.String() != "ringing" || LineState(7).String() != "LineState(7)" {
		t.Errorf("String: %q %q", LineRinging, LineState(7))
	}
}

// TestPickupReplaces: the Replaces value WithPickup sends names the
// dialog as the caller knows it (its tag to-tag) and only while it rings.
func TestPickupReplaces(t *testing.T) {
	r := RingingCall{CallID: "c@h", LocalTag: "bob", RemoteTag: "alice"}
	if got, want := r.replaces(), "c@h;to-tag=alice;from-tag=bob;early-only"; got != want {
		t.Errorf("replaces: got %q, want %q", got, want)
	}
	if _, err := NewDialOptions(WithPickup(r)); err != nil {
		t.Errorf("WithPickup: %v", err)
	}
	for _, bad := range []RingingCall{{CallID: "c@h", LocalTag: "bob"}, {CallID: "c@h;x", LocalTag: "a", RemoteTag: "b"}, {CallID: "c", LocalTag: "a\r\nVia: x", RemoteTag: "b"}} {
		if _, err := NewDialOptions(WithPickup(bad)); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("WithPickup(%+v): got %v, want ErrInvalidConfig", bad, err)
		}
	}
}

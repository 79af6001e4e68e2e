package xphone

import (
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
	} {
		if got := lineStatus("1002", dialoginfo.Info{Full: true, Dialogs: tc.dialogs}); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if LineRinging.String() != "ringing" || LineState(7).String() != "LineState(7)" {
		t.Errorf("String: %q %q", LineRinging, LineState(7))
	}
}

package xphone

import (
	"strconv"

	"github.com/xphone-go/xphone/internal/dialoginfo"
)

// LineState is what a busy lamp shows for a line Phone.Watch follows.
type LineState uint8

// The line states.
const (
	// LineIdle: the line has no call.
	LineIdle LineState = iota
	// LineRinging: a call to the line rings (and may be picked up).
	LineRinging
	// LineBusy: the line is in a call, or placing one.
	LineBusy
)

var lineStateNames = [...]string{"idle", "ringing", "busy"}

// String returns "idle", "ringing" or "busy".
func (s LineState) String() string {
	if int(s) < len(lineStateNames) {
		return lineStateNames[s]
	}
	return "LineState(" + strconv.Itoa(int(s)) + ")"
}

// LineStatus is the state of a watched line, after each change the
// server reports (RFC 4235 dialog event package).
type LineStatus struct {
	// Target is the line, as given to Watch.
	Target string
	// State is what a busy lamp shows: busy when any call of the line is
	// answered or going out, else ringing when one comes in, else idle.
	State LineState
	// Calls counts the line's calls the server reports.
	Calls int
	// Caller is who calls a ringing line (their URI, when the server
	// says), "" otherwise.
	Caller string
	// Ringing names the call that rings on the line, for WithPickup; it
	// is zero when none rings or the server did not name its dialog.
	Ringing RingingCall
}

// RingingCall names a call ringing on a watched line by its dialog, as the
// line's server reports it (RFC 4235: Call-ID, the line's tag and the
// caller's).
type RingingCall struct {
	CallID, LocalTag, RemoteTag string
}

// replaces is the Replaces header value (RFC 3891) that takes the call
// over at its caller, who knows the dialog with our tags swapped: its tag
// is to-tag.
func (r RingingCall) replaces() string {
	return r.CallID + ";to-tag=" + r.RemoteTag + ";from-tag=" + r.LocalTag + ";early-only"
}

// lineStatus sums up a dialog-info picture.
func lineStatus(target string, info dialoginfo.Info) LineStatus {
	st := LineStatus{Target: target, Calls: len(info.Dialogs)}
	for _, d := range info.Dialogs {
		switch {
		case d.State == dialoginfo.Confirmed || d.Direction == "initiator":
			st.State, st.Caller, st.Ringing = LineBusy, "", RingingCall{}
		case st.State == LineIdle:
			st.State, st.Caller = LineRinging, d.Remote
			if d.CallID != "" && d.LocalTag != "" && d.RemoteTag != "" {
				st.Ringing = RingingCall{CallID: d.CallID, LocalTag: d.LocalTag, RemoteTag: d.RemoteTag}
			}
		}
		if st.State == LineBusy {
			break
		}
	}
	return st
}

// Presence is the presence of a watched user (RFC 3856, PIDF), after
// each change the server reports, for Phone.WatchPresence.
type Presence struct {
	// Target is the user, as given to WatchPresence.
	Target string
	// Online is true when the user can be reached: any of their devices
	// is open (for a PBX, typically: registered).
	Online bool
	// Note is the user's status text ("Away", "In a meeting"), "" when
	// none is given.
	Note string
}

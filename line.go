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
}

// lineStatus sums up a dialog-info picture.
func lineStatus(target string, info dialoginfo.Info) LineStatus {
	st := LineStatus{Target: target, Calls: len(info.Dialogs)}
	for _, d := range info.Dialogs {
		switch {
		case d.State == dialoginfo.Confirmed || d.Direction == "initiator":
			st.State, st.Caller = LineBusy, ""
		case st.State == LineIdle:
			st.State, st.Caller = LineRinging, d.Remote
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

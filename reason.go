package xphone

import (
	"strconv"
	"strings"

	"github.com/xphone-go/xphone/internal/ua"
)

// PeerReason is why the peer ended a call, as a Reason header of its BYE
// or CANCEL says (RFC 3326): "SIP" with a status code (a CANCEL with cause
// 200 means the call was answered elsewhere), "Q.850" with an ISDN cause
// (16 normal clearing, 17 user busy, 19 no answer, ...), as carriers send
// them.
type PeerReason struct {
	// Protocol is "SIP", "Q.850" or another token, as the peer wrote it.
	Protocol string
	// Cause is the protocol's cause code, or -1 when the peer gave none.
	Cause int
	// Text is the peer's text, or "".
	Text string
}

// PeerReasons are the reasons the peer gave for ending a call. When it
// gave any, the cause of the call's context wraps them beside the
// EndReason (EndRemoteHangup, EndCancelled or EndTransferred):
//
//	var why xphone.PeerReasons
//	if errors.As(context.Cause(call.Context()), &why) {
//		q850 := why.Cause("Q.850") // -1 when none
//	}
type PeerReasons []PeerReason

// Cause returns the cause code of the first reason of protocol (compared
// without regard to case), or -1.
func (r PeerReasons) Cause(protocol string) int {
	for _, x := range r {
		if strings.EqualFold(x.Protocol, protocol) && x.Cause >= 0 {
			return x.Cause
		}
	}
	return -1
}

// Error returns "peer's reason: " and the reasons in words.
func (r PeerReasons) Error() string { return "peer's reason: " + r.String() }

// String returns the reasons in words, e.g. `Q.850 cause 16 "Terminated"`.
func (r PeerReasons) String() string {
	var b strings.Builder
	for i, x := range r {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x.Protocol)
		if x.Cause >= 0 {
			b.WriteString(" cause ")
			b.WriteString(strconv.Itoa(x.Cause))
		}
		if x.Text != "" {
			b.WriteByte(' ')
			b.WriteString(strconv.Quote(x.Text))
		}
	}
	return b.String()
}

// peerReasons converts the UA's reasons; none gives nil.
func peerReasons(rs ua.PeerReasons) PeerReasons {
	if len(rs) == 0 {
		return nil
	}
	out := make(PeerReasons, len(rs))
	for i, x := range rs {
		out[i] = PeerReason{Protocol: x.Protocol, Cause: x.Cause, Text: x.Text}
	}
	return out
}

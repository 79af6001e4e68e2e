package dialog

import (
	"strconv"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// Session-timer defaults (RFC 4028 §4, §5).
const (
	// DefaultSessionExpires is the interval we ask for: 30 minutes, the
	// value RFC 4028 §4 recommends.
	DefaultSessionExpires = 1800
	// MinSessionExpires is the lowest Session-Expires RFC 4028 §4 allows
	// anyone to ask for, and our default Min-SE.
	MinSessionExpires = 90
)

// SessionTimer is the negotiated session-timer state of a dialog (RFC 4028).
// The zero value means no session timer.
type SessionTimer struct {
	// Interval is the session interval in seconds; 0 means none.
	Interval uint32
	// WeRefresh is set when this side must send the refreshes; otherwise the
	// peer does, and this side ends the session when they stop.
	WeRefresh bool
}

// Active reports whether a session timer runs.
func (t SessionTimer) Active() bool { return t.Interval > 0 }

// RefreshAfter is when the refresher sends its refresh: half the interval
// (RFC 4028 §10).
func (t SessionTimer) RefreshAfter() time.Duration {
	return time.Duration(t.Interval) * time.Second / 2
}

// ExpireAfter is when the side that does not refresh gives the session up
// and sends BYE: the interval minus the smaller of 32 seconds and a third of
// it (RFC 4028 §10).
func (t SessionTimer) ExpireAfter() time.Duration {
	iv := time.Duration(t.Interval) * time.Second
	return iv - min(32*time.Second, iv/3)
}

// AddOffer adds the session-timer headers of a request that asks for one
// (RFC 4028 §7.1): Supported: timer, Session-Expires and Min-SE. It leaves
// the refresher to the answerer.
func AddOffer(req *sipmsg.Message, interval, minSE uint32) {
	if !req.HasToken("Supported", "timer") {
		req.Add("Supported", "timer")
	}
	req.Set("Session-Expires", strconv.FormatUint(uint64(interval), 10))
	req.Set("Min-SE", strconv.FormatUint(uint64(minSE), 10))
}

// AnswerOffer is the callee's side of the negotiation (RFC 4028 §9). For a
// request asking for an interval below minSE it returns ok false and the
// 422 response to send (with our Min-SE). Otherwise it returns the timer and
// adds Session-Expires (with the refresher) and, when the caller supports
// timers, Require: timer to resp. A request that does not ask for a timer
// gets one anyway when want is non-zero: we refresh it ourselves.
func AnswerOffer(req, resp *sipmsg.Message, want, minSE uint32) (t SessionTimer, reject *sipmsg.Message) {
	se, err := req.SessionExpires()
	asked := err == nil && se.Delta > 0
	if asked && se.Delta < minSE {
		r := sipmsg.NewResponse(req, 422, "Session Interval Too Small")
		r.Set("Min-SE", strconv.FormatUint(uint64(minSE), 10))
		return SessionTimer{}, r
	}
	uacSupports := req.HasToken("Supported", "timer")
	interval := want
	if asked {
		interval = se.Delta
		if want != 0 && want < interval && want >= minSE {
			interval = want // §9: the answerer may lower it
		}
	}
	if interval == 0 {
		return SessionTimer{}, nil
	}
	if peerMin, err := req.MinSE(); err == nil && interval < peerMin {
		interval = peerMin
	}
	refresher := se.Refresher
	if !asked || refresher == "" {
		refresher = "uas"
		if uacSupports {
			refresher = "uac" // §9: prefer the side that asked
		}
	}
	if !uacSupports {
		refresher = "uas" // a caller without the extension cannot refresh
	}
	resp.Set("Session-Expires", strconv.FormatUint(uint64(interval), 10)+";refresher="+refresher)
	if uacSupports && !resp.HasToken("Require", "timer") {
		resp.Add("Require", "timer")
	}
	return SessionTimer{Interval: interval, WeRefresh: refresher == "uas"}, nil
}

// FromAnswer is the caller's side (RFC 4028 §7.2): the timer a 2xx to our
// request sets up. No Session-Expires means none; a 2xx without a refresher
// leaves the refreshing to us.
func FromAnswer(resp *sipmsg.Message) SessionTimer {
	se, err := resp.SessionExpires()
	if err != nil || se.Delta == 0 {
		return SessionTimer{}
	}
	return SessionTimer{Interval: se.Delta, WeRefresh: se.Refresher != "uas"}
}

// RetryInterval reads the Min-SE of a 422 (RFC 4028 §7.4) and returns the
// interval to ask for on the retry: the larger of it and the previous ask.
// ok is false when the 422 carries no usable Min-SE.
func RetryInterval(resp *sipmsg.Message, previous uint32) (interval uint32, ok bool) {
	m, err := resp.MinSE()
	if err != nil || m == 0 {
		return 0, false
	}
	return max(m, previous), true
}

package ua

import (
	"errors"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/sipmsg"
)

// The subscriber side of RFC 6665 on the MWI subscription, against a
// scripted notifier (mwiNotifier): NOTIFYs in CSeq order (RFC 3261
// §12.2.2), Timer N (RFC 6665 §4.1.2.2, §4.1.2.4), and the Retry-After of
// a failed SUBSCRIBE (RFC 3261 §20.33).

// newMWINotifierWith is newMWINotifier with mod applied to the UA's
// Config after the notifier's settings; OnError hands errors to errs.
func newMWINotifierWith(t *testing.T, mod func(*Config)) (n *mwiNotifier, errs chan error) {
	t.Helper()
	errs = make(chan error, 16)
	n = &mwiNotifier{t: t, p: newPeer(t), got: make(chan mwi.Summary, 16)}
	n.u = newUA(t, func(c *Config) {
		c.Host, c.Port, c.RegisterExpiry = "127.0.0.1", n.p.port, -1
		c.RegisterRetry = 50 * time.Millisecond
		c.MWI = true
		c.OnVoicemail = func(s mwi.Summary) { n.got <- s }
		c.OnError = func(err error) {
			select {
			case errs <- err:
			default:
			}
		}
		mod(c)
	})
	t.Cleanup(n.disconnect) // before newUA's: it answers the unsubscribe
	return n, errs
}

// otherSubscribe matches a SUBSCRIBE other than prev and its
// retransmissions (another branch).
func otherSubscribe(prev *sipmsg.Message) func(*sipmsg.Message) bool {
	pv, _ := prev.Via()
	return func(m *sipmsg.Message) bool {
		v, err := m.Via()
		return isReq("SUBSCRIBE")(m) && err == nil && v.Branch() != pv.Branch()
	}
}

// newSubscription matches a SUBSCRIBE that makes a new subscription: not
// in prev's dialog (another Call-ID).
func newSubscription(prev *sipmsg.Message) func(*sipmsg.Message) bool {
	return func(m *sipmsg.Message) bool { return isReq("SUBSCRIBE")(m) && m.CallID() != prev.CallID() }
}

// TestSubscriptionNotifyOrder: in the subscription's dialog, a NOTIFY whose
// CSeq is lower than the last one accepted, or the same (a new request
// must have a higher one, RFC 3261 §12.2.1.1), is out of order and gets
// 500 (§12.2.2). It does not reach OnVoicemail, end the subscription
// (its state is terminated) or move the remote target (its Contact is
// elsewhere); the next one in order is reported. NOTIFYs before the 2xx
// count: the first sets the remote sequence number, which the dialog the
// 2xx completes keeps.
func TestSubscriptionNotifyOrder(t *testing.T) {
	t.Parallel()
	// refused sends NOTIFYs of the notifier (tag) with each CSeq in seqs,
	// which would end the subscription and move its target, and checks
	// that each gets 500.
	refused := func(n *mwiNotifier, sub peerMsg, tag string, seqs ...int) {
		t.Helper()
		elsewhere := newPeer(n.t)
		for _, seq := range seqs {
			m := n.p.mwiNotify(sub.m, tag, seq, "terminated;reason=noresource", voiceBody(7))
			m.Set("Contact", "<"+elsewhere.uri("vm")+">")
			if code := n.send(m, sub); code != 500 {
				n.t.Errorf("NOTIFY with CSeq %d: got %d, want 500", seq, code)
			}
		}
	}
	// refresh takes the next refresh and checks that it is in the dialog,
	// to the notifier: the refused NOTIFYs neither ended the subscription
	// nor moved its target. The notifier grants it for an hour.
	refresh := func(n *mwiNotifier, sub peerMsg, tag string) {
		t.Helper()
		ref := n.p.next("refresh", otherSubscribe(sub.m))
		if to, _ := ref.m.To(); ref.m.CallID() != sub.m.CallID() || to.Tag() != tag || ref.m.RequestURI.String() != n.p.uri("vm") {
			n.t.Errorf("refresh: got Call-ID %q To tag %q Request-URI %s, want the dialog's, to %s", ref.m.CallID(), to.Tag(), ref.m.RequestURI, n.p.uri("vm"))
		}
		n.p.respond(ref, 200, tag, "", "Expires", "3600")
	}
	t.Run("dialog", func(t *testing.T) {
		t.Parallel()
		n := newMWINotifier(t)
		sub, tag := n.subscribe("2") // the refresh after 1 s
		n.accepted(sub, tag, 5, 1)
		refused(n, sub, tag, 4, 5)
		refresh(n, sub, tag)
		n.accepted(sub, tag, 6, 2) // reported next: the refused ones never were
	})
	t.Run("before the 2xx", func(t *testing.T) {
		t.Parallel()
		n := newMWINotifier(t)
		sub := n.p.next("SUBSCRIBE", isReq("SUBSCRIBE"))
		tag := token()
		n.accepted(sub, tag, 5, 1)
		refused(n, sub, tag, 3)
		n.p.respond(sub, 200, tag, "", "Expires", "2")
		refresh(n, sub, tag) // the 2xx made the dialog
		refused(n, sub, tag, 4, 5)
		n.accepted(sub, tag, 6, 2)
	})
}

// TestSubscriptionTimerN: a subscriber awaits a NOTIFY for Timer N, 64*T1
// from sending a SUBSCRIBE (RFC 6665 §4.1.2.4 for a new subscription,
// §4.1.2.2 for a refresh). When none comes the subscription failed (or
// ended): OnError hears of it, its dialog is forgotten (a NOTIFY in it
// gets 481), and a new subscription follows with the backoff. A NOTIFY
// after the 2xx or before it stops Timer N, and a 204 (RFC 5839: no
// NOTIFY to come) cancels it.
func TestSubscriptionTimerN(t *testing.T) {
	t.Parallel()
	const t1 = 20 * time.Millisecond
	const timerN = 64 * t1
	for _, tc := range []struct {
		name    string
		refresh bool   // Timer N of a refresh: the new subscription was granted 1 s and NOTIFYed
		code    int    // the answer to the SUBSCRIBE Timer N runs for
		notify  string // its NOTIFY: "before" or "after" the answer, "" none
		lapses  bool
	}{
		{"new, no NOTIFY", false, 200, "", true},
		{"new, NOTIFY after the 2xx", false, 200, "after", false},
		{"new, NOTIFY before the 2xx", false, 202, "before", false},
		{"new, 204", false, 204, "", false},
		{"refresh, no NOTIFY", true, 200, "", true},
		{"refresh, NOTIFY after the 2xx", true, 200, "after", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, errs := newMWINotifierWith(t, func(c *Config) { c.T1 = t1 })
			sub := n.p.next("SUBSCRIBE", isReq("SUBSCRIBE"))
			tag, seq := token(), 0
			notify := func(state string, want int) {
				t.Helper()
				seq++
				if code := n.send(n.p.mwiNotify(sub.m, tag, seq, state, ""), sub); code != want {
					t.Errorf("NOTIFY %d: got %d, want %d", seq, code, want)
				}
			}
			if tc.refresh {
				n.p.respond(sub, 200, tag, "", "Expires", "1")
				notify("active", 200)
				sub = n.p.next("refresh", otherSubscribe(sub.m))
			}
			if tc.notify == "before" {
				notify("active", 200)
			}
			n.p.respond(sub, tc.code, tag, "", "Expires", "3600")
			if tc.notify == "after" {
				notify("active", 200)
			}
			again := newSubscription(sub.m)
			if !tc.lapses {
				// Absence within a bound: twice Timer N.
				if pm, ok := n.p.within(2*timerN, again); ok {
					t.Errorf("new SUBSCRIBE %s %s: the subscription was given up", pm.m.CallID(), pm.m.Get("CSeq"))
				}
				select {
				case err := <-errs:
					t.Errorf("OnError: %v", err)
				default:
				}
				return
			}
			// Not before Timer N: absence within half of it from the
			// answer, which came after the SUBSCRIBE left.
			if pm, ok := n.p.within(timerN/2, again); ok {
				t.Fatalf("new SUBSCRIBE %s before Timer N lapsed", pm.m.CallID())
			}
			pm := n.p.next("new SUBSCRIBE after Timer N", again)
			if to, _ := pm.m.To(); to.Tag() != "" {
				t.Errorf("after Timer N: got To tag %q, want a new subscription", to.Tag())
			}
			select {
			case err := <-errs:
				if !errors.Is(err, ErrMWIRefused) || !errors.Is(err, errNoNotify) {
					t.Errorf("OnError: got %v, want ErrMWIRefused and errNoNotify", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("OnError was not called")
			}
			notify("active", 481) // the dialog is forgotten
		})
	}
}

// TestSubscribeRetryAfter: a SUBSCRIBE failed with a Retry-After (RFC 3261
// §20.33: how long the notifier expects to be unavailable; a comment and
// parameters may follow the seconds) holds the next one off that long,
// beyond the shorter backoff (Config.RegisterRetry): for a new
// subscription and for a refresh, whose failure makes the next attempt a
// new subscription.
func TestSubscribeRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		refresh    bool
		code       int
		retryAfter string // 2 s
	}{
		{"new, 503", false, 503, "2"},
		{"new, 486", false, 486, "2 (call back)"},
		{"refresh, 480", true, 480, "2 (in a meeting);duration=600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := newMWINotifier(t)
			sub := n.p.next("SUBSCRIBE", isReq("SUBSCRIBE"))
			if tc.refresh {
				tag := token()
				n.p.respond(sub, 200, tag, "", "Expires", "2") // the refresh after 1 s
				n.accepted(sub, tag, 1, 1)
				sub = n.p.next("refresh", otherSubscribe(sub.m))
			}
			n.p.respond(sub, tc.code, token(), "", "Retry-After", tc.retryAfter)
			// Absence within a bound, well inside the 2 s asked for.
			if pm, ok := n.p.within(time.Second, otherSubscribe(sub.m)); ok {
				t.Fatalf("SUBSCRIBE %s came before the Retry-After of %q", pm.m.Get("CSeq"), tc.retryAfter)
			}
			again := n.p.next("SUBSCRIBE after the Retry-After", otherSubscribe(sub.m))
			if to, _ := again.m.To(); to.Tag() != "" || (tc.refresh && again.m.CallID() == sub.m.CallID()) {
				t.Errorf("after %d: got Call-ID %q To tag %q, want a new subscription", tc.code, again.m.CallID(), to.Tag())
			}
		})
	}
}

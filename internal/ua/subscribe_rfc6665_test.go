package ua

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/sipmsg"
)

// The subscriber side of RFC 6665 on the MWI subscription, against a
// scripted notifier: how a NOTIFY's Subscription-State (retry-after,
// expires) drives the subscription, and which NOTIFYs belong to it (Event
// package and id, the dialog's notifier, a Subscription-State at all).

// voiceBody is a message-summary body with n new voice messages, so that
// a test can tell which NOTIFY a summary came from.
func voiceBody(n int) string {
	return "Messages-Waiting: yes\r\nVoice-Message: " + strconv.Itoa(n) + "/0\r\n"
}

// mwiNotifier is a scripted notifier p and a UA subscribed to its
// message-summary (Config.MWI), whose OnVoicemail hands summaries to got.
type mwiNotifier struct {
	t   *testing.T
	p   *peer
	u   *UA
	got chan mwi.Summary
}

// newMWINotifier connects a UA with Config.MWI to a new notifier.
func newMWINotifier(t *testing.T) *mwiNotifier {
	t.Helper()
	n := &mwiNotifier{t: t, p: newPeer(t), got: make(chan mwi.Summary, 16)}
	n.u = newUA(t, func(c *Config) {
		c.Host, c.Port, c.RegisterExpiry = "127.0.0.1", n.p.port, -1
		c.RegisterRetry = 50 * time.Millisecond
		c.MWI = true
		c.OnVoicemail = func(s mwi.Summary) { n.got <- s }
	})
	t.Cleanup(n.disconnect) // before newUA's: it answers the unsubscribe
	return n
}

// disconnect disconnects the UA, if connected, the notifier granting the
// removal of the subscription (Expires: 0) if there is one to remove.
func (n *mwiNotifier) disconnect() {
	if !n.u.Connected() {
		return
	}
	done := make(chan error, 1)
	go func() { done <- n.u.Disconnect(context.Background()) }()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case err := <-done:
			if err != nil {
				n.t.Errorf("Disconnect: %v", err)
			}
			return
		case pm := <-n.p.in:
			if to, _ := pm.m.To(); isReq("SUBSCRIBE")(pm.m) && pm.m.Get("Expires") == "0" {
				n.p.respond(pm, 200, to.Tag(), "", "Expires", "0")
			}
		case <-deadline:
			n.t.Error("Disconnect did not return")
			return
		}
	}
}

// subscribe takes the UA's next SUBSCRIBE, grants it for expires seconds
// under a new tag, and returns it with the tag.
func (n *mwiNotifier) subscribe(expires string) (peerMsg, string) {
	n.t.Helper()
	sub := n.p.next("SUBSCRIBE", isReq("SUBSCRIBE"))
	tag := token()
	n.p.respond(sub, 200, tag, "", "Expires", expires)
	return sub, tag
}

// send sends the notifier's NOTIFY m to the UA and returns the status of
// the UA's final response to it.
func (n *mwiNotifier) send(m *sipmsg.Message, sub peerMsg) int {
	n.t.Helper()
	cs, _ := m.CSeq()
	n.p.send(m, sub.from)
	r := n.p.next("final response to NOTIFY "+m.Get("CSeq"), func(r *sipmsg.Message) bool {
		rcs, _ := r.CSeq()
		return !r.IsRequest() && r.StatusCode >= 200 && r.CallID() == m.CallID() && rcs == cs
	})
	return r.m.StatusCode
}

// summary returns the next summary OnVoicemail got.
func (n *mwiNotifier) summary(what string) mwi.Summary {
	n.t.Helper()
	select {
	case s := <-n.got:
		return s
	case <-time.After(10 * time.Second):
		n.t.Fatalf("%s: OnVoicemail was not called", what)
		return mwi.Summary{}
	}
}

// accepted sends a NOTIFY of the notifier (tag, CSeq seq) with voiceBody(new)
// and checks that the UA answers 200 and reports exactly it next: a NOTIFY
// refused before it never reached OnVoicemail, and the subscription is
// still the UA's (once it is ended, its NOTIFYs get 481).
func (n *mwiNotifier) accepted(sub peerMsg, tag string, seq, new int) {
	n.t.Helper()
	if code := n.send(n.p.mwiNotify(sub.m, tag, seq, "active", voiceBody(new)), sub); code != 200 {
		n.t.Fatalf("NOTIFY of the subscription: got %d, want 200", code)
	}
	if s := n.summary("NOTIFY of the subscription"); s.Voice().New != new {
		n.t.Errorf("summary: got %d new messages, want %d (a refused NOTIFY reached OnVoicemail)", s.Voice().New, new)
	}
}

// TestSubscriptionRetryAfter: a NOTIFY that ends the subscription with a
// retry-after holds the new subscription off that long for probation,
// giveup and no reason; deactivated and timeout, where retry-after has no
// meaning, subscribe again at once (RFC 6665 §4.1.3).
func TestSubscriptionRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, state string
		wait        bool
	}{
		{"probation", "terminated;reason=probation;retry-after=2", true},
		{"giveup", "terminated;reason=giveup;retry-after=2", true},
		{"no reason", "terminated;retry-after=2", true},
		{"deactivated", "terminated;reason=deactivated;retry-after=3600", false},
		{"timeout", "terminated;reason=timeout;retry-after=3600", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := newMWINotifier(t)
			sub, tag := n.subscribe("3600")
			if code := n.send(n.p.mwiNotify(sub.m, tag, 1, tc.state, ""), sub); code != 200 {
				t.Fatalf("terminating NOTIFY: got %d, want 200", code)
			}
			isSub := isReq("SUBSCRIBE")
			// Absence within a bound, well inside the 2 s asked for.
			if tc.wait {
				if pm, ok := n.p.within(time.Second, isSub); ok {
					t.Fatalf("SUBSCRIBE %s came before the retry-after of %q", pm.m.Get("CSeq"), tc.state)
				}
			}
			// Then it comes: a new subscription (with a retry-after of an
			// hour ignored, only at once comes within next's deadline).
			again := n.p.next("new SUBSCRIBE", isSub)
			if to, _ := again.m.To(); again.m.CallID() == sub.m.CallID() || to.Tag() != "" {
				t.Errorf("after %q: got Call-ID %q To tag %q, want a new subscription", tc.state, again.m.CallID(), to.Tag())
			}
		})
	}
}

// TestSubscriptionRetryAfterStop: Disconnect while a retry-after holds the
// new subscription off returns at once, without waiting for it, and sends
// no SUBSCRIBE (there is no subscription to remove).
func TestSubscriptionRetryAfterStop(t *testing.T) {
	t.Parallel()
	n := newMWINotifier(t)
	sub, tag := n.subscribe("3600")
	if code := n.send(n.p.mwiNotify(sub.m, tag, 1, "terminated;reason=probation;retry-after=3600", ""), sub); code != 200 {
		t.Fatalf("terminating NOTIFY: got %d, want 200", code)
	}
	done := make(chan error, 1)
	go func() { done <- n.u.Disconnect(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Disconnect: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Disconnect did not return during the retry-after")
	}
	if m := n.p.none(200*time.Millisecond, isReq("SUBSCRIBE")); m != nil {
		t.Errorf("SUBSCRIBE %s sent after Disconnect", m.Get("CSeq"))
	}
}

// TestSubscriptionNotifyExpires: the expires of an active or pending
// Subscription-State is the notifier's word on the subscription's length
// (RFC 6665 §4.1.3): one shorter than granted brings the refresh forward;
// a longer one (which a notifier must not use to lengthen it, §4.2.2)
// does not put it off.
func TestSubscriptionNotifyExpires(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, granted, state string
	}{
		{"active shortens", "3600", "active;expires=2"},
		{"pending shortens", "3600", "pending;expires=2"},
		{"longer changes nothing", "2", "active;expires=3600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := newMWINotifier(t)
			sub, tag := n.subscribe(tc.granted)
			if code := n.send(n.p.mwiNotify(sub.m, tag, 1, tc.state, ""), sub); code != 200 {
				t.Fatalf("NOTIFY: got %d, want 200", code)
			}
			// Granted 2 s, or shortened to 2 s: the refresh is due after
			// 1 s, well within next's deadline; an hour's is not.
			ref := n.p.next("refresh", isReq("SUBSCRIBE"))
			if to, _ := ref.m.To(); ref.m.CallID() != sub.m.CallID() || to.Tag() != tag {
				t.Errorf("refresh: got Call-ID %q To tag %q, want the subscription's dialog", ref.m.CallID(), to.Tag())
			}
		})
	}
}

// TestSubscriptionNotifyEventID: a NOTIFY matches the subscription only
// with its Event package, compared byte by byte, and its id: our
// SUBSCRIBEs carry none, and an id never matches none (RFC 6665 §8.2.1).
// Others get 481 and neither reach OnVoicemail nor end the subscription.
func TestSubscriptionNotifyEventID(t *testing.T) {
	t.Parallel()
	n := newMWINotifier(t)
	sub, tag := n.subscribe("3600")
	seq := 1
	for _, event := range []string{"message-summary;id=7", "message-summary;id=", "Message-Summary"} {
		m := n.p.mwiNotify(sub.m, tag, seq, "terminated;reason=noresource", voiceBody(7))
		m.Set("Event", event)
		if code := n.send(m, sub); code != 481 {
			t.Errorf("NOTIFY with Event %q: got %d, want 481", event, code)
		}
		seq++
	}
	n.accepted(sub, tag, seq, 5)
}

// TestSubscriptionForkedNotify: NOTIFYs come from one notifier, the
// dialog's (RFC 6665 §4.1.2.4, §5.4.9: a forked SUBSCRIBE may make more,
// and our packages keep one). Once the 2xx made the dialog, a NOTIFY from
// another tag gets 481, does not reach OnVoicemail, and does not end the
// subscription. Before the 2xx, the first NOTIFY makes the dialog: NOTIFYs
// of other tags get 481, and a 2xx from another fork only completes the
// SUBSCRIBE: the refresh goes to the first NOTIFY's notifier, with its tag.
func TestSubscriptionForkedNotify(t *testing.T) {
	t.Parallel()
	t.Run("established", func(t *testing.T) {
		t.Parallel()
		n := newMWINotifier(t)
		sub, tag := n.subscribe("3600")
		n.accepted(sub, tag, 1, 2)
		if code := n.send(n.p.mwiNotify(sub.m, token(), 1, "terminated;reason=noresource", voiceBody(7)), sub); code != 481 {
			t.Errorf("NOTIFY of another fork: got %d, want 481", code)
		}
		n.accepted(sub, tag, 2, 5)
	})
	t.Run("early", func(t *testing.T) {
		t.Parallel()
		n := newMWINotifier(t)
		sub := n.p.next("SUBSCRIBE", isReq("SUBSCRIBE"))
		first, other, answered := token(), token(), token()
		n.accepted(sub, first, 1, 2)
		if code := n.send(n.p.mwiNotify(sub.m, other, 1, "active", voiceBody(7)), sub); code != 481 {
			t.Errorf("early NOTIFY of a second fork: got %d, want 481", code)
		}
		n.p.respond(sub, 200, answered, "", "Expires", "2") // a third fork answers
		ref := n.p.next("refresh", isReq("SUBSCRIBE"))
		if to, _ := ref.m.To(); ref.m.CallID() != sub.m.CallID() || to.Tag() != first {
			t.Errorf("refresh: got Call-ID %q To tag %q, want %q, the first NOTIFY's", ref.m.CallID(), to.Tag(), first)
		}
		n.p.respond(ref, 200, first, "", "Expires", "3600")
		if code := n.send(n.p.mwiNotify(sub.m, answered, 1, "active", voiceBody(8)), sub); code != 481 {
			t.Errorf("NOTIFY of the fork whose 2xx came: got %d, want 481", code)
		}
		n.accepted(sub, first, 2, 5)
	})
}

// TestSubscriptionNotifyWithoutState: NOTIFY requests must carry
// Subscription-State (RFC 6665 §4.1.3, §8.2.3): one without it, or with
// one that does not parse, is a bad request (400, RFC 3261 §21.4.1) that
// neither reaches OnVoicemail nor changes the subscription.
func TestSubscriptionNotifyWithoutState(t *testing.T) {
	t.Parallel()
	n := newMWINotifier(t)
	sub, tag := n.subscribe("3600")
	seq := 1
	for _, state := range []string{"", ";reason=noresource", "active;expires=x"} {
		m := n.p.mwiNotify(sub.m, tag, seq, state, voiceBody(7))
		if state == "" {
			m.Del("Subscription-State")
		}
		if code := n.send(m, sub); code != 400 {
			t.Errorf("NOTIFY with Subscription-State %q: got %d, want 400", state, code)
		}
		seq++
	}
	n.accepted(sub, tag, seq, 5)
}

package ua

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// The subscriber side of RFC 6665 when a refresh fails (§4.1.2.2), on the
// MWI subscription against a scripted notifier (mwiNotifier): the codes
// that end the subscription, the others that leave it valid until it
// expires, the cap on a failed SUBSCRIBE's Retry-After, and the remote
// sequence number before the dialog when a NOTIFY's CSeq is 0.

// inDialogOf matches a SUBSCRIBE other than prev and its retransmissions
// (another branch) and reports whether it is a refresh in the dialog of
// prev (its Call-ID and the notifier's tag) or a new subscription (another
// Call-ID, no To tag); it fails the test on anything else.
func inDialogOf(t *testing.T, m, prev *sipmsg.Message, tag string) bool {
	t.Helper()
	to, _ := m.To()
	switch {
	case m.CallID() == prev.CallID() && to.Tag() == tag:
		return true
	case m.CallID() != prev.CallID() && to.Tag() == "":
		return false
	}
	t.Fatalf("SUBSCRIBE %s with Call-ID %q To tag %q: neither in the dialog (%q, %q) nor a new subscription", m.Get("CSeq"), m.CallID(), to.Tag(), prev.CallID(), tag)
	return false
}

// TestSubscriptionRefreshFailure: a refresh that fails with 404, 405, 410,
// 416, 480 to 485, 489, 501 or 604 ends the subscription: the next
// SUBSCRIBE makes a new one. After any other failure the subscription is
// still valid until it expires (RFC 6665 §4.1.2.2), and the refresh is
// retried, with the backoff, in its dialog.
func TestSubscriptionRefreshFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code int
		ends bool
	}{
		{500, false},
		{503, false},
		{408, false},
		{486, false},
		{403, false},
		{404, true},
		{480, true},
		{483, true},
		{489, true},
		{501, true},
		{604, true},
	} {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			t.Parallel()
			n := newMWINotifier(t)
			sub, tag := n.subscribe("2") // the refresh after 1 s
			n.accepted(sub, tag, 1, 1)
			ref := n.p.next("refresh", otherSubscribe(sub.m))
			if !inDialogOf(t, ref.m, sub.m, tag) {
				t.Fatal("refresh: a new subscription, want the dialog's")
			}
			n.p.respond(ref, tc.code, tag, "")
			again := n.p.next("SUBSCRIBE after the failed refresh", otherSubscribe(ref.m))
			if in := inDialogOf(t, again.m, sub.m, tag); in == tc.ends {
				t.Errorf("after a refresh failed with %d: in the dialog %v, want %v", tc.code, in, !tc.ends)
			}
			if tc.ends {
				tag = token()
			}
			n.p.respond(again, 200, tag, "", "Expires", "3600")
		})
	}
}

// TestSubscriptionRefreshTimeout: a refresh that gets no answer (Timer F)
// leaves the subscription valid until it expires (RFC 6665 §4.1.2.2: a
// failure other than the listed codes): the next attempt is a refresh in
// the dialog. With T1 of 10 ms the transaction times out after 640 ms,
// well inside the 4 s granted (the refresh goes after 2 s).
func TestSubscriptionRefreshTimeout(t *testing.T) {
	t.Parallel()
	n, _ := newMWINotifierWith(t, func(c *Config) { c.T1 = 10 * time.Millisecond })
	sub, tag := n.subscribe("4")
	n.accepted(sub, tag, 1, 1)
	ref := n.p.next("refresh", otherSubscribe(sub.m))
	if !inDialogOf(t, ref.m, sub.m, tag) {
		t.Fatal("refresh: a new subscription, want the dialog's")
	}
	// Unanswered: its retransmissions share its branch.
	again := n.p.next("SUBSCRIBE after the refresh timed out", otherSubscribe(ref.m))
	if !inDialogOf(t, again.m, sub.m, tag) {
		t.Error("after a refresh timed out: a new subscription, want a refresh in the dialog")
	}
	n.p.respond(again, 200, tag, "", "Expires", "3600")
}

// TestSubscriptionRefreshLapse: while refreshes fail with codes that leave
// the subscription valid, they are retried in its dialog until it expires
// (RFC 6665 §4.1.2.2: the most recently known expiry, of the 2xx or of a
// NOTIFY's Subscription-State); then the UA makes a new subscription.
func TestSubscriptionRefreshLapse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, granted, state string
	}{
		{"granted 2 s", "2", "active"},
		{"NOTIFY expires 2 s", "3600", "active;expires=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := newMWINotifier(t)
			sub, tag := n.subscribe(tc.granted)
			if code := n.send(n.p.mwiNotify(sub.m, tag, 1, tc.state, voiceBody(1)), sub); code != 200 {
				t.Fatalf("NOTIFY: got %d, want 200", code)
			}
			refreshes, prev := 0, sub.m
			for {
				pm := n.p.next("SUBSCRIBE", otherSubscribe(prev))
				prev = pm.m
				if !inDialogOf(t, pm.m, sub.m, tag) {
					n.p.respond(pm, 200, token(), "", "Expires", "3600")
					break
				}
				refreshes++
				n.p.respond(pm, 500, tag, "")
			}
			// The first refresh went after 1 s, with 1 s left; the
			// backoff after its failure is 50 ms.
			if refreshes < 2 {
				t.Errorf("refreshes in the dialog before the new subscription: got %d, want the refresh and at least one retry", refreshes)
			}
		})
	}
}

// TestEndsSubscription: exactly the codes RFC 6665 §4.1.2.2 lists end a
// subscription whose refresh they answer.
func TestEndsSubscription(t *testing.T) {
	for code := 300; code < 700; code++ {
		want := false
		switch {
		case code == 404, code == 405, code == 410, code == 416, code == 489, code == 501, code == 604:
			want = true
		case code >= 480 && code <= 485:
			want = true
		}
		if got := endsSubscription(code); got != want {
			t.Errorf("endsSubscription(%d): got %v, want %v", code, got, want)
		}
	}
	if endsSubscription(0) {
		t.Error("endsSubscription(0) (no response): got true, want false")
	}
}

// TestSubscribeRetryAfterCap: the Retry-After of a response that failed a
// SUBSCRIBE holds the next one off for at most maxRegisterBackoff, as for
// registration: a 503 with Retry-After: 99999999 (three years) must not
// hold the subscription off until the UA reconnects. A shorter one is
// kept, and the backoff counts when it is longer.
func TestSubscribeRetryAfterCap(t *testing.T) {
	req := sipmsg.NewRequest("SUBSCRIBE", sipmsg.URI{Scheme: "sip", User: "test", Host: "127.0.0.1"})
	for _, tc := range []struct {
		retryAfter    string // "" for none
		backoff, want time.Duration
	}{
		{"99999999", time.Second, maxRegisterBackoff},
		{"2147483647", time.Second, maxRegisterBackoff}, // the largest sipmsg takes
		{"120", time.Second, 2 * time.Minute},
		{"1", 3 * time.Second, 3 * time.Second},
		{"", 3 * time.Second, 3 * time.Second},
	} {
		resp := sipmsg.NewResponse(req, 503, "")
		if tc.retryAfter != "" {
			resp.Add("Retry-After", tc.retryAfter)
		}
		s := &subscription{}
		before := time.Now()
		hold := s.holdOff(tc.backoff, retryAfterOf(errors.Join(ErrMWIRefused, statusError(resp))))
		if hold != tc.want {
			t.Errorf("Retry-After %q, backoff %v: hold %v, want %v", tc.retryAfter, tc.backoff, hold, tc.want)
		}
		s.mu.Lock()
		at := s.retryAt
		s.mu.Unlock()
		if limit := time.Now().Add(maxRegisterBackoff); at.After(limit) || (tc.retryAfter != "" && at.Before(before)) {
			t.Errorf("Retry-After %q: no SUBSCRIBE before %v, want at most %v from now", tc.retryAfter, at, maxRegisterBackoff)
		}
	}
}

// TestSubscriptionNotifyCSeqZero: before the dialog exists, the first
// NOTIFY sets the remote sequence number whatever its CSeq, 0 too (RFC
// 3261 §12.2.2): a second NOTIFY with CSeq 0 is out of order (500), before
// the 2xx and in the dialog the 2xx then makes, which keeps it.
func TestSubscriptionNotifyCSeqZero(t *testing.T) {
	t.Parallel()
	n := newMWINotifier(t)
	sub := n.p.next("SUBSCRIBE", isReq("SUBSCRIBE"))
	tag := token()
	n.accepted(sub, tag, 0, 1)
	if code := n.send(n.p.mwiNotify(sub.m, tag, 0, "active", voiceBody(7)), sub); code != 500 {
		t.Errorf("second NOTIFY with CSeq 0 before the 2xx: got %d, want 500", code)
	}
	n.p.respond(sub, 200, tag, "", "Expires", "3600")
	if code := n.send(n.p.mwiNotify(sub.m, tag, 0, "active", voiceBody(7)), sub); code != 500 {
		t.Errorf("NOTIFY with CSeq 0 in the dialog: got %d, want 500", code)
	}
	n.accepted(sub, tag, 1, 2)
}

package ua

// NOTIFYs of the UA's subscriptions (RFC 6665 §4.1.3): which subscription
// one belongs to, whether it is taken (a readable Subscription-State, the
// dialog's notifier, CSeq order), and what its Subscription-State does to
// the subscription. subscribe.go keeps the subscriptions up.

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// ours reports whether an in-dialog NOTIFY of event belongs to the
// subscription: its Call-ID and our tag, and its Event package and id
// compared byte by byte, an id never matching none (RFC 6665 §8.2.1, §4.4.1).
// Our SUBSCRIBEs carry no id, so a NOTIFY with one is another
// subscription's. Which notifier sent it is admit's concern.
func (s *subscription) ours(req *sipmsg.Message, event sipmsg.Event) bool {
	if event.Type != s.event || event.Params.Has("id") {
		return false
	}
	to, _ := req.To()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callID != "" && req.CallID() == s.callID && to.Tag() == s.tag
}

// admit decides whether a NOTIFY of the subscription goes on to its
// package: 0 when it does, else the status that refuses it, which changes
// nothing. It must come from the notifier of its dialog, else 481. Before
// the dialog exists (no 2xx yet) the first NOTIFY admitted fixes it: its
// From tag and Record-Route make the dialog (RFC 6665 §4.1.2.4, §5.4.9).
// Our packages keep one subscription per SUBSCRIBE, so a NOTIFY of another
// fork, or with no From tag, is not admitted: §5.4.9 has it answered 481.
// And it must be in order (RFC 3261 §12.2.2): a CSeq lower than the last
// admitted one, or the same (a new request must have a higher one,
// §12.2.1.1; a retransmission is the transaction layer's), gets 500. The
// first NOTIFY admitted sets the remote sequence number, before the 2xx
// too. One admitted stops Timer N (run hears of it).
func (s *subscription) admit(req *sipmsg.Message) int {
	from, err := req.From()
	if err != nil || from.Tag() == "" {
		return 481
	}
	to, _ := req.To()
	cseq, _ := req.CSeq() // the transport validated it
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.callID == "" || req.CallID() != s.callID || to.Tag() != s.tag:
		return 481 // reset since ours matched it
	case s.dlg != nil:
		if from.Tag() != s.dlg.ID.RemoteTag {
			return 481
		}
		if err := s.dlg.Receive(req); errors.Is(err, dialog.ErrCSeqOrder) {
			return 500
		} else if err != nil {
			return 481
		}
	case s.earlyTag != "" && from.Tag() != s.earlyTag:
		return 481
	case s.earlyTag != "" && cseq.Seq <= s.earlySeq:
		return 500
	default:
		if s.earlyTag == "" {
			s.earlyTag = from.Tag()
			s.earlyRoutes, _ = req.RecordRoute() // a bad one: none
		}
		s.earlySeq = cseq.Seq
	}
	s.heard++
	if !s.noNotify.IsZero() {
		s.noNotify = time.Time{}
		select {
		case s.notified <- struct{}{}:
		default: // run has not taken the last one yet
		}
	}
	return 0
}

// ended takes a NOTIFY whose Subscription-State is terminated: the
// subscription is gone; it is made again unless the notifier refused it
// for good (RFC 6665 §4.1.3: rejected, noresource; invariant only), after
// retry when that is more than 0 (see retryAfter). It returns what tells
// run of it, or the application when the notifier ended it for good.
func (s *subscription) ended(reason string, retry time.Duration) func() {
	var stopped bool
	switch strings.ToLower(reason) {
	case "rejected", "noresource", "invariant":
		stopped = true
	}
	s.mu.Lock() // one step: run never sees it reset without its retryAt
	s.resetLocked()
	s.stopped = s.stopped || stopped
	if retry > 0 && !stopped {
		s.retryAt = time.Now().Add(retry)
	}
	s.mu.Unlock()
	if stopped {
		return func() { s.u.emitError(errors.Join(s.refused, errors.New("ua: the notifier ended it: "+reason))) }
	}
	return func() {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// retryAfter is how long to wait before subscribing again after a
// terminated Subscription-State (RFC 6665 §4.1.3): its retry-after for
// probation and giveup, and for no reason or one we do not know (the
// subscriber SHOULD NOT re-subscribe before it); 0, at once, when there is
// none, and for deactivated and timeout, where it has no meaning. A
// retry-after too big for 32 bits is taken as the largest that fits; one
// that is not a number, as none.
func retryAfter(st sipmsg.SubscriptionState) time.Duration {
	switch strings.ToLower(st.Reason) {
	case "deactivated", "timeout":
		return 0
	}
	v, ok := st.Params.Get("retry-after")
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	switch {
	case errors.Is(err, strconv.ErrRange):
		n = math.MaxUint32
	case err != nil:
		return 0
	}
	return time.Duration(n) * time.Second
}

// handleNotify answers a NOTIFY in s (RFC 6665 §4.1.3): 400 without a
// Subscription-State it can read, 481 from a notifier other than the
// dialog's and 500 out of CSeq order (admit), else what s's package makes
// of it; and follows its Subscription-State once it is accepted.
func (s *subscription) handleNotify(tx *transaction.ServerTx) {
	req := tx.Request()
	st, err := req.SubscriptionState()
	if err != nil {
		// NOTIFY requests MUST contain Subscription-State (RFC 6665
		// §4.1.3, §8.2.3): one without it, or with one that does not
		// parse, is a bad request (RFC 3261 §21.4.1) and changes nothing.
		reason := "Invalid Subscription-State"
		if errors.Is(err, sipmsg.ErrMissingHeader) {
			reason = "Missing Subscription-State"
		}
		s.u.respond(tx, 400, reason)
		return
	}
	if code := s.admit(req); code != 0 {
		s.u.respond(tx, code, "")
		return
	}
	code, report := s.notify(req)
	var then func()
	if code == 200 {
		// NOTIFY, like SUBSCRIBE, is a target refresh request (RFC 6665):
		// in force before its 200 leaves, so that a request the notifier
		// makes us send once it has the 200 goes to the new target. So is
		// its Subscription-State: once the notifier has the 200 of a
		// terminated one, a Disconnect finds no dialog to unsubscribe.
		s.refreshTarget(req)
		then = s.follow(st)
	}
	s.u.respond(tx, code, "")
	if code != 200 {
		return
	}
	// run and the application hear of it after the answer: a callback
	// that stops the subscription must not send its SUBSCRIBE before the
	// 200.
	if report != nil {
		defer report()
	}
	if then != nil {
		then()
	}
}

// follow puts the Subscription-State of an accepted NOTIFY in force (RFC
// 6665 §4.1.3): terminated ends the subscription; active and pending with
// expires may shorten it. Other states (extensions) change nothing. It
// returns what tells run (and the application) of it, or nil.
func (s *subscription) follow(st sipmsg.SubscriptionState) func() {
	switch strings.ToLower(st.State) {
	case "terminated": // its expires has no meaning: ignored
		return s.ended(st.Reason, retryAfter(st))
	case "active", "pending":
		if st.Expires >= 0 {
			return s.shorten(time.Duration(st.Expires) * time.Second)
		}
	}
	return nil
}

// refreshTarget takes the remote target an accepted NOTIFY names (kept for
// the dialog a 2xx still to come makes, §4.1.2.4).
func (s *subscription) refreshTarget(req *sipmsg.Message) {
	c, err := req.Contact()
	if err != nil || c.Wildcard {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.dlg == nil:
		s.early = &c.URI
	case s.dlg.Matches(req):
		s.dlg.RemoteTarget = c.URI
	}
	s.targets++
}

// findSubscription returns the subscription an in-dialog NOTIFY with Event
// header event belongs to, or nil.
func (u *UA) findSubscription(req *sipmsg.Message, event sipmsg.Event) *subscription {
	u.mu.Lock()
	subs := u.subs
	u.mu.Unlock()
	for _, s := range subs {
		if s.ours(req, event) {
			return s
		}
	}
	return nil
}

// handleEventNotify answers a NOTIFY of an event package other than refer
// (event, the package its Event header names): in one of our
// subscriptions, its package's answer; an unsolicited message-summary
// (outside any dialog) goes to OnVoicemail; one in a call's dialog is the
// call's (489 there); one of a subscription we removed lately gets 200
// (endedSubs); anything else is 481.
func (u *UA) handleEventNotify(tx *transaction.ServerTx, event string) {
	req := tx.Request()
	to, _ := req.To()
	ev, _ := req.Event() // parsed by the caller, which took event from it
	switch {
	case to.Tag() == "" && strings.EqualFold(event, eventMWI):
		code, report := u.voicemailNotify(req)
		u.respond(tx, code, "")
		if report != nil {
			report()
		}
	case to.Tag() == "":
		u.respond(tx, 481, "")
	default:
		if s := u.findSubscription(req, ev); s != nil {
			s.handleNotify(tx)
		} else if c := u.findCall(req.CallID()); c != nil {
			c.handleNotify(tx)
		} else if id, final, ok := u.endedSubs.take(req, ev); ok {
			u.respond(tx, 200, "") // of a subscription we removed (RFC 6665 §4.1.2.3)
			if final {
				u.endedSubs.forget(id) // answered: Disconnect may close now
			}
		} else {
			u.respond(tx, 481, "")
		}
	}
}

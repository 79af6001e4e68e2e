package ua

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// Subscriptions (RFC 6665): the UA keeps each one up on a goroutine of its
// own from its start until it is stopped or the UA disconnects: the
// initial SUBSCRIBE (digest challenges and 423 answered), refreshes inside
// the subscription's dialog before it lapses (through its route set, to the
// remote target its last NOTIFY or 2xx named; sooner when a NOTIFY's
// Subscription-State shortens it), a new subscription when the notifier
// ends it (once its retry-after has passed) or a refresh fails (with the
// registration's backoff), and Expires: 0 at the end. Its NOTIFYs, matched
// by Call-ID, our tag and the Event package and id (§8.2.1), from the
// notifier of its dialog (they may come before the SUBSCRIBE's 2xx, and
// the first fixes the dialog, §4.1.2.4, §5.4.9), go to the package's
// handler. mwi.go and watch.go use it.

// DefaultSubscribeExpiry is the subscription length asked for.
const DefaultSubscribeExpiry = time.Hour

// ErrSubscriptionRefused is wrapped by the errors OnError gets when a
// notifier refuses or ends a subscription (ErrMWIRefused for MWI).
var ErrSubscriptionRefused = errors.New("ua: subscription refused")

// subscription is one subscription of the UA.
type subscription struct {
	u      *UA
	event  string // the Event package
	accept string // the body type asked for
	target sipmsg.URI
	// notify takes a NOTIFY's request (on the transport's reader: it must
	// not block) and returns the status to answer (200, or 400 for a body
	// it cannot read) and, with 200, what reports the NOTIFY to the
	// application, run once the NOTIFY is answered (nil: nothing to).
	notify func(req *sipmsg.Message) (int, func())
	// refused wraps the errors reported when the notifier refuses.
	refused error

	// kick has run subscribe again now, or once retryAt has passed (a
	// NOTIFY ended the subscription); sooner tells it that a NOTIFY
	// brought due forward.
	kick   chan struct{}
	sooner chan struct{}
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	mu     sync.Mutex
	callID string // of the current subscription, "" before the first SUBSCRIBE
	tag    string // our From tag
	seq    uint32 // CSeq of the last out-of-dialog SUBSCRIBE
	dlg    *dialog.Dialog
	early  *sipmsg.URI // the Contact of a NOTIFY that came before the dialog (§4.1.2.4)
	// earlyTag and earlyRoutes are the From tag and Record-Route of the
	// first NOTIFY accepted before the dialog: it made the dialog (§5.4.9).
	earlyTag    string
	earlyRoutes []sipmsg.Address
	targets     uint64         // target refreshes by NOTIFY so far
	dst         transport.Addr // where the subscription was made
	stopped     bool           // the notifier refused or ended it for good
	// due is when run sends the next SUBSCRIBE, zero while one is under
	// way; a NOTIFY's expires may bring it forward (§4.1.3).
	due time.Time
	// retryAt is the retry-after of the NOTIFY that ended the
	// subscription: no new one before then (§4.1.3); zero when none.
	retryAt time.Time
}

// subscribe starts s on a tracked goroutine and lists it in the UA; once
// Disconnect has begun stopping the UA's work it refuses with
// ErrNotConnected, so that no subscription outlives the list
// unsubscribeAll takes.
func (u *UA) subscribe(s *subscription) error {
	u.mu.Lock()
	life := u.life
	if life == nil || life.Err() != nil {
		u.mu.Unlock()
		return ErrNotConnected
	}
	ctx, cancel := context.WithCancel(life)
	s.u, s.kick, s.sooner, s.cancel, s.done = u, make(chan struct{}, 1), make(chan struct{}, 1), cancel, make(chan struct{})
	u.subs = append(u.subs, s)
	u.mu.Unlock()
	u.tasks.goFunc(func() {
		defer close(s.done)
		s.run(ctx)
	})
	return nil
}

// unsubscribeAll stops every subscription and removes them, within ctx.
func (u *UA) unsubscribeAll(ctx context.Context) {
	u.mu.Lock()
	subs := u.subs
	u.subs = nil
	u.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range subs {
		wg.Go(func() { s.stop(ctx) })
	}
	wg.Wait()
}

// stop ends s's goroutine and removes the subscription (Expires: 0).
func (s *subscription) stop(ctx context.Context) {
	s.cancel()
	<-s.done
	s.unsubscribe(ctx)
}

// run keeps the subscription up until ctx ends: it sends SUBSCRIBE when
// its timer fires (at due) or a kick comes, unless a retry-after holds it
// off, and waits on ctx throughout, so that stop is prompt.
func (s *subscription) run(ctx context.Context) {
	failures := 0
	var lastErr string
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		case <-s.sooner:
			t.Reset(s.untilDue())
			continue
		}
		hold, stopped := s.begin()
		if stopped {
			return
		}
		if hold > 0 {
			t.Reset(hold)
			continue
		}
		granted, err := s.send(ctx, DefaultSubscribeExpiry)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		if err != nil {
			failures++
			wait = backoff(s.u.cfg.RegisterRetry, failures, rand.Int64N)
			if err.Error() != lastErr {
				lastErr = err.Error()
				s.u.emitError(err)
			}
		} else {
			failures, lastErr = 0, ""
			wait = refreshAfter(granted)
		}
		t.Reset(s.schedule(wait))
	}
}

// begin is run's check before it sends SUBSCRIBE: it returns how long the
// retry-after of the NOTIFY that ended the subscription still holds a new
// one off (RFC 6665 §4.1.3), and whether the notifier ended it for good.
// When the SUBSCRIBE may go, due is cleared for the transaction: a NOTIFY
// during it may set due (shorten), and schedule keeps the earlier time.
func (s *subscription) begin() (wait time.Duration, stopped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if wait = time.Until(s.retryAt); wait > 0 {
		return wait, s.stopped
	}
	s.due, s.retryAt = time.Time{}, time.Time{}
	return 0, s.stopped
}

// schedule sets due after a SUBSCRIBE transaction, wait from now, or
// sooner when a NOTIFY asked for sooner meanwhile, and returns the wait.
func (s *subscription) schedule(wait time.Duration) time.Duration {
	at := time.Now().Add(wait)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.due.IsZero() && s.due.Before(at) {
		at = s.due
	}
	s.due = at
	return time.Until(at)
}

// untilDue is how long until due (at least 0).
func (s *subscription) untilDue() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(time.Until(s.due), 0)
}

// shorten takes the expires of an accepted NOTIFY's Subscription-State
// (active or pending): the notifier's word on how long the subscription
// lasts, which may be less than it granted (RFC 6665 §4.1.3: the
// subscriber SHOULD take it as authoritative and adjust). When a refresh
// refreshAfter(expires) from now comes before due, due moves to it and run
// hears of it; a longer one changes nothing (a notifier may shorten a
// subscription so, never lengthen it, §4.2.2).
func (s *subscription) shorten(expires time.Duration) {
	at := time.Now().Add(refreshAfter(expires))
	s.mu.Lock()
	sooner := s.due.IsZero() || at.Before(s.due)
	if sooner {
		s.due = at
	}
	s.mu.Unlock()
	if sooner {
		select {
		case s.sooner <- struct{}{}:
		default: // run has not taken the last one yet: it reads due then
		}
	}
}

// refreshAfter is when a subscription granted for d is refreshed: at 90 %
// of it, or half way for short ones.
func refreshAfter(d time.Duration) time.Duration {
	if d < time.Minute {
		return max(d/2, time.Second)
	}
	return d * 9 / 10
}

// send sends SUBSCRIBE for expires (0 removes the subscription): a
// refresh inside the subscription's dialog when there is one, else a new
// subscription. It answers digest challenges and 423, and returns the
// expiry the notifier granted.
func (s *subscription) send(ctx context.Context, expires time.Duration) (time.Duration, error) {
	tl, tm := s.u.layer()
	if tl == nil {
		return 0, ErrNotConnected
	}
	secs := uint32(expires / time.Second)
	var a *authRetry
	var authName, authValue string
	for attempt := 0; ; attempt++ {
		req, d, hop := s.request(tl)
		s.mu.Lock()
		dst, targets := s.dst, s.targets // targets: NOTIFYs' target refreshes before this request
		s.mu.Unlock()
		switch {
		case d == nil:
			var err error
			if dst, err = s.u.destination(ctx, req.RequestURI); err != nil {
				return 0, err
			}
			s.mu.Lock()
			s.dst = dst
			s.mu.Unlock()
		case !s.u.throughProxy(d):
			// In the dialog: to its first route or remote target (RFC
			// 3261 §12.2.1.1); with no route set and an outbound proxy,
			// through the proxy, as for calls (hop.go).
			dst = s.u.resolveHop(ctx, hop, dst.Protocol, dst)
		}
		req.PrependVia(s.u.via(tm, tl, dst.Protocol))
		req.Add("Event", s.event)
		req.Add("Accept", s.accept)
		req.Add("Expires", strconv.FormatUint(uint64(secs), 10))
		req.Add("Allow", s.u.allow())
		req.Add("User-Agent", s.u.cfg.UserAgent)
		if authName != "" {
			req.Add(authName, authValue)
		}
		req.SetContentLength()
		keep := req.Clone()
		resp, err := finalResponse(ctx, tl, req, dst)
		if err != nil {
			if d != nil && ctx.Err() == nil {
				s.reset() // RFC 6665 §4.1.2.2: the next attempt subscribes anew
			}
			return 0, err
		}
		switch code := resp.StatusCode; {
		case code >= 200 && code < 300:
			return s.established(keep, resp, expires, targets), nil
		case (code == 401 || code == 407) && attempt < maxAuthRetries:
			if a == nil {
				a = s.u.newAuthRetry()
			}
			var ok bool
			if authName, authValue, ok = a.answer(resp, "SUBSCRIBE", keep.RequestURI.String()); !ok {
				return 0, statusError(resp)
			}
		case code == 423 && attempt < maxAuthRetries:
			minExp, err := resp.MinExpires()
			if err != nil || minExp <= secs {
				return 0, statusError(resp)
			}
			secs = minExp
		case code == 481 && d != nil:
			s.reset() // the notifier forgot it: a new one at once
			if attempt >= maxAuthRetries {
				return 0, statusError(resp)
			}
		default:
			if d != nil {
				// A refresh that failed: the subscription lasts until it
				// expires, and the next attempt makes a new one (RFC 6665
				// §4.1.2.2; a proxy may not route the dialog's requests).
				s.reset()
			}
			return 0, errors.Join(s.refused, statusError(resp))
		}
	}
}

// request builds the next SUBSCRIBE: in the dialog when there is one
// (with the dialog's next hop), else a new subscription (a new Call-ID and
// tag the first time and after reset, the same ones with the next CSeq for
// a retry).
func (s *subscription) request(tl *transaction.Layer) (*sipmsg.Message, *dialog.Dialog, sipmsg.URI) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dlg != nil {
		return s.dlg.NewRequest("SUBSCRIBE", 0), s.dlg, s.dlg.NextHop()
	}
	if s.callID == "" {
		s.callID, s.tag, s.seq = tl.NewTag()+"@xphone", tl.NewTag(), 0
	}
	s.seq++
	uri := s.target
	req := sipmsg.NewRequest("SUBSCRIBE", uri)
	from := s.u.aor(uri.Scheme)
	from.Params = from.Params.Set("tag", s.tag)
	to := sipmsg.Address{URI: uri, Bracketed: true}
	req.Add("From", from.String())
	req.Add("To", to.String())
	req.Add("Call-ID", s.callID)
	req.Add("CSeq", strconv.FormatUint(uint64(s.seq), 10)+" SUBSCRIBE")
	req.Add("Max-Forwards", "70")
	s.u.addRoute(req, true)
	req.Add("Contact", s.u.contact(s.u.cfg.Username, s.u.cfg.Transport).String())
	return req, nil, sipmsg.URI{}
}

// established records the dialog a 2xx to req created (a refresh keeps
// its own, with the 2xx's Contact as remote target unless a NOTIFY named
// one since req was sent: targets was the count then) and returns the
// expiry granted: the 2xx's Expires, at most what was asked.
func (s *subscription) established(req, resp *sipmsg.Message, asked time.Duration, targets uint64) time.Duration {
	s.mu.Lock()
	if s.dlg != nil && req.CallID() == s.dlg.ID.CallID && s.targets == targets {
		s.dlg.RefreshTarget(resp) // a refresh's 2xx
	}
	if s.dlg == nil && req.CallID() == s.callID {
		d, err := dialog.NewUAC(req, resp, s.u.contact(s.u.cfg.Username, s.u.cfg.Transport))
		if err == nil {
			if s.early != nil { // a NOTIFY sent after this 2xx got here first
				d.RemoteTarget = *s.early
			}
			if s.earlyTag != "" && s.earlyTag != d.ID.RemoteTag {
				// The first NOTIFY came from another fork than this 2xx:
				// the NOTIFY made the dialog and the 2xx only ends the
				// transaction (RFC 6665 §5.4.9). Its route set is the
				// NOTIFY's Record-Route, in order (RFC 3261 §12.1.1).
				d.ID.RemoteTag, d.RouteSet = s.earlyTag, s.earlyRoutes
			}
			s.dlg = d
		} else {
			// No usable dialog (a 2xx without Contact): refreshes start
			// new subscriptions.
			s.callID, s.early = "", nil
		}
	}
	s.mu.Unlock()
	granted := asked
	if v := resp.Get("Expires"); v != "" {
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil && time.Duration(n)*time.Second < asked {
			granted = time.Duration(n) * time.Second
		}
	}
	return granted
}

// reset forgets the subscription's dialog: the next SUBSCRIBE starts anew.
func (s *subscription) reset() {
	s.mu.Lock()
	s.resetLocked()
	s.mu.Unlock()
}

// resetLocked is reset with s.mu held.
func (s *subscription) resetLocked() {
	s.dlg, s.callID, s.early, s.earlyTag, s.earlyRoutes = nil, "", nil, "", nil
}

// unsubscribe removes the subscription (Expires: 0), best effort.
func (s *subscription) unsubscribe(ctx context.Context) {
	s.mu.Lock()
	up := s.dlg != nil
	s.mu.Unlock()
	if !up {
		return
	}
	if _, err := s.send(ctx, 0); err != nil {
		s.u.log.Debug("ua: unsubscribe", "event", s.event, "err", err)
	}
	s.reset()
}

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

// admit reports whether a NOTIFY of the subscription comes from the
// notifier of its dialog. Before the dialog exists (no 2xx yet) the first
// NOTIFY admitted fixes it: its From tag and Record-Route make the dialog
// (RFC 6665 §4.1.2.4, §5.4.9). Our packages keep one subscription per
// SUBSCRIBE, so a NOTIFY of another fork, or with no From tag, is not
// admitted: §5.4.9 has it answered 481.
func (s *subscription) admit(req *sipmsg.Message) bool {
	from, err := req.From()
	if err != nil || from.Tag() == "" {
		return false
	}
	to, _ := req.To()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.callID == "" || req.CallID() != s.callID || to.Tag() != s.tag:
		return false // reset since ours matched it
	case s.dlg != nil:
		return from.Tag() == s.dlg.ID.RemoteTag
	case s.earlyTag == "":
		s.earlyTag = from.Tag()
		s.earlyRoutes, _ = req.RecordRoute() // a bad one: none
		return true
	}
	return from.Tag() == s.earlyTag
}

// ended takes a NOTIFY whose Subscription-State is terminated: the
// subscription is gone; it is made again unless the notifier refused it
// for good (RFC 6665 §4.1.3: rejected, noresource; invariant only), after
// retry when that is more than 0 (see retryAfter).
func (s *subscription) ended(reason string, retry time.Duration) {
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
		s.u.emitError(errors.Join(s.refused, errors.New("ua: the notifier ended it: "+reason)))
		return
	}
	select {
	case s.kick <- struct{}{}:
	default:
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
// dialog's (admit), else what s's package makes of it; and follows its
// Subscription-State once it is accepted.
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
	if !s.admit(req) {
		s.u.respond(tx, 481, "")
		return
	}
	code, report := s.notify(req)
	if code == 200 {
		// NOTIFY, like SUBSCRIBE, is a target refresh request (RFC 6665):
		// in force before its 200 leaves, so that a request the notifier
		// makes us send once it has the 200 goes to the new target.
		s.refreshTarget(req)
	}
	s.u.respond(tx, code, "")
	if code != 200 {
		return
	}
	// The application hears of it after the answer: a callback that stops
	// the subscription must not send its SUBSCRIBE before the 200.
	if report != nil {
		defer report()
	}
	s.follow(st)
}

// follow acts on the Subscription-State of an accepted NOTIFY (RFC 6665
// §4.1.3): terminated ends the subscription; active and pending with
// expires may shorten it. Other states (extensions) change nothing.
func (s *subscription) follow(st sipmsg.SubscriptionState) {
	switch strings.ToLower(st.State) {
	case "terminated": // its expires has no meaning: ignored
		s.ended(st.Reason, retryAfter(st))
	case "active", "pending":
		if st.Expires >= 0 {
			s.shorten(time.Duration(st.Expires) * time.Second)
		}
	}
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
// call's (489 there); anything else is 481.
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
		} else {
			u.respond(tx, 481, "")
		}
	}
}

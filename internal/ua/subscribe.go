package ua

import (
	"context"
	"errors"
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
// remote target its last NOTIFY or 2xx named), a new subscription when the
// notifier ends it or a refresh fails (with the registration's backoff),
// and Expires: 0 at the end. Its NOTIFYs, matched by Call-ID and our tag
// (they may come before the SUBSCRIBE's 2xx, §4.1.2.4), go to the
// package's handler. mwi.go and watch.go use it.

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

	kick   chan struct{} // a NOTIFY ended the subscription: subscribe again
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	mu      sync.Mutex
	callID  string // of the current subscription, "" before the first SUBSCRIBE
	tag     string // our From tag
	seq     uint32 // CSeq of the last out-of-dialog SUBSCRIBE
	dlg     *dialog.Dialog
	early   *sipmsg.URI    // the Contact of a NOTIFY that came before the dialog (§4.1.2.4)
	targets uint64         // target refreshes by NOTIFY so far
	dst     transport.Addr // where the subscription was made
	stopped bool           // the notifier refused or ended it for good
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
	s.u, s.kick, s.cancel, s.done = u, make(chan struct{}, 1), cancel, make(chan struct{})
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

// run keeps the subscription up until ctx ends.
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
			t.Stop()
		}
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		if stopped {
			return
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
		t.Reset(wait)
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
	s.dlg, s.callID, s.early = nil, "", nil
	s.mu.Unlock()
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

// ours reports whether an in-dialog NOTIFY belongs to the subscription.
func (s *subscription) ours(req *sipmsg.Message, event string) bool {
	if !strings.EqualFold(event, s.event) {
		return false
	}
	to, _ := req.To()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callID != "" && req.CallID() == s.callID && to.Tag() == s.tag
}

// ended takes a NOTIFY whose Subscription-State is terminated: the
// subscription is gone; it is made again unless the notifier refused it
// for good (RFC 6665 §4.1.3: rejected, noresource; invariant only).
func (s *subscription) ended(reason string) {
	s.reset()
	switch strings.ToLower(reason) {
	case "rejected", "noresource", "invariant":
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		s.u.emitError(errors.Join(s.refused, errors.New("ua: the notifier ended it: "+reason)))
		return
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// handleNotify answers a NOTIFY in s (RFC 6665 §4.1.3) with what s's
// package makes of it, and follows its Subscription-State.
func (s *subscription) handleNotify(tx *transaction.ServerTx) {
	req := tx.Request()
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
	if st, err := req.SubscriptionState(); err == nil && strings.EqualFold(st.State, "terminated") {
		s.ended(st.Reason)
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

// findSubscription returns the subscription an in-dialog NOTIFY of event
// belongs to, or nil.
func (u *UA) findSubscription(req *sipmsg.Message, event string) *subscription {
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

// handleEventNotify answers a NOTIFY of an event package other than refer:
// in one of our subscriptions, its package's answer; an unsolicited
// message-summary (outside any dialog) goes to OnVoicemail; one in a
// call's dialog is the call's (489 there); anything else is 481.
func (u *UA) handleEventNotify(tx *transaction.ServerTx, event string) {
	req := tx.Request()
	to, _ := req.To()
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
		if s := u.findSubscription(req, event); s != nil {
			s.handleNotify(tx)
		} else if c := u.findCall(req.CallID()); c != nil {
			c.handleNotify(tx)
		} else {
			u.respond(tx, 481, "")
		}
	}
}

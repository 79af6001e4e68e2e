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
// remote target its last NOTIFY or 2xx named; sooner when a NOTIFY's
// Subscription-State shortens it), a new subscription when the notifier
// ends it (once its retry-after has passed), when a new SUBSCRIBE fails,
// when a refresh fails with a code that ends the subscription or other
// failures last until it lapses (until then the refresh is retried in the
// dialog, §4.1.2.2), with the registration's backoff and not before a
// Retry-After (RFC 3261 §20.33, at most maxRegisterBackoff), and when no
// NOTIFY follows a SUBSCRIBE's 2xx within Timer N (64*T1, §4.1.2.2,
// §4.1.2.4), and Expires: 0 at the end. Its NOTIFYs, matched by Call-ID,
// our tag and the Event package and id (§8.2.1), from the notifier of its
// dialog (they may come before the SUBSCRIBE's 2xx, and the first fixes
// the dialog, §4.1.2.4, §5.4.9), in CSeq order (RFC 3261 §12.2.2), go to
// the package's handler. mwi.go and watch.go use it.

// DefaultSubscribeExpiry is the subscription length asked for.
const DefaultSubscribeExpiry = time.Hour

// ErrSubscriptionRefused is wrapped by the errors OnError gets when a
// notifier refuses or ends a subscription (ErrMWIRefused for MWI).
var ErrSubscriptionRefused = errors.New("ua: subscription refused")

// errNoNotify is the failure OnError gets (with the subscription's
// refused error) when Timer N lapses: no NOTIFY followed a SUBSCRIBE's 2xx
// (RFC 6665 §4.1.2.2, §4.1.2.4).
var errNoNotify = errors.New("ua: no NOTIFY within 64*T1 of the SUBSCRIBE (Timer N)")

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
	// brought due forward; notified, that a NOTIFY stopped Timer N.
	kick     chan struct{}
	sooner   chan struct{}
	notified chan struct{}
	cancel   context.CancelFunc
	done     chan struct{} // closed when run returns

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
	// earlySeq is the CSeq of the last NOTIFY accepted before the dialog:
	// its remote sequence number (RFC 3261 §12.2.2), set with earlyTag
	// (empty while earlyTag is "": any CSeq, 0 too, is in order then).
	earlySeq uint32
	targets  uint64 // target refreshes by NOTIFY so far
	heard    uint64 // NOTIFYs admitted so far
	// noNotify is when Timer N lapses (RFC 6665 §4.1.2.2, §4.1.2.4): 64*T1
	// after the first SUBSCRIBE sent whose 2xx came with no NOTIFY since;
	// zero while no NOTIFY is awaited.
	noNotify time.Time
	// dst is where the subscription was made, then where its dialog's
	// requests went last: the server that answered, after any failover
	// (RFC 3263 §4.3), while the dialog's next hop stays hopKey.
	dst     transport.Addr
	hopKey  string
	stopped bool // the notifier refused or ended it for good
	// due is when run sends the next SUBSCRIBE, zero while one is under
	// way; a NOTIFY's expires may bring it forward (§4.1.3).
	due time.Time
	// retryAt is the retry-after of the NOTIFY that ended the
	// subscription (§4.1.3), or the Retry-After of the response that
	// failed the last SUBSCRIBE (RFC 3261 §20.33): no new one before then;
	// zero when none.
	retryAt time.Time
	// expiry is when the subscription lapses unless refreshed: the grant
	// of its last 2xx, or sooner a NOTIFY's expires (§4.1.2.2); zero
	// before either.
	expiry time.Time
	// failing is set when a refresh failed with a code that leaves the
	// subscription valid until expiry (§4.1.2.2), until one succeeds: once
	// expiry has passed, the next SUBSCRIBE is a new subscription.
	failing bool
}

// mark is what send notes as it sends a SUBSCRIBE: the target refreshes
// and NOTIFYs so far, the subscription's expiry, and when.
type mark struct {
	targets, heard uint64
	expiry, at     time.Time
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
	s.u, s.cancel, s.done = u, cancel, make(chan struct{})
	s.kick, s.sooner, s.notified = make(chan struct{}, 1), make(chan struct{}, 1), make(chan struct{}, 1)
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
	s.ending() // a NOTIFY that no longer finds s finds this
	s.cancel()
	<-s.done
	s.unsubscribe(ctx)
}

// ending lets the UA answer 200 to the NOTIFYs of s's dialog, if it has
// one, for 64*T1 after it is gone (endedSubs); it returns the dialog's ID
// and whether there is one.
func (s *subscription) ending() (dialog.ID, bool) {
	s.mu.Lock()
	d := s.dlg
	s.mu.Unlock()
	if d == nil {
		return dialog.ID{}, false
	}
	s.u.endedSubs.add(d.ID, s.event, 64*s.u.t1())
	return d.ID, true
}

// run keeps the subscription up until ctx ends: it sends SUBSCRIBE when
// its timer fires (at due) or a kick comes, unless a retry-after holds it
// off, runs Timer N while a SUBSCRIBE awaits its NOTIFY, and waits on ctx
// throughout, so that stop is prompt. A failure (a SUBSCRIBE that fails,
// Timer N lapsing) is reported once until the subscription works again
// (a NOTIFY came after a 2xx), and the failures in a row make the backoff.
func (s *subscription) run(ctx context.Context) {
	failures := 0
	var lastErr string
	// fail counts a failure, reports it unless it is the last one again,
	// and returns the backoff before the next attempt.
	fail := func(err error) time.Duration {
		failures++
		if err.Error() != lastErr {
			lastErr = err.Error()
			s.u.emitError(err)
		}
		return backoff(s.u.cfg.RegisterRetry, failures, rand.Int64N)
	}
	t := time.NewTimer(0)
	defer t.Stop()
	n := time.NewTimer(time.Hour) // Timer N, armed by a 2xx that no NOTIFY preceded
	n.Stop()
	defer n.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		case <-s.sooner:
			t.Reset(s.untilDue())
			continue
		case <-s.notified:
			n.Stop()
			failures, lastErr = 0, ""
			continue
		case <-n.C:
			if wait, lapsed := s.timerN(); lapsed {
				t.Reset(s.schedule(fail(errors.Join(s.refused, errNoNotify))))
			} else if wait > 0 {
				n.Reset(wait)
			}
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
		if err != nil {
			t.Reset(s.schedule(s.holdOff(fail(err), retryAfterOf(err))))
			continue
		}
		if wait, awaited := s.awaiting(); awaited {
			n.Reset(wait)
		} else {
			failures, lastErr = 0, ""
		}
		t.Reset(s.schedule(refreshAfter(granted)))
	}
}

// retryAfterOf returns the Retry-After of the response that failed a
// SUBSCRIBE (RFC 3261 §20.33), 0 when there was none.
func retryAfterOf(err error) time.Duration {
	var se *StatusError
	if errors.As(err, &se) {
		return se.RetryAfter
	}
	return 0
}

// holdOff takes the backoff after a failed SUBSCRIBE and the Retry-After
// of the response that failed it (RFC 3261 §20.33: how long the notifier
// expects to be unavailable; 0 for none) and returns the longer: no new
// SUBSCRIBE goes before the Retry-After, not even on a kick (begin). The
// Retry-After counts for at most maxRegisterBackoff, as for registration
// (register.go): one of years must not hold the subscription off until
// the UA reconnects.
func (s *subscription) holdOff(backoff, retryAfter time.Duration) time.Duration {
	if retryAfter <= 0 {
		return backoff
	}
	retryAfter = min(retryAfter, maxRegisterBackoff)
	s.mu.Lock()
	s.retryAt = time.Now().Add(retryAfter)
	s.mu.Unlock()
	return max(backoff, retryAfter)
}

// awaiting returns how long Timer N still runs after a SUBSCRIBE's 2xx,
// and false when no NOTIFY is awaited (one came since it was sent).
func (s *subscription) awaiting() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noNotify.IsZero() {
		return 0, false
	}
	return max(time.Until(s.noNotify), 0), true
}

// timerN is run's check when Timer N fires. When no NOTIFY came in time,
// the subscription failed (a new one, RFC 6665 §4.1.2.4) or ended (a
// refreshed one, §4.1.2.2): its dialog is forgotten, due cleared for the
// backoff, and lapsed is true. Otherwise wait is what Timer N still has
// to run, 0 when no NOTIFY is awaited any more.
func (s *subscription) timerN() (wait time.Duration, lapsed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noNotify.IsZero() {
		return 0, false
	}
	if wait = time.Until(s.noNotify); wait > 0 {
		return wait, false
	}
	s.resetLocked()
	s.due = time.Time{}
	return 0, true
}

// begin is run's check before it sends SUBSCRIBE: it returns how long the
// retry-after of the NOTIFY that ended the subscription still holds a new
// one off (RFC 6665 §4.1.3), and whether the notifier ended it for good.
// When the SUBSCRIBE may go, due is cleared for the transaction: a NOTIFY
// during it may set due (shorten), and schedule keeps the earlier time;
// and a subscription whose refresh failed and whose expiry has passed is
// forgotten: the SUBSCRIBE makes a new one (§4.1.2.2).
func (s *subscription) begin() (wait time.Duration, stopped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if wait = time.Until(s.retryAt); wait > 0 {
		return wait, s.stopped
	}
	s.due, s.retryAt = time.Time{}, time.Time{}
	if s.failing && !time.Now().Before(s.expiry) {
		s.resetLocked()
	}
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
// refreshAfter(expires) from now comes before due, due moves to it, and
// when expires from now comes before expiry, expiry does (§4.1.2.2: how
// long the subscription lasts if a refresh fails); a longer one changes
// nothing (a notifier may shorten a subscription so, never lengthen it,
// §4.2.2). It returns what tells run, nil when due did not change.
func (s *subscription) shorten(expires time.Duration) func() {
	now := time.Now()
	at := now.Add(refreshAfter(expires))
	s.mu.Lock()
	defer s.mu.Unlock()
	if end := now.Add(expires); s.expiry.IsZero() || end.Before(s.expiry) {
		s.expiry = end
	}
	if !s.due.IsZero() && !at.Before(s.due) {
		return nil
	}
	s.due = at
	return func() {
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
	var served transport.Addr // the server that answered a new subscription's last SUBSCRIBE
	for attempt := 0; ; attempt++ {
		req, d, hop := s.request(tl)
		s.mu.Lock()
		dst, m := s.dst, mark{targets: s.targets, heard: s.heard, expiry: s.expiry} // NOTIFYs' doings before this request
		hopKey := s.hopKey
		s.mu.Unlock()
		var key string // the next hop, in the dialog without a proxy
		switch {
		case d == nil && served.AddrPort.IsValid():
			dst = served // credentials, or a longer expiry, for the server that asked
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
			// through the proxy, as for calls (hop.go). Once resolved,
			// the hop's server that served last is kept, as a call's.
			if key = hop.String(); key != hopKey {
				dst = s.u.resolveHop(ctx, hop, dst.Protocol, dst)
			}
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
		m.at = time.Now() // Timer N starts as the SUBSCRIBE leaves (RFC 6665 §4.1.2.4)
		var resp *sipmsg.Message
		var err error
		if d == nil {
			// A new subscription: another server of the notifier's SRV
			// set when this one does not serve it (RFC 3263 §4.3).
			resp, served, err = s.u.outsideFinal(ctx, tl, tm, req, dst)
			s.mu.Lock()
			s.dst = served
			s.mu.Unlock()
		} else {
			// A refresh or removal: to the next SRV target of the
			// dialog's next hop too, and later ones to the server that
			// served it.
			var at transport.Addr
			resp, at, err = s.u.failoverFinal(ctx, tl, tm, req, dst, hop)
			s.mu.Lock()
			if s.dlg == d {
				s.dst, s.hopKey = at, key
			}
			s.mu.Unlock()
		}
		if err != nil {
			if ctx.Err() == nil {
				s.refreshFailed(d, 0) // a timeout, a transport error
			}
			return 0, err
		}
		switch code := resp.StatusCode; {
		case code >= 200 && code < 300:
			return s.established(keep, resp, expires, m), nil
		case (code == 401 || code == 407) && attempt < maxAuthRetries:
			if a == nil {
				a = s.u.newAuthRetry()
			}
			var ok bool
			if authName, authValue, ok = a.answer(resp, "SUBSCRIBE", keep.RequestURI.String()); !ok {
				s.refreshFailed(d, code)
				return 0, statusError(resp)
			}
		case code == 423 && attempt < maxAuthRetries:
			minExp, err := resp.MinExpires()
			if err != nil || minExp <= secs {
				s.refreshFailed(d, code)
				return 0, statusError(resp)
			}
			secs = minExp
		case code == 481 && d != nil:
			s.reset() // the notifier forgot it: a new one at once
			if attempt >= maxAuthRetries {
				return 0, statusError(resp)
			}
		default:
			s.refreshFailed(d, code)
			return 0, errors.Join(s.refused, statusError(resp))
		}
	}
}

// refreshFailed takes the failure of a SUBSCRIBE sent in d, nil for a
// new subscription (nothing to do then): code is its final status, 0 when
// none came (a timeout, a transport error). With a code that ends the
// subscription the dialog is forgotten and the next SUBSCRIBE makes a new
// one; after any other failure (a challenge or 423 it could not answer
// too) the subscription is still valid until its expiry (RFC 6665
// §4.1.2.2), and the refresh is retried in the dialog until then (begin).
// Nothing changes when d is no longer the subscription's (a NOTIFY ended
// it meanwhile).
func (s *subscription) refreshFailed(d *dialog.Dialog, code int) {
	if d == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.dlg != d:
	case endsSubscription(code):
		s.resetLocked()
	default:
		s.failing = true
	}
}

// endsSubscription reports whether a failure response to a refresh ends
// the subscription (RFC 6665 §4.1.2.2): 404, 405, 410, 416, 480 to 485,
// 489, 501 and 604. Other failures leave it valid until it expires.
func endsSubscription(code int) bool {
	switch code {
	case 404, 405, 410, 416, 489, 501, 604:
		return true
	}
	return code >= 480 && code <= 485
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
// one since req was sent: m has the counts then) and when its
// subscription expires (a NOTIFY's shorter expires since req was sent
// stands), starts Timer N unless a NOTIFY came since req was sent, and
// returns the expiry granted: the 2xx's Expires, at most what was asked.
func (s *subscription) established(req, resp *sipmsg.Message, asked time.Duration, m mark) time.Duration {
	granted := asked
	if v := resp.Get("Expires"); v != "" {
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil && time.Duration(n)*time.Second < asked {
			granted = time.Duration(n) * time.Second
		}
	}
	s.mu.Lock()
	if s.dlg != nil && req.CallID() == s.dlg.ID.CallID && s.targets == m.targets {
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
			if s.earlyTag != "" {
				d.SetRemoteSeq(s.earlySeq) // the NOTIFYs so far are the dialog's (RFC 3261 §12.2.2)
			}
			s.dlg = d
		} else {
			// No usable dialog (a 2xx without Contact): refreshes start
			// new subscriptions.
			s.callID, s.early = "", nil
		}
	}
	if asked > 0 && s.dlg != nil && req.CallID() == s.dlg.ID.CallID {
		// Counted from when req left (the notifier's count began later),
		// unless a NOTIFY since then said it ends sooner.
		end := m.at.Add(granted)
		if s.expiry.Equal(m.expiry) || end.Before(s.expiry) {
			s.expiry = end
		}
		s.failing = false
	}
	s.startTimerN(req, resp, asked, m)
	s.mu.Unlock()
	return granted
}

// startTimerN runs with s.mu held when a 2xx to req came: unless a NOTIFY
// came since req was sent (m.heard), the subscriber awaits one for 64*T1
// from then (RFC 6665 §4.1.2.4 for a new subscription, §4.1.2.2 for a
// refresh); an earlier SUBSCRIBE's wait that still runs is kept. Not when
// the 2xx says no NOTIFY comes (a 204, RFC 5839: Timer N is cancelled),
// for a removal (Expires: 0), or for a subscription forgotten since.
func (s *subscription) startTimerN(req, resp *sipmsg.Message, asked time.Duration, m mark) {
	if asked <= 0 || resp.StatusCode == 204 || req.CallID() != s.callID || s.heard != m.heard {
		return
	}
	if at := m.at.Add(64 * s.u.t1()); s.noNotify.IsZero() || at.Before(s.noNotify) {
		s.noNotify = at
	}
}

// reset forgets the subscription's dialog: the next SUBSCRIBE starts anew.
func (s *subscription) reset() {
	s.mu.Lock()
	s.resetLocked()
	s.mu.Unlock()
}

// resetLocked is reset with s.mu held.
func (s *subscription) resetLocked() {
	s.dlg, s.callID, s.early, s.earlyTag, s.earlyRoutes, s.earlySeq = nil, "", nil, "", nil, 0
	s.noNotify, s.expiry, s.failing, s.hopKey = time.Time{}, time.Time{}, false, ""
}

// unsubscribe removes the subscription (Expires: 0), best effort.
func (s *subscription) unsubscribe(ctx context.Context) {
	id, up := s.ending() // the dialog, should a refresh have made a new one
	if !up {
		return
	}
	if _, err := s.send(ctx, 0); err != nil {
		s.u.log.Debug("ua: unsubscribe", "event", s.event, "err", err)
		s.u.endedSubs.forget(id) // no final NOTIFY to wait for
	}
	s.reset()
}

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
	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// Message waiting indication (RFC 3842): with Config.MWI the UA
// subscribes to the message-summary event package (RFC 6665) of its own
// address of record, or of Config.MWIURI, refreshes the subscription
// before it lapses, subscribes again when the server ends it or a refresh
// fails (with the registration's backoff), and removes it (Expires: 0) on
// Disconnect. Each NOTIFY of that subscription, and any NOTIFY of the
// package outside a dialog (the "unsolicited" MWI some PBXes send to
// registered phones), goes to Config.OnVoicemail.

// eventMWI is the event package of RFC 3842.
const eventMWI = "message-summary"

// DefaultMWIExpiry is the subscription length asked for.
const DefaultMWIExpiry = time.Hour

// mwiSub is the UA's message-summary subscription.
type mwiSub struct {
	u    *UA
	kick chan struct{} // a NOTIFY ended the subscription: subscribe again

	mu      sync.Mutex
	callID  string // of the current subscription, "" before the first SUBSCRIBE
	tag     string // our From tag
	seq     uint32 // CSeq of the last out-of-dialog SUBSCRIBE
	dlg     *dialog.Dialog
	dst     transport.Addr // where the subscription was made
	stopped bool           // the server refused or ended it for good
}

func newMWISub(u *UA) *mwiSub { return &mwiSub{u: u, kick: make(chan struct{}, 1)} }

// run keeps the subscription up until ctx ends.
func (s *mwiSub) run(ctx context.Context) {
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
		granted, err := s.subscribe(ctx, DefaultMWIExpiry)
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

// ErrMWIRefused is wrapped by the errors OnError gets when the server
// refuses or ends the message-summary subscription.
var ErrMWIRefused = errors.New("ua: message-summary subscription refused")

// subscribe sends SUBSCRIBE for expires (0 removes the subscription): a
// refresh inside the subscription's dialog when there is one, else a new
// subscription. It answers digest challenges and 423, and returns the
// expiry the server granted.
func (s *mwiSub) subscribe(ctx context.Context, expires time.Duration) (time.Duration, error) {
	tl, tm := s.u.layer()
	if tl == nil {
		return 0, ErrNotConnected
	}
	secs := uint32(expires / time.Second)
	uri, err := s.target()
	if err != nil {
		return 0, err
	}
	var a *authRetry
	var authName, authValue string
	for attempt := 0; ; attempt++ {
		req, d := s.request(tl, uri)
		// A refresh goes where the subscription was made: the outbound
		// proxy, the registrar, or the server of the subscribed URI.
		s.mu.Lock()
		dst := s.dst
		s.mu.Unlock()
		if d == nil {
			if dst, err = s.u.destination(ctx, req.RequestURI); err != nil {
				return 0, err
			}
			s.mu.Lock()
			s.dst = dst
			s.mu.Unlock()
		}
		req.PrependVia(s.u.via(tm, tl, dst.Protocol))
		req.Add("Event", eventMWI)
		req.Add("Accept", mwi.ContentType)
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
			return 0, err
		}
		switch code := resp.StatusCode; {
		case code >= 200 && code < 300:
			return s.established(keep, resp, expires), nil
		case (code == 401 || code == 407) && attempt < maxAuthRetries:
			if a == nil {
				a = s.u.newAuthRetry()
			}
			var ok bool
			if authName, authValue, ok = a.answer(resp, "SUBSCRIBE", keep.RequestURI.String()); !ok {
				return 0, &StatusError{Code: code, Reason: resp.Reason}
			}
		case code == 423 && attempt < maxAuthRetries:
			minExp, err := resp.MinExpires()
			if err != nil || minExp <= secs {
				return 0, &StatusError{Code: code, Reason: resp.Reason}
			}
			secs = minExp
		case code == 481 && d != nil:
			s.reset() // the server forgot it: a new one at once
			if attempt >= maxAuthRetries {
				return 0, &StatusError{Code: code, Reason: resp.Reason}
			}
		default:
			return 0, errors.Join(ErrMWIRefused, &StatusError{Code: code, Reason: resp.Reason})
		}
	}
}

// target is the URI subscribed to: Config.MWIURI, else our address of
// record at Config.Host.
func (s *mwiSub) target() (sipmsg.URI, error) {
	if s.u.cfg.MWIURI != "" {
		return s.u.TargetURI(s.u.cfg.MWIURI)
	}
	return s.u.TargetURI(s.u.cfg.Username)
}

// request builds the next SUBSCRIBE: in the dialog when there is one,
// else a new subscription (a new Call-ID and tag the first time and after
// reset, the same ones with the next CSeq for a retry).
func (s *mwiSub) request(tl *transaction.Layer, uri sipmsg.URI) (*sipmsg.Message, *dialog.Dialog) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dlg != nil {
		return s.dlg.NewRequest("SUBSCRIBE", 0), s.dlg
	}
	if s.callID == "" {
		s.callID, s.tag, s.seq = tl.NewTag()+"@xphone", tl.NewTag(), 0
	}
	s.seq++
	req := sipmsg.NewRequest("SUBSCRIBE", uri)
	aor := sipmsg.Address{URI: sipmsg.URI{Scheme: uri.Scheme, User: s.u.cfg.Username, Host: s.u.cfg.Host}, Bracketed: true}
	if s.u.cfg.DisplayName != "" {
		aor.Display = sipmsg.Quote(s.u.cfg.DisplayName)
	}
	from := aor
	from.Params = from.Params.Set("tag", s.tag)
	to := sipmsg.Address{URI: uri, Bracketed: true}
	req.Add("From", from.String())
	req.Add("To", to.String())
	req.Add("Call-ID", s.callID)
	req.Add("CSeq", strconv.FormatUint(uint64(s.seq), 10)+" SUBSCRIBE")
	req.Add("Max-Forwards", "70")
	s.u.addRoute(req, true)
	req.Add("Contact", s.u.contact(s.u.cfg.Username, s.u.cfg.Transport).String())
	return req, nil
}

// established records the dialog a 2xx to req created (a refresh keeps
// its own) and returns the expiry granted: the 2xx's Expires, at most
// what was asked.
func (s *mwiSub) established(req, resp *sipmsg.Message, asked time.Duration) time.Duration {
	s.mu.Lock()
	if s.dlg == nil && req.CallID() == s.callID {
		d, err := dialog.NewUAC(req, resp, s.u.contact(s.u.cfg.Username, s.u.cfg.Transport))
		if err == nil {
			s.dlg = d
		} else {
			// No usable dialog (a 2xx without Contact): refreshes start
			// new subscriptions.
			s.callID = ""
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
func (s *mwiSub) reset() {
	s.mu.Lock()
	s.dlg, s.callID = nil, ""
	s.mu.Unlock()
}

// unsubscribe removes the subscription (Expires: 0), best effort.
func (s *mwiSub) unsubscribe(ctx context.Context) {
	s.mu.Lock()
	up := s.dlg != nil
	s.mu.Unlock()
	if !up {
		return
	}
	if _, err := s.subscribe(ctx, 0); err != nil {
		s.u.log.Debug("ua: unsubscribe message-summary", "err", err)
	}
	s.reset()
}

// ours reports whether an in-dialog NOTIFY belongs to the subscription;
// it may come before the SUBSCRIBE's 2xx (RFC 6665 §4.1.2.4).
func (s *mwiSub) ours(req *sipmsg.Message) bool {
	to, _ := req.To()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callID != "" && req.CallID() == s.callID && to.Tag() == s.tag
}

// ended takes a NOTIFY whose Subscription-State is terminated: the
// subscription is gone; it is made again unless the server refused it
// for good (RFC 6665 §4.1.3: rejected, noresource; invariant only).
func (s *mwiSub) ended(reason string) {
	s.reset()
	switch strings.ToLower(reason) {
	case "rejected", "noresource", "invariant":
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		s.u.emitError(errors.Join(ErrMWIRefused, errors.New("ua: the server ended it: "+reason)))
		return
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// handleMWINotify answers a NOTIFY of the message-summary package: in the
// subscription's dialog, or outside any dialog (unsolicited), 200 and the
// summary to OnVoicemail; 481 in an unknown dialog, 400 for a body that
// is not a message summary.
func (u *UA) handleMWINotify(tx *transaction.ServerTx) {
	req := tx.Request()
	to, _ := req.To()
	sub := u.mwiSub()
	inSub := to.Tag() != "" && sub != nil && sub.ours(req)
	if to.Tag() != "" && !inSub {
		u.respond(tx, 481, "")
		return
	}
	var sum mwi.Summary
	if len(req.Body) > 0 {
		var err error
		if sum, err = mwi.Parse(req.Body); err != nil {
			u.respond(tx, 400, "Bad message-summary")
			return
		}
	}
	u.respond(tx, 200, "")
	if inSub {
		if st, err := req.SubscriptionState(); err == nil && strings.EqualFold(st.State, "terminated") {
			sub.ended(st.Reason)
		}
	}
	if len(req.Body) > 0 {
		if f := u.cfg.OnVoicemail; f != nil {
			u.emit(func() { f(sum) })
		}
	}
}

// mwiSub returns the UA's subscription, nil without Config.MWI.
func (u *UA) mwiSub() *mwiSub {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.mwi
}

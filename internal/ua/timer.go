package ua

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// Session timers (RFC 4028). A call that negotiated one keeps two timers
// under Call.mu: the refresher sends a refresh (UPDATE when the peer
// allows it, else re-INVITE; update.go) at half the interval (§10), and
// either side ends the call with BYE when the session expires without a
// refresh: the refresher at the full interval, the other side at
// ExpireAfter (the interval minus min(32 s, interval/3)). Every 2xx to a
// re-INVITE or UPDATE, ours or the peer's, re-arms both from the interval
// it carries.

// errSessionExpired is the error behind EndTimeout when no refresh came.
var errSessionExpired = errors.New("ua: session expired without a refresh (RFC 4028 §10)")

// sessionTimer is a call's RFC 4028 state; guarded by Call.mu.
type sessionTimer struct {
	t       dialog.SessionTimer
	gen     uint64 // bumped on every re-arm, so stale timer callbacks do nothing
	refresh *time.Timer
	expire  *time.Timer
}

func (s *sessionTimer) stop() {
	if s.refresh != nil {
		s.refresh.Stop()
		s.refresh = nil
	}
	if s.expire != nil {
		s.expire.Stop()
		s.expire = nil
	}
	s.gen++
}

// timerInterval is the session interval we ask for and offer, in seconds;
// 0 when session timers are disabled.
func (u *UA) timerInterval() uint32 {
	if u.cfg.SessionTimer <= 0 {
		return 0
	}
	return max(uint32(u.cfg.SessionTimer/time.Second), u.minSE())
}

// minSE is the smallest interval we accept (RFC 4028 §5): 90 s, lowered by
// tests only.
func (u *UA) minSE() uint32 {
	if u.cfg.minSE > 0 {
		return u.cfg.minSE
	}
	return dialog.MinSessionExpires
}

// timerDelay turns a session-timer delay into wall time: the same, unless a
// test shrank the unit.
func (u *UA) timerDelay(d time.Duration) time.Duration {
	if u.cfg.timerUnit <= 0 {
		return d
	}
	return time.Duration(float64(d) * float64(u.cfg.timerUnit) / float64(time.Second))
}

// offerTimer adds the session-timer headers to an initial INVITE (RFC 4028
// §7.1) when timers are enabled.
func (u *UA) offerTimer(req *sipmsg.Message) {
	if iv := u.timerInterval(); iv > 0 {
		dialog.AddOffer(req, iv, u.minSE())
	}
}

// answerTimer negotiates the timer of an INVITE or re-INVITE we answer with
// resp (RFC 4028 §9); reject is the 422 to send instead. With timers
// disabled it does nothing, as a UAS without the extension would.
func (u *UA) answerTimer(req, resp *sipmsg.Message) (dialog.SessionTimer, *sipmsg.Message) {
	if u.cfg.SessionTimer <= 0 {
		return dialog.SessionTimer{}, nil
	}
	return dialog.AnswerOffer(req, resp, u.timerInterval(), u.minSE())
}

// addRefreshHeaders puts the current interval into a re-INVITE we send
// (RFC 4028 §7.4), keeping the refresher role: "uac" when we refresh (we
// are the client of this transaction), "uas" when the peer does.
func (c *Call) addRefreshHeaders(req *sipmsg.Message) {
	c.mu.Lock()
	t := c.timer.t
	c.mu.Unlock()
	if !t.Active() {
		c.u.offerTimer(req)
		return
	}
	dialog.AddOffer(req, t.Interval, c.u.minSE())
	role := "uas"
	if t.WeRefresh {
		role = "uac"
	}
	req.Set("Session-Expires", strconv.FormatUint(uint64(t.Interval), 10)+";refresher="+role)
}

// timerFromAnswer is the timer a 2xx to our INVITE or re-INVITE req sets
// up (RFC 4028 §7.2). A 2xx without Session-Expires to a request that asked
// for one comes from a UAS without the extension: we refresh at the
// interval we asked for, since a refresh is a plain re-INVITE to it.
func timerFromAnswer(req, resp *sipmsg.Message) dialog.SessionTimer {
	if !req.HasToken("Supported", "timer") {
		return dialog.SessionTimer{} // we did not take part (timers disabled)
	}
	t := dialog.FromAnswer(resp)
	if !t.Active() && !resp.HasToken("Require", "timer") {
		if se, err := req.SessionExpires(); err == nil && se.Delta > 0 {
			return dialog.SessionTimer{Interval: se.Delta, WeRefresh: true}
		}
	}
	return t
}

// armTimer (re)starts the session timer t; an inactive t stops it.
func (c *Call) armTimer(t dialog.SessionTimer) {
	if f := c.u.cfg.timerArmed; f != nil {
		defer f(c, t)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer.stop()
	c.timer.t = t
	if c.state == StateEnded || !t.Active() {
		return
	}
	gen := c.timer.gen
	expire := t.ExpireAfter()
	if t.WeRefresh {
		// The refresher gives up only at the full interval: a refresh
		// sent at half of it has the other half to be answered (§10).
		expire = time.Duration(t.Interval) * time.Second
		if !c.u.cfg.noRefresh {
			c.timer.refresh = time.AfterFunc(c.u.timerDelay(t.RefreshAfter()), func() { c.refreshSession(gen) })
		}
	}
	c.timer.expire = time.AfterFunc(c.u.timerDelay(expire), func() { c.sessionExpired(gen) })
}

// stopTimerLocked stops the session timer; c.mu must be held.
func (c *Call) stopTimerLocked() { c.timer.stop() }

func (c *Call) current(gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timer.gen == gen && c.state != StateEnded
}

// refreshSession sends the refresh (RFC 4028 §7.4). A 408 or 481 answer,
// or none, ends the call with BYE (§10); other failures leave it to the
// expiry timer.
func (c *Call) refreshSession(gen uint64) {
	c.u.tasks.add()
	defer c.u.tasks.done()
	if !c.current(gen) {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, 64*c.u.t1())
	defer cancel()
	err := c.refresh(ctx)
	if err == nil {
		return
	}
	var se *StatusError
	noAnswer := errors.Is(err, transaction.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) && c.ctx.Err() == nil
	if errors.As(err, &se) && (se.Code == 408 || se.Code == 481) || noAnswer {
		c.hangup(EndError, err)
		return
	}
	c.u.log.Debug("ua: session refresh failed", "call", c.callID, "err", err)
}

// refresh sends the session refresh: an UPDATE without a body when the
// peer takes UPDATE (RFC 4028 §7.4 prefers it: no offer/answer), else a
// re-INVITE with the session's current direction whose answer is applied.
// A peer that refuses the UPDATE (405, 501) is refreshed by re-INVITE at
// once and from then on.
func (c *Call) refresh(ctx context.Context) error {
	if c.peerTakesUpdate() {
		err := c.sendUpdate(ctx)
		if !isRefusal(err) {
			return err
		}
	}
	if err := c.awaitAck(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	// Not while the peer's offer is being answered (c.sdp is in use);
	// that transaction's 2xx refreshes the session anyway.
	if c.reinviting || c.upd.answering || c.ackPendingLocked() || c.dlg == nil || (c.state != StateActive && c.state != StateOnHold) {
		c.mu.Unlock()
		return ErrInvalidState
	}
	c.reinviting = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.reinviting = false
		c.mu.Unlock()
	}()
	return c.sendReinvite(ctx, func(n sdp.Negotiated) error { return c.startMedia(n, true) })
}

// sessionExpired ends the call with BYE when no refresh came in time.
func (c *Call) sessionExpired(gen uint64) {
	c.u.tasks.add()
	defer c.u.tasks.done()
	if !c.current(gen) {
		return
	}
	c.u.log.Info("ua: session expired", "call", c.callID)
	c.hangup(EndTimeout, errSessionExpired)
}

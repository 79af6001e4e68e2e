package ua

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// UPDATE (RFC 3311) in both directions, and the glare handling it shares
// with re-INVITE.
//
// As UAS we take UPDATE in early and confirmed dialogs, on inbound calls
// and, in the early dialogs the 18x answers to our INVITE created (RFC 3261
// §12.1.2), on outbound ones. One with an SDP offer is answered like a
// re-INVITE offer (answerOffer); it gets 491 when an offer of ours is
// unanswered and 500 with Retry-After when an offer of the peer's is
// (§5.2). In an early dialog the INVITE's offer counts as answered once a
// reliable provisional response carried the answer and was PRACKed (RFC
// 3262 §5, RFC 3311 §5.1). One without a body is a session refresh (RFC
// 4028 §7.3): 200 with the Session-Expires, or 422 with our Min-SE; in an
// early dialog it only refreshes the target.
//
// As UAC, Call.Update sends an UPDATE without a body, in the confirmed
// dialog or an early one where §5.1 allows it (updateDialogLocked), and the
// session timer refreshes with UPDATE when the peer's Allow lists it (RFC
// 4028 §7.4 prefers it: no offer/answer), else with re-INVITE.

// maxGlareRetries bounds how often one re-INVITE or UPDATE is sent again
// after 491.
const maxGlareRetries = 3

// updateState is a call's UPDATE and glare state; guarded by Call.mu.
type updateState struct {
	answering bool // c.sdp is in an exchange the peer began: answerOffer, our offer for a re-INVITE without one, the ACK's answer
	waiting   bool // our re-INVITE got 491 and waits to be sent again
	// ackSeq is the CSeq of the peer's re-INVITE without SDP whose 2xx
	// carried our offer: its ACK brings the answer (RFC 3261 §14.2, RFC
	// 3264 §4); zero when none is awaited.
	ackSeq  uint32
	refused bool // the peer answered our UPDATE 405 or 501: refresh by re-INVITE
}

// glareDelay is how long to wait before sending a request again after 491
// (RFC 3261 §14.1): the owner of the Call-ID (the caller) waits 2.1 to 4 s,
// the other side 0 to 2 s, both in units of 10 ms.
func (c *Call) glareDelay() time.Duration {
	if c.outbound {
		return time.Duration(210+rand.IntN(191)) * 10 * time.Millisecond
	}
	return time.Duration(rand.IntN(201)) * 10 * time.Millisecond
}

// offerPendingLocked reports whether an offer of ours awaits its answer in
// a re-INVITE transaction: then the peer's offers get 491 (RFC 3261 §14.2,
// RFC 3311 §5.2). While we wait to retry after a 491, no transaction of
// ours is pending and the peer's offer is taken (§14.1: the side that does
// not own the Call-ID retries first). c.mu must be held.
func (c *Call) offerPendingLocked() bool { return c.reinviting && !c.upd.waiting }

// acceptingLocked reports whether Accept has sent our 2xx to the INVITE's
// offer and is still starting the media: the offer/answer is complete, but
// a new offer must not reach media not yet started (putOff). A late offer
// is not: its media starts with the ACK's answer, on the transport's reader.
func (c *Call) acceptingLocked() bool {
	return !c.outbound && c.ok != nil && c.uas != nil && !c.uas.lateOffer &&
		c.state != StateActive && c.state != StateOnHold && c.state != StateEnded
}

// putOff runs f, the handling of a request that came while Accept was
// starting the call (acceptingLocked), on a task goroutine once the call
// is active, has ended, or 64*T1 has passed.
func (c *Call) putOff(f func()) {
	if c.u.testPutOff != nil {
		c.u.testPutOff()
	}
	c.u.tasks.goFunc(func() {
		select {
		case <-c.active:
		case <-c.done:
		case <-time.After(64 * c.u.t1()):
		}
		f()
	})
}

// ackPendingLocked reports whether the caller's INVITE transaction is still
// going: our 2xx awaits its ACK. No re-INVITE of ours starts meanwhile (RFC
// 3261 §14.1: one INVITE transaction at a time in either direction).
// c.mu must be held.
func (c *Call) ackPendingLocked() bool {
	return !c.outbound && c.ok != nil && !c.acked && c.state != StateEnded
}

// awaitAck waits while the ACK of our 2xx has not come (ackPendingLocked):
// a re-INVITE of ours waits for the caller's INVITE transaction to end. It
// fails when ctx ends or the call does.
func (c *Call) awaitAck(ctx context.Context) error {
	c.mu.Lock()
	pending := c.ackPendingLocked()
	c.mu.Unlock()
	if !pending {
		return nil
	}
	select {
	case <-c.ackedCh:
		return nil
	case <-c.done:
		return ErrInvalidState
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lateOfferPendingLocked reports whether our offer in the 2xx to an INVITE
// without SDP, or to a re-INVITE without one, still waits for the ACK's
// answer (RFC 3261 §13.2.1): no other offer may cross it (RFC 3264 §4).
func (c *Call) lateOfferPendingLocked() bool {
	return c.upd.ackSeq != 0 || !c.outbound && c.uas != nil && c.uas.lateOffer && c.ok != nil && !c.acked
}

// waitGlare waits out glareDelay; it fails when ctx ends or the call does.
// offer says the caller is a re-INVITE holding the reinviting flag: the
// peer's offers are answered meanwhile, and the wait ends only once no
// answer to one is being built, so that the Session is never used by both.
func (c *Call) waitGlare(ctx context.Context, offer bool) error {
	if offer {
		c.mu.Lock()
		c.upd.waiting = true
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.upd.waiting = false
			c.mu.Unlock()
		}()
	}
	t := time.NewTimer(c.glareDelay())
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return ErrInvalidState
		}
		if !offer {
			return nil
		}
		c.mu.Lock()
		if !c.upd.answering {
			c.upd.waiting = false // under the same lock as the check
			c.mu.Unlock()
			return nil
		}
		c.mu.Unlock()
		t.Reset(10 * time.Millisecond) // an answer is being built: soon done
	}
}

// answerOffer answers the peer's SDP offer of a re-INVITE or UPDATE (RFC
// 3264 §8), applies it to the media and moves the call between StateActive
// and StateOnHold. code is 0 on success, else the response to send
// instead: 400 for SDP that does not parse, 488 for an offer we cannot take
// (RFC 3261 §14.2; our description stays as it was), 491 when an offer of
// ours is pending or another answer is being built.
func (c *Call) answerOffer(raw []byte) (body []byte, code int) {
	offer, err := sdp.Parse(raw)
	if err != nil {
		return nil, 400
	}
	c.mu.Lock()
	if c.offerPendingLocked() || c.upd.answering {
		c.mu.Unlock()
		return nil, 491
	}
	c.upd.answering = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.upd.answering = false
		c.mu.Unlock()
	}()
	if c.u.testAnswering != nil {
		c.u.testAnswering(c)
	}
	// Our SRTP key stays the same through re-offers and their answers, as
	// most peers keep theirs: baresip 1.0.0 goes on decrypting with the key
	// of the first offer, so a new one cut our audio at its first hold
	// (TestUAHoldsBaresip). media.Update keeps a key's SRTP contexts, so
	// its packet indexes go on and no keystream is used twice (RFC 3711
	// §9.1); a peer that changes its own key is followed (RFC 4568 §7.1.4).
	ans, n, err := c.sdp.Answer(offer)
	if err != nil {
		return nil, 488
	}
	body = []byte(ans.String())
	c.mu.Lock()
	st := c.uas
	// An inbound call before our 2xx (an UPDATE in the early dialog): the
	// 2xx repeats the answer last sent and Accept starts the media with
	// it, unless a reliable 183 started it already.
	inEarly := !c.outbound && st != nil && c.ok == nil
	if inEarly {
		st.answer, st.negotiate = body, n
	}
	started := !inEarly || st.started
	c.mu.Unlock()
	if started {
		if err := c.startMedia(n, true); err != nil {
			c.u.log.Warn("ua: media update", "err", err)
		}
	}
	c.holdState(n)
	return body, 0
}

// holdState sets an established call OnHold or Active after an exchange
// the peer began: the peer holds us when it will not receive (its offer is
// sendonly or inactive, RFC 3264 §8.4); we hold it while our own direction
// does not receive.
func (c *Call) holdState(n sdp.Negotiated) {
	if st := c.State(); st == StateActive || st == StateOnHold {
		if !n.RemoteDirection.Receives() || !n.Direction.Receives() {
			c.setState(StateOnHold)
		} else {
			c.setState(StateActive)
		}
	}
}

// handleUpdate answers an UPDATE (RFC 3311 §5.2) in one of the call's
// dialogs, early or confirmed.
func (c *Call) handleUpdate(tx *transaction.ServerTx) { c.handleUpdateOnce(tx, true) }

// handleUpdateOnce is handleUpdate; mayWait lets it put off an UPDATE that
// came while Accept was between sending our 2xx and making the call
// active (a peer may send one right after its ACK): the offer/answer of
// the INVITE is then complete, so the UPDATE is neither refused with 500
// nor applied to media not yet started, but handled once Accept is done.
func (c *Call) handleUpdateOnce(tx *transaction.ServerTx, mayWait bool) {
	req := tx.Request()
	offer := len(req.Body) > 0
	c.mu.Lock()
	if mayWait && c.acceptingLocked() {
		c.mu.Unlock()
		c.putOff(func() { c.handleUpdateOnce(tx, false) })
		return
	}
	d, ed := c.dlg, (*earlyDialog)(nil)
	if d != nil && !d.Matches(req) {
		d = nil
	}
	if c.dlg == nil && c.outbound {
		// Before the 2xx to our INVITE: one of its early dialogs.
		if ed = c.early.findLocked(req); ed != nil {
			d = ed.d
		}
	}
	if d == nil || c.state == StateEnded {
		c.mu.Unlock()
		c.u.respond(tx, 481, "")
		return
	}
	confirmed := c.state == StateActive || c.state == StateOnHold
	st := c.uas
	// An offer of ours is unanswered: our re-INVITE; our INVITE's until a
	// reliable provisional response of this early dialog answered it; the
	// offer in our reliable 180 to an INVITE without SDP until the PRACK
	// answers it (RFC 3262 §5); or the one in our 2xx to such an INVITE
	// until the ACK.
	ours := c.offerPendingLocked() ||
		(c.outbound && !confirmed && (ed == nil || !ed.answered)) ||
		(!c.outbound && st != nil && st.lateOffer && st.relOffer) || c.lateOfferPendingLocked()
	// An offer of the peer's is: its INVITE's before our answer to it went
	// out in a reliable provisional response that was PRACKed (RFC 3262
	// §5, RFC 3311 §5.1) or in our 2xx, or an UPDATE's we are still
	// answering.
	theirs := c.upd.answering || (!c.outbound && !confirmed && (st == nil || !st.oaDone))
	if offer && ours {
		c.mu.Unlock()
		c.u.respond(tx, 491, "")
		return
	}
	if offer && theirs {
		c.mu.Unlock()
		resp := sipmsg.NewResponse(req, 500, "")
		resp.Set("Retry-After", strconv.Itoa(rand.IntN(11))) // §5.2: 0 to 10 s
		tx.Respond(resp)                                     //nolint:errcheck // the peer retries
		return
	}
	err := d.Receive(req)
	contact := d.LocalContact
	c.mu.Unlock()
	if err != nil {
		c.u.respond(tx, 500, "")
		return
	}
	if confirmed {
		c.retarget() // UPDATE is a target refresh (RFC 3311 §5.2)
	}
	resp := sipmsg.NewResponse(req, 200, "")
	var timer dialog.SessionTimer
	if confirmed {
		// A 2xx to an UPDATE refreshes the session (RFC 4028 §10).
		var reject *sipmsg.Message
		if timer, reject = c.u.answerTimer(req, resp); reject != nil {
			tx.Respond(reject) //nolint:errcheck // the peer retries with our Min-SE
			return
		}
	}
	if offer {
		body, code := c.answerOffer(req.Body)
		if code != 0 {
			reason := ""
			if code == 400 {
				reason = "Bad SDP"
			}
			c.u.respond(tx, code, reason)
			return
		}
		resp.Add("Content-Type", "application/sdp")
		resp.Body = body
	}
	// UPDATE is a target refresh request: its 2xx carries our Contact
	// (RFC 3311 §5.2).
	resp.Add("Contact", contact.String())
	if c.u.cfg.SessionTimer > 0 && !resp.HasToken("Supported", "timer") {
		resp.Add("Supported", "timer")
	}
	resp.SetContentLength()
	tx.Respond(resp) //nolint:errcheck // a lost answer is the peer's to retry
	if confirmed {
		c.armTimer(timer)
	}
}

// Update sends an UPDATE without a body (RFC 3311 §5.1). In an answered
// call it refreshes the session (RFC 4028 §7.4): it carries our
// Session-Expires, keeps the refresher role, and re-arms the session timer
// from the 2xx. Before the answer it goes in the early dialog where §5.1
// allows one (see updateDialogLocked) and only refreshes the target. It
// retries once on 422 with the Min-SE named and after 491 as RFC 3261 §14.1
// says. It blocks until the final response or ctx ends; it fails with
// ErrInvalidState when no dialog may take an UPDATE, and with a
// *StatusError for a final response other than 2xx. Safe for concurrent
// use.
func (c *Call) Update(ctx context.Context) error {
	c.mu.Lock()
	_, _, _, ok := c.updateDialogLocked()
	c.mu.Unlock()
	if !ok {
		return ErrInvalidState
	}
	ctx, done := c.whileLive(ctx)
	defer done()
	return c.endedErr(c.sendUpdate(ctx))
}

// updateDialogLocked returns the dialog an UPDATE of ours goes in, where it
// is sent and whether the dialog is confirmed; ok is false when none may
// take one. In an answered call that is the confirmed dialog. Before the
// answer (RFC 3311 §5.1, §4): as caller, an early dialog whose provisional
// responses list UPDATE in Allow, the one that answered our offer if any,
// else the latest; as callee, the early dialog once a PRACK has shown that
// the caller has it, when the INVITE's Allow lists UPDATE. c.mu must be
// held.
func (c *Call) updateDialogLocked() (d *dialog.Dialog, dst transport.Addr, confirmed, ok bool) {
	switch {
	case c.state == StateEnded:
		return nil, dst, false, false
	case c.state == StateActive || c.state == StateOnHold:
		return c.dlg, c.dst, true, c.dlg != nil
	case c.outbound:
		if c.dlg != nil {
			return nil, dst, false, false // the 2xx is being taken
		}
		ed := c.early.last
		for _, e := range c.early.m {
			if e.answered {
				ed = e
				break
			}
		}
		if ed == nil || !ed.allow {
			return nil, dst, false, false
		}
		return ed.d, ed.dst, false, true
	}
	st := c.uas
	if c.dlg == nil || st == nil || !st.pracked || c.headers == nil || !c.headers.HasToken("Allow", "UPDATE") {
		return nil, dst, false, false
	}
	return c.dlg, c.dst, false, true
}

// peerTakesUpdate reports whether a session refresh may use UPDATE: the
// peer's Allow (in its INVITE or its 2xx) lists it and it has not refused
// one of ours.
func (c *Call) peerTakesUpdate() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.upd.refused && c.headers != nil && c.headers.HasToken("Allow", "UPDATE")
}

// sendUpdate sends a body-less UPDATE and applies its 2xx.
func (c *Call) sendUpdate(ctx context.Context) error {
	var interval uint32
	glare := 0
	for {
		tl, tm := c.u.layer()
		if tl == nil {
			return ErrNotConnected
		}
		c.mu.Lock()
		d, dst, confirmed, ok := c.updateDialogLocked()
		if !ok {
			c.mu.Unlock()
			return ErrInvalidState
		}
		req := d.NewRequest("UPDATE", 0)
		c.mu.Unlock()
		dst = c.settledDst(ctx, dst)
		req.PrependVia(c.u.via(tm, tl, dst.Protocol))
		req.Add("User-Agent", c.u.cfg.UserAgent)
		if confirmed {
			// The session timer is the confirmed dialog's (RFC 4028).
			c.addRefreshHeaders(req)
			if interval > 0 {
				v := strconv.FormatUint(uint64(interval), 10)
				req.Set("Session-Expires", v)
				req.Set("Min-SE", v)
			}
		}
		req.SetContentLength()
		final, req, err := c.dialogFinal(ctx, tl, tm, d, req, dst)
		if err != nil {
			return err
		}
		switch code := final.StatusCode; {
		case code == 422 && interval == 0 && confirmed:
			se, _ := req.SessionExpires()
			if iv, ok := dialog.RetryInterval(final, se.Delta); ok {
				interval = iv
				continue
			}
		case code == 491 && glare < maxGlareRetries:
			glare++
			if err := c.waitGlare(ctx, false); err != nil {
				return err
			}
			continue
		case code == 405 || code == 501:
			c.mu.Lock()
			c.upd.refused = true
			c.mu.Unlock()
		case code < 300:
			c.mu.Lock()
			d.RefreshTarget(final) // §5.1: UPDATE is a target refresh
			c.mu.Unlock()
			if confirmed {
				c.retarget()
				c.armTimer(timerFromAnswer(req, final))
			}
			return nil
		}
		return statusError(final)
	}
}

// isRefusal reports whether err is the peer refusing the UPDATE method.
func isRefusal(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.Code == 405 || se.Code == 501)
}

package ua

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// The peer's re-INVITE in a call's dialog.

// handleReInvite answers a re-INVITE (RFC 3261 §14.2): a new offer is
// answered with the session's answer and applied to the media (hold and
// resume by the peer); one without SDP gets our current description.
func (c *Call) handleReInvite(tx *transaction.ServerTx) { c.handleReInviteOnce(tx, true) }

// handleReInviteOnce is handleReInvite; mayWait lets it put off a
// re-INVITE that came while Accept was between sending our 2xx and making
// the call active, as handleUpdateOnce does: the INVITE's offer/answer is
// complete then, but its media may not have started yet.
func (c *Call) handleReInviteOnce(tx *transaction.ServerTx, mayWait bool) {
	req := tx.Request()
	c.mu.Lock()
	if c.dlg == nil || c.state == StateEnded || !c.dlg.Matches(req) {
		c.mu.Unlock()
		c.u.respond(tx, 481, "")
		return
	}
	if !c.outbound && c.ok == nil {
		// Our final response to the INVITE is not sent yet: its offer is
		// unanswered, and a second INVITE on the dialog gets 500 with a
		// Retry-After of 0 to 10 s (RFC 3261 §14.2).
		c.mu.Unlock()
		resp := sipmsg.NewResponse(req, 500, "")
		resp.Set("Retry-After", strconv.Itoa(rand.IntN(11)))
		tx.Respond(resp) //nolint:errcheck // the peer retries
		return
	}
	if mayWait && c.acceptingLocked() {
		c.mu.Unlock()
		c.putOff(func() { c.handleReInviteOnce(tx, false) })
		return
	}
	// Glare: our own re-INVITE is pending (RFC 3261 §14.2), our offer in
	// the 2xx to an INVITE without SDP waits for the ACK's answer (a peer
	// that re-INVITEs before its ACK), or our INVITE's 2xx is still being
	// taken on Dial's goroutine (answer), which applies its SDP answer to
	// c.sdp: answerOffer must not use it.
	if c.offerPendingLocked() || c.lateOfferPendingLocked() || (c.outbound && c.state != StateActive && c.state != StateOnHold) { // update.go
		c.mu.Unlock()
		c.u.respond(tx, 491, "")
		return
	}
	err := c.dlg.Receive(req)
	contact := c.dlg.LocalContact
	c.mu.Unlock()
	if err != nil {
		c.u.respond(tx, 500, "")
		return
	}
	c.retarget() // a re-INVITE is a target refresh
	resp := sipmsg.NewResponse(req, 200, "")
	timer, reject := c.u.answerTimer(req, resp)
	if reject != nil {
		tx.Respond(reject) //nolint:errcheck // the peer retries with our Min-SE
		return
	}
	var body []byte
	if len(req.Body) > 0 {
		var code int
		if body, code = c.answerOffer(req.Body); code != 0 { // update.go
			reason := ""
			if code == 400 {
				reason = "Bad SDP"
			}
			c.u.respond(tx, code, reason)
			return
		}
	} else {
		// Our offer comes from c.sdp: under the answering flag, as in
		// answerOffer, so that no Hold or refresh uses it meanwhile.
		c.mu.Lock()
		busy := c.offerPendingLocked() || c.upd.answering
		c.upd.answering = c.upd.answering || !busy
		c.mu.Unlock()
		if busy {
			c.u.respond(tx, 491, "")
			return
		}
		if c.u.testAnswering != nil {
			c.u.testAnswering(c)
		}
		off, err := c.sdp.Offer()
		c.mu.Lock()
		c.upd.answering = false
		var seq uint32
		if err == nil {
			cs, _ := req.CSeq() // validated
			seq, c.upd.ackSeq = cs.Seq, cs.Seq
		}
		c.mu.Unlock()
		if seq != 0 {
			// No ACK within 64*T1 (RFC 3261 §13.3.1.4): the offer is
			// withdrawn and the session stays as it was.
			time.AfterFunc(64*c.u.t1(), func() { c.ackLost(seq) })
		}
		if err != nil {
			c.u.respond(tx, 500, "")
			return
		}
		body = []byte(off.String())
	}
	resp.Add("Contact", contact.String())
	resp.Add("Content-Type", "application/sdp")
	resp.Body = body
	resp.SetContentLength()
	tx.Respond(resp) //nolint:errcheck // a lost re-INVITE answer is the peer's to retry
	// Any 2xx to a re-INVITE refreshes the session (RFC 4028 §10).
	c.armTimer(timer)
}

// reinviteAck takes the ACK of a re-INVITE without SDP whose 2xx carried
// our offer: its answer updates the media, under the answering flag as
// answerOffer does. An ACK without one (RFC 3264 §4 wants it) or with an
// answer we cannot use leaves the session as it was (§8: the offer is
// withdrawn) rather than ending the call.
func (c *Call) reinviteAck(ack *sipmsg.Message) {
	c.mu.Lock()
	if c.upd.ackSeq == 0 {
		c.mu.Unlock()
		return // a retransmission, taken already
	}
	c.upd.ackSeq = 0
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
	n, ok := c.processAnswer(ack)
	if !ok {
		c.sdp.DiscardOffer()
		c.u.log.Warn("ua: the ACK of a re-INVITE without SDP brought no usable answer", "call", c.id, "body", len(ack.Body))
		return
	}
	if err := c.startMedia(n, true); err != nil {
		c.u.log.Warn("ua: media update", "err", err)
	}
	c.holdState(n)
}

// ackLost withdraws our offer in the 2xx to the re-INVITE seq when its ACK
// has not come.
func (c *Call) ackLost(seq uint32) {
	c.mu.Lock()
	if c.upd.ackSeq != seq || c.upd.answering {
		c.mu.Unlock()
		return // taken; or c.sdp is busy, and the next exchange replaces the offer
	}
	c.upd.ackSeq = 0
	c.upd.answering = true
	c.mu.Unlock()
	c.sdp.DiscardOffer()
	c.mu.Lock()
	c.upd.answering = false
	c.mu.Unlock()
	c.u.log.Warn("ua: no ACK for our 2xx to a re-INVITE without SDP; its offer is withdrawn", "call", c.id)
}

package ua

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// uasState is what an inbound call keeps between the INVITE and the ACK.
type uasState struct {
	localTag  string
	answer    []byte         // our SDP answer to the INVITE's offer
	negotiate sdp.Negotiated // what the answer agreed
	lateOffer bool           // the INVITE had no SDP: we offer in the 2xx, the ACK answers (RFC 3261 §13.2.1)
	started   bool           // media running (after Progress or Accept)
	interval  time.Duration  // current 2xx retransmission interval
	elapsed   time.Duration
	rel       *relUAS // reliable provisional responses (RFC 3262); nil when unreliable
	relOffer  bool    // late offer with 100rel required: our offer went in the reliable 180, the PRACK answers (RFC 3262 §5)
	// abortAccept ends the wait of an Accept for a PRACK; nil when no
	// Accept waits (takeOverAccept).
	abortAccept context.CancelFunc
	pracked     bool // a PRACK came: the caller has the early dialog (RFC 3311 §5.1)
	// oaDone: the offer/answer exchange of the INVITE completed before
	// the 2xx, in a reliable provisional response that was PRACKed (RFC
	// 3262 §5): the caller may offer again in an UPDATE (RFC 3311 §5.1).
	oaDone bool
}

// The fields of uasState that UPDATE and PRACK change while the call rings
// (answer, negotiate, lateOffer, started, pracked, oaDone) are guarded by
// Call.mu.

// handleInvite takes a new INVITE (RFC 3261 §13.3): media and SDP answer
// prepared, early dialog, 180 Ringing, OnIncoming. An INVITE with
// Replaces that names one of our calls is answered at once instead and
// takes that call over (replaces.go).
func (u *UA) handleInvite(tx *transaction.ServerTx) {
	req := tx.Request()
	var replaced *Call
	if len(req.Values("Replaces")) > 0 && !u.cfg.RefuseReplaces {
		old, code := u.matchReplaces(req)
		if old == nil {
			u.refuseReplaces(tx, code)
			return
		}
		replaced = old
		defer func() {
			if replaced != nil { // refused after all: others may name it
				replaced.unclaim()
			}
		}()
	}
	if u.cfg.OnIncoming == nil && replaced == nil {
		u.respond(tx, 480, "")
		return
	}
	if u.findCall(req.CallID()) != nil {
		u.respond(tx, 482, "") // a merged request (§8.2.2.2)
		return
	}
	if replaced == nil && u.full() {
		u.respond(tx, 486, "") // Config.MaxCalls
		return
	}
	reliable, refuse := u.check100rel(req)
	if refuse != 0 {
		u.refuse100rel(tx, refuse)
		return
	}
	src := tx.Source()
	c, err := u.newCall(req.CallID(), false, src.Protocol, u.cfg.Codecs, u.cfg.SRTP)
	if err != nil {
		reason := ""
		if errors.Is(err, media.ErrNoRTPPort) {
			reason = "No RTP Port Available"
		}
		u.respond(tx, 500, reason)
		return
	}
	st := &uasState{localTag: u.tlNewTag()}
	if _, reject := u.answerTimer(req, sipmsg.NewResponse(req, 200, "")); reject != nil {
		// The interval asked for is below our Min-SE (RFC 4028 §9).
		c.media.Close()
		reject.SetToTag(st.localTag) //nolint:errcheck // To was validated
		tx.Respond(reject)           //nolint:errcheck // the caller retries or gives up
		return
	}
	if len(req.Body) == 0 {
		st.lateOffer = true
	} else {
		offer, err := sdp.Parse(req.Body)
		if err != nil {
			c.media.Close()
			u.respond(tx, 400, "Bad SDP")
			return
		}
		ans, n, err := c.sdp.Answer(offer)
		if err != nil {
			c.media.Close()
			u.respond(tx, 488, "")
			return
		}
		st.answer, st.negotiate = []byte(ans.String()), n
	}
	contact := u.contact(u.cfg.Username, src.Protocol)
	d, err := dialog.NewUAS(req, st.localTag, contact)
	if err != nil {
		c.media.Close()
		u.respond(tx, 400, err.Error())
		return
	}
	from, _ := req.From()
	to, _ := req.To()
	if replaced != nil {
		reliable = false // answered without a provisional response
	}
	if reliable && st.lateOffer && !req.HasToken("Require", tag100rel) {
		// Without an offer in the INVITE ours must go in the first
		// reliable response (RFC 3262 §5); unless the caller requires
		// 100rel, the 180 stays unreliable and the 2xx carries it.
		reliable = false
	}
	var ringOffer []byte
	if reliable {
		st.rel = newRelUAS(c)
		if st.lateOffer {
			off, err := c.sdp.Offer()
			if err != nil {
				c.media.Close()
				u.respond(tx, 500, "")
				return
			}
			ringOffer, st.relOffer = []byte(off.String()), true
		}
	}
	c.dlg, c.stx, c.headers, c.uas = d, tx, req, st
	c.from, c.to, c.remoteURI = from.URI.String(), to.URI.String(), d.RemoteTarget.String()
	c.party = identify(req, true, partyOf(from))
	c.dst = src // until resolveDst below has the dialog's next hop
	c.counted = replaced == nil
	if err := u.addCall(c); err != nil {
		c.media.Close()
		code := 482
		if errors.Is(err, ErrMaxCalls) {
			code = 486
		}
		u.respond(tx, code, "")
		return
	}
	c.resolveDst(d.NextHop(), src, len(d.RouteSet) > 0)
	if u.cfg.NewCall != nil {
		u.cfg.NewCall(c)
	}
	c.setState(StateRinging)
	if replaced != nil {
		old := replaced
		replaced = nil
		u.tasks.goFunc(func() { c.replace(old) })
		return
	}
	ring := sipmsg.NewResponse(req, 180, "")
	ring.SetToTag(st.localTag) //nolint:errcheck // To was validated
	ring.Add("Contact", contact.String())
	ring.Add("Allow", u.allow()) // RFC 3311 §4: UPDATE in the early dialog
	if ringOffer != nil {
		ring.Add("Content-Type", "application/sdp")
		ring.Body = ringOffer
		ring.SetContentLength()
	}
	if err := c.provisional(ring); err != nil {
		c.end(EndError, err)
		return
	}
	if f := u.cfg.OnIncoming; f != nil {
		u.emit(func() { f(c) })
	}
}

// Accept answers an inbound call with 200 OK and our SDP (RFC 3261
// §13.3.1.4) and starts the media; the 2xx is retransmitted until the ACK,
// and the call is ended with BYE if none comes within 64*T1. After a
// reliable 183 with our SDP answer it first blocks, within ctx, until that
// 183's PRACK has arrived (RFC 3262 §3).
func (c *Call) Accept(ctx context.Context) error {
	c.mu.Lock()
	if c.outbound || c.answered || (c.state != StateRinging && c.state != StateEarlyMedia) {
		c.mu.Unlock()
		return ErrInvalidState
	}
	c.answered = true
	st := c.uas
	// While Accept waits for a PRACK, Reject (End) or the caller's BYE may
	// take the call over (takeOverAccept): waitCtx ends then.
	waitCtx, abort := context.WithCancel(ctx)
	defer abort()
	st.abortAccept = abort
	c.mu.Unlock()
	err := c.awaitPRACKs(waitCtx)
	c.mu.Lock()
	taken := st.abortAccept == nil // by takeOverAccept
	st.abortAccept = nil
	if err != nil && !taken && ctx.Err() != nil {
		c.answered = false // the caller may try again, or Reject
	}
	c.mu.Unlock()
	if taken {
		return fmt.Errorf("%w: the call was rejected or ended while the 2xx waited for a PRACK", ErrInvalidState)
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	body, lateOffer := st.answer, st.lateOffer
	c.mu.Unlock()
	if lateOffer {
		off, err := c.sdp.Offer()
		if err != nil {
			return err
		}
		body = []byte(off.String())
	}
	resp := c.finalWithSDP(200, body)
	timer, _ := c.u.answerTimer(c.stx.Request(), resp)
	c.mu.Lock()
	c.ok = resp.Clone()
	c.mu.Unlock()
	if err := c.stx.Respond(resp); err != nil {
		if errors.Is(err, transaction.ErrCanceled) {
			c.end(EndCancelled, nil)
			return ErrCancelled
		}
		c.end(EndError, err)
		return err
	}
	c.mu.Lock()
	c.dlg.Confirm(nil) //nolint:errcheck // the UAS side cannot fail
	neg, started := st.negotiate, st.started
	if !lateOffer {
		st.started = true
	}
	c.mu.Unlock()
	if c.u.testAnswered != nil {
		c.u.testAnswered(c)
	}
	if !lateOffer {
		if err := c.startMedia(neg, started); err != nil && !errors.Is(err, media.ErrClosed) {
			c.u.log.Warn("ua: media start", "err", err)
		}
	}
	c.setState(StateActive)
	close(c.active)
	c.armTimer(timer)
	c.mu.Lock()
	st.interval = c.u.t1()
	if c.state != StateEnded && !c.acked {
		c.retrans = time.AfterFunc(st.interval, c.retransmit)
	}
	c.mu.Unlock()
	return nil
}

func (u *UA) t1() time.Duration {
	if u.cfg.T1 > 0 {
		return u.cfg.T1
	}
	return transaction.DefaultT1
}

// finalWithSDP builds a response to the INVITE with our To tag, Contact
// and an SDP body.
func (c *Call) finalWithSDP(code int, body []byte) *sipmsg.Message {
	c.mu.Lock()
	contact := c.dlg.LocalContact
	c.mu.Unlock()
	resp := sipmsg.NewResponse(c.stx.Request(), code, "")
	resp.SetToTag(c.uas.localTag) //nolint:errcheck // To was validated
	resp.Add("Contact", contact.String())
	resp.Add("Allow", c.u.allow())
	if code/100 == 2 {
		// The extensions we support (RFC 3261 §20.37): session timers
		// (RFC 4028 §9; Require: timer comes from answerTimer when the
		// caller supports them too), 100rel (RFC 3262) and replaces
		// (RFC 3891 §6.2).
		if c.u.cfg.SessionTimer > 0 {
			resp.Add("Supported", "timer")
		}
		if c.u.cfg.Rel100 != Rel100Disabled {
			resp.Add("Supported", tag100rel)
		}
		if !c.u.cfg.RefuseReplaces {
			resp.Add("Supported", tagReplaces)
		}
	}
	resp.Add("User-Agent", c.u.cfg.UserAgent)
	resp.Add("Content-Type", "application/sdp")
	resp.Body = body
	resp.SetContentLength()
	return resp
}

// retransmit re-sends the 2xx at T1, 2*T1, ... up to T2 until the ACK;
// after 64*T1 without it the call ends with BYE (RFC 3261 §13.3.1.4).
func (c *Call) retransmit() {
	c.u.tasks.add()
	defer c.u.tasks.done()
	c.mu.Lock()
	if c.acked || c.state == StateEnded {
		c.mu.Unlock()
		return
	}
	st := c.uas
	st.elapsed += st.interval
	if limit := 64 * c.u.t1(); st.elapsed >= limit {
		c.mu.Unlock()
		c.noAck(errors.New("ua: no ACK for our 2xx"))
		return
	}
	st.interval = min(2*st.interval, transaction.DefaultT2, 64*c.u.t1()-st.elapsed)
	ok := c.ok.Clone()
	c.retrans.Reset(st.interval)
	c.mu.Unlock()
	c.stx.Respond(ok) //nolint:errcheck // the transaction may be over; the timer keeps trying
}

// noAck ends an answered call whose ACK will not come, for why, and tells
// the caller with BYE (RFC 3261 §13.3.1.4).
func (c *Call) noAck(why error) {
	c.end(EndError, why)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.inDialog(ctx, "BYE", nil) //nolint:errcheck // best effort
}

// answerUnreachable takes an ICMP error that answered our 2xx to an INVITE
// (q), sent to dst: the call it answered, still waiting for the ACK, ends
// at once as it would after 64*T1 without one (RFC 3261 §18.4).
func (u *UA) answerUnreachable(dst transport.Addr, q transaction.Quote, err error) {
	c := u.findCall(q.CallID)
	if c == nil || c.outbound || c.stx == nil {
		return
	}
	if src := c.stx.Source(); src.Protocol.Reliable() || src.AddrPort != dst.AddrPort {
		return
	}
	c.mu.Lock()
	waiting := c.ok != nil && !c.acked && c.state != StateEnded
	if waiting {
		v, verr := c.ok.Via() // kept from the INVITE: the quote's branch must be its
		waiting = verr == nil && v.Branch() == q.Via.Branch()
	}
	c.mu.Unlock()
	if !waiting {
		return
	}
	u.tasks.add()
	go func() {
		defer u.tasks.done()
		c.noAck(fmt.Errorf("ua: our 2xx did not reach the caller: %w: %w", transaction.ErrTransport, err))
	}()
}

// handleAck takes the ACK for our 2xx: retransmissions stop, and for a late
// offer its SDP answer starts the media. The ACK of a re-INVITE without SDP
// brings the answer to the offer in our 2xx (reinviteAck).
func (c *Call) handleAck(ack *sipmsg.Message) {
	c.mu.Lock()
	if cs, err := ack.CSeq(); err == nil && c.upd.ackSeq != 0 && cs.Seq == c.upd.ackSeq {
		c.mu.Unlock()
		c.reinviteAck(ack)
		return
	}
	if c.outbound || c.acked || c.ok == nil {
		c.mu.Unlock()
		return
	}
	c.acked = true
	close(c.ackedCh)
	if c.retrans != nil {
		c.retrans.Stop()
	}
	st := c.uas
	// The answer to our offer goes into c.sdp under the answering flag,
	// so that no Hold or refresh uses it meanwhile (reinvite).
	taking := st.lateOffer && len(ack.Body) > 0
	c.upd.answering = c.upd.answering || taking
	c.mu.Unlock()
	if taking {
		if c.u.testAnswering != nil {
			c.u.testAnswering(c)
		}
		if n, ok := c.processAnswer(ack); ok {
			if err := c.startMedia(n, false); err != nil {
				c.u.log.Warn("ua: media start", "err", err)
			}
		} else {
			c.u.tasks.goFunc(func() { c.End(context.Background()) }) //nolint:errcheck // an unusable answer ends the call
		}
		c.mu.Lock()
		c.upd.answering = false
		c.mu.Unlock()
	}
}

// takeOverAcceptLocked ends the wait of an Accept for a PRACK, which has
// sent no final response yet, so that Reject or the caller's BYE answers
// the INVITE instead; it reports whether one waited. c.mu must be held.
func (c *Call) takeOverAcceptLocked() bool {
	st := c.uas
	if st == nil || st.abortAccept == nil {
		return false
	}
	st.abortAccept()
	st.abortAccept = nil
	return true
}

// Reject refuses an inbound call with code (0 means 603).
func (c *Call) Reject(ctx context.Context, code int, reason string) error {
	if code == 0 {
		code = 603
	}
	if code < 300 || code > 699 {
		return errors.New("ua: reject code must be 300-699")
	}
	c.mu.Lock()
	if c.outbound || (c.answered && !c.takeOverAcceptLocked()) || (c.state != StateRinging && c.state != StateEarlyMedia) {
		c.mu.Unlock()
		return ErrInvalidState
	}
	c.answered = true
	c.mu.Unlock()
	resp := sipmsg.NewResponse(c.stx.Request(), code, reason)
	resp.SetToTag(c.uas.localTag) //nolint:errcheck // To was validated
	err := c.stx.Respond(resp)
	if errors.Is(err, transaction.ErrCanceled) {
		c.end(EndCancelled, nil)
		return nil
	}
	c.end(EndRejected, nil)
	return err
}

// Progress sends 183 Session Progress with our SDP answer and starts the
// media before the answer (RFC 3261 §13.3.1.1, RFC 3960). When the caller
// supports 100rel the 183 is sent reliably (RFC 3262 §3), after the PRACK
// of the 180 if that is still outstanding; Progress does not wait for it.
func (c *Call) Progress(ctx context.Context) error {
	c.mu.Lock()
	if c.outbound || c.answered || c.state != StateRinging {
		c.mu.Unlock()
		return ErrInvalidState
	}
	st := c.uas
	lateOffer, answer, neg := st.lateOffer, st.answer, st.negotiate
	c.mu.Unlock()
	if lateOffer {
		return errors.New("ua: early media for an INVITE without SDP: " + ErrNotSupported.Error())
	}
	resp := c.finalWithSDP(183, answer)
	if err := c.provisional(resp); err != nil {
		return err
	}
	if err := c.startMedia(neg, false); err != nil {
		return err
	}
	c.mu.Lock()
	st.started = true
	c.mu.Unlock()
	c.setState(StateEarlyMedia)
	return nil
}

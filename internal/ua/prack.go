package ua

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// Reliable provisional responses (RFC 3262).
//
// As caller, our INVITE offers the "100rel" option tag; each provisional
// response that requires it and carries RSeq is acknowledged with PRACK in
// its early dialog, unless it repeats or skips an RSeq (§4). The PRACK is a
// non-INVITE client transaction left to run on its own: nothing waits for
// its answer.
//
// As callee, when the caller supports or requires 100rel, the automatic 180
// and the 183 of Progress are sent reliably (§3): Require: 100rel and an RSeq
// counting up from a random start, retransmitted by one timer per call at
// T1, doubling up to T2, until the PRACK. At most one is unacknowledged at a
// time; the next waits in a queue. Accept waits for the PRACK of a 183 that
// carried our SDP answer before sending the 2xx; a provisional response left
// unacknowledged for 64*T1 ends the call with 500.

// Rel100Mode says how a UA uses reliable provisional responses (RFC 3262).
type Rel100Mode uint8

// The 100rel modes.
const (
	// Rel100Supported (the default) offers 100rel in our INVITEs
	// (Supported) and sends provisional responses reliably to callers that
	// support or require it.
	Rel100Supported Rel100Mode = iota
	// Rel100Required requires 100rel in our INVITEs (Require) and refuses
	// INVITEs that do not support it with 421 Extension Required (§3).
	Rel100Required
	// Rel100Disabled neither offers nor uses 100rel; INVITEs that require
	// it get 420 Bad Extension with Unsupported: 100rel (RFC 3261
	// §8.2.2.3).
	Rel100Disabled
)

// String returns "supported", "required" or "disabled".
func (m Rel100Mode) String() string {
	switch m {
	case Rel100Supported:
		return "supported"
	case Rel100Required:
		return "required"
	case Rel100Disabled:
		return "disabled"
	}
	return "Rel100Mode(" + strconv.Itoa(int(m)) + ")"
}

// errNoPRACK ends an inbound call whose reliable provisional response was
// never acknowledged.
var errNoPRACK = errors.New("ua: no PRACK for our reliable provisional response within 64*T1 (RFC 3262 §3)")

const tag100rel = "100rel"

// offer100rel adds the 100rel option tag to an initial INVITE (§4).
func (u *UA) offer100rel(req *sipmsg.Message) {
	switch u.cfg.Rel100 {
	case Rel100Supported:
		req.Add("Supported", tag100rel)
	case Rel100Required:
		req.Add("Require", tag100rel)
		req.Add("Supported", tag100rel)
	}
}

// check100rel decides how an INVITE is answered: reliably or not, or
// refused with code (420 or 421, RFC 3261 §8.2.2.3, RFC 3262 §3).
func (u *UA) check100rel(req *sipmsg.Message) (reliable bool, code int) {
	required := req.HasToken("Require", tag100rel)
	supported := required || req.HasToken("Supported", tag100rel)
	switch {
	case u.cfg.Rel100 == Rel100Disabled:
		if required {
			return false, 420
		}
		return false, 0
	case supported:
		return true, 0
	case u.cfg.Rel100 == Rel100Required:
		return false, 421
	}
	return false, 0
}

// refuse100rel answers an INVITE with 420 (Unsupported: 100rel) or 421
// (Require: 100rel).
func (u *UA) refuse100rel(tx *transaction.ServerTx, code int) {
	resp := sipmsg.NewResponse(tx.Request(), code, "")
	resp.SetToTag(u.tlNewTag()) //nolint:errcheck // To was validated by the transport
	if code == 420 {
		resp.Add("Unsupported", tag100rel)
	} else {
		resp.Add("Require", tag100rel)
	}
	tx.Respond(resp) //nolint:errcheck // nothing to do on failure
}

// relUAS is an inbound call's reliable provisional responses; guarded by
// Call.mu.
type relUAS struct {
	rseq     uint32            // RSeq of the last one queued or sent
	cur      *sipmsg.Message   // the unacknowledged one; nil when none
	queue    []*sipmsg.Message // waiting for cur's PRACK, oldest first
	timer    *time.Timer       // retransmits cur
	interval time.Duration     // current retransmission interval
	elapsed  time.Duration     // since cur was first sent
	done     bool              // a final response went out, or the call ended
	acked    chan struct{}     // closed (and replaced) at each PRACK
}

// newRelUAS starts the reliable provisional state of call c: RSeq starts at
// a random value in 1..2^31-1 (§3), and the call's end releases the timer.
func newRelUAS(c *Call) *relUAS {
	r := &relUAS{rseq: rand.Uint32N(1<<31 - 1), acked: make(chan struct{})}
	context.AfterFunc(c.ctx, func() {
		c.mu.Lock()
		r.finishLocked()
		c.mu.Unlock()
	})
	return r
}

// finishLocked stops retransmitting and drops the queue; a PRACK for the
// unacknowledged response is still answered 200 (§3).
func (r *relUAS) finishLocked() {
	r.done = true
	r.queue = nil
	if r.timer != nil {
		r.timer.Stop()
	}
}

// pendingAnswerLocked reports whether a reliable provisional response with
// SDP still waits for its PRACK, sent or queued.
func (r *relUAS) pendingAnswerLocked() bool {
	if r.cur != nil && len(r.cur.Body) > 0 {
		return true
	}
	for _, m := range r.queue {
		if len(m.Body) > 0 {
			return true
		}
	}
	return false
}

// startLocked makes resp the unacknowledged response, arms its
// retransmission and returns the copy to send.
func (c *Call) startLocked(r *relUAS, resp *sipmsg.Message) *sipmsg.Message {
	r.cur = resp
	r.interval, r.elapsed = c.u.t1(), 0
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer = time.AfterFunc(r.interval, func() { c.retransmitProvisional(resp) })
	return resp.Clone()
}

// provisional sends a provisional response to the INVITE, reliably when the
// caller supports 100rel: with Require and RSeq, and queued while another
// waits for its PRACK (§3: one at a time). It blocks while the transport
// sends.
func (c *Call) provisional(resp *sipmsg.Message) error {
	c.mu.Lock()
	r := c.uas.rel
	if r == nil {
		c.mu.Unlock()
		return c.stx.Respond(resp)
	}
	if r.done {
		c.mu.Unlock()
		return ErrInvalidState
	}
	r.rseq++
	resp.Add("Require", tag100rel)
	resp.Add("RSeq", strconv.FormatUint(uint64(r.rseq), 10))
	if r.cur != nil {
		r.queue = append(r.queue, resp)
		c.mu.Unlock()
		return nil
	}
	send := c.startLocked(r, resp)
	c.mu.Unlock()
	return c.stx.Respond(send)
}

// retransmitProvisional re-sends resp at T1, 2*T1, ... up to T2 until its
// PRACK; after 64*T1 the INVITE is rejected with 500 and the call ends
// (§3).
func (c *Call) retransmitProvisional(resp *sipmsg.Message) {
	c.u.tasks.add()
	defer c.u.tasks.done()
	c.mu.Lock()
	r := c.uas.rel
	if r.cur != resp || r.done || c.state == StateEnded {
		c.mu.Unlock()
		return
	}
	r.elapsed += r.interval
	limit := 64 * c.u.t1()
	if r.elapsed >= limit {
		r.cur = nil
		r.finishLocked()
		c.answered = true
		c.mu.Unlock()
		fail := sipmsg.NewResponse(c.stx.Request(), 500, "Provisional Response Not Acknowledged")
		fail.SetToTag(c.uas.localTag) //nolint:errcheck // To was validated
		c.stx.Respond(fail)           //nolint:errcheck // the call ends either way
		c.end(EndError, errNoPRACK)
		return
	}
	r.interval = min(2*r.interval, transaction.DefaultT2, limit-r.elapsed)
	r.timer.Reset(r.interval)
	m := resp.Clone()
	c.mu.Unlock()
	c.stx.Respond(m) //nolint:errcheck // the transaction may be over; the timer keeps trying
}

// handlePrack answers a PRACK (§3): 200 when its RAck names the
// unacknowledged reliable provisional response of this INVITE, which then
// stops being retransmitted and lets the next queued one go; 481 otherwise.
// When our 180 carried the offer (a late offer with 100rel required), the
// PRACK's SDP is its answer (§5); any other SDP body in a PRACK (a new
// offer after our answer) is not taken.
func (c *Call) handlePrack(tx *transaction.ServerTx) {
	req := tx.Request()
	rack, rackErr := req.RAck()
	c.mu.Lock()
	if c.outbound || c.uas == nil || c.uas.rel == nil || c.dlg == nil || c.state == StateEnded {
		c.mu.Unlock()
		c.u.respond(tx, 481, "")
		return
	}
	if err := c.dlg.Receive(req); err != nil {
		c.mu.Unlock()
		if errors.Is(err, dialog.ErrCSeqOrder) {
			c.u.respond(tx, 500, "")
		} else {
			c.u.respond(tx, 481, "")
		}
		return
	}
	r := c.uas.rel
	inv, _ := c.stx.Request().CSeq()
	var want uint32
	if r.cur != nil {
		want, _ = r.cur.RSeq()
	}
	if rackErr != nil || r.cur == nil || rack.RSeq != want || rack.CSeq != inv.Seq || rack.Method != inv.Method {
		c.mu.Unlock()
		c.u.respond(tx, 481, "")
		return
	}
	if st := c.uas; st.relOffer && st.lateOffer && len(req.Body) > 0 {
		// The answer to the offer in our reliable 180 (§5): the 2xx
		// repeats the offer and Accept starts the media.
		if n, ok := c.processAnswer(req); ok {
			st.answer, st.negotiate, st.lateOffer = r.cur.Body, n, false
		} else {
			c.u.log.Debug("ua: unusable SDP answer in PRACK; the 2xx offers again")
		}
	}
	c.uas.pracked = true
	if len(r.cur.Body) > 0 && !c.uas.lateOffer {
		// Our answer, or our offer and the PRACK's answer, went reliably:
		// the INVITE's offer/answer exchange is complete (§5).
		c.uas.oaDone = true
	}
	if r.timer != nil {
		r.timer.Stop()
	}
	r.cur = nil
	close(r.acked)
	r.acked = make(chan struct{})
	var next *sipmsg.Message
	if len(r.queue) > 0 && !r.done {
		head := r.queue[0]
		r.queue = r.queue[1:]
		next = c.startLocked(r, head)
	}
	c.mu.Unlock()
	tx.Respond(sipmsg.NewResponse(req, 200, "")) //nolint:errcheck // a lost answer is the peer's to retransmit
	if next != nil {
		if err := c.stx.Respond(next); err != nil {
			c.u.log.Debug("ua: reliable provisional not sent", "err", err)
		}
	}
}

// awaitPRACKs blocks until no reliable provisional response carrying SDP
// waits for its PRACK (§3: the 2xx must not come before it), then stops the
// retransmission of any other. It fails when ctx ends or the call does.
func (c *Call) awaitPRACKs(ctx context.Context) error {
	for {
		c.mu.Lock()
		r := c.uas.rel
		if r == nil {
			c.mu.Unlock()
			return nil
		}
		if !r.pendingAnswerLocked() {
			r.finishLocked()
			c.mu.Unlock()
			return nil
		}
		ch := r.acked
		c.mu.Unlock()
		select {
		case <-ch:
		case <-c.done:
			return errors.New("ua: call ended while the 2xx waited for a PRACK: " + context.Cause(c.ctx).Error())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// earlyDialogs are the early dialogs of an outbound call (RFC 3261
// §12.1.2): one per To tag of the provisional responses to our INVITE;
// guarded by Call.mu. runInvite fills them and starts afresh with each
// INVITE it sends; they outlive the INVITE for a 2xx that crosses our
// CANCEL (invite_late.go). UPDATE (update.go) is taken and sent in them.
type earlyDialogs struct {
	m    map[string]*earlyDialog
	last *earlyDialog // the one the latest provisional response named
}

type earlyDialog struct {
	d     *dialog.Dialog
	dst   transport.Addr // next hop of requests in it
	rseq  uint32         // RSeq of the last in-order reliable provisional; 0 before one
	allow bool           // the peer's provisional responses list UPDATE in Allow (RFC 3311 §4)
	// answered: a reliable provisional response of this dialog carried
	// the answer to our INVITE's offer and was PRACKed, which completes
	// the offer/answer exchange (RFC 3262 §5): the peer may now offer in
	// an UPDATE (RFC 3311 §5.1).
	answered bool
}

// findLocked returns the early dialog a request from the peer or a
// response names by its tags, nil when none does.
func (e *earlyDialogs) findLocked(m *sipmsg.Message) *earlyDialog {
	for _, ed := range e.m {
		if ed.d.Matches(m) {
			return ed
		}
	}
	return nil
}

// seqLocked returns the CSeq numbers the early dialog with remote tag
// reached: the last we sent (PRACK, UPDATE), 0 when there is none, and
// the last we received, with hasRemote false when none was (its remote
// sequence number is empty). The confirmed dialog continues from them
// (RFC 3261 §12.1.2, §12.2.1.1: the dialog's CSeq never goes back).
func (e *earlyDialogs) seqLocked(tag string) (local, remote uint32, hasRemote bool) {
	if ed := e.m[tag]; ed != nil {
		return ed.d.LocalSeq, ed.d.RemoteSeq, ed.d.HasRemoteSeq
	}
	return 0, 0, false
}

// resetEarly forgets the early dialogs of a previous INVITE: its final
// response ended them (RFC 3261 §12.3).
func (c *Call) resetEarly() {
	c.mu.Lock()
	c.early = earlyDialogs{}
	c.mu.Unlock()
}

// continueEarly makes the confirmed dialog d, built from a 2xx to our
// INVITE, carry on from the early dialog with the same tags: its CSeq
// numbers in both directions (RFC 3261 §13.2.2.4: the early dialog
// becomes the confirmed one).
func (c *Call) continueEarly(d *dialog.Dialog) {
	c.mu.Lock()
	local, remote, hasRemote := c.early.seqLocked(d.ID.RemoteTag)
	c.mu.Unlock()
	d.LocalSeq = max(d.LocalSeq, local)
	if hasRemote {
		d.SetRemoteSeq(max(d.RemoteSeq, remote))
	}
}

// acknowledge handles a provisional response to our INVITE req and reports
// whether the caller should process it further, and whether it was sent
// reliably. One with a To tag creates or names an early dialog (RFC 3261
// §12.1.2). A reliable one (Require: 100rel with RSeq) is acknowledged
// with PRACK in its early dialog (RFC 3262 §4, §7.2: RAck is RSeq, CSeq
// number and method); a retransmission or one whose RSeq is not the next
// is ignored. The PRACK follows the early dialog's route set and remote
// target (the 18x's Record-Route and Contact).
func (c *Call) acknowledge(ctx context.Context, req, resp *sipmsg.Message, contact sipmsg.Address, dst transport.Addr) (take, reliable bool) {
	to, _ := resp.To()
	if resp.StatusCode == 100 || to.Tag() == "" {
		return true, false // no early dialog without a To tag (§12.1.2)
	}
	rseq, err := resp.RSeq()
	reliable = c.u.cfg.Rel100 != Rel100Disabled && resp.HasToken("Require", tag100rel) && err == nil
	c.mu.Lock()
	ed := c.early.m[to.Tag()]
	full := len(c.early.m) >= maxForks
	c.mu.Unlock()
	if ed == nil && full {
		// A peer answering with ever new To tags gets no more early
		// dialogs (nor PRACKs) past the bound: the response still counts
		// as ringing.
		return true, false
	}
	if ed == nil {
		// Only this goroutine adds early dialogs: no other can race it.
		d, err := dialog.NewUAC(req, resp, contact)
		if err != nil {
			return true, false
		}
		ed = &earlyDialog{d: d, dst: c.earlyHop(ctx, d, dst)}
		c.mu.Lock()
		if c.early.m == nil {
			c.early.m = map[string]*earlyDialog{}
		}
		c.early.m[to.Tag()] = ed
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.early.last = ed
	if resp.HasToken("Allow", "UPDATE") {
		ed.allow = true
	}
	if !reliable {
		c.mu.Unlock()
		return true, false
	}
	if ed.rseq != 0 && rseq != ed.rseq+1 {
		c.mu.Unlock()
		return false, true // a retransmission, or out of order (§4)
	}
	ed.rseq = rseq
	c.mu.Unlock()
	tl, tm := c.u.layer()
	if tl == nil {
		return true, true
	}
	c.mu.Lock()
	p := ed.d.NewRequest("PRACK", 0)
	hop, hopURI := ed.dst, ed.d.NextHop()
	c.mu.Unlock()
	cs, _ := req.CSeq()
	p.PrependVia(c.u.via(tm, tl, hop.Protocol))
	p.Add("RAck", strconv.FormatUint(uint64(rseq), 10)+" "+strconv.FormatUint(uint64(cs.Seq), 10)+" "+cs.Method)
	p.Add("User-Agent", c.u.cfg.UserAgent)
	p.SetContentLength()
	// Its answer changes nothing here, so nothing waits for it but a
	// goroutine that sends it again to the next SRV target of the early
	// dialog's next hop when that does not serve it (RFC 3263 §4.3); the
	// call's end cancels it.
	c.u.tasks.add()
	go func() {
		defer c.u.tasks.done()
		if _, _, err := c.u.failoverFinal(c.ctx, tl, tm, p, hop, hopURI); err != nil {
			c.u.log.Debug("ua: PRACK", "err", err)
		}
	}()
	return true, true
}

// earlyAnswered records that resp, a reliable provisional response whose
// SDP answer we took and PRACKed, completed the offer/answer exchange in
// its early dialog (RFC 3262 §5).
func (c *Call) earlyAnswered(resp *sipmsg.Message) {
	to, _ := resp.To()
	c.mu.Lock()
	if ed := c.early.m[to.Tag()]; ed != nil {
		ed.answered = true
	}
	c.mu.Unlock()
}

// earlyHop is where requests in early dialog d go (RFC 3261 §12.2.1.1):
// its first route or remote target, resolved; dst (where the INVITE went)
// when it has no route set and an outbound proxy is configured, or when the
// target cannot be resolved.
func (c *Call) earlyHop(ctx context.Context, d *dialog.Dialog, dst transport.Addr) transport.Addr {
	if c.u.throughProxy(d) {
		return dst
	}
	return c.resolveHop(ctx, d.NextHop(), dst)
}

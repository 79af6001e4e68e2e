package ua

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// ErrTransferFailed: a blind transfer did not complete (REFER refused,
// a final NOTIFY status of 300 or more, or no outcome in time). The call
// stays up.
var ErrTransferFailed = errors.New("ua: transfer failed")

// DefaultTransferTimeout bounds BlindTransfer when its context has no
// deadline, and the new call a transferee places (RFC 3515 leaves both to
// the implementation).
const DefaultTransferTimeout = 60 * time.Second

// referState is a BlindTransfer waiting for the transferee's NOTIFYs.
type referState struct {
	ch     chan sipfrag
	target string // the Refer-To URI
	// seq is our REFER's CSeq number once its 2xx arrived, the id its
	// NOTIFYs may carry (RFC 3515 §2.4.6); succeeded is set when one
	// reported a 2xx. Both are guarded by the call's mu.
	seq       uint32
	succeeded bool
	done      chan struct{} // closed when the transfer stops waiting
}

// report hands f to the waiting transfer: a final status (or the end of
// the subscription) waits for room, unless the transfer has stopped
// waiting (a peer may send any number of finals; the reader must not
// block on them); a provisional one is dropped when there is no room.
func (rs *referState) report(f sipfrag) {
	if f.code >= 200 || f.terminated {
		select {
		case rs.ch <- f:
		case <-rs.done:
		}
		return
	}
	select {
	case rs.ch <- f:
	default:
	}
}

// TransferEvent is one step of a blind transfer on a call: the status of
// the call to Target, as the transferee reports it by NOTIFY (RFC 3515
// §2.4.5) when we transfer, or as we place it when the peer's REFER asked
// us to (Referred).
type TransferEvent struct {
	Target   string // the Refer-To URI
	Referred bool   // the peer asked us to transfer
	Code     int    // 100 Trying, 180 Ringing..., then the final status
	Reason   string
}

// sipfrag is the status line of a NOTIFY's message/sipfrag body (RFC 3420)
// and whether the subscription ended with it.
type sipfrag struct {
	code       int
	reason     string
	terminated bool
}

// OnTransferProgress sets the function called with each step of a
// transfer on the call: each status the transferee reports while
// BlindTransfer waits (100 Trying, 180 Ringing, the final status), and,
// when the peer's REFER asks us to transfer, 100 when we start the call
// to the target and its final status (200 when answered, after which the
// call ends with EndTransferred). It runs on the call's callback
// goroutine.
func (c *Call) OnTransferProgress(f func(TransferEvent)) {
	c.mu.Lock()
	c.onTransfer = f
	c.mu.Unlock()
}

// BlindTransfer asks the peer to call target (RFC 3515 REFER with Refer-To
// and Referred-By, RFC 3892) and waits for the outcome reported by NOTIFY
// (message/sipfrag, RFC 3420). On a 2xx the call ends with EndTransferred
// (BYE) and BlindTransfer returns nil. Otherwise it returns an error
// wrapping ErrTransferFailed, and a *StatusError when REFER was refused or
// the transferee reported a final failure, and the call stays up. Without
// a deadline on ctx it waits at most DefaultTransferTimeout. One transfer
// runs at a time per call.
func (c *Call) BlindTransfer(ctx context.Context, target string) error {
	uri, err := c.u.TargetURI(target)
	if err != nil {
		return err
	}
	return c.sendRefer(ctx, uri, uri.String(), nil)
}

// sendRefer sends REFER with Refer-To uri and waits for the outcome (see
// BlindTransfer); shown is the target reported in TransferEvents. On a 2xx
// outcome done, if set, runs before the call is hung up.
func (c *Call) sendRefer(ctx context.Context, uri sipmsg.URI, shown string, done func()) error {
	rs := &referState{ch: make(chan sipfrag, 16), target: shown, done: make(chan struct{})}
	c.mu.Lock()
	if c.dlg == nil || (c.state != StateActive && c.state != StateOnHold) || c.refer != nil {
		c.mu.Unlock()
		return ErrInvalidState
	}
	c.refer = rs
	local := c.dlg.LocalURI
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.refer = nil
		c.mu.Unlock()
		close(rs.done)
	}()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTransferTimeout)
		defer cancel()
	}
	referTo := sipmsg.Address{URI: uri, Bracketed: true}
	local.Params = ""
	by := sipmsg.Address{Display: local.Display, URI: local.URI, Bracketed: true}
	// The call's end (the peer's BYE) also ends the wait for the REFER's
	// answer; the NOTIFYs' wait below watches c.done itself.
	rctx, stop := c.whileLive(ctx)
	resp, err := c.request(rctx, "REFER", "", nil, [][2]string{
		{"Refer-To", referTo.String()},
		{"Referred-By", by.String()},
	})
	stop()
	if err != nil && c.ctx.Err() != nil {
		return fmt.Errorf("%w: the call ended", ErrTransferFailed)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTransferFailed, err)
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%w: REFER refused: %w", ErrTransferFailed,
			statusError(resp))
	}
	if cs, err := resp.CSeq(); err == nil {
		c.mu.Lock()
		rs.seq = cs.Seq
		c.mu.Unlock()
	}
	for {
		select {
		case f := <-rs.ch:
			switch {
			case f.code >= 300:
				return fmt.Errorf("%w: %w", ErrTransferFailed, &StatusError{Code: f.code, Reason: f.reason})
			case f.code >= 200:
				if done != nil {
					done()
				}
				c.hangup(EndTransferred, nil)
				return nil
			case f.terminated:
				return fmt.Errorf("%w: subscription ended without a final status", ErrTransferFailed)
			}
		case <-c.done:
			// Ended as transferred by the transferee's BYE after its 2xx
			// NOTIFY; not by a transfer of the peer's own crossing REFER.
			c.mu.Lock()
			ok := rs.succeeded
			c.mu.Unlock()
			if ok && c.Reason() == EndTransferred {
				if done != nil {
					done()
				}
				return nil
			}
			return fmt.Errorf("%w: the call ended", ErrTransferFailed)
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrTransferFailed, context.Cause(ctx))
		}
	}
}

// handleNotify takes a NOTIFY for the implicit subscription of our REFER
// (RFC 3515 §2.4.4): it is answered 200 (489 for another event package,
// 481 when no transfer waits), its sipfrag status is reported to
// OnTransferProgress and to the waiting BlindTransfer.
func (c *Call) handleNotify(tx *transaction.ServerTx) {
	req := tx.Request()
	if !c.receiveInDialog(tx) {
		return
	}
	ev, err := req.Event()
	if err != nil || !strings.EqualFold(ev.Type, "refer") {
		c.u.respond(tx, 489, "")
		return
	}
	f, _ := parseSipfrag(req.Body)
	if ss, err := req.SubscriptionState(); err == nil && strings.EqualFold(ss.State, "terminated") {
		f.terminated = true
	}
	c.mu.Lock()
	rs := c.refer
	if rs != nil && !referID(ev, rs.seq) {
		rs = nil // the NOTIFY of another REFER (RFC 3515 §2.4.6)
	}
	if rs != nil && f.code >= 200 && f.code < 300 {
		// The transferee may hang up as soon as this is answered: its BYE
		// then ends the call as transferred.
		c.transferred, rs.succeeded = true, true
	}
	cb := c.onTransfer
	c.mu.Unlock()
	if rs == nil {
		c.u.respond(tx, 481, "")
		return
	}
	c.u.respond(tx, 200, "")
	if f.code != 0 && cb != nil {
		ev := TransferEvent{Target: rs.target, Code: f.code, Reason: f.reason}
		if f.code >= 200 {
			c.events.do(func() { cb(ev) })
		} else {
			c.events.tryDo(func() { cb(ev) }) // the peer's NOTIFYs: bounded
		}
	}
	rs.report(f)
}

// referID reports whether a refer NOTIFY's Event id names our REFER of
// CSeq seq (RFC 3515 §2.4.6: the id is the REFER's CSeq number; one
// without an id is the first REFER's subscription, ours as we send one at
// a time). Before the REFER's 2xx, seq is 0 and any id is taken.
func referID(ev sipmsg.Event, seq uint32) bool {
	if ev.ID == "" || seq == 0 {
		return true
	}
	n, err := strconv.ParseUint(ev.ID, 10, 32)
	return err == nil && uint32(n) == seq
}

// parseSipfrag reads the status line of a message/sipfrag body ("SIP/2.0
// 200 OK", RFC 3420 §2); the rest of the fragment is ignored.
func parseSipfrag(body []byte) (sipfrag, error) {
	line, _, _ := strings.Cut(string(body), "\n")
	line = strings.TrimRight(line, "\r ")
	rest, ok := strings.CutPrefix(line, "SIP/2.0 ")
	if !ok {
		return sipfrag{}, errors.New("ua: bad sipfrag")
	}
	code, reason, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 || n < 100 || n > 699 {
		return sipfrag{}, errors.New("ua: bad sipfrag status")
	}
	return sipfrag{code: n, reason: reason}, nil
}

// appendSipfrag appends a message/sipfrag body holding only a status line.
func appendSipfrag(dst []byte, code int, reason string) []byte {
	dst = append(dst, "SIP/2.0 "...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = append(dst, reason...)
	return append(dst, "\r\n"...)
}

// handleRefer takes a REFER from the peer (RFC 3515 §2.4.2): 603 when
// Config.RefuseTransfer is set, 400 without exactly one usable Refer-To
// (or with a malformed Replaces in it), else 202 and, on a goroutine the
// UA tracks, a new call to the target whose progress goes back by NOTIFY;
// when it is answered the old call ends with EndTransferred. An attended
// transfer's Refer-To carries Replaces (and Require): they go into the
// new INVITE (RFC 3891 §4, RFC 5589 §7); its other headers are dropped.
func (c *Call) handleRefer(tx *transaction.ServerTx) {
	req := tx.Request()
	if !c.receiveInDialog(tx) {
		return
	}
	if c.u.cfg.RefuseTransfer {
		c.u.respond(tx, 603, "")
		return
	}
	if st := c.State(); st != StateActive && st != StateOnHold {
		c.u.respond(tx, 491, "")
		return
	}
	if len(req.Values("Refer-To")) != 1 {
		c.u.respond(tx, 400, "Bad Refer-To")
		return
	}
	rt, err := req.ReferTo()
	if err != nil {
		c.u.respond(tx, 400, "Bad Refer-To")
		return
	}
	if !rt.URI.IsSIP() && !rt.URI.IsTel() {
		c.u.respond(tx, 416, "")
		return
	}
	extra, ok := referHeaders(rt.URI.Headers)
	if !ok {
		c.u.respond(tx, 400, "Bad Replaces in Refer-To")
		return
	}
	rt.URI.Headers = ""
	cs, _ := req.CSeq()
	c.u.respond(tx, 202, "")
	target, by := rt.URI.String(), req.Get("Referred-By")
	c.u.tasks.goFunc(func() { c.transfer(target, by, extra, cs.Seq) })
}

// transfer places the call a REFER asked for and reports it by NOTIFY:
// 100 Trying, then the new call's final status (RFC 3515 §2.4.4-§2.4.5).
func (c *Call) transfer(target, referredBy string, extra [][2]string, referSeq uint32) {
	c.transferEvent(target, 100, "Trying")
	c.notifyRefer(referSeq, 100, "Trying", false)
	o := DialOptions{transfer: true}
	o.Timeout = DefaultTransferTimeout
	o.Headers = extra
	if referredBy != "" {
		o.Headers = append(o.Headers, [2]string{"Referred-By", referredBy})
	}
	nc, err := c.u.Dial(context.Background(), target, o)
	if err != nil {
		code, reason := 503, "Service Unavailable"
		var se *StatusError
		switch {
		case errors.As(err, &se):
			code, reason = se.Code, se.Reason
		case errors.Is(err, ErrDialTimeout):
			code, reason = 408, "Request Timeout"
		}
		c.u.log.Debug("ua: transfer failed", "target", target, "err", err)
		c.transferEvent(target, code, reason)
		c.notifyRefer(referSeq, code, reason, true)
		return
	}
	c.mu.Lock()
	c.transferred = true // the transferor's BYE may cross ours
	c.mu.Unlock()
	c.transferEvent(target, 200, "OK")
	if f := c.u.cfg.OnTransfer; f != nil {
		// The new call is the application's now, not once the
		// transferor has answered the NOTIFY (up to 64*T1).
		c.u.events.do(func() { f(c, nc) })
	}
	c.notifyRefer(referSeq, 200, "OK", true)
	c.hangup(EndTransferred, nil)
}

// transferEvent queues a step of a transfer the peer asked for to
// OnTransferProgress.
func (c *Call) transferEvent(target string, code int, reason string) {
	c.mu.Lock()
	cb := c.onTransfer
	c.mu.Unlock()
	if cb != nil {
		ev := TransferEvent{Target: target, Referred: true, Code: code, Reason: reason}
		c.events.do(func() { cb(ev) })
	}
}

// notifyRefer sends a NOTIFY of the refer event with a sipfrag status line.
func (c *Call) notifyRefer(referSeq uint32, code int, reason string, final bool) {
	if reason == "" {
		reason = sipmsg.ReasonPhrase(code)
	}
	state := "active;expires=" + strconv.Itoa(int(DefaultTransferTimeout/time.Second))
	if final {
		state = "terminated;reason=noresource"
	}
	body := appendSipfrag(nil, code, reason)
	ctx, cancel := context.WithTimeout(context.Background(), 64*c.u.t1())
	defer cancel()
	_, err := c.request(ctx, "NOTIFY", "message/sipfrag;version=2.0", body, [][2]string{
		{"Event", "refer;id=" + strconv.FormatUint(uint64(referSeq), 10)},
		{"Subscription-State", state},
	})
	if err != nil {
		c.u.log.Debug("ua: NOTIFY", "err", err)
	}
}

// request sends an in-dialog request with extra headers and an optional
// body of type ctype, and returns its final response.
func (c *Call) request(ctx context.Context, method, ctype string, body []byte, hdrs [][2]string) (*sipmsg.Message, error) {
	tl, tm := c.u.layer()
	if tl == nil {
		return nil, ErrNotConnected
	}
	c.mu.Lock()
	if c.dlg == nil || c.state == StateEnded {
		c.mu.Unlock()
		return nil, ErrInvalidState
	}
	d := c.dlg
	req := d.NewRequest(method, 0)
	dst := c.dst
	c.mu.Unlock()
	dst = c.settledDst(ctx, dst)
	req.PrependVia(c.u.via(tm, tl, dst.Protocol))
	for _, h := range hdrs {
		req.Add(h[0], h[1])
	}
	req.Add("User-Agent", c.u.cfg.UserAgent)
	if body != nil {
		req.Add("Content-Type", ctype)
		req.Body = body
	}
	req.SetContentLength()
	final, _, err := c.dialogFinal(ctx, tl, tm, d, req, dst)
	return final, err
}

package transaction

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// Server transaction states (RFC 3261 §17.2, RFC 6026 §7.1). A non-INVITE
// transaction starts in sTrying; an INVITE one in sProceeding.
const (
	sTrying uint8 = iota
	sProceeding
	sCompleted
	sConfirmed
	sAccepted
	sTerminated
)

// ServerTx is a server transaction: a request received and the responses
// the TU sends to it (RFC 3261 §17.2). Its methods are safe for concurrent
// use.
type ServerTx struct {
	l      *Layer
	req    *sipmsg.Message
	src    transport.Addr
	key    matchKey
	invite bool

	mu       sync.Mutex
	state    uint8
	err      error           // why the transaction ended early: ErrCanceled, ErrTransport
	last     *sipmsg.Message // the last response sent
	toTag    string          // To tag of the provisional responses
	ackTag   string          // legacy matching: the tag an ACK must carry
	interval time.Duration   // Timer G's current value
	rt       slot            // 100 Trying delay, then Timer G
	wait     slot            // Timers H, I, J, L
}

func newServerTx(l *Layer, k matchKey, in transport.Inbound) *ServerTx {
	tx := &ServerTx{l: l, req: in.Msg, src: in.Source, key: k, invite: in.Msg.Method == "INVITE"}
	if tx.invite {
		tx.state = sProceeding
	}
	if k.legacy {
		_, _ = in.Msg.To() // fill the cache now: retransmission reads it later
	}
	return tx
}

// Request returns the request that created the transaction. The layer has
// read its Via, CSeq (and, for RFC 2543 peers, From and To) and does not
// touch its typed views again; the TU may use it from one goroutine at a
// time and must not modify it.
func (tx *ServerTx) Request() *sipmsg.Message { return tx.req }

// Source returns where the request came from; responses go back there
// (RFC 3261 §18.2.2, RFC 3581).
func (tx *ServerTx) Source() transport.Addr { return tx.src }

// start arms the 100 Trying timer of an INVITE (RFC 3261 §17.2.1).
func (tx *ServerTx) start() {
	if !tx.invite {
		return
	}
	tx.mu.Lock()
	if tx.state == sProceeding && tx.last == nil {
		tx.l.arm(&tx.rt, tryingDelay, tx.onRetransmit)
	}
	tx.mu.Unlock()
}

// Respond sends resp, a response to Request (build it with
// sipmsg.NewResponse; responses above 100 need a To tag), and moves the
// state machine (RFC 3261 §17.2.1, §17.2.2, RFC 6026 §7.1). The layer
// owns resp afterwards. Provisional responses may be sent until a final
// one; after a 2xx to an INVITE, the TU's 2xx retransmissions are sent
// while the transaction is Accepted (§13.3.1.4). It blocks while the
// transport sends. It returns an error wrapping ErrTransport if the send
// failed (the transaction is then over), ErrCanceled if a CANCEL already
// ended the INVITE with 487, or an error when a final response was
// already sent.
func (tx *ServerTx) Respond(resp *sipmsg.Message) error {
	code := resp.StatusCode
	if code < 100 || code > 699 {
		return errors.New("transaction: response status out of range")
	}
	var tag string
	if code > 100 {
		if to, err := resp.To(); err == nil {
			tag = to.Tag()
		}
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	switch tx.state {
	case sTrying, sProceeding:
	case sAccepted:
		if code >= 200 && code < 300 {
			return tx.send(resp)
		}
		return errFinalSent
	default:
		if tx.err != nil {
			return tx.err
		}
		return errFinalSent
	}
	if code < 200 {
		tx.last, tx.state = resp, sProceeding
		if tag != "" {
			tx.toTag = tag
		}
		tx.rt.stop() // the TU answered: no 100 Trying from the layer
		return tx.send(resp)
	}
	return tx.final(resp, tag)
}

// final sends a final response and enters Completed, or Accepted for a 2xx
// to an INVITE (RFC 6026 §7.1). tx.mu is held.
func (tx *ServerTx) final(resp *sipmsg.Message, tag string) error {
	tx.last, tx.ackTag = resp, tag
	tx.rt.stop()
	if err := tx.send(resp); err != nil {
		return err
	}
	l := tx.l
	reliable := tx.src.Protocol.Reliable()
	switch {
	case !tx.invite:
		// §17.2.2: Timer J is 64*T1 on unreliable transports, zero otherwise.
		tx.state = sCompleted
		if reliable {
			tx.terminate()
		} else {
			l.arm(&tx.wait, 64*l.t1, tx.onWait)
		}
	case resp.StatusCode < 300:
		// RFC 6026 §7.1: Accepted absorbs INVITE retransmissions and passes
		// ACKs to the TU until Timer L (64*T1) fires.
		// The layer never re-sends a 2xx itself (the TU does, §13.3.1.4),
		// so it lets go of it now rather than keep it for Timer L.
		tx.state = sAccepted
		tx.last = nil
		l.arm(&tx.wait, 64*l.t1, tx.onWait)
	default:
		// §17.2.1: Timer G retransmits on unreliable transports, Timer H
		// bounds the wait for the ACK.
		tx.state = sCompleted
		if !reliable {
			tx.interval = l.t1
			l.arm(&tx.rt, l.t1, tx.onRetransmit)
		}
		l.arm(&tx.wait, 64*l.t1, tx.onWait)
	}
	return nil
}

// send passes m to the transport; a failure ends the transaction
// (RFC 3261 §17.2.4). tx.mu is held.
func (tx *ServerTx) send(m *sipmsg.Message) error {
	if err := tx.l.sender.Send(context.Background(), m, tx.src); err != nil {
		tx.err = transportError(err)
		tx.terminate()
		return tx.err
	}
	return nil
}

// terminate releases the transaction's timers and map entry. tx.mu is held.
func (tx *ServerTx) terminate() {
	if tx.state == sTerminated {
		return
	}
	tx.state = sTerminated
	tx.rt.stop()
	tx.wait.stop()
	tx.l.removeServer(tx)
}

// retransmission absorbs a retransmitted request, re-sending the last
// response where RFC 3261 §17.2.1 and §17.2.2 say so.
func (tx *ServerTx) retransmission(m *sipmsg.Message) {
	if m.Method != tx.req.Method {
		return // branch reused for another method: not this transaction
	}
	if tx.key.legacy {
		if to, err := m.To(); err != nil || to.Tag() != tx.toTagOfRequest() {
			return
		}
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	switch tx.state {
	case sProceeding, sCompleted:
		if tx.last != nil {
			_ = tx.send(tx.last)
		}
	}
}

func (tx *ServerTx) toTagOfRequest() string {
	to, _ := tx.req.To() // cached in newServerTx for legacy transactions
	return to.Tag()
}

// ack handles an ACK matched to the transaction and reports whether it was
// absorbed; false passes it to the TU (the ACK of a 2xx, RFC 6026 §7.1).
func (tx *ServerTx) ack(m *sipmsg.Message) bool {
	if !tx.invite {
		return false
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.key.legacy {
		if to, err := m.To(); err != nil || to.Tag() != tx.ackTag {
			return false
		}
	}
	switch tx.state {
	case sCompleted:
		// §17.2.1: Confirmed absorbs further ACKs for Timer I (T4, zero on
		// reliable transports).
		tx.state = sConfirmed
		tx.rt.stop()
		if tx.src.Protocol.Reliable() {
			tx.terminate()
		} else {
			tx.l.arm(&tx.wait, tx.l.t4, tx.onWait)
		}
		return true
	case sConfirmed, sProceeding:
		return true
	}
	return false
}

// cancelTag returns the To tag the 200 to a CANCEL and the 487 to the
// INVITE share (RFC 3261 §9.2).
func (tx *ServerTx) cancelTag() string {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.toTag == "" {
		tx.toTag = tx.l.NewTag()
	}
	return tx.toTag
}

// cancel answers 487 to an INVITE that has no final response yet and
// reports whether it did (RFC 3261 §9.2).
func (tx *ServerTx) cancel(tag string) bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if !tx.invite || tx.state != sProceeding {
		return false
	}
	resp := sipmsg.NewResponse(tx.req, 487, "")
	_ = resp.SetToTag(tag)
	tx.err = ErrCanceled
	_ = tx.final(resp, tag)
	return true
}

// onRetransmit runs when the 100 Trying delay or Timer G fires.
func (tx *ServerTx) onRetransmit() {
	tx.mu.Lock()
	if !tx.l.fire(&tx.rt) {
		tx.mu.Unlock()
		return
	}
	var err error
	switch tx.state {
	case sProceeding:
		if tx.last == nil {
			trying := sipmsg.NewResponse(tx.req, 100, "")
			tx.last = trying
			err = tx.send(trying)
		}
	case sCompleted:
		// §17.2.1: Timer G doubles up to T2.
		if err = tx.send(tx.last); err == nil {
			tx.interval = min(2*tx.interval, tx.l.t2)
			tx.l.arm(&tx.rt, tx.interval, tx.onRetransmit)
		}
	}
	tx.mu.Unlock()
	if err != nil {
		tx.l.tu.HandleServerError(tx, err)
	}
}

// onWait runs when Timer H, I, J or L fires.
func (tx *ServerTx) onWait() {
	tx.mu.Lock()
	if !tx.l.fire(&tx.wait) {
		tx.mu.Unlock()
		return
	}
	timeout := tx.state == sCompleted && tx.invite // Timer H: no ACK came
	tx.terminate()
	tx.mu.Unlock()
	if timeout {
		tx.l.tu.HandleServerError(tx, ErrTimeout)
	}
}

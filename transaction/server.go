package transaction

import (
	"bytes"
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
	req *sipmsg.Message
	src transport.Addr
	s   *srv
}

// srv is what the layer keeps of a server transaction: the matching key,
// the state machine and its timers. Once the TU's part is over (a final
// response to a non-INVITE request, a 2xx to an INVITE) it lets go of the
// ServerTx and so of the request, and the layer retires it to its done
// log (done.go) to wait out Timer J or L; an srv the TU still holds then
// only sends the TU's 2xx retransmissions. RFC 2543 transactions, which
// match on their request, wait in the layer's map instead.
type srv struct {
	l      *Layer
	key    matchKey
	src    transport.Addr
	invite bool
	method string // the request's method, for the check of §17.2.3

	mu       sync.Mutex
	tx       *ServerTx // nil once nothing reports to the TU with it
	state    uint8
	err      error           // why the transaction ended early: ErrCanceled, ErrTransport
	last     *sipmsg.Message // the last response sent, while it may be re-sent
	lastWire []byte          // or its wire form, kept for Timer J instead
	toTag    string          // To tag of the provisional responses
	ackTag   string          // legacy matching: the tag an ACK must carry
	interval time.Duration   // Timer G's current value
	rt       *slot           // 100 Trying delay, then Timer G; nil until first used
	waitAt   int64           // when Timers H, I, J or L are due (the layer's tick); 0 when stopped
	link     waitLink        // place in a waitQueue, guarded by that queue
}

// retransmitTimer returns the transaction's retransmission timer slot,
// made on first use. s.mu is held.
func (s *srv) retransmitTimer() *slot {
	if s.rt == nil {
		s.rt = new(slot)
	}
	return s.rt
}

// stopRetransmit stops the 100 Trying delay or Timer G. s.mu is held.
func (s *srv) stopRetransmit() {
	if s.rt != nil {
		s.rt.stop()
	}
}

func newServerTx(l *Layer, k matchKey, in transport.Inbound) *ServerTx {
	m := in.Msg
	s := &srv{l: l, key: k, src: in.Source, invite: m.Method == "INVITE", method: methodName(m.Method)}
	if s.invite {
		s.state = sProceeding
	}
	if k.legacy {
		_, _ = m.To() // fill the cache now: retransmission reads it later
	} else {
		// The key's strings are views of the request; copy them into one
		// string so that the key does not keep the request alive.
		b := k.s.branch + k.s.host
		s.key.s.branch, s.key.s.host = b[:len(k.s.branch)], b[len(k.s.branch):]
	}
	tx := &ServerTx{req: m, src: in.Source, s: s}
	s.tx = tx
	return tx
}

// methodName returns the method as a constant for the usual methods, so
// that it does not keep the request's memory.
func methodName(m string) string {
	for _, c := range [...]string{"INVITE", "BYE", "OPTIONS", "CANCEL", "REGISTER", "INFO",
		"UPDATE", "PRACK", "REFER", "NOTIFY", "SUBSCRIBE", "MESSAGE"} {
		if m == c {
			return c
		}
	}
	return m
}

// Request returns the request that created the transaction. The layer has
// read its Via, CSeq (and, for RFC 2543 peers, From and To) and does not
// touch its typed views again; the TU may use it from one goroutine at a
// time and must not modify it.
func (tx *ServerTx) Request() *sipmsg.Message { return tx.req }

// Source returns where the request came from; responses go back there
// (RFC 3261 §18.2.2, RFC 3581).
func (tx *ServerTx) Source() transport.Addr { return tx.src }

// start arms the 100 Trying timer of an INVITE the TU did not answer in
// HandleRequest (RFC 3261 §17.2.1).
func (s *srv) start() {
	if !s.invite {
		return
	}
	s.mu.Lock()
	if s.state == sProceeding && s.last == nil {
		s.l.arm(s.retransmitTimer(), tryingDelay, s.onRetransmit)
	}
	s.mu.Unlock()
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
		tag = resp.ToTag() // fills no cache, which a kept response would carry for Timer J
	}
	s := tx.s
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case sTrying, sProceeding:
	case sAccepted:
		if s.waitAt != 0 && s.l.tick() >= s.waitAt {
			return errFinalSent // Timer L has fired
		}
		if code >= 200 && code < 300 {
			return s.send(resp)
		}
		return errFinalSent
	default:
		if s.err != nil {
			return s.err
		}
		return errFinalSent
	}
	if code < 200 {
		s.last, s.state = resp, sProceeding
		if tag != "" {
			s.toTag = tag
		}
		s.stopRetransmit() // the TU answered: no 100 Trying from the layer
		return s.send(resp)
	}
	return s.final(resp, tag)
}

// final sends a final response and enters Completed, or Accepted for a 2xx
// to an INVITE (RFC 6026 §7.1). s.mu is held.
func (s *srv) final(resp *sipmsg.Message, tag string) error {
	s.last, s.ackTag = resp, tag
	s.stopRetransmit()
	if err := s.send(resp); err != nil {
		return err
	}
	l := s.l
	reliable := s.src.Protocol.Reliable()
	switch {
	case !s.invite:
		// §17.2.2: Timer J is 64*T1 on unreliable transports, zero otherwise.
		s.state = sCompleted
		s.release()
		if reliable {
			s.terminate()
			break
		}
		// Re-sent only if the request is retransmitted (rare): keep the
		// bytes, a third of the parsed response, and parse them again
		// then.
		var tmp [1024]byte
		w := resp.AppendTo(tmp[:0])
		switch {
		case len(w) > sipmsg.DefaultMaxMessageSize:
			s.armWait(l.longQ) // keeps s.last
		case l.retire(s, tag, w):
			s.state, s.last = sTerminated, nil
		default:
			s.last, s.lastWire = nil, bytes.Clone(w)
			s.armWait(l.longQ)
		}
	case resp.StatusCode < 300:
		// RFC 6026 §7.1: Accepted absorbs INVITE retransmissions and passes
		// ACKs to the TU until Timer L (64*T1) fires.
		// The layer never re-sends a 2xx itself (the TU does, §13.3.1.4),
		// so it lets go of it now rather than keep it for Timer L.
		s.state = sAccepted
		s.last = nil
		s.release()
		if !l.retire(s, tag, nil) {
			s.armWait(l.longQ)
		}
	default:
		// §17.2.1: Timer G retransmits on unreliable transports, Timer H
		// bounds the wait for the ACK.
		s.state = sCompleted
		if !reliable {
			s.interval = l.t1
			l.arm(s.retransmitTimer(), l.t1, s.onRetransmit)
		}
		s.armWait(l.longQ)
	}
	return nil
}

// release drops the ServerTx, and with it the request, once nothing more
// is reported to the TU about it. RFC 2543 matching reads the request's
// To tag later, so those transactions keep it. s.mu is held.
func (s *srv) release() {
	if !s.key.legacy {
		s.tx = nil
	}
}

// armWait (re)starts the transaction's long timer on q. s.mu is held.
func (s *srv) armWait(q *waitQueue) {
	if old := s.link.q.Load(); old != nil {
		old.remove(s)
	}
	s.waitAt = q.add(s)
}

// stopWait stops the long timer. s.mu is held.
func (s *srv) stopWait() {
	s.waitAt = 0
	if q := s.link.q.Load(); q != nil {
		q.remove(s)
	}
}

// send passes m to the transport; a failure ends the transaction
// (RFC 3261 §17.2.4). s.mu is held.
func (s *srv) send(m *sipmsg.Message) error {
	if err := s.l.sender.Send(context.Background(), m, s.src); err != nil {
		s.err = transportError(err)
		s.terminate()
		return s.err
	}
	return nil
}

// terminate releases the transaction's timers and map entry. s.mu is held.
func (s *srv) terminate() {
	if s.state == sTerminated {
		return
	}
	s.state = sTerminated
	s.stopRetransmit()
	s.stopWait()
	s.l.removeServer(s)
}

// retransmission absorbs a retransmitted request, re-sending the last
// response where RFC 3261 §17.2.1 and §17.2.2 say so.
func (s *srv) retransmission(m *sipmsg.Message) {
	if m.Method != s.method {
		return // branch reused for another method: not this transaction
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key.legacy {
		if to, err := m.To(); err != nil || to.Tag() != s.toTagOfRequest() {
			return
		}
	}
	switch s.state {
	case sProceeding, sCompleted:
		if s.last != nil {
			_ = s.send(s.last)
		} else if s.lastWire != nil {
			if resp, err := sipmsg.Parse(s.lastWire); err == nil {
				_ = s.send(resp)
			}
		}
	}
}

// toTagOfRequest returns the To tag of a legacy transaction's request,
// which it keeps. s.mu is held.
func (s *srv) toTagOfRequest() string {
	to, _ := s.tx.req.To() // cached in newServerTx for legacy transactions
	return to.Tag()
}

// ack handles an ACK matched to the transaction and reports whether it was
// absorbed; false passes it to the TU (the ACK of a 2xx, RFC 6026 §7.1).
func (s *srv) ack(m *sipmsg.Message) bool {
	if !s.invite {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key.legacy {
		if to, err := m.To(); err != nil || to.Tag() != s.ackTag {
			return false
		}
	}
	switch s.state {
	case sCompleted:
		// §17.2.1: Confirmed absorbs further ACKs for Timer I (T4, zero on
		// reliable transports).
		s.state = sConfirmed
		s.stopRetransmit()
		s.last = nil
		s.release()
		if s.src.Protocol.Reliable() {
			s.terminate()
		} else {
			s.armWait(s.l.t4Q)
		}
		return true
	case sConfirmed, sProceeding:
		return true
	}
	return false
}

// cancelTag returns the To tag the 200 to a CANCEL and the 487 to the
// INVITE share (RFC 3261 §9.2).
func (s *srv) cancelTag() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.toTag == "" {
		s.toTag = s.l.NewTag()
	}
	return s.toTag
}

// cancel answers 487 to an INVITE that has no final response yet and
// returns the transaction to report ErrCanceled with, or nil when it did
// not (RFC 3261 §9.2).
func (s *srv) cancel(tag string) *ServerTx {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.tx
	if !s.invite || s.state != sProceeding || tx == nil {
		return nil
	}
	resp := sipmsg.NewResponse(tx.req, 487, "")
	_ = resp.SetToTag(tag)
	s.err = ErrCanceled
	_ = s.final(resp, tag)
	return tx
}

// onRetransmit runs when the 100 Trying delay or Timer G fires.
func (s *srv) onRetransmit() {
	s.mu.Lock()
	if s.rt == nil || !s.l.fire(s.rt) {
		s.mu.Unlock()
		return
	}
	var err error
	switch s.state {
	case sProceeding:
		if s.last == nil && s.tx != nil {
			trying := sipmsg.NewResponse(s.tx.req, 100, "")
			s.last = trying
			err = s.send(trying)
		}
	case sCompleted:
		// §17.2.1: Timer G doubles up to T2.
		if err = s.send(s.last); err == nil {
			s.interval = min(2*s.interval, s.l.t2)
			s.l.arm(s.rt, s.interval, s.onRetransmit)
		}
	}
	tx := s.tx
	s.mu.Unlock()
	if err != nil && tx != nil {
		s.l.tu.HandleServerError(tx, err)
	}
}

// onWait runs when Timer H, I, J or L fires.
func (s *srv) onWait() {
	s.mu.Lock()
	if s.waitAt == 0 || s.l.tick() < s.waitAt {
		s.mu.Unlock() // stale: stopped or re-armed since
		return
	}
	s.waitAt = 0
	timeout := s.state == sCompleted && s.invite // Timer H: no ACK came
	tx := s.tx
	s.terminate()
	s.mu.Unlock()
	if timeout && tx != nil {
		s.l.tu.HandleServerError(tx, ErrTimeout)
	}
}

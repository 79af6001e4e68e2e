package transaction

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// Client transaction states (RFC 3261 §17.1, RFC 6026 §7.2). An INVITE
// transaction starts in cCalling, a non-INVITE one in cTrying.
const (
	cCalling uint8 = iota
	cTrying
	cProceeding
	cCompleted
	cAccepted
	cTerminated
)

// ClientTx is a client transaction: a request the TU sent and the
// responses that came back (RFC 3261 §17.1). Its methods are safe for
// concurrent use.
type ClientTx struct {
	l      *Layer
	req    *sipmsg.Message
	dst    transport.Addr // guarded by mu: the first send may move it to TCP
	key    clientKey
	invite bool
	ch     chan *sipmsg.Message

	mu         sync.Mutex
	state      uint8
	closed     bool // ch is closed
	abandoned  bool // the context ended or the TU detached: responses no longer go to ch
	final      bool // a final response was delivered
	wantCancel bool // send CANCEL on the first provisional (§9.1)
	canceling  bool // CANCEL sent
	err        error
	ack        *sipmsg.Message
	interval   time.Duration
	rt         slot // Timer A or E
	wait       slot // Timer B or F, then D, K or M
	stopCtx    func() bool
}

// Request starts a client transaction: it sends req to dst and
// retransmits it as RFC 3261 §17.1.1.2 and §17.1.2.2 say until a response
// arrives or Timer B or F fires. req needs a top Via whose sent-by the TU
// filled in (the transport's address); a missing or pre-RFC 3261 branch is
// replaced with [Layer.NewBranch]. The layer owns req afterwards. A
// request for UDP larger than [Config].MaxUDPRequest goes over TCP to the
// same address instead, its top Via changed to TCP (RFC 3261 §18.1.1),
// unless that server does not take TCP. ACK is not sent through a
// transaction: see [Layer.Send].
//
// ctx bounds the wait for a final response: when it ends first, the
// transaction ends for the TU with an error wrapping ErrCanceled and the
// context's cause; an INVITE is then CANCELled by the layer (at once, or as
// soon as a provisional response arrives, §9.1) and a late 2xx goes to
// TU.HandleOutside. Request blocks while the transport sends the first
// copy; a send failure is returned wrapping ErrTransport and no
// transaction exists.
func (l *Layer) Request(ctx context.Context, req *sipmsg.Message, dst transport.Addr) (*ClientTx, error) {
	if !req.IsRequest() || req.Method == "ACK" {
		return nil, errors.New("transaction: ACK and responses are sent with Layer.Send")
	}
	via, err := req.Via()
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(via.Branch(), magicCookie) {
		via.Params = via.Params.Set("branch", l.NewBranch())
		if err := req.SetVia(via); err != nil {
			return nil, err
		}
		if via, err = req.Via(); err != nil {
			return nil, err
		}
	}
	cseq, err := req.CSeq()
	if err != nil {
		return nil, err
	}
	if cseq.Method != req.Method {
		return nil, errors.New("transaction: CSeq method differs from the request method")
	}
	// Fill the views NewAck and NewCancel read later, so that the TU may
	// read req concurrently.
	_, _ = req.To()
	_, _ = req.From()
	return l.start(ctx, req, dst, clientKey{via.Branch(), cseq.Method})
}

func (l *Layer) start(ctx context.Context, req *sipmsg.Message, dst transport.Addr, k clientKey) (*ClientTx, error) {
	tx := &ClientTx{l: l, req: req, dst: dst, key: k, invite: req.Method == "INVITE",
		ch: make(chan *sipmsg.Message, responseBuffer)}
	if !tx.invite {
		tx.state = cTrying
	}
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return nil, errLayerClosed
	case l.clients[k] != nil:
		l.mu.Unlock()
		return nil, errors.New("transaction: branch already in use")
	}
	l.clients[k] = tx
	l.clientsPeak = max(l.clientsPeak, len(l.clients))
	l.mu.Unlock()

	tx.mu.Lock()
	defer tx.mu.Unlock()
	dst, err := l.sendFirst(ctx, req, dst)
	tx.dst = dst
	if err != nil {
		tx.state = cTerminated
		l.removeClient(tx)
		return nil, transportError(err)
	}
	if tx.state != cCalling && tx.state != cTrying {
		return tx, nil // closed meanwhile
	}
	// §17.1.1.2, §17.1.2.2: Timer A or E only on unreliable transports;
	// Timer B or F always.
	if !dst.Protocol.Reliable() {
		tx.interval = l.t1
		l.arm(&tx.rt, l.t1, tx.onRetransmit)
	}
	l.arm(&tx.wait, 64*l.t1, tx.onWait)
	if ctx.Done() != nil {
		tx.stopCtx = context.AfterFunc(ctx, func() { tx.abandon(ctx) })
	}
	return tx, nil
}

// Request returns the request the transaction sent. Do not modify it.
func (tx *ClientTx) Request() *sipmsg.Message { return tx.req }

// Responses returns the channel of responses: provisional ones, the final
// one and, for an INVITE answered 2xx, retransmissions of the 2xx while the
// transaction is Accepted (RFC 6026 §7.2: the TU ACKs each, §13.2.2.4).
// The ACK for a non-2xx final response is sent by the transaction itself.
// The channel holds 8 responses; when it is full, further provisional
// responses and 2xx retransmissions are dropped, but the first final
// response always fits. It is closed when the transaction ends: after
// Timer D, K or M following a final response (0 to 32 s), at once on an
// error, or when the context given to Request ends. Responses belong to
// the receiver.
func (tx *ClientTx) Responses() <-chan *sipmsg.Message { return tx.ch }

// Detach tells the transaction that the TU has read the final response
// and reads no more: Responses is closed at once, and a 2xx that reaches
// an INVITE transaction while it waits out Timer M (a retransmission, or
// the answer of another fork) goes to TU.HandleOutside, as it would after
// the transaction ended, for the UA core to acknowledge (RFC 3261
// §13.2.2.4). So the TU need not keep a goroutine on Responses for 32 s
// per call. The transaction itself runs to its end as before. Before a
// final response Detach does nothing.
func (tx *ClientTx) Detach() {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if !tx.final {
		return
	}
	tx.abandoned = true
	tx.closeCh(nil)
}

// Err returns why the transaction ended without a final response: an error
// wrapping ErrTimeout, ErrTransport or ErrCanceled; nil while it runs or
// when a final response arrived. It is set before Responses is closed.
func (tx *ClientTx) Err() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.err
}

// Cancel asks the server to stop processing the INVITE (RFC 3261 §9.1):
// the layer sends a CANCEL, as its own transaction, at once if a
// provisional response arrived or else when the first one does. The
// INVITE then normally ends with 487 Request Terminated on Responses; a
// 2xx may still win the race, and the TU must then ACK and BYE. If no
// final response arrives within 64*T1 of the CANCEL, the transaction ends
// with ErrTimeout. It returns an error when the transaction is not an
// INVITE or already has a final response. It blocks while the transport
// sends the CANCEL.
func (tx *ClientTx) Cancel() error {
	if !tx.invite {
		return errors.New("transaction: only an INVITE can be cancelled")
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	switch tx.state {
	case cCalling:
		tx.wantCancel = true
	case cProceeding:
		tx.sendCancel()
	default:
		return errFinalRecv
	}
	return nil
}

// sendCancel sends the CANCEL of a Proceeding INVITE once. tx.mu is held.
func (tx *ClientTx) sendCancel() {
	if tx.canceling {
		return
	}
	tx.canceling = true
	if c, err := sipmsg.NewCancel(tx.req); err == nil {
		// The CANCEL keeps the INVITE's branch; the CSeq method tells the
		// transactions apart (§9.1, §17.1.3). Nobody reads its responses.
		_, _ = tx.l.start(context.Background(), c, tx.dst, clientKey{tx.key.branch, "CANCEL"})
	}
	tx.l.arm(&tx.wait, 64*tx.l.t1, tx.onWait)
}

// deliver hands a response to the TU. tx.mu is held.
func (tx *ClientTx) deliver(m *sipmsg.Message, final bool) {
	if tx.closed {
		return
	}
	if final && !tx.final {
		tx.final = true
		select { // a slot is kept free for the final response
		case tx.ch <- m:
		default:
		}
		return
	}
	if len(tx.ch) < cap(tx.ch)-1 || tx.final {
		select {
		case tx.ch <- m:
		default:
		}
	}
}

// receive handles a response matched to the transaction and reports
// whether it was taken; false passes a 2xx to the TU as stray.
func (tx *ClientTx) receive(m *sipmsg.Message) bool {
	tx.mu.Lock()
	if tx.state == cTerminated {
		tx.mu.Unlock()
		return false
	}
	outside := false
	if tx.invite {
		outside = tx.receiveInvite(m)
	} else {
		tx.receiveNonInvite(m)
	}
	tx.mu.Unlock()
	return !outside
}

// receiveInvite is the INVITE client state machine (RFC 3261 §17.1.1.2,
// RFC 6026 §7.2). It reports whether m must go to TU.HandleOutside.
// tx.mu is held.
func (tx *ClientTx) receiveInvite(m *sipmsg.Message) bool {
	code := m.StatusCode
	switch tx.state {
	case cCalling, cProceeding:
		switch {
		case code < 200:
			tx.state = cProceeding
			tx.rt.stop()
			if !tx.canceling {
				tx.wait.stop() // Timer B only runs in Calling
			}
			if tx.wantCancel {
				tx.sendCancel()
			}
			tx.deliver(m, false)
		case code < 300:
			tx.state = cAccepted
			tx.rt.stop()
			tx.stopContext()
			tx.l.arm(&tx.wait, 64*tx.l.t1, tx.onWait) // Timer M
			tx.deliver(m, true)
			return tx.abandoned
		default:
			ack, err := sipmsg.NewAck(tx.req, m)
			if err != nil {
				return false
			}
			tx.ack = ack
			tx.state = cCompleted
			tx.rt.stop()
			tx.stopContext()
			if tx.sendACK() {
				tx.deliver(m, true)
				// Timer D: 32 s on unreliable transports, zero otherwise.
				if tx.dst.Protocol.Reliable() {
					tx.terminate(nil)
				} else {
					tx.l.arm(&tx.wait, timerD, tx.onWait)
				}
			}
		}
	case cCompleted:
		if code >= 300 {
			tx.sendACK() // a retransmitted final response
		}
	case cAccepted:
		if code >= 200 && code < 300 {
			tx.deliver(m, false)
			return tx.abandoned
		}
	}
	return false
}

// sendACK sends the ACK of a non-2xx final response and reports success.
// tx.mu is held.
func (tx *ClientTx) sendACK() bool {
	if err := tx.l.sender.Send(context.Background(), tx.ack, tx.dst); err != nil {
		tx.terminate(transportError(err))
		return false
	}
	return true
}

// receiveNonInvite is the non-INVITE client state machine (RFC 3261
// §17.1.2.2). tx.mu is held.
func (tx *ClientTx) receiveNonInvite(m *sipmsg.Message) {
	if tx.state != cTrying && tx.state != cProceeding {
		return // Completed absorbs retransmitted finals
	}
	if m.StatusCode < 200 {
		tx.state = cProceeding
		tx.deliver(m, false)
		return
	}
	tx.state = cCompleted
	tx.rt.stop()
	tx.deliver(m, true)
	tx.stopContext()
	// Timer K: T4 on unreliable transports, zero otherwise.
	if tx.dst.Protocol.Reliable() {
		tx.terminate(nil)
	} else {
		tx.l.arm(&tx.wait, tx.l.t4, tx.onWait)
	}
}

func (tx *ClientTx) stopContext() {
	if tx.stopCtx != nil {
		tx.stopCtx()
		tx.stopCtx = nil
	}
}

// terminate ends the transaction, releasing its timers, context hook and
// map entry, and closes Responses. tx.mu is held.
func (tx *ClientTx) terminate(err error) {
	if tx.state == cTerminated {
		return
	}
	tx.state = cTerminated
	tx.rt.stop()
	tx.wait.stop()
	tx.stopContext()
	tx.l.removeClient(tx)
	tx.closeCh(err)
}

func (tx *ClientTx) closeCh(err error) {
	if tx.closed {
		return
	}
	if !tx.final && tx.err == nil {
		tx.err = err
	}
	tx.closed = true
	close(tx.ch)
}

// abandon runs when the context of Request ends.
func (tx *ClientTx) abandon(ctx context.Context) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.final || tx.state == cTerminated {
		return
	}
	tx.abandoned = true
	tx.closeCh(canceledError(ctx))
	if !tx.invite {
		tx.terminate(nil)
		return
	}
	// The INVITE stays to CANCEL the call and acknowledge its 487.
	if tx.state == cProceeding {
		tx.sendCancel()
	} else {
		tx.wantCancel = true
	}
}

// onRetransmit runs when Timer A or E fires.
func (tx *ClientTx) onRetransmit() {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if !tx.l.fire(&tx.rt) {
		return
	}
	switch tx.state {
	case cCalling:
		tx.interval *= 2 // §17.1.1.2: Timer A doubles without bound
	case cTrying:
		tx.interval = min(2*tx.interval, tx.l.t2) // §17.1.2.2
	case cProceeding:
		if tx.invite {
			return
		}
		tx.interval = tx.l.t2
	default:
		return
	}
	if err := tx.l.sender.Send(context.Background(), tx.req, tx.dst); err != nil {
		tx.terminate(transportError(err))
		return
	}
	tx.l.arm(&tx.rt, tx.interval, tx.onRetransmit)
}

// onWait runs when Timer B, F, D, K or M fires, or 64*T1 after a CANCEL.
func (tx *ClientTx) onWait() {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if !tx.l.fire(&tx.wait) {
		return
	}
	switch tx.state {
	case cCalling, cTrying, cProceeding:
		tx.terminate(ErrTimeout)
	default:
		tx.terminate(nil)
	}
}

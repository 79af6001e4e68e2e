package transaction

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// magicCookie starts every branch made by an RFC 3261 element
// (RFC 3261 §8.1.1.7).
const magicCookie = "z9hG4bK"

// clientKey matches a response to a client transaction: the branch of the
// top Via and the CSeq method (RFC 3261 §17.1.3).
type clientKey struct {
	branch, method string
}

// serverKey matches a request to a server transaction by the branch with
// the magic cookie and the sent-by of the top Via (RFC 3261 §17.2.3). The
// method is checked after the lookup: it only has to tell a CANCEL apart
// from the request it cancels, and ACK matches the INVITE.
type serverKey struct {
	branch string
	host   string
	port   int
	cancel bool
}

// legacyKey matches a request from an RFC 2543 element, whose branch lacks
// the magic cookie (RFC 3261 §17.2.3): Request-URI, Call-ID, From tag, CSeq
// number and top Via; the To tag is checked after the lookup because an
// ACK carries the tag of the response.
type legacyKey struct {
	uri     sipmsg.URI
	via     sipmsg.Via
	callID  string
	fromTag string
	seq     uint32
	cancel  bool
}

// matchKey is a serverKey or, when legacy is set, a legacyKey.
type matchKey struct {
	s      serverKey
	l      *legacyKey
	legacy bool
}

func (k matchKey) withCancel(c bool) matchKey {
	if k.legacy {
		l := *k.l
		l.cancel = c
		k.l = &l
	} else {
		k.s.cancel = c
	}
	return k
}

// Layer is the transaction layer of one SIP element: it owns the client and
// server transactions, matches what the transport delivers to them, and
// runs their timers (RFC 3261 §17). Its methods are safe for concurrent
// use. It starts no goroutine of its own: timers run their callbacks in
// short-lived goroutines of the Clock, and inbound messages are handled on
// the goroutine that calls HandleInbound.
type Layer struct {
	sender    transport.Sender
	tu        TU
	clock     Clock
	log       *slog.Logger
	t1        time.Duration
	t2        time.Duration
	t4        time.Duration
	maxServer int
	maxUDP    int   // requests larger than this go over TCP, not UDP; negative: never
	noTCP     noTCP // destinations that refused TCP for such a request lately
	idPrefix  string
	ids       atomic.Uint64

	epoch time.Time  // the grid of the wait queues
	longQ *waitQueue // Timer H, and J and L of unretired transactions: 64*T1
	t4Q   *waitQueue // Timer I: T4

	mu          sync.Mutex
	closed      bool
	clients     map[clientKey]*ClientTx
	servers     map[serverKey]*srv
	legacy      map[legacyKey]*srv
	done        doneLog // server transactions retired to wait out Timer J or L
	clientsPeak int     // the most entries clients has had since it was made
	serversPeak int
}

// shrinkAt is the number of entries below which a map that has held more
// is remade: Go maps keep their buckets after deletes, and a burst of 64*T1
// of load (hundreds of thousands of transactions) would otherwise pin
// tens of MB after the load is over.
const shrinkAt = 4096

// shrink returns m remade with only its entries when it has fallen to an
// eighth of its peak, and the new peak. The copy costs an eighth of the
// deletes that led to it.
func shrink[K comparable, V any](m map[K]V, peak int) (map[K]V, int) {
	if peak < shrinkAt || len(m) > peak/8 {
		return m, peak
	}
	n := make(map[K]V, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n, len(m)
}

// New returns a Layer that sends through s and delivers to tu. Wire the
// transport's Handler to [Layer.HandleInbound]. s.Send must not call
// HandleInbound synchronously: the layer may hold a transaction's lock
// while it sends.
func New(s transport.Sender, tu TU, cfg Config) *Layer {
	l := &Layer{
		sender:    s,
		tu:        tu,
		clock:     cfg.Clock,
		log:       cfg.Logger,
		t1:        cfg.T1,
		t2:        cfg.T2,
		t4:        cfg.T4,
		maxServer: cfg.MaxServerTransactions,
		maxUDP:    cfg.MaxUDPRequest,
		clients:   make(map[clientKey]*ClientTx),
		servers:   make(map[serverKey]*srv),
		legacy:    make(map[legacyKey]*srv),
	}
	if l.clock == nil {
		l.clock = realClock{}
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.t1 <= 0 {
		l.t1 = DefaultT1
	}
	if l.t2 <= 0 {
		l.t2 = DefaultT2
	}
	if l.t4 <= 0 {
		l.t4 = DefaultT4
	}
	if l.maxUDP == 0 {
		l.maxUDP = DefaultMaxUDPRequest
	}
	l.idPrefix = rand.Text()[:12]
	l.epoch = l.clock.Now()
	l.done.init()
	l.longQ = &waitQueue{l: l, d: 64 * l.t1}
	l.t4Q = &waitQueue{l: l, d: l.t4, slack: lazySlack}
	return l
}

// newID returns a string unique to this layer: prefix, random part,
// counter.
func (l *Layer) newID(prefix string) string {
	var b [48]byte
	s := append(b[:0], prefix...)
	s = append(s, l.idPrefix...)
	s = append(s, '.')
	s = strconv.AppendUint(s, l.ids.Add(1), 36)
	return string(s)
}

// NewBranch returns a fresh branch parameter with the magic cookie
// (RFC 3261 §8.1.1.7), unique over this layer's lifetime and, through its
// random part, across layers. It is safe for concurrent use.
func (l *Layer) NewBranch() string { return l.newID(magicCookie) }

// NewTag returns a fresh random tag for From or To (RFC 3261 §19.3).
func (l *Layer) NewTag() string { return l.newID("") }

// HandleInbound matches one message from the transport to a transaction
// and acts on it; it is the transport's Handler. It may call the TU and
// send messages before it returns; it does not wait for timers. It is safe
// for concurrent use; in.Msg belongs to the layer afterwards.
func (l *Layer) HandleInbound(in transport.Inbound) {
	if in.Msg == nil {
		return
	}
	if in.Msg.IsRequest() {
		l.t4Q.runDue() // a request may match a transaction whose Timer I is due
		l.handleRequest(in)
	} else {
		l.handleResponse(in)
	}
}

func (l *Layer) drop(in transport.Inbound, why string) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug("transaction: dropped message", "reason", why,
			"method", in.Msg.Method, "status", in.Msg.StatusCode, "source", in.Source.AddrPort)
	}
}

// handleResponse matches a response per RFC 3261 §17.1.3.
func (l *Layer) handleResponse(in transport.Inbound) {
	m := in.Msg
	via, err := m.Via()
	if err != nil {
		l.drop(in, "no Via")
		return
	}
	cseq, err := m.CSeq()
	if err != nil {
		l.drop(in, "no CSeq")
		return
	}
	if m.StatusCode < 100 || m.StatusCode > 699 {
		l.drop(in, "bad status")
		return
	}
	l.mu.Lock()
	tx := l.clients[clientKey{via.Branch(), cseq.Method}]
	l.mu.Unlock()
	if tx != nil && tx.receive(m) {
		return
	}
	if m.StatusCode >= 200 && m.StatusCode < 300 && cseq.Method == "INVITE" {
		l.tu.HandleOutside(in) // §13.2.2.4: the UA core acknowledges 2xx itself.
		return
	}
	l.drop(in, "stray response") // §17.1.3, §18.1.2
}

// serverMatchKey builds the key of a request per RFC 3261 §17.2.3.
func serverMatchKey(m *sipmsg.Message, via sipmsg.Via, seq uint32) (matchKey, bool) {
	cancel := m.Method == "CANCEL"
	if b := via.Branch(); strings.HasPrefix(b, magicCookie) {
		return matchKey{s: serverKey{branch: b, host: via.Host, port: via.Port, cancel: cancel}}, true
	}
	from, err := m.From()
	if err != nil {
		return matchKey{}, false
	}
	return matchKey{legacy: true, l: &legacyKey{
		uri: m.RequestURI, via: via, callID: m.CallID(), fromTag: from.Tag(), seq: seq, cancel: cancel,
	}}, true
}

func (l *Layer) lookup(k matchKey) *srv {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k.legacy {
		return l.legacy[*k.l]
	}
	return l.servers[k.s]
}

func (l *Layer) handleRequest(in transport.Inbound) {
	m := in.Msg
	via, err := m.Via()
	if err != nil {
		l.drop(in, "no Via")
		return
	}
	cseq, err := m.CSeq()
	if err != nil {
		l.drop(in, "no CSeq")
		return
	}
	k, ok := serverMatchKey(m, via, cseq.Seq)
	if !ok {
		l.drop(in, "no From")
		return
	}
	if m.Method == "ACK" {
		if tx := l.lookup(k); tx != nil && tx.ack(m) {
			return
		}
		l.tu.HandleOutside(in) // ACK for a 2xx (§17.2.3, RFC 6026 §7.1)
		return
	}
	s, tx, r, full := l.create(k, in)
	switch {
	case full:
		_ = l.RespondStateless(context.Background(), in, 503, "")
	case r != nil:
		l.resend(k.s, r, m)
	case s == nil:
		// closed
	case tx == nil:
		s.retransmission(m)
	case m.Method == "CANCEL":
		l.handleCancel(tx, k)
	default:
		l.tu.HandleRequest(tx)
		s.start() // 100 Trying only if the TU has not answered yet
	}
}

// create finds the server transaction of k, live or retired, or makes one
// for in and returns its ServerTx too.
func (l *Layer) create(k matchKey, in transport.Inbound) (s *srv, tx *ServerTx, r *retired, full bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, nil, nil, false
	}
	if k.legacy {
		s = l.legacy[*k.l]
	} else {
		s = l.servers[k.s]
		if s == nil {
			if d, ok := l.findDone(k.s); ok {
				return nil, nil, d.retired(), false
			}
		}
	}
	if s != nil {
		return s, nil, nil, false
	}
	if l.maxServer > 0 && len(l.servers)+len(l.legacy)+len(l.done.index) >= l.maxServer {
		l.sweepDone() // records due but not yet dropped do not count
		if len(l.servers)+len(l.legacy)+len(l.done.index) >= l.maxServer {
			return nil, nil, nil, true
		}
	}
	tx = newServerTx(l, k, in)
	s = tx.s
	if k.legacy {
		l.legacy[*k.l] = s
	} else {
		l.servers[s.key.s] = s
		l.serversPeak = max(l.serversPeak, len(l.servers))
	}
	return s, tx, nil, false
}

func (l *Layer) removeServer(s *srv) {
	l.mu.Lock()
	if s.key.legacy {
		if l.legacy[*s.key.l] == s {
			delete(l.legacy, *s.key.l)
		}
	} else if l.servers[s.key.s] == s {
		delete(l.servers, s.key.s)
		l.servers, l.serversPeak = shrink(l.servers, l.serversPeak)
	}
	l.mu.Unlock()
}

func (l *Layer) removeClient(tx *ClientTx) {
	l.mu.Lock()
	if l.clients[tx.key] == tx {
		delete(l.clients, tx.key)
		l.clients, l.clientsPeak = shrink(l.clients, l.clientsPeak)
	}
	l.mu.Unlock()
}

// handleCancel answers a new CANCEL, whose own server transaction is ctx
// (RFC 3261 §9.2): 481 when nothing matches; otherwise 200, and then, for
// an INVITE without a final response, 487 to the INVITE. The TU hears of
// it afterwards through HandleServerError.
func (l *Layer) handleCancel(ctx *ServerTx, k matchKey) {
	target := l.lookup(k.withCancel(false))
	var tag string
	if target != nil {
		tag = target.cancelTag()
	} else if r := l.findRetired(k.withCancel(false)); r != nil {
		tag = r.tag // answered already: the CANCEL changes nothing
	} else {
		resp := sipmsg.NewResponse(ctx.req, 481, "")
		_ = resp.SetToTag(l.NewTag())
		_ = ctx.Respond(resp)
		return
	}
	if tag == "" {
		tag = l.NewTag()
	}
	resp := sipmsg.NewResponse(ctx.req, 200, "")
	_ = resp.SetToTag(tag) // §9.2: the same To tag as the response to the INVITE
	_ = ctx.Respond(resp)
	if target == nil {
		return
	}
	if tx := target.cancel(tag); tx != nil {
		l.tu.HandleServerError(tx, &CancelError{Cancel: ctx.req})
	}
}

// Send sends msg outside any transaction: the ACK for a 2xx response
// (RFC 3261 §13.2.2.4) or a response a stateless element builds itself.
// It blocks until the transport has written msg or ctx ends. Errors wrap
// ErrTransport.
func (l *Layer) Send(ctx context.Context, msg *sipmsg.Message, dst transport.Addr) error {
	if err := l.sender.Send(ctx, msg, dst); err != nil {
		return transportError(err)
	}
	return nil
}

// RespondStateless answers the request in.Msg with code outside any
// transaction (RFC 3261 §8.2.6, §17): a 503 under overload, a 400 for a
// request the TU cannot read, and so on. A response above 100 gets a fresh
// To tag unless the request's To has one. reason "" means the default
// phrase. It is not for ACK, which is never answered. It blocks while the
// transport sends; errors wrap ErrTransport.
func (l *Layer) RespondStateless(ctx context.Context, in transport.Inbound, code int, reason string) error {
	if in.Msg == nil || !in.Msg.IsRequest() || in.Msg.Method == "ACK" {
		return errors.New("transaction: not a request that takes a response")
	}
	resp := sipmsg.NewResponse(in.Msg, code, reason)
	if code > 100 {
		if err := resp.SetToTag(l.NewTag()); err != nil {
			return err
		}
	}
	return l.Send(ctx, resp, in.Source)
}

// Close ends every transaction at once, stopping its timers; pending client
// transactions end with ErrCanceled. Later requests fail and inbound
// messages are dropped. It does not block on the network.
func (l *Layer) Close() error {
	l.mu.Lock()
	l.closed = true
	clients := make([]*ClientTx, 0, len(l.clients))
	for _, tx := range l.clients {
		clients = append(clients, tx)
	}
	servers := make([]*srv, 0, len(l.servers)+len(l.legacy))
	for _, tx := range l.servers {
		servers = append(servers, tx)
	}
	for _, tx := range l.legacy {
		servers = append(servers, tx)
	}
	clear(l.clients)
	clear(l.servers)
	clear(l.legacy)
	l.done.reset()
	if l.done.t != nil {
		l.done.t.Stop()
	}
	l.mu.Unlock()
	for _, tx := range clients {
		tx.mu.Lock()
		tx.terminate(errLayerClosed)
		tx.mu.Unlock()
	}
	for _, s := range servers {
		s.mu.Lock()
		s.terminate()
		s.mu.Unlock()
	}
	l.longQ.close()
	l.t4Q.close()
	return nil
}

// Open returns how many client and server transactions have not ended,
// server transactions waiting out Timer J or L included: for monitoring,
// and for tests that wait until a layer is quiet.
func (l *Layer) Open() (clients, servers int) { return l.counts() }

// counts returns the number of live client and server transactions.
func (l *Layer) counts() (clients, servers int) {
	l.t4Q.runDue()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepDone()
	return len(l.clients), len(l.servers) + len(l.legacy) + len(l.done.index)
}

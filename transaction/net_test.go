package transaction

import (
	"context"
	"errors"
	"net/netip"
	"sync"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// fakeNet is an in-memory network between layers: Send serializes the
// message and queues it; one pump goroutine parses it and hands it to the
// destination layer, as a transport's reading goroutine would. close stops
// the pump and waits for it.
type fakeNet struct {
	mu     sync.Mutex
	closed bool
	nodes  map[netip.AddrPort]*Layer
	drop   func(m *sipmsg.Message) bool // loss: true drops m; called under mu
	queue  chan packet
	wg     sync.WaitGroup
}

type packet struct {
	b    []byte
	from transport.Addr
	to   netip.AddrPort
}

func newFakeNet() *fakeNet {
	n := &fakeNet{nodes: make(map[netip.AddrPort]*Layer), queue: make(chan packet, 1<<14)}
	n.wg.Go(n.pump)
	return n
}

func (n *fakeNet) pump() {
	for p := range n.queue {
		m, err := sipmsg.Parse(p.b)
		if err != nil {
			continue
		}
		n.mu.Lock()
		l := n.nodes[p.to]
		n.mu.Unlock()
		if l != nil {
			l.HandleInbound(transport.Inbound{Msg: m, Source: p.from})
		}
	}
}

// attach makes a layer at ap that speaks proto.
func (n *fakeNet) attach(ap netip.AddrPort, proto transport.Protocol, u TU, cfg Config) *Layer {
	l := New(&endpoint{n: n, self: transport.Addr{Protocol: proto, AddrPort: ap}}, u, cfg)
	n.mu.Lock()
	n.nodes[ap] = l
	n.mu.Unlock()
	return l
}

func (n *fakeNet) close() {
	n.mu.Lock()
	n.closed = true
	close(n.queue)
	n.mu.Unlock()
	n.wg.Wait()
}

var errNetClosed = errors.New("fake network closed")

type endpoint struct {
	n    *fakeNet
	self transport.Addr
}

func (e *endpoint) Send(_ context.Context, m *sipmsg.Message, dst transport.Addr) error {
	b := m.AppendTo(nil)
	e.n.mu.Lock()
	defer e.n.mu.Unlock()
	if e.n.closed {
		return errNetClosed
	}
	if e.n.drop != nil && e.n.drop(m) {
		return nil
	}
	select {
	case e.n.queue <- packet{b, e.self, dst.AddrPort}:
	default: // queue full: lost, as a datagram would be
	}
	return nil
}

// answerer is a UA core for the pair tests: it answers INVITE with 200
// (the ACK comes to HandleOutside) and everything else with 200.
type answerer struct {
	tu
}

func newAnswerer() *answerer {
	a := &answerer{}
	a.onRequest = func(tx *ServerTx) {
		r := sipmsg.NewResponse(tx.Request(), 200, "")
		_ = r.SetToTag("s1")
		_ = tx.Respond(r)
	}
	return a
}

// ack2xx sends the UA core's ACK for a 2xx (RFC 3261 §13.2.2.4): a new
// transaction-less request with a fresh branch.
func ack2xx(l *Layer, tx *ClientTx, resp *sipmsg.Message, dst transport.Addr) error {
	ack, err := sipmsg.NewAck(tx.Request(), resp)
	if err != nil {
		return err
	}
	via, err := ack.Via()
	if err != nil {
		return err
	}
	via.Params = via.Params.Set("branch", l.NewBranch())
	if err := ack.SetVia(via); err != nil {
		return err
	}
	return l.Send(context.Background(), ack, dst)
}

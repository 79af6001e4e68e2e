package transaction

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// DefaultMaxUDPRequest is the size above which a request meant for UDP goes
// over TCP instead (RFC 3261 §18.1.1: larger than 1300 bytes when the path
// MTU is unknown), the default of [Config].MaxUDPRequest.
const DefaultMaxUDPRequest = 1300

// noTCPFor is how long a destination whose TCP port refused a request that
// was too large for UDP is sent such requests over UDP without trying TCP
// first; noTCPMax bounds how many such destinations are remembered.
const (
	noTCPFor = 10 * time.Minute
	noTCPMax = 1024
)

// noTCP remembers the destinations whose TCP port did not take a request
// too large for UDP: UDP-only servers, which then get such requests over
// UDP at once rather than after a failed connection each time.
type noTCP struct {
	mu    sync.Mutex
	until map[netip.AddrPort]time.Time
}

// has reports whether ap refused TCP less than noTCPFor ago.
func (n *noTCP) has(ap netip.AddrPort, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	until, ok := n.until[ap]
	return ok && now.Before(until)
}

// add remembers that ap refused TCP at now; past noTCPMax entries the
// expired ones go, and all of them if none has.
func (n *noTCP) add(ap netip.AddrPort, now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.until) >= noTCPMax {
		for k, u := range n.until {
			if !now.Before(u) {
				delete(n.until, k)
			}
		}
		if len(n.until) >= noTCPMax {
			clear(n.until)
		}
	}
	if n.until == nil {
		n.until = make(map[netip.AddrPort]time.Time)
	}
	n.until[ap] = now.Add(noTCPFor)
}

// sendFirst sends the first copy of a client transaction's request and
// returns where it went. A request for UDP larger than the layer's
// maxUDP goes over TCP to the same address and port, its top Via saying
// TCP (RFC 3261 §18.1.1), so that the transaction is a reliable one; when
// that connection cannot be made within 2*T1 (a server that only speaks
// UDP), the request goes over UDP after all, with its Via as it was.
func (l *Layer) sendFirst(ctx context.Context, req *sipmsg.Message, dst transport.Addr) (transport.Addr, error) {
	if dst.Protocol != transport.UDP || l.maxUDP < 0 || req.WireLen() <= l.maxUDP ||
		l.noTCP.has(dst.AddrPort, l.clock.Now()) {
		return dst, l.sender.Send(ctx, req, dst)
	}
	via, err := req.Via()
	if err != nil || via.Transport != "UDP" {
		return dst, l.sender.Send(ctx, req, dst)
	}
	udpVia := via
	via.Transport = "TCP"
	if err := req.SetVia(via); err != nil {
		return dst, l.sender.Send(ctx, req, dst)
	}
	tcp := transport.Addr{Protocol: transport.TCP, AddrPort: dst.AddrPort}
	cctx, cancel := context.WithTimeout(ctx, 2*l.t1)
	err = l.sender.Send(cctx, req, tcp)
	cancel()
	if err == nil {
		return tcp, nil
	}
	if ctx.Err() != nil {
		return dst, err
	}
	l.log.Debug("transaction: no TCP for a request too large for UDP; sent over UDP", "dst", dst.AddrPort, "err", err)
	l.noTCP.add(dst.AddrPort, l.clock.Now())
	if err := req.SetVia(udpVia); err != nil {
		return dst, err
	}
	return dst, l.sender.Send(ctx, req, dst)
}

//go:build linux && (amd64 || arm64)

package transport

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"time"

	"github.com/xphone-go/xphone/internal/udpsock"
)

// A SIP UDP listener here is a blocking socket that Go's network poller
// never sees, read by goroutines that wait in recvmmsg(2) and take every
// datagram waiting at once. Through the poller, each datagram woke the
// runtime's epoll waiter and then the reading goroutine, with a thread
// wake-up (a context switch, costly on a virtual machine) at each step;
// under SIPp load (interop/cmd/minuas/cps.sh) that was a quarter of the
// CPU per call. Responses go out with sendto(2) from the same socket.

// udpWake is how often a blocked reader wakes without traffic, a fallback
// for noticing Close should Shutdown not wake it (Linux's does). Each
// wake of an idle process costs more than itself: a reader blocked for
// 10 ms has its P taken back by the runtime's monitor, which then polls
// every 20 µs for a while, some 60 thread wake-ups. At 250 ms an idle
// minuas (one UDP listener) made 220 context switches a second and spent
// 0.8 % of a CPU doing nothing; at 5 s, 11 and 0.03 %.
const udpWake = 5 * time.Second

// udpBatch is how many datagrams one read takes at most. Each needs a
// buffer of the largest message (64 KiB by default), so a reader starts
// with one and doubles its batch, up to udpBatch, each time a read fills
// it, and halves it, down to two, after udpSparse reads in a row that
// each filled a quarter of it at most, and to two at once when udpWake
// passes without a datagram: a phone keeps 128 KiB once its bursts are
// over, a loaded server 1 MiB per reader.
const udpBatch = 16

// udpSparse is how many sparse reads in a row halve a reader's batch.
const udpSparse = 64

// yieldEvery is how often a reader lets the scheduler run. A goroutine
// that only ever comes back from system calls looks, to the runtime's
// monitor, like one that has run for ever: every 10 ms it is sent a
// preemption signal and its P is taken away, and the monitor then polls
// every 20 µs for a while. Under SIPp load that monitor was 16 % of the
// process at 4,000 calls/s. A yield (which wakes an idle thread, a cost
// of its own) every 5 ms keeps the reader from ever looking stuck.
const yieldEvery = 5 * time.Millisecond

type blockingUDP struct{ *udpsock.Conn }

func (u blockingUDP) ReadBuffer() int { return u.Conn.ReadBuffer() }

// listenUDP binds addr ("127.0.0.1:5060", ":5060", "[::1]:0"); its
// readers wake every wake (udpWake when 0) without traffic.
func listenUDP(_ context.Context, addr string, wake time.Duration) (udpSocket, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	ap := ua.AddrPort()
	if !ap.Addr().IsValid() { // ":5060": every address, both families, as net does
		ap = netip.AddrPortFrom(netip.IPv6Unspecified(), ap.Port())
	}
	c, err := udpsock.Listen(ap, true, orDefault(wake, udpWake))
	if err != nil {
		return nil, err
	}
	return blockingUDP{c}, nil
}

// readUDP is one of a UDP listener's reading goroutines.
func (m *Manager) readUDP(l *listener) {
	if u, ok := l.udp.(netUDP); ok {
		m.readNetUDP(l, u.c)
		return
	}
	c := l.udp.(blockingUDP).Conn
	limit := m.cfg.maxMessageSize()
	b := udpsock.NewBatch(1, limit+1) // one byte more tells an oversize datagram
	yielded := time.Now()
	sparse := 0
	var icmp icmpGuard
	for {
		now := time.Now()
		if now.Sub(yielded) >= yieldEvery {
			runtime.Gosched()
			yielded = now
		}
		if icmp.resume(now) {
			_ = c.ReportUnreachable(true)
		}
		n, err := b.Read(c)
		if errors.Is(err, udpsock.ErrUnreachable) {
			m.unreachable(c)
			if icmp.look(now, orDefault(m.cfg.icmpLooks, icmpLooks), orDefault(m.cfg.icmpWindow, icmpWindow)) {
				_ = c.ReportUnreachable(false)
				m.log.Warn("sip: ICMP errors flood a UDP listener; not listening to them for a while",
					"addr", l.local, "pause", icmpPause)
				if f := m.cfg.onICMPPause; f != nil {
					f()
				}
			}
			continue
		}
		if err != nil {
			return // shut down
		}
		if c.Pending() {
			m.unreachable(c) // a write took the error the ICMP message set
		}
		for i := range n {
			d, from := b.Datagram(i)
			m.receiveDatagram(l, d, len(d) > limit || b.Truncated(i), from)
		}
		size := b.Len()
		switch {
		case n == 0 && size > 2:
			size = 2 // udpWake without a datagram: idle
		case n == size && n < udpBatch:
			size = 2 * n // datagrams queue up: read more at once
		case size > 2 && 4*n <= size:
			if sparse++; sparse == udpSparse {
				size /= 2 // the burst is over: give memory back
			}
		default:
			sparse = 0
		}
		if size != b.Len() {
			b = udpsock.NewBatch(size, limit+1)
			sparse = 0
			if f := m.cfg.onUDPBatch; f != nil {
				f(size)
			}
		}
	}
}

// A read reports a pending ICMP error before the datagrams that wait, so
// a flood of ICMP errors (forged ones need only our port) would keep a
// reader from SIP. A reader that looks at them more than icmpLooks times
// in icmpWindow stops the socket queueing them for icmpPause.
const (
	icmpLooks  = 200
	icmpWindow = time.Second
	icmpPause  = 10 * time.Second
)

// icmpGuard is a reader's count of its looks at ICMP errors.
type icmpGuard struct {
	start    time.Time // of the window
	looks    int
	offUntil time.Time // while the socket does not queue them; zero when it does
}

// look counts a look at now and reports whether the reader should stop
// the socket queueing ICMP errors: more than limit looks in a window.
func (g *icmpGuard) look(now time.Time, limit int, window time.Duration) bool {
	if now.Sub(g.start) >= window {
		g.start, g.looks = now, 0
	}
	if g.looks++; g.looks <= limit {
		return false
	}
	g.offUntil, g.start, g.looks = now.Add(icmpPause), time.Time{}, 0
	return true
}

// resume reports, once the pause is over, that the socket should queue
// ICMP errors again.
func (g *icmpGuard) resume(now time.Time) bool {
	if g.offUntil.IsZero() || now.Before(g.offUntil) {
		return false
	}
	g.offUntil = time.Time{}
	return true
}

// unreachableBatch bounds the ICMP errors one look takes, so that a flood
// of them (forged ones need only our port) cannot keep a reader from the
// datagrams, which a read returns before a pending error. The rest wait
// for the next look, at the next ICMP error; a request whose error waits
// too long ends by its timer as before.
const unreachableBatch = 64

// unreachable hands the ICMP errors queued on a UDP listener's socket c to
// OnUnreachable.
func (m *Manager) unreachable(c *udpsock.Conn) {
	f := m.cfg.OnUnreachable
	var buf [2048]byte // as much as ICMP quotes: 548 bytes over IPv4, 1232 over IPv6
	for range unreachableBatch {
		n, dst, cause, ok := c.ReadUnreachable(buf[:])
		if !ok {
			return
		}
		m.log.Debug("sip: unreachable", "to", dst, "err", cause)
		if f != nil {
			f(Addr{Protocol: UDP, AddrPort: dst}, buf[:n], cause)
		}
	}
}

// reportUnreachable turns on the ICMP error queue of a UDP listener when
// the Manager has OnUnreachable.
func (m *Manager) reportUnreachable(u udpSocket) error {
	if b, ok := u.(blockingUDP); ok && m.cfg.OnUnreachable != nil {
		return b.ReportUnreachable(true)
	}
	return nil
}

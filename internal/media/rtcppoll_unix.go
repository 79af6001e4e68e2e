//go:build unix

package media

import (
	"net/netip"
	"syscall"
	"time"
)

// pollRTCP says the loop reads the RTCP socket itself, without blocking,
// once per tick, so that a session without rtcp-mux needs no second
// goroutine.
const pollRTCP = true

// rtcpPoller reads whatever datagrams wait on the RTCP socket without
// blocking. The socket is non-blocking, so a recvfrom with no data
// returns EAGAIN at once.
type rtcpPoller struct {
	c    *sock
	buf  []byte
	n    int
	from netip.AddrPort
	at   time.Time
	fn   func(fd uintptr) bool // built once: no allocation per poll
}

// newRTCPPoller returns a poller of c; each read goes into the buffer given
// to next.
func newRTCPPoller(c *sock) *rtcpPoller {
	p := &rtcpPoller{c: c}
	// The first timestamp query turns kernel receive timestamps on, so
	// even the first report gets an exact arrival time.
	c.control(func(fd uintptr) { arrivalTime(fd) })
	p.fn = func(fd uintptr) bool {
		n, sa, err := syscall.Recvfrom(int(fd), p.buf, 0)
		if err != nil || n < 0 {
			p.n = -1
			return true // EAGAIN: nothing waiting; never block here
		}
		p.n = n
		p.at = arrivalTime(fd)
		switch a := sa.(type) {
		case *syscall.SockaddrInet4:
			p.from = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
		case *syscall.SockaddrInet6:
			p.from = netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
		default:
			p.from = netip.AddrPort{}
		}
		return true
	}
	return p
}

// next reads the next waiting datagram into buf and returns it, its
// source and arrival time. ok is false when none waits or the socket is
// closed.
func (p *rtcpPoller) next(buf []byte) (b []byte, from netip.AddrPort, at time.Time, ok bool) {
	p.n = -1
	p.buf = buf
	if p.c.rawRead(p.fn) != nil || p.n < 0 {
		return nil, netip.AddrPort{}, time.Time{}, false
	}
	b = p.buf[:p.n]
	p.buf = nil
	return b, p.from, p.at, true
}

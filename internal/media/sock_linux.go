//go:build linux && (amd64 || arm64)

package media

import (
	"net"
	"net/netip"

	"github.com/xphone-go/xphone/internal/udpsock"
)

// A session's sockets on Linux are non-blocking sockets that Go's network
// poller never sees (package udpsock): registered with it, each arriving
// datagram woke the runtime's epoll waiter though no goroutine waits on a
// media socket (about 11,000 needless wake-ups a second per process at
// 500 echoed calls). The scheduler's shards learn which sockets have data
// from pollers of their own, asked without waiting, and nothing sleeps on
// a socket.
//
// Every read of a sock happens with its session's loop lock held while
// the session is not stopped, and Close runs after it stopped, so a
// descriptor is never read after it was closed (and perhaps reused).

// sock is a UDP socket outside the network poller.
type sock struct{ *udpsock.Conn }

// listenSock binds a non-blocking UDP socket to ap.
func listenSock(ap netip.AddrPort) (*sock, error) {
	c, err := udpsock.Listen(ap, false, 0)
	if err != nil {
		return nil, err
	}
	return &sock{c}, nil
}

// rawRead runs fn on the descriptor, as syscall.RawConn.Read would, but
// never waits: fn reads without blocking.
func (s *sock) rawRead(fn func(fd uintptr) bool) error {
	if !s.Control(func(fd uintptr) { fn(fd) }) {
		return net.ErrClosed
	}
	return nil
}

// control runs fn on the descriptor.
func (s *sock) control(fn func(fd uintptr)) { s.Control(fn) }

//go:build linux && (amd64 || arm64)

package media

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// A session's sockets on Linux are plain non-blocking file descriptors
// that Go's network poller never sees. Registered with it (as every
// net.UDPConn is), each arriving datagram woke the runtime's epoll
// waiter, though no goroutine waits on a media socket: at 500 echoed
// calls that was about 11,000 needless wake-ups a second per process,
// each a costly context switch on a virtual machine. Here the scheduler's
// shards learn which sockets have data from epoll instances of their own,
// asked without waiting (readyPoller), and nothing sleeps on a socket.
//
// Every read and write of a sock happens with its session's loop lock held
// while the session is not stopped, and Close runs after it stopped, so a
// descriptor is never used after it was closed (and perhaps reused).

// sock is a UDP socket outside the network poller.
type sock struct {
	fd     int
	local  netip.AddrPort
	v6     bool // AF_INET6 (dual-stack when bound to the unspecified address)
	closed bool
}

// listenSock binds a non-blocking UDP socket to ap. An unspecified address
// (0.0.0.0 or ::) gets a dual-stack IPv6 socket, as net.ListenUDP does.
func listenSock(ap netip.AddrPort) (*sock, error) {
	addr := ap.Addr()
	v6 := addr.Is6() || addr.IsUnspecified()
	family := syscall.AF_INET
	if v6 {
		family = syscall.AF_INET6
	}
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "udp", Err: err}
	}
	var sa syscall.Sockaddr
	if v6 {
		if addr.Is4() || addr.IsUnspecified() {
			// Both families on one socket (IPV6_V6ONLY off).
			if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0); err != nil {
				syscall.Close(fd)
				return nil, &net.OpError{Op: "listen", Net: "udp", Err: err}
			}
		}
		a := &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: addr.As16()}
		if addr.Zone() != "" {
			if ifi, err := net.InterfaceByName(addr.Zone()); err == nil {
				a.ZoneId = uint32(ifi.Index)
			}
		}
		sa = a
	} else {
		sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: addr.As4()}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, &net.OpError{Op: "listen", Net: "udp", Addr: net.UDPAddrFromAddrPort(ap), Err: err}
	}
	local := ap
	if got, err := syscall.Getsockname(fd); err == nil {
		switch a := got.(type) {
		case *syscall.SockaddrInet4:
			local = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
		case *syscall.SockaddrInet6:
			local = netip.AddrPortFrom(netip.AddrFrom16(a.Addr).WithZone(addr.Zone()), uint16(a.Port))
		}
	}
	return &sock{fd: fd, local: local, v6: v6}, nil
}

// LocalAddr returns the address the socket is bound to.
func (s *sock) LocalAddr() netip.AddrPort { return s.local }

// errUnreachable is a destination the socket's family cannot reach.
var errUnreachable = errors.New("media: destination address family not supported by the socket")

// WriteTo sends b to dst without allocating.
func (s *sock) WriteTo(b []byte, dst netip.AddrPort) error {
	if len(b) == 0 {
		return nil
	}
	var errno syscall.Errno
	a := dst.Addr()
	switch {
	case s.v6:
		var sa syscall.RawSockaddrInet6
		sa.Family = syscall.AF_INET6
		putPort(&sa.Port, dst.Port())
		sa.Addr = a.As16() // a v4 address becomes ::ffff:a.b.c.d
		_, _, errno = syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0,
			uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	case a.Is4() || a.Is4In6():
		var sa syscall.RawSockaddrInet4
		sa.Family = syscall.AF_INET
		putPort(&sa.Port, dst.Port())
		sa.Addr = a.Unmap().As4()
		_, _, errno = syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0,
			uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	default:
		return errUnreachable
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// putPort stores p in network byte order.
func putPort(dst *uint16, p uint16) {
	b := (*[2]byte)(unsafe.Pointer(dst))
	b[0], b[1] = byte(p>>8), byte(p)
}

// rawRead runs fn on the descriptor, as syscall.RawConn.Read would, but
// never waits: fn reads without blocking.
func (s *sock) rawRead(fn func(fd uintptr) bool) error {
	if s.closed {
		return net.ErrClosed
	}
	fn(uintptr(s.fd))
	return nil
}

// control runs fn on the descriptor.
func (s *sock) control(fn func(fd uintptr)) {
	if !s.closed {
		fn(uintptr(s.fd))
	}
}

// SetReadBuffer sets SO_RCVBUF.
func (s *sock) SetReadBuffer(n int) error {
	return syscall.SetsockoptInt(s.fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
}

// Close closes the descriptor once.
func (s *sock) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return syscall.Close(s.fd)
}

// readyPoller is a shard's epoll instance: the RTP sockets of its sessions,
// level-triggered, asked once per quantum without waiting.
type readyPoller struct {
	epfd   int
	events [256]syscall.EpollEvent
}

func newReadyPoller() *readyPoller {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	return &readyPoller{epfd: fd}
}

// add watches s for input.
func (p *readyPoller) add(s *sock) error {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(s.fd)}
	return syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, s.fd, &ev)
}

// del stops watching s; it must run before s is closed.
func (p *readyPoller) del(s *sock) {
	syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, s.fd, nil)
}

// ready returns the descriptors with data waiting, up to len(p.events);
// it never blocks.
func (p *readyPoller) ready() []syscall.EpollEvent {
	n, err := syscall.EpollWait(p.epfd, p.events[:], 0)
	if err != nil || n <= 0 {
		return nil
	}
	return p.events[:n]
}

//go:build linux && (amd64 || arm64)

package udpsock

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Supported says this platform has the package.
const Supported = true

// ErrClosed is returned by WriteTo after Close or Shutdown.
var ErrClosed = net.ErrClosed

// errFamily is a destination the socket's address family cannot reach.
var errFamily = errors.New("udpsock: destination address family not supported by the socket")

// Conn is a bound UDP socket.
type Conn struct {
	fd    int
	local netip.AddrPort
	v6    bool // AF_INET6 (dual-stack when bound to the unspecified address)

	mu     sync.RWMutex // writers hold it shared; Close, exclusively
	closed bool
	shut   bool

	pending atomic.Bool // a write took the error an ICMP message set (icmp_linux.go)
}

// Listen binds a UDP socket to ap. An unspecified address (0.0.0.0 or ::)
// gets a dual-stack IPv6 socket, as net.ListenUDP does. A blocking socket
// is for one goroutine that waits in Batch.Read; its reads wake up every
// wake (if not zero) so that the reader can notice Shutdown even where the
// kernel does not wake it. A non-blocking socket is polled.
func Listen(ap netip.AddrPort, blocking bool, wake time.Duration) (*Conn, error) {
	addr := ap.Addr()
	v6 := (addr.Is6() && !addr.Is4In6()) || addr.IsUnspecified()
	family := syscall.AF_INET
	if v6 {
		family = syscall.AF_INET6
	}
	typ := syscall.SOCK_DGRAM | syscall.SOCK_CLOEXEC
	if !blocking {
		typ |= syscall.SOCK_NONBLOCK
	}
	fd, err := syscall.Socket(family, typ, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, opError(ap, err)
	}
	fail := func(err error) (*Conn, error) {
		syscall.Close(fd)
		return nil, opError(ap, err)
	}
	var sa syscall.Sockaddr
	if v6 {
		if addr.IsUnspecified() {
			// Both families on one socket (IPV6_V6ONLY off).
			if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0); err != nil {
				return fail(err)
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
		sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: addr.Unmap().As4()}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		return fail(err)
	}
	if blocking && wake > 0 {
		tv := syscall.NsecToTimeval(wake.Nanoseconds())
		if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
			return fail(err)
		}
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
	return &Conn{fd: fd, local: local, v6: v6}, nil
}

func opError(ap netip.AddrPort, err error) error {
	return &net.OpError{Op: "listen", Net: "udp", Addr: net.UDPAddrFromAddrPort(ap), Err: err}
}

// LocalAddr returns the address the socket is bound to.
func (c *Conn) LocalAddr() netip.AddrPort { return c.local }

// Fd returns the descriptor, for a Poller.
func (c *Conn) Fd() int { return c.fd }

// WriteTo sends b to dst without allocating. It is safe for concurrent
// use and fails with ErrClosed after Shutdown or Close. The error an ICMP
// message set (ReportUnreachable) fails no write: the write is made
// again, and Pending reports it.
func (c *Conn) WriteTo(b []byte, dst netip.AddrPort) error {
	if len(b) == 0 {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.shut || c.closed {
		return ErrClosed
	}
	err := c.writeTo(b, dst)
	if err != nil && Unreachable(err) {
		// The error an ICMP message about an earlier datagram set on the
		// socket (ip(7)), with ReportUnreachable on now or then: this one
		// was not sent. The reader takes the queued error (Pending). (A
		// send that fails on its own, no route, fails again.)
		c.pending.Store(true)
		err = c.writeTo(b, dst)
	}
	return err
}

func (c *Conn) writeTo(b []byte, dst netip.AddrPort) error {
	var errno syscall.Errno
	a := dst.Addr()
	switch {
	case c.v6:
		var sa syscall.RawSockaddrInet6
		sa.Family = syscall.AF_INET6
		putPort(&sa.Port, dst.Port())
		sa.Addr = a.As16() // a v4 address becomes ::ffff:a.b.c.d
		_, _, errno = syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0,
			uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	case a.Is4() || a.Is4In6():
		var sa syscall.RawSockaddrInet4
		sa.Family = syscall.AF_INET
		putPort(&sa.Port, dst.Port())
		sa.Addr = a.Unmap().As4()
		_, _, errno = syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0,
			uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	default:
		return errFamily
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

// Control runs fn on the descriptor and reports true, or reports false
// when the socket is closed.
func (c *Conn) Control(fn func(fd uintptr)) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return false
	}
	fn(uintptr(c.fd))
	return true
}

// SetReadBuffer sets SO_RCVBUF.
func (c *Conn) SetReadBuffer(n int) error {
	return syscall.SetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
}

// ReadBuffer returns the receive buffer as it would have been asked for:
// Linux reports twice the size set (socket(7)).
func (c *Conn) ReadBuffer() int {
	n, err := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	if err != nil {
		return 0
	}
	return n / 2
}

// Shutdown makes later writes fail and wakes a reader blocked in
// Batch.Read, which then reports ErrClosed. The descriptor stays open
// until Close, which must wait until no reader uses it.
func (c *Conn) Shutdown() {
	c.mu.Lock()
	already := c.shut || c.closed
	c.shut = true
	c.mu.Unlock()
	if !already {
		// On an unconnected UDP socket this returns ENOTCONN but still
		// marks the socket shut and wakes its readers.
		syscall.Shutdown(c.fd, syscall.SHUT_RD)
	}
}

// Close closes the descriptor once. No Batch.Read may be running or start
// on it; writers are excluded by the lock.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed, c.shut = true, true
	return syscall.Close(c.fd)
}

// mmsghdr is struct mmsghdr of recvmmsg(2).
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

// msgWaitForOne is MSG_WAITFORONE: block for the first datagram only.
const msgWaitForOne = 0x10000

// Batch is buffers for reading up to N datagrams with one recvmmsg(2). It
// is used by one goroutine at a time.
type Batch struct {
	hdrs  []mmsghdr
	iovs  []syscall.Iovec
	names []syscall.RawSockaddrInet6
	bufs  [][]byte
}

// NewBatch returns buffers for n datagrams of up to size bytes each.
func NewBatch(n, size int) *Batch {
	b := &Batch{
		hdrs:  make([]mmsghdr, n),
		iovs:  make([]syscall.Iovec, n),
		names: make([]syscall.RawSockaddrInet6, n),
		bufs:  make([][]byte, n),
	}
	for i := range n {
		b.bufs[i] = make([]byte, size)
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(size)
		h := &b.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Iov = &b.iovs[i]
		h.Iovlen = 1
	}
	return b
}

// Len is how many datagrams one Read returns at most.
func (b *Batch) Len() int { return len(b.hdrs) }

// Read reads the datagrams waiting on c, up to Len. On a non-blocking
// socket it returns 0 when none waits; on a blocking one it waits for the
// first (or the socket's wake interval, then 0). After Shutdown it
// returns ErrClosed; with ReportUnreachable, ErrUnreachable when ICMP
// errors are queued (and no datagram was read).
func (b *Batch) Read(c *Conn) (int, error) {
	for i := range b.hdrs {
		h := &b.hdrs[i].hdr
		h.Namelen = uint32(unsafe.Sizeof(b.names[i]))
		h.Flags = 0
	}
	r, _, errno := syscall.Syscall6(syscall.SYS_RECVMMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&b.hdrs[0])),
		uintptr(len(b.hdrs)), msgWaitForOne, 0, 0)
	c.mu.RLock()
	shut := c.shut || c.closed
	c.mu.RUnlock()
	if shut {
		return 0, ErrClosed
	}
	if errno != 0 {
		if Unreachable(errno) {
			return 0, ErrUnreachable
		}
		return 0, nil // EAGAIN: nothing waiting (or the wake interval passed); EINTR
	}
	return int(r), nil
}

// Datagram returns datagram i of the last Read, cut to the buffer size
// (Truncated tells), and its source, with IPv4-mapped addresses unmapped.
func (b *Batch) Datagram(i int) ([]byte, netip.AddrPort) {
	n := min(int(b.hdrs[i].n), len(b.bufs[i]))
	return b.bufs[i][:n], source(&b.names[i])
}

// Truncated reports whether datagram i of the last Read was longer than
// its buffer.
func (b *Batch) Truncated(i int) bool { return b.hdrs[i].hdr.Flags&syscall.MSG_TRUNC != 0 }

func source(sa *syscall.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case syscall.AF_INET:
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), uint16(p[0])<<8|uint16(p[1]))
	case syscall.AF_INET6:
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// Poller is an epoll instance that tells which of its sockets have data,
// level-triggered, without waiting. It is used by one goroutine, except
// Add and Del, which the caller serializes with its use of Ready.
type Poller struct {
	epfd   int
	events [256]syscall.EpollEvent
}

// NewPoller returns a Poller, or nil when epoll is unavailable.
func NewPoller() *Poller {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	return &Poller{epfd: fd}
}

// Add watches c for input.
func (p *Poller) Add(c *Conn) error {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(c.fd)}
	return syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev)
}

// Del stops watching c; it must run before c is closed.
func (p *Poller) Del(c *Conn) {
	syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
}

// Ready returns the descriptors with data waiting, at most Cap of them.
//
// The call never waits, so it is made as a raw system call: the runtime
// is not told of it, and does not hand the caller's P to another thread
// as it may for a system call that takes long (see Ring.Submit).
func (p *Poller) Ready() []syscall.EpollEvent {
	n, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(p.epfd), uintptr(unsafe.Pointer(&p.events[0])),
		uintptr(len(p.events)), 0, 0, 0)
	if errno != 0 || int(n) <= 0 {
		return nil
	}
	return p.events[:n]
}

// Cap is how many descriptors one Ready returns at most.
func (p *Poller) Cap() int { return len(p.events) }

// Close releases the epoll instance, once; the Poller must not be used
// after.
func (p *Poller) Close() {
	if p.epfd >= 0 {
		syscall.Close(p.epfd)
		p.epfd = -1
	}
}

//go:build !linux || !(amd64 || arm64)

package media

import (
	"net"
	"net/netip"
	"syscall"
)

// sock is a session's UDP socket: here a net.UDPConn, read by a goroutine
// of the session (readRTP) or, on Unix, polled for RTCP.
type sock struct {
	c  *net.UDPConn
	rc syscall.RawConn
}

// listenSock binds a UDP socket to ap.
func listenSock(ap netip.AddrPort) (*sock, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	s := &sock{c: c}
	s.rc, _ = c.SyscallConn()
	return s, nil
}

// LocalAddr returns the address the socket is bound to.
func (s *sock) LocalAddr() netip.AddrPort { return s.c.LocalAddr().(*net.UDPAddr).AddrPort() }

// WriteTo sends b to dst.
func (s *sock) WriteTo(b []byte, dst netip.AddrPort) error {
	_, err := s.c.WriteToUDPAddrPort(b, dst)
	return err
}

// ReadFrom blocks until a datagram arrives or the socket closes.
func (s *sock) ReadFrom(b []byte) (int, netip.AddrPort, error) {
	return s.c.ReadFromUDPAddrPort(b)
}

// rawRead runs fn on the descriptor; fn must not block.
func (s *sock) rawRead(fn func(fd uintptr) bool) error {
	if s.rc == nil {
		return net.ErrClosed
	}
	return s.rc.Read(fn)
}

// control runs fn on the descriptor.
func (s *sock) control(fn func(fd uintptr)) {
	if s.rc != nil {
		s.rc.Control(fn)
	}
}

// SetReadBuffer sets the socket's receive buffer.
func (s *sock) SetReadBuffer(n int) error { return s.c.SetReadBuffer(n) }

// Close closes the socket.
func (s *sock) Close() error { return s.c.Close() }

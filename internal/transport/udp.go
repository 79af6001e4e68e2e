package transport

import (
	"errors"
	"net"
	"net/netip"
)

// udpSocket is a UDP listener's socket: where package udpsock exists, a
// blocking socket outside Go's network poller, read by goroutines that
// wait in recvmmsg(2) (udp_linux.go); elsewhere a net.UDPConn.
type udpSocket interface {
	LocalAddr() netip.AddrPort
	WriteTo(b []byte, dst netip.AddrPort) error
	SetReadBuffer(n int) error
	ReadBuffer() int // as asked for; 0 when unknown
	Shutdown()       // sends fail and readers return from here on
	Close() error    // once the readers have returned
}

// netUDP is a udpSocket over a net.UDPConn.
type netUDP struct{ c *net.UDPConn }

func (u netUDP) WriteTo(b []byte, dst netip.AddrPort) error {
	_, err := u.c.WriteToUDPAddrPort(b, dst)
	if errors.Is(err, net.ErrClosed) {
		return ErrClosed
	}
	return err
}

func (u netUDP) LocalAddr() netip.AddrPort { return u.c.LocalAddr().(*net.UDPAddr).AddrPort() }
func (u netUDP) SetReadBuffer(n int) error { return u.c.SetReadBuffer(n) }
func (u netUDP) Shutdown()                 { u.c.Close() }
func (u netUDP) Close() error {
	if err := u.c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// readNetUDP is one of a net.UDPConn listener's reading goroutines. Its
// buffer is reused for every datagram: sipmsg.Parse copies what it keeps.
func (m *Manager) readNetUDP(l *listener, c *net.UDPConn) {
	limit := m.cfg.maxMessageSize()
	buf := make([]byte, limit+1) // one byte more tells an oversize datagram
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			m.logReadError(l, err)
			continue
		}
		m.receiveDatagram(l, buf[:n], n > limit, from)
	}
}

//go:build linux && (amd64 || arm64)

package udpsock

import (
	"bytes"
	"errors"
	"net/netip"
	"syscall"
	"testing"
)

// closedPort returns an address on addr where no socket listens: a port
// just bound and released.
func closedPort(t *testing.T, addr netip.Addr) netip.AddrPort {
	t.Helper()
	c, err := Listen(netip.AddrPortFrom(addr, 0), false, 0)
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.AddrPortFrom(addr, c.LocalAddr().Port())
	c.Close()
	return ap
}

// TestReadUnreachable: with ReportUnreachable, a datagram to a port where
// nothing listens comes back as a queued ICMP error: the next read says
// so once (ErrUnreachable), ReadUnreachable gives the datagram, where it
// went and ECONNREFUSED, then nothing; the socket reads on. Over IPv4,
// IPv6 and an IPv4 address from a dual-stack socket. (Linux does not
// rate-limit ICMP errors on loopback, and delivers them before the send
// returns.)
func TestReadUnreachable(t *testing.T) {
	for _, tt := range []struct{ name, bind, to string }{
		{"IPv4", "127.0.0.1", "127.0.0.1"},
		{"IPv6", "::1", "::1"},
		{"dual-stack to IPv4", "::", "127.0.0.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := listen(t, netip.AddrPortFrom(netip.MustParseAddr(tt.bind), 0), false)
			if err := c.ReportUnreachable(true); err != nil {
				t.Fatalf("ReportUnreachable: %v", err)
			}
			dst := closedPort(t, netip.MustParseAddr(tt.to))
			msg := []byte("OPTIONS sip:nobody@" + dst.String() + " SIP/2.0\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\n\r\n")
			if err := c.WriteTo(msg, dst); err != nil {
				t.Fatalf("WriteTo: %v", err)
			}
			b := NewBatch(2, 2048)
			if n, err := b.Read(c); n != 0 || !errors.Is(err, ErrUnreachable) {
				t.Fatalf("Read: got %d, %v; want ErrUnreachable", n, err)
			}
			buf := make([]byte, 2048)
			n, to, cause, ok := c.ReadUnreachable(buf)
			if !ok || cause != syscall.ECONNREFUSED || to != dst || !bytes.Equal(buf[:n], msg) {
				t.Fatalf("ReadUnreachable: got %v %v %v %q; want ECONNREFUSED from %v with the datagram", ok, cause, to, buf[:n], dst)
			}
			if _, _, _, ok := c.ReadUnreachable(buf); ok {
				t.Fatal("ReadUnreachable: a second error")
			}
			peer := listen(t, netip.AddrPortFrom(netip.MustParseAddr(tt.to), 0), false)
			if err := peer.WriteTo([]byte("hello"), netip.AddrPortFrom(netip.MustParseAddr(tt.to), c.LocalAddr().Port())); err != nil {
				t.Fatal(err)
			}
			if n, err := b.Read(c); n != 1 || err != nil {
				t.Fatalf("Read after: got %d, %v; want the datagram", n, err)
			}
		})
	}
}

// TestWriteAfterUnreachable: the error an ICMP message sets would fail
// the socket's next write, whatever its destination: WriteTo makes that
// write again, and Pending says the error is queued, once.
func TestWriteAfterUnreachable(t *testing.T) {
	c := listen(t, netip.AddrPortFrom(loopback, 0), false)
	if err := c.ReportUnreachable(true); err != nil {
		t.Fatal(err)
	}
	dst := closedPort(t, loopback)
	if err := c.WriteTo([]byte("x"), dst); err != nil {
		t.Fatal(err)
	}
	peer := listen(t, netip.AddrPortFrom(loopback, 0), false)
	if err := c.WriteTo([]byte("y"), peer.LocalAddr()); err != nil {
		t.Fatalf("write after the ICMP error: %v", err)
	}
	if !c.Pending() || c.Pending() {
		t.Error("Pending: want true once")
	}
	if n, err := NewBatch(1, 16).Read(peer); n != 1 || err != nil {
		t.Errorf("peer: got %d, %v; want the datagram", n, err)
	}
	buf := make([]byte, 64)
	if _, to, cause, ok := c.ReadUnreachable(buf); !ok || to != dst || cause != syscall.ECONNREFUSED {
		t.Errorf("ReadUnreachable: got %v %v %v", ok, to, cause)
	}
}

// TestWriteAfterUnreachableOff: an error an ICMP message set while the
// queue was on fails no write after it is turned off either.
func TestWriteAfterUnreachableOff(t *testing.T) {
	c := listen(t, netip.AddrPortFrom(loopback, 0), false)
	if err := c.ReportUnreachable(true); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteTo([]byte("x"), closedPort(t, loopback)); err != nil {
		t.Fatal(err)
	}
	if err := c.ReportUnreachable(false); err != nil {
		t.Fatal(err)
	}
	peer := listen(t, netip.AddrPortFrom(loopback, 0), false)
	if err := c.WriteTo([]byte("y"), peer.LocalAddr()); err != nil {
		t.Fatalf("write after the queue was turned off: %v", err)
	}
	if n, err := NewBatch(1, 16).Read(peer); n != 1 || err != nil {
		t.Errorf("peer: got %d, %v; want the datagram", n, err)
	}
}

//go:build linux && (amd64 || arm64)

package transport

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

type unreachableCall struct {
	dst    Addr
	quoted []byte
	err    error
}

// TestUDPUnreachable: with OnUnreachable, a request sent to a UDP port
// where nothing listens comes back as an ICMP error: the hook gets where
// it went, what ICMP quoted of it (the request itself on loopback) and
// ECONNREFUSED; the listener reads on, and a later send to a live peer is
// not failed by the error. On IPv4 and on a dual-stack listener.
func TestUDPUnreachable(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "::"} {
		t.Run(host, func(t *testing.T) {
			calls := make(chan unreachableCall, 4)
			e := newEndpoint(t, UDP, host, Config{OnUnreachable: func(dst Addr, quoted []byte, err error) {
				calls <- unreachableCall{dst, bytes.Clone(quoted), err}
			}})
			gone := rawUDP(t, "127.0.0.1")
			dst := Addr{Protocol: UDP, AddrPort: localPort(gone)}
			gone.Close()
			msg, err := sipmsg.Parse([]byte(probeRequest))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Send(context.Background(), msg, dst); err != nil {
				t.Fatalf("Send: %v", err)
			}
			select {
			case c := <-calls:
				if c.dst != dst || c.err != syscall.ECONNREFUSED || !bytes.Equal(c.quoted, msg.AppendTo(nil)) {
					t.Errorf("OnUnreachable: got %v %v %q; want %v ECONNREFUSED and the request", c.dst, c.err, c.quoted, dst)
				}
			case <-time.After(wait):
				t.Fatal("OnUnreachable was not called")
			}
			// The listener still reads, and sends to a live peer go out.
			peer := rawUDP(t, "127.0.0.1")
			if _, err := peer.WriteToUDP([]byte(probeRequest), net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), e.LocalAddr(UDP).Port()))); err != nil {
				t.Fatal(err)
			}
			e.recv(t)
			if err := e.Send(context.Background(), msg, Addr{Protocol: UDP, AddrPort: localPort(peer)}); err != nil {
				t.Fatalf("Send to a live peer: %v", err)
			}
			peer.SetReadDeadline(time.Now().Add(wait))
			if _, _, err := peer.ReadFromUDP(make([]byte, 2048)); err != nil {
				t.Fatalf("peer: %v", err)
			}
		})
	}
}

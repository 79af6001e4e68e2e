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

// nowhere returns a UDP address on loopback where nothing listens (a port
// just bound and released) and a request to send there.
func nowhere(t *testing.T) (Addr, *sipmsg.Message) {
	t.Helper()
	gone := rawUDP(t, "127.0.0.1")
	dst := Addr{Protocol: UDP, AddrPort: localPort(gone)}
	gone.Close()
	msg, err := sipmsg.Parse([]byte(probeRequest))
	if err != nil {
		t.Fatal(err)
	}
	return dst, msg
}

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
			dst, msg := nowhere(t)
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

// TestUDPUnreachableFlood: a reader that looks at ICMP errors more often
// than its budget (here 3 in an hour) stops the socket queueing them, so
// that they cannot keep it from the datagrams: the errors of two more
// datagrams to nowhere do not reach OnUnreachable before the request a
// peer sends after them is handled.
func TestUDPUnreachableFlood(t *testing.T) {
	calls := make(chan unreachableCall, 16)
	paused := make(chan struct{}, 1)
	e := newEndpoint(t, UDP, "127.0.0.1", Config{icmpLooks: 3, icmpWindow: time.Hour, OnUnreachable: func(dst Addr, quoted []byte, err error) {
		calls <- unreachableCall{dst, nil, err}
	}, onICMPPause: func() { paused <- struct{}{} }})
	dst, msg := nowhere(t)
	// Errors that come while the last is not yet taken make one look, so
	// send until the reader pauses (four looks at least).
	for i := 0; ; i++ {
		if i == 64 {
			t.Fatal("the reader did not pause the queue")
		}
		if err := e.Send(context.Background(), msg, dst); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
		select {
		case <-calls:
			continue
		case <-paused:
		case <-time.After(wait):
			t.Fatalf("error %d reached neither OnUnreachable nor the pause", i)
		}
		break
	}
	for len(calls) > 0 {
		<-calls
	}
	// Over budget: the socket no longer queues them.
	for range 2 {
		if err := e.Send(context.Background(), msg, dst); err != nil {
			t.Fatal(err)
		}
	}
	peer := rawUDP(t, "127.0.0.1")
	if _, err := peer.WriteToUDP([]byte(probeRequest), net.UDPAddrFromAddrPort(e.LocalAddr(UDP))); err != nil {
		t.Fatal(err)
	}
	e.recv(t)
	if n := len(calls); n != 0 {
		t.Errorf("OnUnreachable after the budget: %d calls, want none", n)
	}
}

// TestICMPGuard: more than the budget of looks in a window pauses; the
// pause ends after icmpPause; a new window starts the count again.
func TestICMPGuard(t *testing.T) {
	var g icmpGuard
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if g.look(t0.Add(time.Duration(i)*time.Millisecond), 3, time.Second) {
			t.Fatalf("look %d paused", i)
		}
	}
	if g.look(t0.Add(2*time.Second), 3, time.Second) {
		t.Fatal("a look in a new window paused")
	}
	for i := range 2 {
		if g.look(t0.Add(2*time.Second+time.Duration(i+1)*time.Millisecond), 3, time.Second) {
			t.Fatalf("look %d of the new window paused", i+2)
		}
	}
	if !g.look(t0.Add(2*time.Second+5*time.Millisecond), 3, time.Second) {
		t.Fatal("the fourth look in a window did not pause")
	}
	if g.resume(t0.Add(2*time.Second + icmpPause - time.Millisecond)) {
		t.Fatal("resumed before the pause ended")
	}
	if !g.resume(t0.Add(2*time.Second+icmpPause+5*time.Millisecond)) || g.resume(t0.Add(time.Hour)) {
		t.Fatal("resume: want true once after the pause")
	}
}

//go:build linux && (amd64 || arm64)

package udpsock

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// deadline bounds every wait for the kernel's loopback delivery.
const deadline = 10 * time.Second

func listen(t *testing.T, ap netip.AddrPort, blocking bool) *Conn {
	t.Helper()
	c, err := Listen(ap, blocking, deadline) // a blocking Read gives up after deadline
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestPoller: a Poller reports exactly the sockets with data waiting,
// without blocking, and forgets a socket it no longer watches.
func TestPoller(t *testing.T) {
	p := NewPoller()
	if p == nil {
		t.Fatal("NewPoller: nil")
	}
	var socks [3]*Conn
	for i := range socks {
		socks[i] = listen(t, netip.AddrPortFrom(loopback, 0), false)
		if err := p.Add(socks[i]); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.Ready(); len(got) != 0 {
		t.Fatalf("Ready with nothing sent: got %d sockets, want 0", len(got))
	}
	for _, i := range []int{0, 2} {
		if err := socks[1].WriteTo([]byte("x"), socks[i].LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	got := map[int32]bool{}
	end := time.Now().Add(deadline)
	for len(got) < 2 && time.Now().Before(end) {
		for _, ev := range p.Ready() {
			got[ev.Fd] = true
		}
	}
	if len(got) != 2 || !got[int32(socks[0].Fd())] || !got[int32(socks[2].Fd())] {
		t.Fatalf("Ready: got fds %v, want %d and %d", got, socks[0].Fd(), socks[2].Fd())
	}
	p.Del(socks[0])
	for _, ev := range p.Ready() {
		if ev.Fd == int32(socks[0].Fd()) {
			t.Errorf("Ready: fd %d reported after Del", ev.Fd)
		}
	}
}

// TestFamilies: a socket bound to an IPv4 address sends to IPv4 and
// refuses IPv6; one bound to the unspecified address is dual-stack; the
// source of what it reads is given unmapped; sending allocates nothing.
func TestFamilies(t *testing.T) {
	v4 := listen(t, netip.AddrPortFrom(loopback, 0), false)
	if err := v4.WriteTo([]byte("x"), netip.MustParseAddrPort("[::1]:9")); err == nil {
		t.Error("IPv4 socket sending to [::1]: got nil error")
	}
	any := listen(t, netip.AddrPortFrom(netip.IPv4Unspecified(), 0), true) // blocking: Read waits
	dst := netip.AddrPortFrom(loopback, any.LocalAddr().Port())
	if err := v4.WriteTo([]byte("hello"), dst); err != nil {
		t.Fatal(err)
	}
	b := NewBatch(4, 64)
	n, err := b.Read(any)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("dual-stack read: got %d datagrams, want 1", n)
	}
	if data, from := b.Datagram(0); string(data) != "hello" || from != v4.LocalAddr() {
		t.Errorf("got %q from %v, want \"hello\" from %v", data, from, v4.LocalAddr())
	}
	if err := any.WriteTo([]byte("back"), v4.LocalAddr()); err != nil {
		t.Errorf("dual-stack socket sending to IPv4: %v", err)
	}
	msg := []byte("x")
	if got := testing.AllocsPerRun(100, func() { v4.WriteTo(msg, dst) }); got != 0 {
		t.Errorf("WriteTo: got %v allocs, want 0", got)
	}
}

// TestBlockingReader: a reader blocked in Read gets a batch of what was
// sent, with datagrams longer than its buffers cut and flagged, and is woken by Shutdown
// with ErrClosed; writes then fail, and Close closes once.
func TestBlockingReader(t *testing.T) {
	c, err := Listen(netip.AddrPortFrom(loopback, 0), true, 0) // no wake interval: Shutdown must wake it
	if err != nil {
		t.Fatal(err)
	}
	src := listen(t, netip.AddrPortFrom(loopback, 0), false)
	for _, m := range []string{"one", "two", "a datagram too long"} {
		if err := src.WriteTo([]byte(m), c.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	b := NewBatch(8, 8)
	var got []string
	for len(got) < 3 {
		n, err := b.Read(c)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			d, _ := b.Datagram(i)
			got = append(got, string(d))
			if want := len(got) == 3; b.Truncated(i) != want {
				t.Errorf("datagram %d: Truncated %v, want %v", len(got), b.Truncated(i), want)
			}
		}
	}
	if got[0] != "one" || got[1] != "two" || got[2] != "a datagr" {
		t.Errorf("got %q", got)
	}
	done := make(chan error, 1)
	go func() {
		_, err := b.Read(c) // blocks: nothing more is sent
		done <- err
	}()
	c.Shutdown()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Read after Shutdown: got %v, want ErrClosed", err)
		}
	case <-time.After(deadline):
		t.Fatal("Shutdown did not wake the blocked reader")
	}
	if err := c.WriteTo([]byte("x"), src.LocalAddr()); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteTo after Shutdown: got %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

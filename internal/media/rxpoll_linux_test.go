//go:build linux && (amd64 || arm64)

package media

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestPolledReceive reads datagrams as the scheduler does on Linux: one
// non-blocking batch read, each with its source, into the receive path,
// without allocating.
func TestPolledReceive(t *testing.T) {
	p := newPipe(t, false)
	s := p.s
	rx := newRxBatch()
	src, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	from := src.LocalAddr().(*net.UDPAddr).AddrPort()
	for _, burst := range []int{1, 3, rxBatchN + 2} {
		before := s.Stats().PacketsReceived
		for range burst {
			w, _ := p.pkt.AppendTo(p.wire[:0])
			if _, err := src.WriteToUDPAddrPort(w, s.LocalRTP()); err != nil {
				t.Fatal(err)
			}
			p.pkt.SequenceNumber++
			p.pkt.Timestamp += 160
		}
		// Loopback delivery is immediate, but wait on the socket rather
		// than assume it.
		end := time.Now().Add(deadline)
		for s.Stats().PacketsReceived-before < uint64(burst) && time.Now().Before(end) {
			s.drainRTP(rx, time.Now())
		}
		if got := s.Stats().PacketsReceived - before; got != uint64(burst) {
			t.Fatalf("burst of %d: got %d packets received, want %d", burst, got, burst)
		}
		if got := rx.source(0); got != from {
			t.Errorf("burst of %d: got source %v, want %v", burst, got, from)
		}
	}
	s.rtpSock.SetReadBuffer(1 << 16)
	w, _ := p.pkt.AppendTo(p.wire[:0])
	if got := testing.AllocsPerRun(100, func() {
		src.WriteToUDPAddrPort(w, s.LocalRTP())
		s.drainRTP(rx, time.Now())
	}); got != 0 {
		t.Errorf("got %v allocs per polled packet, want 0", got)
	}
}

// TestReadyPoller: a shard's poller reports exactly the sockets with data
// waiting, without blocking, and forgets a socket it no longer watches.
func TestReadyPoller(t *testing.T) {
	p := newReadyPoller()
	if p == nil {
		t.Fatal("newReadyPoller: nil")
	}
	var socks [3]*sock
	for i := range socks {
		s, err := listenSock(netip.AddrPortFrom(loopback, 0))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := p.add(s); err != nil {
			t.Fatal(err)
		}
		socks[i] = s
	}
	if got := p.ready(); len(got) != 0 {
		t.Fatalf("ready with nothing sent: got %d sockets, want 0", len(got))
	}
	// Datagrams to the first and last sockets, from the middle one.
	for _, i := range []int{0, 2} {
		if err := socks[1].WriteTo([]byte("x"), socks[i].LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	want := map[int32]bool{int32(socks[0].fd): true, int32(socks[2].fd): true}
	got := map[int32]bool{}
	end := time.Now().Add(deadline)
	for len(got) < 2 && time.Now().Before(end) {
		for _, ev := range p.ready() {
			got[ev.Fd] = true
		}
	}
	if len(got) != 2 || !got[int32(socks[0].fd)] || !got[int32(socks[2].fd)] {
		t.Fatalf("ready: got fds %v, want %v", got, want)
	}
	p.del(socks[0])
	for _, ev := range p.ready() {
		if ev.Fd == int32(socks[0].fd) {
			t.Errorf("ready: fd %d reported after del", ev.Fd)
		}
	}
}

// TestSockFamilies: a socket bound to an IPv4 address sends to IPv4 and
// refuses IPv6; one bound to the unspecified address is dual-stack; the
// source of what it reads is given unmapped.
func TestSockFamilies(t *testing.T) {
	v4, err := listenSock(netip.AddrPortFrom(loopback, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer v4.Close()
	if err := v4.WriteTo([]byte("x"), netip.MustParseAddrPort("[::1]:9")); err == nil {
		t.Error("IPv4 socket sending to [::1]: got nil error")
	}
	any, err := listenSock(netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
	if err != nil {
		t.Fatal(err)
	}
	defer any.Close()
	dst := netip.AddrPortFrom(loopback, any.LocalAddr().Port())
	if err := v4.WriteTo([]byte("hello"), dst); err != nil {
		t.Fatal(err)
	}
	rx := newRxBatch()
	end := time.Now().Add(deadline)
	for rx.n <= 0 && time.Now().Before(end) {
		any.rawRead(rx.fn)
	}
	if rx.n != 1 || string(rx.bufs[0][:rx.hdrs[0].n]) != "hello" {
		t.Fatalf("dual-stack read: got %d datagrams", rx.n)
	}
	if got := rx.source(0); got != v4.LocalAddr() {
		t.Errorf("source: got %v, want %v", got, v4.LocalAddr())
	}
	// And back, to the IPv4 address, over the IPv6 socket.
	if err := any.WriteTo([]byte("back"), v4.LocalAddr()); err != nil {
		t.Errorf("dual-stack socket sending to IPv4: %v", err)
	}
	b := []byte("x")
	if got := testing.AllocsPerRun(100, func() { v4.WriteTo(b, dst) }); got != 0 {
		t.Errorf("WriteTo: got %v allocs, want 0", got)
	}
}

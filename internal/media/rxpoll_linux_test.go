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
		if _, got := rx.Datagram(0); got != from {
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

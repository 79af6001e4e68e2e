//go:build linux && (amd64 || arm64)

package media

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/udpsock"
	"github.com/xphone-go/xphone/rtp"
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

// withRing has every shard batch its I/O in an io_uring (on), or make a
// system call per datagram (off), until the test ends.
func withRing(t *testing.T, on bool) {
	t.Helper()
	if on {
		probe, err := udpsock.NewRing[ioTag](ringEntries, rxBufSize)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("io_uring unavailable in CI: %v", err) // its machines allow it
			}
			t.Skipf("io_uring unavailable here: %v", err)
		}
		probe.Close()
	}
	sched.init()
	was := useRing
	useRing = on
	saved := make([]*udpsock.Ring[ioTag], len(sched.shards))
	for i, sh := range sched.shards {
		sh.ioMu.Lock()
		sh.mu.Lock()
		saved[i] = sh.ring
		switch {
		case !on:
			sh.ring = nil
		case sh.ring == nil && sh.rx != nil:
			r, err := udpsock.NewRing[ioTag](ringEntries, rxBufSize)
			if err != nil {
				sh.mu.Unlock()
				sh.ioMu.Unlock()
				t.Fatal(err)
			}
			sh.ring, saved[i] = r, r
		}
		sh.mu.Unlock()
		sh.ioMu.Unlock()
	}
	t.Cleanup(func() {
		useRing = was
		if on {
			return // nothing was taken away
		}
		for i, sh := range sched.shards {
			sh.ioMu.Lock()
			if saved[i] != nil {
				sh.ring = saved[i]
			}
			sh.ioMu.Unlock()
		}
	})
}

// TestShardRingFails: a shard whose io_uring fails (here its descriptor
// is closed under it) handles what completed, closes the ring and goes on
// with a system call per datagram: the call's audio keeps flowing both
// ways.
func TestShardRingFails(t *testing.T) {
	withRing(t, true)
	cfg := Config{Codec: CodecPCMU}
	a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
	if a.shard.ring == nil || b.shard.ring == nil {
		t.Fatal("the sessions' shards have no ring")
	}
	toneBothWays(t, a, b)
	waitCond(t, "paced queues empty", func() bool { return len(a.pacedIn.load()) == 0 && len(b.pacedIn.load()) == 0 })
	// Close every io_uring descriptor of the process, with no pass
	// running; the next submit of each shard fails.
	for _, sh := range sched.shards {
		sh.ioMu.Lock()
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	closed := 0
	for _, e := range fds {
		if target, _ := os.Readlink("/proc/self/fd/" + e.Name()); target == "anon_inode:[io_uring]" {
			if fd, err := strconv.Atoi(e.Name()); err == nil && syscall.Close(fd) == nil {
				closed++
			}
		}
	}
	for _, sh := range sched.shards {
		sh.ioMu.Unlock()
	}
	if closed == 0 {
		t.Fatal("no io_uring descriptor found to close")
	}
	ringless := func(s *Session) bool {
		s.shard.ioMu.Lock()
		defer s.shard.ioMu.Unlock()
		return s.shard.ring == nil
	}
	waitCond(t, "the shards dropped their failed rings", func() bool { return ringless(a) && ringless(b) })
	for _, s := range []*Session{a, b} {
		for len(s.PCMReader()) > 0 {
			<-s.PCMReader()
		}
	}
	feedTone(t, a, 700, 150)
	feedTone(t, b, 1200, 150)
	expectTone(t, b, 700)
	expectTone(t, a, 1200)
}

// TestShardIO runs sessions through shards that batch their reads and
// sends in an io_uring and through shards that make a system call per
// datagram: a tone each way, RTCP reports both ways (RTT), a switch to
// rtcp-mux (the RTCP socket closed by the shard once nothing queued uses
// it), other tones, and Close.
func TestShardIO(t *testing.T) {
	for _, ring := range []bool{true, false} {
		t.Run(fmt.Sprintf("ring=%v", ring), func(t *testing.T) {
			withRing(t, ring)
			oa, ob := testOptions(), testOptions()
			oa.RTCPInterval, ob.RTCPInterval = 50e6, 50e6 // 50 ms
			cfg := Config{Codec: CodecPCMU}
			a, b := pair(t, oa, ob, cfg, cfg)
			if got := a.shard.ring != nil; got != ring {
				t.Fatalf("shard batches with a ring: %v, want %v", got, ring)
			}
			toneBothWays(t, a, b)
			waitCond(t, "RTT from the peer's reports", func() bool { return b.Stats().RTT > 0 && a.Stats().RTT > 0 })
			waitCond(t, "paced queues empty", func() bool { return len(a.pacedIn.load()) == 0 && len(b.pacedIn.load()) == 0 })

			a.mu.Lock()
			oldRTCP := a.rtcpSock
			a.mu.Unlock()
			ca, cb := a.Config(), b.Config()
			ca.RTCPMux, cb.RTCPMux = true, true
			ca.RemoteRTCP, cb.RemoteRTCP = netip.AddrPort{}, netip.AddrPort{}
			if err := a.Update(ca); err != nil {
				t.Fatal(err)
			}
			if err := b.Update(cb); err != nil {
				t.Fatal(err)
			}
			waitCond(t, "the replaced RTCP socket closed", func() bool { return !oldRTCP.Control(func(uintptr) {}) })
			for _, s := range []*Session{a, b} {
				for len(s.PCMReader()) > 0 {
					<-s.PCMReader()
				}
			}
			feedTone(t, a, 700, 150)
			feedTone(t, b, 1200, 150)
			expectTone(t, b, 700)
			expectTone(t, a, 1200)
			a.Close()
			b.Close()
		})
	}
}

// TestRingReadsBurst: datagrams that wait together on a session's socket
// are all read in one pass of its shard (each round of readReady reads
// one per ready socket and asks the poller again).
func TestRingReadsBurst(t *testing.T) {
	withRing(t, true)
	src, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s := newSession(t, testOptions())
	if err := s.Start(Config{Codec: CodecPCMU, RemoteRTP: src.LocalAddr().(*net.UDPAddr).AddrPort()}); err != nil {
		t.Fatal(err)
	}
	sh := s.shard
	if sh.ring == nil {
		t.Fatal("the session's shard has no ring")
	}
	p := rtp.Packet{Header: rtp.Header{SSRC: 7}, Payload: make([]byte, 160)}
	const burst = rxRounds - 1
	for try := 0; ; try++ {
		sh.ioMu.Lock() // no pass of the shard's own runs meanwhile
		before := s.Stats().PacketsReceived
		for range burst {
			w, _ := p.AppendTo(nil)
			if _, err := src.WriteToUDPAddrPort(w, s.LocalRTP()); err != nil {
				sh.ioMu.Unlock()
				t.Fatal(err)
			}
			p.SequenceNumber++
			p.Timestamp += 160
		}
		sh.readReady(time.Now())
		got := s.Stats().PacketsReceived - before
		// Loopback delivers within the send; should it not have, the
		// rest comes at the next pass and the burst is tried again.
		sh.ioMu.Unlock()
		if got == burst {
			return
		}
		if try == 2 {
			t.Fatalf("a burst of %d datagrams: %d read in one pass, want all", burst, got)
		}
		t.Logf("a burst of %d: %d read in one pass; trying again", burst, got)
		waitCond(t, "the rest of the burst read", func() bool { return s.Stats().PacketsReceived-before >= burst })
	}
}

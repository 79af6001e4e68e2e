//go:build linux && (amd64 || arm64)

package transport

import (
	"net"
	"testing"
	"time"
)

// batchProbe sends junk datagrams to a UDP endpoint and waits until its
// reader has taken them.
type batchProbe struct {
	t    *testing.T
	e    *endpoint
	l    *listener
	c    *net.UDPConn
	dst  *net.UDPAddr
	sent uint64
}

func newBatchProbe(t *testing.T, cfg Config) *batchProbe {
	e := newEndpoint(t, UDP, "127.0.0.1", cfg)
	return &batchProbe{t: t, e: e, l: (*e.listeners.Load())[0], c: rawUDP(t, "127.0.0.1"),
		dst: net.UDPAddrFromAddrPort(e.LocalAddr(UDP))}
}

func (p *batchProbe) batch() int32 { return p.l.readBatch.Load() }

// send sends n datagrams at once and waits until all are processed.
func (p *batchProbe) send(n int) {
	p.t.Helper()
	for range n {
		if _, err := p.c.WriteToUDP([]byte("junk"), p.dst); err != nil {
			p.t.Fatal(err)
		}
		p.sent++
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := p.e.Stats()
		if s.Received+s.Dropped >= p.sent {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("processed %d of %d datagrams within 10 s", s.Received+s.Dropped, p.sent)
		}
		time.Sleep(time.Millisecond)
	}
}

// grow sends bursts until the reader's batch is udpBatch.
func (p *batchProbe) grow() {
	p.t.Helper()
	for burst := 0; p.batch() < udpBatch; burst++ {
		if burst == 100 {
			p.t.Fatalf("batch %d after 100 bursts of 64 datagrams, want %d", p.batch(), udpBatch)
		}
		p.send(64)
	}
}

// TestUDPReadBatchShrinks: bursts grow a UDP reader's batch to udpBatch
// datagrams (16 buffers of 64 KiB); once datagrams come one at a time
// again it halves after every udpSparse reads, down to two.
func TestUDPReadBatchShrinks(t *testing.T) {
	p := newBatchProbe(t, Config{})
	p.grow()
	// One at a time: three halvings, 16 -> 8 -> 4 -> 2, and no further.
	for range 4 * udpSparse {
		p.send(1)
	}
	if got := p.batch(); got != 2 {
		t.Errorf("batch after %d single datagrams: got %d, want 2", 4*udpSparse, got)
	}
}

// TestUDPReadBatchIdle: a reader whose wake interval passes without a
// datagram drops its batch to two at once, not by halvings (each of which
// would take udpSparse wakes).
func TestUDPReadBatchIdle(t *testing.T) {
	const wake = 20 * time.Millisecond
	p := newBatchProbe(t, Config{udpWake: wake})
	p.grow()
	deadline := time.Now().Add(10 * time.Second)
	for p.batch() == udpBatch {
		if time.Now().After(deadline) {
			t.Fatalf("batch still %d 10 s after the last datagram (wake %v)", udpBatch, wake)
		}
		time.Sleep(time.Millisecond)
	}
	if got := p.batch(); got != 2 {
		t.Errorf("batch after an idle wake: got %d, want 2", got)
	}
	p.send(1) // the reader still reads
}

// TestUDPCloseWakesReaders: Close returns once the socket's shutdown has
// woken every reader blocked in recvmmsg, not when their wake interval
// (here an hour) passes.
func TestUDPCloseWakesReaders(t *testing.T) {
	p := newBatchProbe(t, Config{UDPReaders: 4, udpWake: time.Hour})
	p.send(8) // the readers run
	done := make(chan error, 1)
	go func() { done <- p.e.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait):
		t.Fatalf("Close did not return within %v: a reader was not woken", wait)
	}
}

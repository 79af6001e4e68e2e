//go:build linux && (amd64 || arm64)

package transport

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// batchProbe sends OPTIONS requests to a UDP endpoint, waits until its
// reader has handed them over, and watches the reader's batch size.
type batchProbe struct {
	t     *testing.T
	e     *endpoint
	c     *net.UDPConn
	dst   *net.UDPAddr
	size  atomic.Int32
	sizes chan int // every batch size the reader takes, in order (as room allows)
}

func newBatchProbe(t *testing.T, cfg Config) *batchProbe {
	p := &batchProbe{t: t, sizes: make(chan int, 64)}
	cfg.onUDPBatch = func(n int) {
		p.size.Store(int32(n))
		select {
		case p.sizes <- n:
		default:
		}
	}
	p.e = newEndpoint(t, UDP, "127.0.0.1", cfg)
	p.c = rawUDP(t, "127.0.0.1")
	p.dst = net.UDPAddrFromAddrPort(p.e.LocalAddr(UDP))
	return p
}

func (p *batchProbe) batch() int32 { return p.size.Load() }

// probeRequest is a valid request, which the endpoint's handler receives.
const probeRequest = "OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKprobe\r\n" +
	"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:probe@127.0.0.1>\r\n" +
	"Call-ID: probe\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"

// send sends n requests at once (n at most 64, the handler's channel) and
// waits until the handler has received them all.
func (p *batchProbe) send(n int) {
	p.t.Helper()
	for range n {
		if _, err := p.c.WriteToUDP([]byte(probeRequest), p.dst); err != nil {
			p.t.Fatal(err)
		}
	}
	for range n {
		p.e.recv(p.t)
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
	for full := false; ; {
		select {
		case n := <-p.sizes:
			if n == udpBatch {
				full = true // the growth, up to here
				continue
			}
			if !full {
				continue
			}
			if n != 2 {
				t.Errorf("batch after an idle wake: got %d, want 2", n)
			}
		case <-time.After(wait):
			t.Fatalf("batch still %d %v after the last datagram (wake %v)", p.batch(), wait, wake)
		}
		break
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

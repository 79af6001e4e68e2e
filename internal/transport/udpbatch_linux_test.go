//go:build linux && (amd64 || arm64)

package transport

import (
	"net"
	"testing"
	"time"
)

// TestUDPReadBatchShrinks: bursts grow a UDP reader's batch to udpBatch
// datagrams (16 buffers of 64 KiB); once datagrams come one at a time
// again it halves after every udpSparse reads, down to two.
func TestUDPReadBatchShrinks(t *testing.T) {
	e := newEndpoint(t, UDP, "127.0.0.1", Config{})
	l := (*e.listeners.Load())[0]
	c := rawUDP(t, "127.0.0.1")
	dst := net.UDPAddrFromAddrPort(e.LocalAddr(UDP))
	processed := func() uint64 { s := e.Stats(); return s.Received + s.Dropped }
	waitProcessed := func(n uint64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for processed() < n {
			if time.Now().After(deadline) {
				t.Fatalf("processed %d of %d datagrams within 10 s", processed(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	sent := uint64(0)
	for burst := 0; l.readBatch.Load() < udpBatch; burst++ {
		if burst == 100 {
			t.Fatalf("batch %d after 100 bursts of 64 datagrams, want %d", l.readBatch.Load(), udpBatch)
		}
		for range 64 {
			if _, err := c.WriteToUDP([]byte("junk"), dst); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		waitProcessed(sent)
	}
	// One at a time: three halvings, 16 -> 8 -> 4 -> 2, and no further.
	for range 4 * udpSparse {
		if _, err := c.WriteToUDP([]byte("junk"), dst); err != nil {
			t.Fatal(err)
		}
		sent++
		waitProcessed(sent)
	}
	if got := l.readBatch.Load(); got != 2 {
		t.Errorf("batch after %d single datagrams: got %d, want 2", 4*udpSparse, got)
	}
}

package netem

import (
	"context"
	"encoding/binary"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/leakcheck"
)

// packetPipe is one end of an in-memory packet link: Write on one end is
// Read, whole, on the other.
type packetPipe struct {
	in, out   chan []byte
	closeOnce sync.Once
	closed    chan struct{}
}

func newPacketPipePair() (*packetPipe, *packetPipe) {
	ab, ba := make(chan []byte, 4096), make(chan []byte, 4096)
	return &packetPipe{in: ba, out: ab, closed: make(chan struct{})}, &packetPipe{in: ab, out: ba, closed: make(chan struct{})}
}

func (p *packetPipe) Read(b []byte) (int, error) {
	select {
	case pkt := <-p.in:
		return copy(b, pkt), nil
	case <-p.closed:
		return 0, io.EOF
	}
}

func (p *packetPipe) Write(b []byte) (int, error) {
	select {
	case p.out <- append([]byte(nil), b...):
		return len(b), nil
	case <-p.closed:
		return 0, io.ErrClosedPipe
	}
}

func (p *packetPipe) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	return nil
}

func TestRunForwardsThroughShapers(t *testing.T) {
	leakcheck.Check(t)
	// host A <-> relayA [Run] relayB <-> host B
	hostA, relayA := newPacketPipePair()
	relayB, hostB := newPacketPipePair()
	ab := Impairment{Delay: 2 * time.Millisecond, Jitter: time.Millisecond, Loss: 10}
	ba := Impairment{}
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		st  RunStats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := Run(ctx, relayA, relayB, ab, ba, 3)
		done <- result{st, err}
	}()

	const n = 500
	for i := range n {
		hostA.Write(binary.BigEndian.AppendUint32(nil, uint32(i)))
		hostB.Write(binary.BigEndian.AppendUint32(nil, uint32(i)))
	}
	// B -> A is unimpaired: all n arrive, in order.
	buf := make([]byte, 64)
	for i := range n {
		k, _ := hostA.Read(buf)
		if got := binary.BigEndian.Uint32(buf[:k]); got != uint32(i) {
			t.Fatalf("b->a packet %d: got %d, want %d", i, got, i)
		}
	}
	// A -> B loses about 10% and keeps FIFO order. The drops depend only
	// on the seed and the packet count, so a twin Shaper says how many
	// packets must arrive.
	twin, _ := NewShaper(ab, 3)
	want := 0
	for range n {
		if _, drop := twin.Schedule(time.Now()); !drop {
			want++
		}
	}
	last := -1
	deadline := time.After(10 * time.Second)
	for received := 0; received < want; received++ {
		select {
		case pkt := <-hostB.in:
			v := int(binary.BigEndian.Uint32(pkt))
			if v <= last {
				t.Fatalf("a->b: got %d after %d, want increasing (FIFO)", v, last)
			}
			last = v
		case <-deadline:
			t.Fatalf("a->b: got %d packets in 10 s, want %d", received, want)
		}
	}
	cancel()
	r := <-done
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if r.st.AB.Forwarded != want || r.st.AB.Forwarded+r.st.AB.Dropped != n {
		t.Fatalf("a->b: got stats %+v, want %d forwarded of %d", r.st.AB, want, n)
	}
	if r.st.AB.Dropped < 20 || r.st.AB.Dropped > 90 {
		t.Errorf("a->b: got %d of %d dropped, want about 10%%", r.st.AB.Dropped, n)
	}
	if r.st.BA != (Stats{Forwarded: n}) {
		t.Errorf("b->a: got %+v, want %d forwarded", r.st.BA, n)
	}
}

package netem

import (
	"container/heap"
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// MaxPacket is the largest packet Run forwards (a TUN device's MTU is
// below it).
const MaxPacket = 65535

// maxQueued bounds the packets waiting for their due time in one
// direction; beyond it new packets are dropped, as a full qdisc would.
const maxQueued = 4096

// RunStats is what Run did in each direction.
type RunStats struct {
	AB, BA Stats
	// Overflow counts packets dropped because maxQueued were waiting.
	Overflow int
}

// Run copies packets read from a to b through an impairment ab, and from b
// to a through ba, until ctx ends or a read fails; then it closes a and b,
// waits for its goroutines and returns the counts. Each Read must return
// one whole packet and each Write send one (as TUN devices do). seed
// makes the impairment reproducible; the two directions use different
// streams derived from it.
//
// Run starts four goroutines and returns only after all have exited. The
// error is nil when ctx ended it.
func Run(ctx context.Context, a, b io.ReadWriteCloser, ab, ba Impairment, seed uint64) (RunStats, error) {
	sAB, err := NewShaper(ab, seed)
	if err != nil {
		return RunStats{}, err
	}
	sBA, err := NewShaper(ba, seed+1)
	if err != nil {
		return RunStats{}, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	dirs := []*direction{newDirection(a, b, sAB), newDirection(b, a, sBA)}
	var wg sync.WaitGroup
	for _, d := range dirs {
		wg.Go(func() { d.read(ctx, cancel) })
		wg.Go(func() { d.deliver(ctx) })
	}
	<-ctx.Done()
	a.Close() // unblocks the reads
	b.Close()
	wg.Wait()
	st := RunStats{AB: sAB.Stats(), BA: sBA.Stats(), Overflow: dirs[0].overflow + dirs[1].overflow}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return st, err
	}
	return st, nil
}

type packet struct {
	due time.Time
	seq uint64 // tie-break: equal due times leave in arrival order
	b   []byte
}

type queue []packet

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].due.Equal(q[j].due) {
		return q[i].seq < q[j].seq
	}
	return q[i].due.Before(q[j].due)
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(packet)) }
func (q *queue) Pop() any {
	old := *q
	p := old[len(old)-1]
	*q = old[:len(old)-1]
	return p
}

// direction is one way of the link: a reader that shapes and queues, a
// deliverer that writes each packet at its due time.
type direction struct {
	in       io.Reader
	out      io.Writer
	shaper   *Shaper
	mu       sync.Mutex
	q        queue
	seq      uint64
	overflow int
	wake     chan struct{} // a packet was queued
}

func newDirection(in io.Reader, out io.Writer, s *Shaper) *direction {
	return &direction{in: in, out: out, shaper: s, wake: make(chan struct{}, 1)}
}

func (d *direction) read(ctx context.Context, stop context.CancelCauseFunc) {
	buf := make([]byte, MaxPacket)
	for {
		n, err := d.in.Read(buf)
		if err != nil {
			if ctx.Err() == nil {
				stop(err)
			}
			return
		}
		d.mu.Lock()
		due, drop := d.shaper.Schedule(time.Now())
		switch {
		case drop:
		case len(d.q) >= maxQueued:
			d.overflow++
		default:
			// A copy per packet: this is a test tool, not a data path.
			d.seq++
			heap.Push(&d.q, packet{due: due, seq: d.seq, b: append([]byte(nil), buf[:n]...)})
		}
		d.mu.Unlock()
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

func (d *direction) deliver(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d.mu.Lock()
		var wait time.Duration = -1
		var p packet
		ready := false
		if len(d.q) > 0 {
			if w := time.Until(d.q[0].due); w <= 0 {
				p = heap.Pop(&d.q).(packet)
				ready = true
			} else {
				wait = w
			}
		}
		d.mu.Unlock()
		if ready {
			_, _ = d.out.Write(p.b) // a full or vanished device drops, like a wire
			continue
		}
		var tc <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-tc:
		}
	}
}

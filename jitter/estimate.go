package jitter

import "time"

// The jitter estimate: the transit time of every accepted packet (arrival
// time minus media time, so a constant network delay cancels out) is kept
// over the last window packets. The fastest transit in the window is the
// base, the earliest a packet can arrive; the target delay is the
// quantile-th transit above that base, so that about 1-quantile of packets
// arrive after their playout time. This is the "percentile of delay over a
// window" approach; the RFC 3550 §6.4.1 interarrival jitter is computed
// beside it for Stats.
const (
	window     = 200 // packets, 4 s at 20 ms
	quantile   = 0.98
	recalcEach = 8 // packets between two computations of the quantile
	minSamples = 16
)

type estimator struct {
	win   []int64
	n, i  int
	since int
	base  int64 // lowest transit in the window, ns
	jit   int64 // quantile transit minus base, ns
}

func (e *estimator) init() {
	e.win = make([]int64, window)
}

func (e *estimator) reset() {
	e.n, e.i, e.since = 0, 0, 0
	e.base, e.jit = 0, 0
}

func (e *estimator) add(transit int64) {
	e.win[e.i] = transit
	e.i = (e.i + 1) % len(e.win)
	if e.n < len(e.win) {
		e.n++
	}
	if e.n == 1 || transit < e.base {
		// A faster packet lowers the base at once; the quantile follows at
		// the next computation.
		e.jit += e.base - transit
		e.base = transit
	}
	e.since++
	if e.since >= recalcEach || e.n < minSamples {
		e.recalc()
	}
}

// recalc sets base to the lowest transit of the window and jit to the
// quantile-th one minus base. The quantile sits among the few highest
// values (the 5th highest of 200), so one pass keeping the top ones
// replaces a sort of the window.
func (e *estimator) recalc() {
	e.since = 0
	w := e.win[:e.n]
	k := e.n - int(quantile*float64(e.n-1)+0.5) // the quantile is the k-th highest
	var top [8]int64                            // the highest values seen, descending
	if k > len(top) {
		k = len(top) // not reached with window 200 and quantile 0.98
	}
	m := 0
	lo := w[0]
	for _, v := range w {
		lo = min(lo, v)
		if m == k && v <= top[k-1] {
			continue
		}
		j := min(m, k-1)
		for j > 0 && top[j-1] < v {
			top[j] = top[j-1]
			j--
		}
		top[j] = v
		m = min(m+1, k)
	}
	e.base = lo
	e.jit = top[k-1] - lo
}

// Stats are the counters and delay figures of a Buffer.
type Stats struct {
	// Received counts every packet given to Push.
	Received uint64
	// Late counts packets that arrived after their playout time.
	Late uint64
	// Duplicate counts packets whose sequence number was already received.
	Duplicate uint64
	// Reordered counts accepted packets that arrived after a packet with a
	// higher sequence number.
	Reordered uint64
	// Lost counts sequence numbers given up at playout because no packet
	// was there in time (some may arrive later and count as Late too).
	Lost uint64
	// Played counts Ready results; Concealed counts Missing results.
	Played, Concealed uint64
	// Inserted counts Missing frames added to grow the delay; Skipped
	// counts packets discarded to shrink it (sender clock skew, a smaller
	// target).
	Inserted, Skipped uint64
	// Dropped counts packets discarded unplayed for any other reason: a
	// resync, an overflow, a straggler of a replaced SSRC, an unconfirmed
	// sequence jump.
	Dropped uint64
	// Resyncs counts new streams (SSRC changes, sender restarts) and
	// timestamp jumps that reset the timing.
	Resyncs uint64
	// TargetDelay is the delay the buffer aims for now; Delay is the
	// playout delay of the last frame played or due, measured beyond the
	// fastest transit of the window; MaxDelay is the largest Delay seen.
	TargetDelay, Delay, MaxDelay time.Duration
	// Jitter is the RFC 3550 §6.4.1 interarrival jitter estimate.
	Jitter time.Duration
	// Buffered is the number of packets held.
	Buffered int

	jitterNS int64
	maxDelay int64
}

// Stats returns a snapshot of the counters and the current delay figures.
func (b *Buffer) Stats() Stats {
	s := b.stats
	s.TargetDelay = time.Duration(b.target())
	s.Delay = time.Duration(b.delay)
	s.MaxDelay = time.Duration(s.maxDelay)
	s.Jitter = time.Duration(s.jitterNS)
	s.Buffered = b.count
	s.jitterNS, s.maxDelay = 0, 0
	return s
}

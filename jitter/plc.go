package jitter

import (
	"math"
	"slices"
)

// Concealer replaces the audio of frames a Buffer reports Missing. One
// Concealer serves one stream; it is not safe for concurrent use.
//
// PCMConcealer works on any PCM codec. A codec with its own loss
// concealment (Opus, RFC 6716 §4.4) implements Concealer by asking its
// decoder for a concealed frame and ignoring Decoded.
type Concealer interface {
	// Decoded is given every frame decoded from a real packet, in playout
	// order, before it is played. It may modify pcm in place, to smooth
	// the join after concealed frames.
	Decoded(pcm []int16)
	// Conceal appends n samples that stand in for one missing frame to
	// dst and returns the extended slice. It allocates only when dst lacks
	// the capacity.
	Conceal(dst []int16, n int) []int16
	// Reset forgets the signal history: the stream changed or restarted.
	Reset()
}

// PCMConcealer is a Concealer for decoded 16-bit mono PCM (G.711, G.722
// and other codecs without loss concealment of their own). It follows the
// method of ITU-T G.711 Appendix I:
//
//   - at the first missing frame it estimates the pitch period of the last
//     good audio by normalized cross-correlation (5 to 15 ms lags) and
//     repeats the last period, with a quarter-period overlap-add where the
//     repetition wraps so the repeated waveform has no seam;
//   - after 10 and 20 ms of loss it repeats two, then three periods, so a
//     long gap does not buzz on one period;
//   - after 10 ms of loss it fades out linearly by 20 % per 10 ms, reaching
//     silence at 60 ms;
//   - on the first good frame it overlap-adds the continued synthetic
//     signal into the real one over a quarter period plus 4 ms per extra
//     10 ms of loss (at most 10 ms), so recovery has no click.
//
// Unlike Appendix I it adds no algorithmic delay: it never reworks audio
// already played, and relies on the pitch-synchronous start for the join
// into the first concealed frame.
//
// Its storage is allocated by NewPCMConcealer; Decoded and Conceal do not
// allocate. It is not safe for concurrent use.
type PCMConcealer struct {
	rate       int
	minP, maxP int
	corrLen    int
	step       int // samples per 10 ms
	hist       []int16

	lost    int // samples concealed in the current loss; 0 when not in a loss
	period  int
	periods int
	cur     []float32 // the waveform being repeated
	prev    []float32 // the previous one, during a crossfade
	pos     int
	prevPos int
	fade    int // samples of crossfade from prev to cur still to go
	fadeLen int
	bufA    []float32
	bufB    []float32
}

// NewPCMConcealer returns a PCMConcealer for audio sampled at sampleRate Hz
// (8000 for G.711, 16000 for G.722; 0 means 8000).
func NewPCMConcealer(sampleRate int) *PCMConcealer {
	if sampleRate <= 0 {
		sampleRate = 8000
	}
	c := &PCMConcealer{rate: sampleRate}
	c.minP = sampleRate / 200 // 5 ms: 200 Hz
	c.maxP = sampleRate * 15 / 1000
	c.corrLen = sampleRate / 50 // 20 ms
	c.step = sampleRate / 100
	// Three periods plus the quarter period blended at the wrap (G.711
	// Appendix I keeps 48.75 ms at 8 kHz).
	c.hist = make([]int16, 3*c.maxP+c.maxP/4+1)
	c.bufA = make([]float32, 3*c.maxP)
	c.bufB = make([]float32, 3*c.maxP)
	return c
}

// Reset forgets the history and any loss in progress.
func (c *PCMConcealer) Reset() {
	clear(c.hist)
	c.lost = 0
}

// Decoded records a good frame. After concealed frames it first blends the
// continuation of the concealment into the start of pcm.
func (c *PCMConcealer) Decoded(pcm []int16) {
	if c.lost > 0 {
		extra := (c.lost - 1) / c.step // 10 ms blocks of loss beyond the first
		n := min(c.period/4+extra*c.rate*4/1000, c.step, len(pcm))
		for i := 0; i < n; i++ {
			w := float32(i+1) / float32(n+1)
			pcm[i] = clamp16(c.next()*(1-w) + float32(pcm[i])*w)
		}
		c.lost = 0
	}
	h := c.hist
	if len(pcm) >= len(h) {
		copy(h, pcm[len(pcm)-len(h):])
		return
	}
	copy(h, h[len(pcm):])
	copy(h[len(h)-len(pcm):], pcm)
}

// Conceal appends n samples of concealment to dst.
func (c *PCMConcealer) Conceal(dst []int16, n int) []int16 {
	dst = slices.Grow(dst, n)
	if c.lost == 0 {
		c.period = c.pitch()
		c.periods = 1
		c.cur = c.build(c.bufA, 1)
		c.pos = 0
		c.fade = 0
	}
	for range n {
		dst = append(dst, clamp16(c.next()))
	}
	return dst
}

// next produces one concealed sample and advances the loss clock.
func (c *PCMConcealer) next() float32 {
	if c.lost == c.step*c.periods && c.periods < 3 {
		// G.711 Appendix I: widen the repetition to one more period,
		// continuing at the same phase one period earlier.
		c.periods++
		c.prev, c.prevPos = c.cur, c.pos
		buf := c.bufA
		if &c.cur[0] == &c.bufA[0] {
			buf = c.bufB
		}
		c.cur = c.build(buf, c.periods)
		c.fadeLen = max(1, c.period/4)
		c.fade = c.fadeLen
	}
	v := c.cur[c.pos]
	c.pos++
	if c.pos == len(c.cur) {
		c.pos = 0
	}
	if c.fade > 0 {
		w := float32(c.fade) / float32(c.fadeLen+1)
		v = v*(1-w) + c.prev[c.prevPos]*w
		c.prevPos++
		if c.prevPos == len(c.prev) {
			c.prevPos = 0
		}
		c.fade--
	}
	// Full level for the first 10 ms, then -20 % per 10 ms.
	g := float32(1)
	if c.lost > c.step {
		g = 1 - 0.2*float32(c.lost-c.step)/float32(c.step)
		g = max(g, 0)
	}
	c.lost++
	return v * g
}

// build fills buf with the last k periods of the history, the last quarter
// period cross-faded with the quarter period that precedes the first one,
// so repeating the result has no seam.
func (c *PCMConcealer) build(buf []float32, k int) []float32 {
	h := c.hist
	p := c.period
	n := k * p
	start := len(h) - n
	buf = buf[:n]
	for i := range buf {
		buf[i] = float32(h[start+i])
	}
	l := p / 4
	for j := 0; j < l; j++ {
		w := float32(j+1) / float32(l+1)
		buf[n-l+j] = buf[n-l+j]*(1-w) + float32(h[start-l+j])*w
	}
	return buf
}

// pitch returns the lag in [minP, maxP] that maximizes the normalized
// cross-correlation between the last corrLen samples of the history and
// the same length one lag earlier: a coarse search on even lags, then a
// fine search around the best one.
func (c *PCMConcealer) pitch() int {
	best, bestScore := c.maxP, math.Inf(-1)
	try := func(p int) {
		h := c.hist
		end := len(h)
		var xy, yy float64
		for i := end - c.corrLen; i < end; i++ {
			y := float64(h[i-p])
			xy += float64(h[i]) * y
			yy += y * y
		}
		if yy == 0 {
			return
		}
		if s := xy / math.Sqrt(yy); s > bestScore {
			best, bestScore = p, s
		}
	}
	for p := c.minP; p <= c.maxP; p += 2 {
		try(p)
	}
	coarse := best
	for p := max(c.minP, coarse-1); p <= min(c.maxP, coarse+1); p++ {
		if p != coarse {
			try(p)
		}
	}
	return best
}

func clamp16(v float32) int16 {
	v = float32(math.Round(float64(v)))
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}

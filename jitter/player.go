package jitter

import "time"

// DecodeFunc decodes the payload of a Ready frame, appending the PCM to
// dst and returning the extended slice. The Frame is valid only during the
// call. A payload it cannot decode should
// append nothing; the Player conceals the frame instead.
type DecodeFunc func(dst []int16, f *Frame) []int16

// Player turns a Buffer into a PCM source: once per tick it pops a frame
// and decodes it, conceals it, or plays silence. It is the place where a
// codec's decoder and Concealer plug in. Player is not safe for concurrent
// use; it owns its Buffer's Pop side.
type Player struct {
	buf     *Buffer
	decode  DecodeFunc
	conceal Concealer
	samples int
	frame   Frame
}

// NewPlayer returns a Player that pops from buf and produces frames of
// samples PCM samples (160 for 20 ms at 8 kHz, 320 for G.722). A nil
// Concealer plays silence in place of missing frames.
func NewPlayer(buf *Buffer, samples int, decode DecodeFunc, c Concealer) *Player {
	return &Player{buf: buf, decode: decode, conceal: c, samples: samples}
}

// Next appends the PCM for the tick at now to dst: exactly the frame's
// sample count, decoded, concealed or silent. It returns the extended
// slice and what the Buffer reported. It allocates only when dst lacks the
// capacity.
func (p *Player) Next(dst []int16, now time.Time) ([]int16, Status) {
	var st Status
	p.frame, st = p.buf.Pop(now)
	f := &p.frame
	start := len(dst)
	switch st {
	case Ready:
		if f.Resync && p.conceal != nil {
			p.conceal.Reset()
		}
		dst = p.decode(dst, f)
		if len(dst) == start {
			st = Missing
			break
		}
		if len(dst)-start != p.samples {
			dst = fit(dst, start+p.samples)
		}
		if p.conceal != nil {
			p.conceal.Decoded(dst[start:])
		}
		return dst, st
	case Silence:
		return fit(dst, start+p.samples), st
	}
	if p.conceal == nil {
		return fit(dst, start+p.samples), st
	}
	return p.conceal.Conceal(dst, p.samples), st
}

// fit truncates dst or pads it with zeros to length n.
func fit(dst []int16, n int) []int16 {
	if len(dst) >= n {
		return dst[:n]
	}
	for len(dst) < n {
		dst = append(dst, 0)
	}
	return dst
}

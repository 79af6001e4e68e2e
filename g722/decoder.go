package g722

import (
	"errors"
	"fmt"
)

// ErrBitrate is returned by NewDecoderRate for a bit rate other than
// 64000, 56000 or 48000.
var ErrBitrate = errors.New("g722: bit rate must be 64000, 56000 or 48000")

// Decoder is a G.722 decoder: octets in the RFC 3551 §4.5.2 layout in,
// 16 kHz 16-bit PCM out, two samples per octet. It keeps the filter and
// predictor state of one stream between calls, so use one Decoder per
// stream. It is not safe for concurrent use. The zero value is a 64 kbit/s
// decoder in the initial state, like NewDecoder's.
//
// The output of the receive QMF is saturated to the int16 range, as the
// ITU-T reference decoder (and FFmpeg) do; spandsp instead lets it wrap
// around on overdriven input.
type Decoder struct {
	qmf    qmfLine
	lo, hi band
	recon  *[64]int32 // lower sub-band inverse quantiser for the mode
	rate   int
}

// NewDecoder returns a decoder for 64 kbit/s (mode 1) in the initial (reset)
// state.
func NewDecoder() *Decoder {
	d, _ := NewDecoderRate(64000)
	return d
}

// NewDecoderRate returns a decoder for the audio bit rate of G.722 mode 1
// (64000), mode 2 (56000) or mode 3 (48000). Whatever the mode, each octet
// of the input is a full G.722 octet as it travels in RTP; in modes 2 and 3
// the lowest one or two bits of the lower sub-band code carry auxiliary
// data and are ignored. The error is ErrBitrate.
func NewDecoderRate(bitrate int) (*Decoder, error) {
	d := &Decoder{rate: bitrate}
	switch bitrate {
	case 64000:
		d.recon = &recon6
	case 56000:
		d.recon = &recon5
	case 48000:
		d.recon = &recon4
	default:
		return nil, fmt.Errorf("%w (got %d)", ErrBitrate, bitrate)
	}
	d.Reset()
	return d, nil
}

// Bitrate returns the audio bit rate the decoder was made for.
func (d *Decoder) Bitrate() int {
	if d.recon == nil {
		return 64000
	}
	return d.rate
}

// Reset returns the decoder to its initial state, as at the start of a
// stream, keeping its bit rate.
func (d *Decoder) Reset() {
	d.qmf = qmfLine{}
	d.lo.reset(32)
	d.hi.reset(8)
}

// recon6, recon5 and recon4 give the lower sub-band reconstruction
// (Block 5L INVQBL) for each 6-bit code I_L in modes 1, 2 and 3, which use
// its top 6, 5 and 4 bits.
var recon6, recon5, recon4 [64]int32

func init() {
	for c := range 64 {
		recon6[c] = qm6[c]
		recon5[c] = qm5[c>>1]
		recon4[c] = qm4[c>>2]
	}
}

// Decode appends to dst two samples per octet of data and returns the
// extended slice. Every octet is valid input. Decode allocates only when
// dst lacks the capacity: 160 octets (20 ms) give 320 samples.
func (d *Decoder) Decode(dst []int16, data []byte) []int16 {
	if d.recon == nil { // zero value
		d.recon, d.rate = &recon6, 64000
		d.Reset()
	}
	l := len(dst)
	n := 2 * len(data)
	if cap(dst)-l < n {
		nd := make([]int16, l, l+n)
		copy(nd, dst)
		dst = nd
	}
	dst = dst[:l+n]
	out := dst[l:]
	recon := d.recon
	lo, hi := &d.lo, &d.hi
	for i, c := range data {
		il := int32(c & 63)
		ih := int32(c >> 6)

		// Lower sub-band: Block 5L INVQBL and RECONS, Block 6L LIMIT.
		rl := lo.s + (lo.det*recon[il])>>15
		rl = min(max(rl, -16384), 16383)
		// Blocks 2L INVQAL, 3L and 4L adapt on the 4-bit code.
		c4 := il >> 2
		dl := (lo.det * qm4[c4]) >> 15
		lo.adaptLow(c4)
		lo.predict(dl)

		// Higher sub-band: Block 2H INVQAH, 5H RECONS, 6H LIMIT.
		dh := (hi.det * qm2[ih]) >> 15
		rh := min(max(dh+hi.s, -16384), 16383)
		hi.adaptHigh(ih)
		hi.predict(dh)

		// Receive QMF.
		odd, even := d.qmf.push(rl+rh, rl-rh)
		o := out[2*i : 2*i+2]
		o[0] = int16(sat16(even >> 11))
		o[1] = int16(sat16(odd >> 11))
	}
	return dst
}

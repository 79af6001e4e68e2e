package g722

// Encoder is a G.722 encoder at 64 kbit/s (mode 1): 16 kHz 16-bit PCM in,
// one octet per two samples out, in the RFC 3551 §4.5.2 bit order. It keeps
// the filter and predictor state of one stream between calls, so use one
// Encoder per stream. It is not safe for concurrent use. The zero value is
// an encoder in the initial state, like NewEncoder's.
type Encoder struct {
	qmf     qmfLine
	lo, hi  band
	pending int16 // first sample of an incomplete pair
	odd     bool  // pending holds a sample
}

// NewEncoder returns an encoder in the initial (reset) state.
func NewEncoder() *Encoder {
	e := new(Encoder)
	e.Reset()
	return e
}

// Reset returns the encoder to its initial state, as at the start of a
// stream.
func (e *Encoder) Reset() {
	*e = Encoder{}
	e.lo.reset(32)
	e.hi.reset(8)
}

// Encode appends to dst one octet per pair of samples in pcm and returns
// the extended slice. A trailing unpaired sample is kept and paired with
// the first sample of the next call, so the output holds
// (held + len(pcm)) / 2 octets. Encode allocates only when dst lacks the
// capacity: a 20 ms frame (320 samples) gives 160 octets.
func (e *Encoder) Encode(dst []byte, pcm []int16) []byte {
	if len(pcm) == 0 {
		return dst
	}
	if e.lo.det == 0 { // zero value; DETL is never 0 once initialised
		e.Reset()
	}
	if e.odd {
		dst = append(dst, e.encodePair(int32(e.pending), int32(pcm[0])))
		pcm = pcm[1:]
		e.odd = false
	}
	n := len(pcm) / 2
	l := len(dst)
	if cap(dst)-l < n {
		nd := make([]byte, l, l+n)
		copy(nd, dst)
		dst = nd
	}
	dst = dst[:l+n]
	out := dst[l:]
	pcm2 := pcm[:2*len(out)]
	for i := range out {
		out[i] = e.encodePair(int32(pcm2[2*i]), int32(pcm2[2*i+1]))
	}
	if len(pcm)%2 == 1 {
		e.pending = pcm[len(pcm)-1]
		e.odd = true
	}
	return dst
}

// encodePair runs the transmit QMF and both sub-band ADPCM encoders on
// the samples a (earlier) and b.
func (e *Encoder) encodePair(a, b int32) byte {
	// Transmit QMF: split into lower and higher sub-bands.
	odd, even := e.qmf.push(a, b)
	xl := (even + odd) >> 14
	xh := (even - odd) >> 14

	// Lower sub-band, Block 1L SUBTRA and QUANTL.
	lo := &e.lo
	el := sat16(xl - lo.s)
	il := quantizeLow(el, lo.det)
	// Block 2L INVQAL on the 4-bit code, then Blocks 3L and 4L.
	c4 := il >> 2
	dl := (lo.det * qm4[c4]) >> 15
	lo.adaptLow(c4)
	lo.predict(dl)

	// Higher sub-band, Blocks 1H SUBTRA and QUANTH.
	hi := &e.hi
	eh := sat16(xh - hi.s)
	mag := eh ^ eh>>31 // |eh| as the standard takes it: -(eh+1) if negative
	var iv int32
	if mag >= (564*hi.det)>>12 {
		iv = 1
	}
	ih := highCode[iv|(eh>>31)&2]
	// Block 2H INVQAH, then Blocks 3H and 4H.
	dh := (hi.det * qm2[ih]) >> 15
	hi.adaptHigh(ih)
	hi.predict(dh)

	return byte(ih<<6 | il)
}

// quantizeLow is Block 1L QUANTL: the 6-bit code of the difference el for
// scale factor det. The interval is the first i in 1…29 whose decision
// level (q6[i]·det)>>12 exceeds the magnitude m, or 30. Since
// (q·det)>>12 ≤ m exactly when q ≤ ((m+1)·4096 - 1)/det (integer division),
// one division and a table of interval by that bound find it without a
// search.
func quantizeLow(el, det int32) int32 {
	mag := uint32(el ^ el>>31) // |el| as the standard takes it: -(el+1) if negative
	bound := min(((mag+1)<<12-1)/uint32(det), q6Max)
	return lowCode[int32(intervalBelow[bound])+(el>>31)&32]
}

package media

import "math"

// Options.PCMRate asks for frames at a rate other than the codec's: 8 kHz
// frames on a G.722 call, or 16 kHz frames on a G.711 one. The two rates
// differ by a factor of two, so one half-band low-pass filter serves both
// directions: before dropping every other sample (16 → 8 kHz), so that
// what lies above 4 kHz does not fold back into the band, and after
// inserting a zero between samples (8 → 16 kHz), to remove the mirror
// image of the band that the zeros create above 4 kHz.

// halfbandTaps is the filter length: a windowed sinc cut off at a quarter
// of the higher rate (4 kHz). 47 taps with a Blackman window pass up to
// about 3.1 kHz within 0.1 dB and stop above about 4.9 kHz by more than
// 70 dB. Every other tap but the centre one is zero.
const halfbandTaps = 47

// halfband holds the filter's coefficients, computed once.
var halfband = func() [halfbandTaps]float32 {
	var h [halfbandTaps]float32
	const c = (halfbandTaps - 1) / 2
	sum := 0.0
	v := make([]float64, halfbandTaps)
	for k := range v {
		x := float64(k - c)
		s := 0.5 // sinc(0) at cutoff a quarter of the rate
		if x != 0 {
			s = math.Sin(math.Pi*x/2) / (math.Pi * x)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(k)/(halfbandTaps-1)) + 0.08*math.Cos(4*math.Pi*float64(k)/(halfbandTaps-1))
		v[k] = s * w
		sum += v[k]
	}
	for k := range v {
		h[k] = float32(v[k] / sum) // unity gain at DC
	}
	return h
}()

// resampler converts frames between the codec's rate and the
// application's, one direction each, keeping the filter history across
// frames so that frame edges leave no trace. It allocates only when made.
type resampler struct {
	down []float32 // 16 kHz history + frame, for 16 → 8 kHz
	up   []float32 // 8 kHz history + frame, for 8 → 16 kHz
}

// newResampler makes a resampler for frames of n8 samples at 8 kHz (and
// 2*n8 at 16 kHz).
func newResampler(n8 int) *resampler {
	return &resampler{
		down: make([]float32, halfbandTaps-1+2*n8),
		up:   make([]float32, (halfbandTaps-1)/2+n8),
	}
}

// downsample filters src (16 kHz, 2*len(dst) samples) and keeps every
// other sample in dst (8 kHz).
func (r *resampler) downsample(dst, src []int16) {
	const hist = halfbandTaps - 1
	w := r.down
	copy(w, w[len(w)-hist:]) // the previous frame's tail
	for i, v := range src {
		w[hist+i] = float32(v)
	}
	h := &halfband
	for n := range dst {
		// Output n is aligned with input 2n+1 (the newest sample it uses).
		x := w[2*n+1+hist-(halfbandTaps-1) : 2*n+1+hist+1]
		var acc float32
		for k := 0; k < halfbandTaps; k++ {
			acc += h[k] * x[halfbandTaps-1-k]
		}
		dst[n] = clamp16(acc)
	}
}

// upsample puts a zero between the samples of src (8 kHz) and filters the
// result into dst (16 kHz, 2*len(src) samples). Only the taps that meet a
// non-zero input are summed: the even ones for one output phase, the odd
// ones for the other (for a half-band filter, that is the centre tap
// alone).
func (r *resampler) upsample(dst, src []int16) {
	const hist = (halfbandTaps - 1) / 2
	w := r.up
	copy(w, w[len(w)-hist:])
	for i, v := range src {
		w[hist+i] = float32(v)
	}
	h := &halfband
	for j := range dst {
		// The zero-stuffed input u has u[2m] = 2*x[m]: output j sums
		// h[k]*u[j-k] over the k with j-k even.
		var acc float32
		for k := j & 1; k < halfbandTaps; k += 2 {
			m := (j - k) / 2 // index of x in src; negative reaches into history
			acc += h[k] * w[hist+m]
		}
		dst[j] = clamp16(2 * acc)
	}
}

// clamp16 rounds v to the nearest int16, saturating.
func clamp16(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v < 0:
		return int16(v - 0.5)
	}
	return int16(v + 0.5)
}

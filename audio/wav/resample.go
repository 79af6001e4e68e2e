package wav

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
)

// The interpolation kernel: a sinc windowed by a Blackman window, kernelZeros
// zero crossings on each side, tabulated at kernelRes points per zero
// crossing and interpolated linearly between them.
const (
	kernelZeros = 32
	kernelRes   = 128
	// rolloff places the cutoff at this fraction of the lower Nyquist
	// frequency, leaving room for the transition band below it.
	rolloff = 0.92
)

var kernel = sync.OnceValue(func() []float64 {
	k := make([]float64, kernelZeros*kernelRes+2) // one extra for interpolation
	for i := range k {
		x := float64(i) / kernelRes // in zero crossings
		if x >= kernelZeros {
			break
		}
		sinc := 1.0
		if i > 0 {
			sinc = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		// Blackman window, centred on 0, reaching 0 at ±kernelZeros.
		u := math.Pi * x / kernelZeros
		k[i] = sinc * (0.42 + 0.5*math.Cos(u) + 0.08*math.Cos(2*u))
	}
	return k
})

// Resample appends to dst the samples of src, taken at from Hz, converted
// to to Hz, and returns the extended slice. Both rates must be between
// MinSampleRate and MaxSampleRate. The output has ⌈len(src)·to/from⌉
// samples, its first sample at the instant of src[0]. See the package
// documentation for the filter. Resample treats src as a whole signal,
// silent before and after it, so resampling a stream piece by piece leaves
// a small dip at each seam; it is meant for files and buffers, not for
// 20 ms frames. It allocates only to grow dst and is safe for concurrent
// use.
func Resample(dst, src []int16, from, to int) ([]int16, error) {
	for _, r := range [2]int{from, to} {
		if r < MinSampleRate || r > MaxSampleRate {
			return dst, fmt.Errorf("wav: cannot resample at %d Hz: rates from %d to %d Hz only", r, MinSampleRate, MaxSampleRate)
		}
	}
	if from == to {
		return append(dst, src...), nil
	}
	outLen := int((int64(len(src))*int64(to) + int64(from) - 1) / int64(from))
	dst = slices.Grow(dst, outLen)
	k := kernel()
	// The cutoff as a fraction of the input rate, times 2: the kernel's
	// zero crossings fall every 1/scale input samples.
	scale := rolloff * float64(min(from, to)) / float64(from)
	half := kernelZeros / scale // half-width of the kernel, in input samples
	for n := range outLen {
		// Output sample n lies at input position t = n·from/to.
		num := int64(n) * int64(from)
		i := int(num / int64(to))
		frac := float64(num%int64(to)) / float64(to)
		t := float64(i) + frac
		lo := max(0, int(math.Ceil(t-half)))
		hi := min(len(src)-1, int(math.Floor(t+half)))
		var acc float64
		for j := lo; j <= hi; j++ {
			x := math.Abs(t-float64(j)) * scale * kernelRes
			xi := int(x)
			if xi >= kernelZeros*kernelRes {
				continue
			}
			f := x - float64(xi)
			acc += float64(src[j]) * (k[xi] + f*(k[xi+1]-k[xi]))
		}
		acc *= scale
		dst = append(dst, int16(math.Round(max(-32768, min(32767, acc)))))
	}
	return dst, nil
}

// ReadAll reads a whole WAVE file from src and returns its samples, mixed
// down to mono and resampled to rate Hz when the file has another rate
// (see Resample). If the data is cut short it returns the samples it read
// with io.ErrUnexpectedEOF, as a Reader does. It reads until the end of the
// data chunk, holding all of it in memory: wrap an untrusted stream of
// unknown length in an io.LimitReader.
func ReadAll(src io.Reader, rate int) ([]int16, error) {
	if rate < MinSampleRate || rate > MaxSampleRate {
		return nil, fmt.Errorf("wav: cannot resample to %d Hz: rates from %d to %d Hz only", rate, MinSampleRate, MaxSampleRate)
	}
	r, err := NewReader(src)
	if err != nil {
		return nil, err
	}
	var out []int16
	for {
		out = slices.Grow(out, 4096)
		n, rerr := r.ReadSamples(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	if r.rate != rate {
		out, _ = Resample(nil, out, r.rate, rate) // both rates checked
	}
	return out, err
}

package audiotest

import "math"

// ToneGenerator produces a continuous sine wave frame by frame: consecutive
// calls to Fill continue the phase, so the frames join without a click.
// The zero value produces silence. A ToneGenerator is not safe for
// concurrent use.
type ToneGenerator struct {
	// Freq is the tone frequency in Hz.
	Freq float64
	// SampleRate is the number of samples per second, e.g. 8000.
	SampleRate int
	// Amplitude is the peak value of the sine, at most 32767.
	Amplitude float64

	n uint64 // samples produced so far
}

// Fill writes the next len(frame) samples of the tone into frame. It does
// not allocate.
func (g *ToneGenerator) Fill(frame []int16) {
	if g.SampleRate <= 0 {
		clear(frame)
		return
	}
	step := 2 * math.Pi * g.Freq / float64(g.SampleRate)
	for i := range frame {
		// The phase comes from the sample index rather than a running sum,
		// so long runs do not drift.
		frame[i] = clamp16(g.Amplitude * math.Sin(step*float64(g.n)))
		g.n++
	}
}

// Samples returns how many samples the generator has produced.
func (g *ToneGenerator) Samples() uint64 { return g.n }

// Tone returns n samples of a sine of freq Hz at sampleRate with the given
// peak amplitude, starting at phase zero.
func Tone(freq float64, sampleRate int, amplitude float64, n int) []int16 {
	g := ToneGenerator{Freq: freq, SampleRate: sampleRate, Amplitude: amplitude}
	out := make([]int16, n)
	g.Fill(out)
	return out
}

func clamp16(v float64) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(v))
}

package main

import (
	"math"
	"os"

	"github.com/xphone-go/xphone/audio/wav"
	"github.com/xphone-go/xphone/internal/audiotest"
)

// tone returns n samples of a sine of freq Hz at rate, peak amplitude amp,
// with 10 ms raised-cosine ramps at both ends so it starts and stops
// without a click.
func tone(freq float64, rate, n int, amp float64) []int16 {
	out := make([]int16, n)
	ramp := rate / 100
	for i := range out {
		g := 1.0
		if i < ramp {
			g = 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(ramp))
		} else if n-1-i < ramp {
			g = 0.5 - 0.5*math.Cos(math.Pi*float64(n-1-i)/float64(ramp))
		}
		out[i] = int16(amp * g * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// speechLike synthesizes n samples of audio with the outline of speech:
// "syllables" about 200 ms long separated by short pauses, each a glottal
// pulse train (a fundamental gliding between 110 and 220 Hz with its
// harmonics) shaped by two formant-like peaks that move from syllable to
// syllable, under a smooth amplitude envelope. It is deterministic, so a
// test can compare what was sent with what arrived. peak is the loudest
// sample's magnitude.
func speechLike(rate, n int, peak float64) []int16 {
	// Formant pairs (Hz) of a few vowels, cycled through.
	vowels := [][2]float64{{730, 1090}, {270, 2290}, {530, 1840}, {300, 870}, {660, 1720}}
	syl := rate / 5    // 200 ms syllable
	pause := rate / 20 // 50 ms gap
	buf := make([]float64, n)
	phase := 0.0
	for i := range buf {
		k := i / (syl + pause)
		j := i % (syl + pause)
		if j >= syl {
			continue
		}
		v := vowels[k%len(vowels)]
		// Fundamental glides within the syllable, rising on even ones.
		f0 := 110 + 110*float64(j)/float64(syl)
		if k%2 == 1 {
			f0 = 220 - 90*float64(j)/float64(syl)
		}
		phase += 2 * math.Pi * f0 / float64(rate)
		x := 0.0
		for h := 1; float64(h)*f0 < 3400 && h <= 30; h++ {
			hf := float64(h) * f0
			// Two resonances of ~100 Hz bandwidth over a -6 dB/octave tilt.
			a := 1/(1+sq((hf-v[0])/100)) + 0.5/(1+sq((hf-v[1])/120)) + 0.05/float64(h)
			x += a * math.Sin(float64(h)*phase)
		}
		env := math.Sin(math.Pi * float64(j) / float64(syl)) // rise and fall
		buf[i] = x * env
	}
	max := 0.0
	for _, x := range buf {
		max = math.Max(max, math.Abs(x))
	}
	out := make([]int16, n)
	if max == 0 {
		return out
	}
	for i, x := range buf {
		out[i] = int16(x / max * peak)
	}
	return out
}

func sq(x float64) float64 { return x * x }

// rms returns the root mean square of samples, 0 for none.
func rms(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	return math.Sqrt(audiotest.Energy(samples) / float64(len(samples)))
}

// dBFS expresses an RMS level relative to full scale.
func dBFS(r float64) float64 {
	if r <= 0 {
		return math.Inf(-1)
	}
	return 20 * math.Log10(r/32768)
}

// onset returns the index of the first 20 ms frame of samples whose RMS
// exceeds thresh, or -1.
func onset(samples []int16, frame int, thresh float64) int {
	for i := 0; i+frame <= len(samples); i += frame {
		if rms(samples[i:i+frame]) > thresh {
			return i
		}
	}
	return -1
}

// writeWAVFile writes samples as a mono 16-bit WAV file at rate.
func writeWAVFile(path string, rate int, samples []int16) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := wav.NewWriter(f, rate)
	if err := w.WriteSamples(samples); err != nil {
		f.Close()
		return err
	}
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readWAVFile reads a WAV file and converts it to mono at rate.
func readWAVFile(path string, rate int) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return wav.ReadAll(f, rate)
}

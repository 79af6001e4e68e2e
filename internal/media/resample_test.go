package media

import (
	"math"
	"testing"

	"github.com/xphone-go/xphone/internal/audiotest"
)

// toneFrames returns frames of n samples of freq Hz at rate.
func toneFrames(freq float64, rate, n, frames int) [][]int16 {
	g := audiotest.ToneGenerator{Freq: freq, SampleRate: rate, Amplitude: 8000}
	out := make([][]int16, frames)
	for i := range out {
		out[i] = make([]int16, n)
		g.Fill(out[i])
	}
	return out
}

func rms(s []int16) float64 {
	var e float64
	for _, v := range s {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(s)))
}

// TestResample: tones in the telephone band keep their frequency and level
// through either direction, frame after frame; a 6 kHz tone at 16 kHz,
// which 8 kHz cannot carry, is removed rather than folded to 2 kHz; and
// the 8 → 16 kHz image of a 3 kHz tone (at 5 kHz) is removed.
func TestResample(t *testing.T) {
	const frames = 50
	for _, tt := range []struct {
		name      string
		up        bool
		freq      float64
		wantFreq  float64 // 0: the output must be (almost) silent
		wantRatio float64 // output RMS / input RMS, ±0.05
	}{
		{"down 1 kHz", false, 1000, 1000, 1},
		{"down 3 kHz", false, 3000, 3000, 1},
		{"down 6 kHz", false, 6000, 0, 0},
		{"up 440 Hz", true, 440, 440, 1},
		{"up 3 kHz", true, 3000, 3000, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newResampler(160)
			inRate, inN, outRate, outN := 16000, 320, 8000, 160
			if tt.up {
				inRate, inN, outRate, outN = 8000, 160, 16000, 320
			}
			var in, out []int16
			for _, f := range toneFrames(tt.freq, inRate, inN, frames) {
				o := make([]int16, outN)
				if tt.up {
					r.upsample(o, f)
				} else {
					r.downsample(o, f)
				}
				in, out = append(in, f...), append(out, o...)
			}
			out = out[outN*5:] // past the filter's start
			in = in[inN*5:]
			ratio := rms(out) / rms(in)
			if tt.wantFreq == 0 {
				if ratio > 0.01 { // 40 dB down
					t.Errorf("got output at %.3f of the input level, want under 0.01", ratio)
				}
				return
			}
			if math.Abs(ratio-tt.wantRatio) > 0.05 {
				t.Errorf("got level ratio %.3f, want %.2f ± 0.05", ratio, tt.wantRatio)
			}
			if err := audiotest.CheckTone(out, outRate, tt.wantFreq, 10); err != nil {
				t.Errorf("output: %v", err)
			}
			if tt.up {
				// The image of f at 8000-f Hz, which the filter removes.
				if p := audiotest.Power(out, 8000-tt.freq, outRate); p > 1e-3*audiotest.Power(out, tt.freq, outRate) {
					t.Errorf("image at %v Hz: got %.2g of the tone's power, want under 1e-3", 8000-tt.freq, p/audiotest.Power(out, tt.freq, outRate))
				}
			}
		})
	}
}

func TestResampleAllocs(t *testing.T) {
	r := newResampler(160)
	a, b := make([]int16, 320), make([]int16, 160)
	if got := testing.AllocsPerRun(100, func() {
		r.downsample(b, a)
		r.upsample(a, b)
	}); got != 0 {
		t.Errorf("got %v allocs per frame pair, want 0", got)
	}
}

func BenchmarkResample(b *testing.B) {
	r := newResampler(160)
	f16 := toneFrames(1000, 16000, 320, 1)[0]
	f8 := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		r.downsample(f8, f16)
		r.upsample(f16, f8)
	}
}

// TestPCMRate: Options.PCMRate gives frames of its rate whatever the
// codec's: a 16 kHz application on a PCMU call and an 8 kHz one on a G.722
// call each write and read frames of their own size, and tones cross both
// ways to a peer at the codec's own rate.
func TestPCMRate(t *testing.T) {
	for _, tt := range []struct {
		codec string
		rate  int // the application's
	}{
		{CodecPCMU, 16000},
		{CodecG722, 8000},
	} {
		t.Run(tt.codec, func(t *testing.T) {
			oa := testOptions()
			oa.PCMRate = tt.rate
			cfg := Config{Codec: tt.codec}
			a, b := pair(t, oa, testOptions(), cfg, cfg)
			if got := a.SampleRate(); got != tt.rate {
				t.Errorf("SampleRate: got %d, want %d", got, tt.rate)
			}
			feedTone(t, a, 1000, 60)
			feedTone(t, b, 600, 60)
			heardByB := collect(t, b, 40)
			heardByA := collect(t, a, 40)
			if got, want := len(heardByA), 40*tt.rate/50; got != want {
				t.Errorf("a's frames: got %d samples in 40, want %d", got, want)
			}
			checkTone(t, heardByB, b.SampleRate(), 1000)
			checkTone(t, heardByA, tt.rate, 600)
		})
	}
}

package audiotest

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFillContinuesPhase(t *testing.T) {
	want := Tone(1000, 8000, 10000, 800)
	g := ToneGenerator{Freq: 1000, SampleRate: 8000, Amplitude: 10000}
	var got []int16
	frame := make([]int16, 160)
	for range 5 {
		g.Fill(frame)
		got = append(got, frame...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("five 160-sample frames differ from one 800-sample tone")
	}
	if g.Samples() != 800 {
		t.Fatalf("got Samples() %d, want 800", g.Samples())
	}
}

func TestFillZeroValueIsSilence(t *testing.T) {
	var g ToneGenerator
	frame := []int16{1, 2, 3}
	g.Fill(frame)
	if !slices.Equal(frame, []int16{0, 0, 0}) {
		t.Fatalf("got %v, want silence", frame)
	}
}

func TestFillAllocatesNothing(t *testing.T) {
	g := ToneGenerator{Freq: 440, SampleRate: 8000, Amplitude: 8000}
	frame := make([]int16, 160)
	if n := testing.AllocsPerRun(100, func() { g.Fill(frame) }); n != 0 {
		t.Fatalf("got %v allocs per Fill, want 0", n)
	}
}

func TestToneAmplitudeClamps(t *testing.T) {
	s := Tone(1000, 8000, 1e6, 8)
	if got := slices.Max(s); got != math.MaxInt16 {
		t.Fatalf("got max %d, want %d", got, math.MaxInt16)
	}
	if got := slices.Min(s); got != math.MinInt16 {
		t.Fatalf("got min %d, want %d", got, math.MinInt16)
	}
}

func TestRelativePower(t *testing.T) {
	tests := []struct {
		name     string
		tone     float64
		rate     int
		probe    float64
		min, max float64
	}{
		{"on bin", 1000, 8000, 1000, 0.99, 1.01},
		{"off bin", 437.3, 8000, 437.3, 0.99, 1.01},
		{"wideband", 7000, 16000, 7000, 0.99, 1.01},
		{"absent", 1000, 8000, 1500, 0, 0.01},
		{"neighbour 50 Hz away", 1000, 8000, 1050, 0, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Tone(tt.tone, tt.rate, 12000, tt.rate/2) // 500 ms
			got := RelativePower(s, tt.probe, tt.rate)
			if got < tt.min || got > tt.max {
				t.Fatalf("got %.4f, want in [%v, %v]", got, tt.min, tt.max)
			}
		})
	}
	if got := RelativePower(make([]int16, 100), 1000, 8000); got != 0 {
		t.Fatalf("silence: got %v, want 0", got)
	}
	if got := Power(nil, 1000, 8000); got != 0 {
		t.Fatalf("empty: got %v, want 0", got)
	}
}

func noisy(s []int16, level float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]int16, len(s))
	for i, x := range s {
		out[i] = clamp16(float64(x) + level*(2*r.Float64()-1))
	}
	return out
}

func TestDominantFrequency(t *testing.T) {
	tests := []struct {
		name   string
		s      []int16
		rate   int
		want   float64
		tol    float64
		minRel float64
	}{
		{"440 Hz at 8 kHz", Tone(440, 8000, 10000, 4000), 8000, 440, 1, 0.95},
		{"1000 Hz at 8 kHz", Tone(1000, 8000, 10000, 4000), 8000, 1000, 1, 0.95},
		{"3400 Hz at 8 kHz", Tone(3400, 8000, 10000, 4000), 8000, 3400, 1, 0.95},
		{"1234.5 Hz at 16 kHz", Tone(1234.5, 16000, 10000, 8000), 16000, 1234.5, 1, 0.95},
		{"440 Hz in noise", noisy(Tone(440, 8000, 10000, 8000), 3000, 1), 8000, 440, 1, 0.8},
		{"short 20 ms frame", Tone(1000, 8000, 10000, 160), 8000, 1000, 10, 0.9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rel := DominantFrequency(tt.s, tt.rate)
			if math.Abs(got-tt.want) > tt.tol {
				t.Fatalf("got %.2f Hz, want %.2f ± %v", got, tt.want, tt.tol)
			}
			if rel < tt.minRel {
				t.Fatalf("got relative power %.3f, want ≥ %v", rel, tt.minRel)
			}
		})
	}
}

func TestCheckTone(t *testing.T) {
	tone := Tone(440, 8000, 10000, 8000)
	twoTones := Tone(440, 8000, 6000, 8000)
	for i, x := range Tone(1000, 8000, 6000, 8000) {
		twoTones[i] = clamp16(float64(twoTones[i]) + float64(x))
	}
	tests := []struct {
		name    string
		s       []int16
		wantErr bool
	}{
		{"right tone", tone, false},
		{"right tone after noise", noisy(tone, 2000, 2), false},
		{"wrong tone", Tone(600, 8000, 10000, 8000), true},
		{"silence", make([]int16, 8000), true},
		{"white noise", noisy(make([]int16, 8000), 10000, 3), true},
		{"two equal tones", twoTones, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTone(tt.s, 8000, 440, 5)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

func TestContinuity(t *testing.T) {
	const rate, freq, amp = 8000, 440.0, 10000.0
	clean := Tone(freq, rate, amp, rate) // 1 s = 50 frames

	dropped := slices.Clone(clean)
	clear(dropped[10*160 : 12*160]) // frames 10, 11
	clear(dropped[30*160 : 31*160]) // frame 30

	// A phase inversion at a sample near the peak: a click.
	inverted := slices.Clone(clean)
	at := 25 * 160
	for math.Abs(float64(inverted[at])) < 0.8*amp {
		at++
	}
	for i := at; i < len(inverted); i++ {
		inverted[i] = -inverted[i]
	}

	tests := []struct {
		name string
		s    []int16
		want ContinuityReport
	}{
		{"clean", clean, ContinuityReport{Frames: 50}},
		{"clean with partial frame", clean[:50*160-7], ContinuityReport{Frames: 49}},
		{"three dropped frames", dropped, ContinuityReport{Frames: 50, SilentFrames: 3, SilentRuns: 2, LongestSilentRun: 2}},
		{"phase inversion", inverted, ContinuityReport{Frames: 50, Discontinuities: 1}},
		{"all silent", make([]int16, 1600), ContinuityReport{Frames: 10, SilentFrames: 10, SilentRuns: 1, LongestSilentRun: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Continuity(tt.s, rate, freq, amp)
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	r := Continuity(dropped, rate, freq, amp)
	if got, want := r.SilentFraction(), 3.0/50; got != want {
		t.Fatalf("got SilentFraction %v, want %v", got, want)
	}
	if got := (ContinuityReport{}).SilentFraction(); got != 0 {
		t.Fatalf("got SilentFraction %v of no frames, want 0", got)
	}
}

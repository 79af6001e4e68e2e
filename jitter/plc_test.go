package jitter

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// tone returns n samples of a harmonic signal with fundamental f Hz at
// 8 kHz, starting at sample offset off, peaking near 12000.
func tone(f float64, off, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		x := 2 * math.Pi * f * float64(off+i) / 8000
		out[i] = int16(7000*math.Sin(x) + 3500*math.Sin(2*x+0.5) + 1500*math.Sin(3*x+1))
	}
	return out
}

func energy(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e
}

func errEnergy(a, b []int16) float64 {
	var e float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		e += d * d
	}
	return e
}

func maxStep(x []int16) int {
	m := 0
	for i := 1; i < len(x); i++ {
		d := int(x[i]) - int(x[i-1])
		m = max(m, d, -d)
	}
	return m
}

// primed returns a concealer fed 10 frames of the tone.
func primed(f float64) *PCMConcealer {
	c := NewPCMConcealer(8000)
	for k := range 10 {
		c.Decoded(tone(f, k*160, 160))
	}
	return c
}

func TestPCMConcealerFirstFrameFollowsSignal(t *testing.T) {
	for _, f := range []float64{100, 150, 210, 333} { // periods 80, 53.3, 38.1 (below range: twice is found), 24 samples
		want := tone(f, 1600, 160)
		got := primed(f).Conceal(nil, 160)
		// Energy of the error relative to the signal: 1.0 is what
		// playing silence would score.
		rel := errEnergy(got, want) / energy(want)
		if rel > 0.05 {
			t.Errorf("%v Hz: relative error got %.3f, want <= 0.05 (silence: 1.0)", f, rel)
		}
	}
}

func TestPCMConcealerFadesOut(t *testing.T) {
	c := primed(150)
	var e []float64
	for range 5 {
		e = append(e, energy(c.Conceal(nil, 160)))
	}
	// 0-20 ms: full level then -20 %; 20-40 ms: 80 % to 40 %; 40-60 ms: 40 % to 0; then silence.
	if !(e[1] < 0.6*e[0] && e[2] < 0.25*e[1] && e[3] == 0 && e[4] == 0) {
		t.Errorf("frame energies got %.3g, want falling to zero by 60 ms", e)
	}
}

func TestPCMConcealerRecoversWithoutClick(t *testing.T) {
	const f = 150
	limit := 2 * maxStep(tone(f, 0, 8000)) // steepest step of the signal itself, doubled
	for _, lost := range []int{1, 2, 3, 6} {
		c := primed(f)
		var out []int16
		out = append(out, tone(f, 1600-160, 160)...) // last good frame, already played
		for range lost {
			out = c.Conceal(out, 160)
		}
		// The signal resumes at a phase unrelated to the concealment.
		good := tone(f, 1600+lost*160+37, 160)
		c.Decoded(good)
		out = append(out, good...)
		if got := maxStep(out); got > limit {
			t.Errorf("%d lost frames: largest sample step got %d, want <= %d", lost, got, limit)
		}
	}
	// Without the overlap-add the same resumption clicks: the check can fail.
	naive := append(tone(f, 1600, 160), tone(f, 1600+160+37, 160)...)
	if maxStep(naive) <= limit {
		t.Fatalf("test signal does not click without smoothing: step %d", maxStep(naive))
	}
}

// TestPCMConcealerSpeech drops 10 % of the 20 ms frames of real speech and
// compares each concealed frame with the lost original, against what
// playing silence would give: the waveform over the first 5 ms (where
// repeating the last pitch period still matches the phase) and the
// magnitude spectrum over the whole frame (phase-free, what the ear
// mostly hears). Both errors must be below silence's.
func TestPCMConcealerSpeech(t *testing.T) {
	raw, err := os.ReadFile("../testdata/workloads/audio/speech-8k-s16le.raw")
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(raw)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	rng := rand.New(rand.NewPCG(1, 7))
	c := NewPCMConcealer(8000)
	var wavePLC, waveSilence, specPLC, specSilence float64
	out := make([]int16, 0, 160)
	frame := make([]int16, 160)
	lost := 0
	for k := 0; (k+1)*160 <= len(pcm); k++ {
		orig := pcm[k*160 : (k+1)*160]
		if k > 10 && rng.Float64() < 0.10 {
			lost++
			out = c.Conceal(out[:0], 160)
			wavePLC += errEnergy(out[:40], orig[:40])
			waveSilence += energy(orig[:40])
			mo, mp := magnitudes(orig), magnitudes(out)
			for i := range mo {
				specPLC += (mo[i] - mp[i]) * (mo[i] - mp[i])
				specSilence += mo[i] * mo[i]
			}
			continue
		}
		copy(frame, orig)
		c.Decoded(frame)
	}
	wave, spec := wavePLC/waveSilence, specPLC/specSilence
	t.Logf("%d lost frames; error relative to silence: waveform (first 5 ms) %.3f, magnitude spectrum %.3f", lost, wave, spec)
	// Speech is only locally periodic, so the waveform gain is modest
	// (a few loud frames dominate); the spectrum is kept much better.
	if wave > 0.85 || spec > 0.45 {
		t.Errorf("error relative to silence: got waveform %.3f spectrum %.3f, want <= 0.85 and 0.45", wave, spec)
	}
}

// magnitudes returns the DFT magnitudes of x, bins 0 to len(x)/2.
func magnitudes(x []int16) []float64 {
	n := len(x)
	m := make([]float64, n/2+1)
	for k := range m {
		var re, im float64
		for i, v := range x {
			a := 2 * math.Pi * float64(k*i) / float64(n)
			re += float64(v) * math.Cos(a)
			im -= float64(v) * math.Sin(a)
		}
		m[k] = math.Hypot(re, im)
	}
	return m
}

func TestPCMConcealerAllocs(t *testing.T) {
	c := primed(150)
	dst := make([]int16, 0, 320)
	frame := tone(150, 0, 160)
	allocs := testing.AllocsPerRun(100, func() {
		dst = c.Conceal(dst[:0], 160)
		dst = c.Conceal(dst[:0], 160)
		c.Decoded(frame)
	})
	if allocs != 0 {
		t.Errorf("allocs per conceal/decoded: got %v, want 0", allocs)
	}
}

func TestPCMConcealerSilentHistory(t *testing.T) {
	c := NewPCMConcealer(16000)
	got := c.Conceal(nil, 320)
	if len(got) != 320 || energy(got) != 0 {
		t.Errorf("got %d samples of energy %v, want 320 silent samples", len(got), energy(got))
	}
}

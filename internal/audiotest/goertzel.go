package audiotest

import (
	"fmt"
	"math"
)

// Power returns the energy of samples at freq Hz, computed with the
// generalized Goertzel algorithm (a single DFT term evaluated at exactly
// freq, so freq need not fall on a bin). It is scaled so that, for a pure
// sine of peak amplitude A at freq over a whole number of periods, Power is
// A²·len(samples)/2, the same as the sine's total energy Σx².
func Power(samples []int16, freq float64, sampleRate int) float64 {
	n := len(samples)
	if n == 0 || sampleRate <= 0 {
		return 0
	}
	w := 2 * math.Pi * freq / float64(sampleRate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	// |X(w)|² from the last two states of the recurrence.
	mag2 := s1*s1 + s2*s2 - coeff*s1*s2
	if mag2 < 0 {
		mag2 = 0
	}
	return 2 * mag2 / float64(n)
}

// Energy returns Σx², the total energy of samples.
func Energy(samples []int16) float64 {
	var e float64
	for _, x := range samples {
		v := float64(x)
		e += v * v
	}
	return e
}

// RelativePower returns the fraction (0 to about 1) of the total energy of
// samples that lies at freq Hz: near 1 for a clean tone at freq, near 0 when
// freq is absent. Silence gives 0.
func RelativePower(samples []int16, freq float64, sampleRate int) float64 {
	e := Energy(samples)
	if e == 0 {
		return 0
	}
	return Power(samples, freq, sampleRate) / e
}

// DominantFrequency returns the frequency between 20 Hz and the Nyquist
// frequency at which samples have the most energy, and that energy as a
// fraction of the total (see RelativePower). It scans the DFT bins, then
// refines around the best one to a tenth of a bin.
func DominantFrequency(samples []int16, sampleRate int) (freq, relative float64) {
	n := len(samples)
	if n < 2 || sampleRate <= 0 {
		return 0, 0
	}
	bin := float64(sampleRate) / float64(n)
	nyquist := float64(sampleRate) / 2
	// Long inputs would make the scan quadratic: bins finer than 1 Hz add
	// nothing a test needs, so the coarse step is at least 1 Hz.
	step := math.Max(bin, 1)
	best, bestP := 0.0, -1.0
	for f := math.Max(20, step); f < nyquist; f += step {
		if p := Power(samples, f, sampleRate); p > bestP {
			best, bestP = f, p
		}
	}
	for f := best - step; f <= best+step; f += step / 10 {
		if f <= 0 || f >= nyquist {
			continue
		}
		if p := Power(samples, f, sampleRate); p > bestP {
			best, bestP = f, p
		}
	}
	e := Energy(samples)
	if e == 0 {
		return 0, 0
	}
	return best, bestP / e
}

// MinToneRelativePower is the share of the energy that CheckTone requires at
// the dominant frequency. G.711 and resampling keep a clean tone well above
// it; noise, a mix of tones or heavy clipping fall below.
const MinToneRelativePower = 0.5

// CheckTone reports whether the dominant frequency of samples is freq ± tol
// Hz and carries at least MinToneRelativePower of the energy. The error
// says what was found instead.
func CheckTone(samples []int16, sampleRate int, freq, tol float64) error {
	if Energy(samples) == 0 {
		return fmt.Errorf("audiotest: want a %.0f Hz tone, got silence (%d samples)", freq, len(samples))
	}
	got, rel := DominantFrequency(samples, sampleRate)
	if math.Abs(got-freq) > tol {
		return fmt.Errorf("audiotest: got dominant frequency %.1f Hz (%.0f%% of energy), want %.1f ± %.1f Hz",
			got, 100*rel, freq, tol)
	}
	if rel < MinToneRelativePower {
		return fmt.Errorf("audiotest: %.1f Hz carries %.0f%% of the energy, want at least %.0f%%",
			got, 100*rel, 100*MinToneRelativePower)
	}
	return nil
}

package audiotest

import "math"

// FrameDurationMillis is the frame length Continuity works in, 20 ms, the
// packetization time of the calls under test.
const FrameDurationMillis = 20

// ContinuityReport describes how continuous a received tone is.
type ContinuityReport struct {
	// Frames is the number of whole 20 ms frames examined.
	Frames int
	// SilentFrames counts frames whose RMS is below a tenth of the tone's:
	// dropped packets played out as silence.
	SilentFrames int
	// SilentRuns counts runs of consecutive silent frames (gaps).
	SilentRuns int
	// LongestSilentRun is the longest gap, in frames.
	LongestSilentRun int
	// Discontinuities counts places where one sample jumps further than a
	// sine of the tone's frequency and amplitude can move between two
	// samples (with a 50% margin): clicks from concealment, splices or
	// reordering. Consecutive offending samples count once. Jumps at the
	// edges of silent frames are gaps, counted above, not clicks.
	Discontinuities int
}

// SilentFraction returns SilentFrames/Frames, or 0 when there are no frames.
func (r ContinuityReport) SilentFraction() float64 {
	if r.Frames == 0 {
		return 0
	}
	return float64(r.SilentFrames) / float64(r.Frames)
}

// Continuity measures the gaps and clicks in samples, which should hold a
// continuous sine of freq Hz with peak amplitude near amplitude (as sent by
// a ToneGenerator, after any codec). A trailing partial frame is ignored.
func Continuity(samples []int16, sampleRate int, freq, amplitude float64) ContinuityReport {
	var r ContinuityReport
	frame := sampleRate * FrameDurationMillis / 1000
	if frame <= 0 || amplitude <= 0 {
		return r
	}
	toneRMS := amplitude / math.Sqrt2
	silentBelow := toneRMS / 10
	// The largest step of A·sin(ωn) between neighbours is 2A·sin(ω/2).
	maxStep := 1.5 * 2 * amplitude * math.Sin(math.Min(math.Pi/2, math.Pi*freq/float64(sampleRate)))
	nFrames := len(samples) / frame
	silent := make([]bool, nFrames)
	run := 0
	for k := range nFrames {
		f := samples[k*frame : (k+1)*frame]
		r.Frames++
		if math.Sqrt(Energy(f)/float64(frame)) >= silentBelow {
			run = 0
			continue
		}
		silent[k] = true
		r.SilentFrames++
		if run == 0 {
			r.SilentRuns++
		}
		run++
		r.LongestSilentRun = max(r.LongestSilentRun, run)
	}
	inJump := false
	for n := 1; n < nFrames*frame; n++ {
		if silent[n/frame] || silent[(n-1)/frame] {
			inJump = false
			continue
		}
		jump := math.Abs(float64(samples[n])-float64(samples[n-1])) > maxStep
		if jump && !inJump {
			r.Discontinuities++
		}
		inJump = jump
	}
	return r
}

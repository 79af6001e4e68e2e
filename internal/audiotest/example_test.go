package audiotest_test

import (
	"bytes"
	"fmt"

	"github.com/xphone-go/xphone/internal/audiotest"
)

// A tone is sent as 20 ms frames, one frame is lost on the way, and the
// receiver checks what arrived.
func Example() {
	gen := audiotest.ToneGenerator{Freq: 440, SampleRate: 8000, Amplitude: 8000}
	var received []int16
	frame := make([]int16, 160)
	for i := range 50 {
		gen.Fill(frame)
		if i == 20 {
			received = append(received, make([]int16, 160)...) // lost: silence
			continue
		}
		received = append(received, frame...)
	}

	// Round trip through a WAV file, as a recording peer would leave it.
	var wav bytes.Buffer
	if err := audiotest.WriteWAV(&wav, 8000, 1, received); err != nil {
		panic(err)
	}
	w, err := audiotest.ReadWAV(&wav)
	if err != nil {
		panic(err)
	}

	fmt.Println("tone check:", audiotest.CheckTone(w.Mono(), w.SampleRate, 440, 5))
	r := audiotest.Continuity(w.Mono(), w.SampleRate, 440, 8000)
	fmt.Printf("frames %d, silent %d (%.0f%%)\n", r.Frames, r.SilentFrames, 100*r.SilentFraction())
	// Output:
	// tone check: <nil>
	// frames 50, silent 1 (2%)
}

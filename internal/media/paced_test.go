package media

import (
	"testing"

	"github.com/xphone-go/xphone/internal/audiotest"
)

// TestPacedChunksOfAnyLength writes 3 s of tone on PacedPCMWriter in chunks
// that do not line up with 20 ms frames (one long chunk, then odd sizes)
// and checks that the tone keeps arriving for longer than the first chunk
// alone would last: each chunk is cut into frames, not truncated to one.
func TestPacedChunksOfAnyLength(t *testing.T) {
	for _, tt := range []struct {
		name   string
		chunks []int // samples per send, at 8 kHz
	}{
		{"one long chunk", []int{24000}},
		{"odd sizes", []int{8000, 97, 1203, 5000, 9700}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Codec: CodecPCMU}
			a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
			g := audiotest.ToneGenerator{Freq: 700, SampleRate: 8000, Amplitude: 8000}
			w := a.PacedPCMWriter()
			for _, n := range tt.chunks {
				c := make([]int16, n)
				g.Fill(c)
				w <- c
			}
			// 3 s is 150 frames: skip the first 40 and expect the tone in
			// the windows after, well past the first chunk of odd sizes
			// (97 samples would be one frame if chunks were truncated).
			collect(t, b, 40)
			for i := range 4 {
				win := collect(t, b, 20)
				if err := audiotest.CheckTone(win, 8000, 700, 15); err != nil {
					t.Fatalf("window %d (frames %d-%d): %v; stats %+v", i, 40+20*i, 60+20*i, err, b.Stats())
				}
			}
		})
	}
}

// TestSkipTicksDropsAudioDueInThem: after a stall the loop skips the
// missed ticks; the PCMWriter frames due in them are dropped (and
// counted) so the stall does not become permanent delay, and the RTP
// timestamp moves on by the skipped time.
func TestSkipTicksDropsAudioDueInThem(t *testing.T) {
	l := &loop{s: &Session{}}
	l.ci.tsPerFrame = 160
	for i := range 10 {
		l.pcmQ.push([]int16{int16(i)})
	}
	l.ts = 1000
	l.skipTicks(4)
	if l.pcmQ.n != 6 {
		t.Errorf("queued frames: got %d, want 6", l.pcmQ.n)
	}
	if f, _ := l.pcmQ.pop(); f[0] != 4 {
		t.Errorf("next frame: got #%d, want #4 (the oldest are dropped)", f[0])
	}
	if got := l.s.ctr.droppedOut.Load(); got != 4 {
		t.Errorf("dropped outbound: got %d, want 4", got)
	}
	if l.ts != 1000+4*160 {
		t.Errorf("timestamp: got %d, want %d", l.ts, 1000+4*160)
	}
	l.skipTicks(100) // more ticks than frames: the queue empties
	if l.pcmQ.n != 0 || l.s.ctr.droppedOut.Load() != 9 {
		t.Errorf("after a long stall: %d queued, %d dropped, want 0 and 9", l.pcmQ.n, l.s.ctr.droppedOut.Load())
	}
}

package media

import (
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/rtp"
)

// TestClearOutputStopsPacedSpeech: 10 s of tone written at once on
// PacedPCMWriter plays until ClearOutput, which reports nearly all of it
// dropped; the peer then hears silence, and audio written afterwards
// plays at once.
func TestClearOutputStopsPacedSpeech(t *testing.T) {
	t.Parallel()
	cfg := Config{Codec: CodecPCMU}
	a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
	a.PacedPCMWriter() <- audiotest.Tone(700, 8000, 8000, 10*8000)
	// The tone arrives: 10 frames of it once the first loud one came.
	waitLoud(t, b)
	if err := audiotest.CheckTone(collect(t, b, 10), 8000, 700, 15); err != nil {
		t.Fatalf("before ClearOutput: %v", err)
	}
	dropped := a.ClearOutput()
	if dropped < 8*time.Second || dropped > 10*time.Second {
		t.Errorf("ClearOutput: dropped %v, want between 8 s and 10 s of the 10 s written", dropped)
	}
	if again := a.ClearOutput(); again != 0 {
		t.Errorf("second ClearOutput: dropped %v, want 0", again)
	}
	// Audio written now plays at once: before it, the peer hears at
	// most the frames in flight (and their concealment) of the old one.
	a.PacedPCMWriter() <- audiotest.Tone(1200, 8000, 8000, 8000)
	old := 0
	for {
		f := collect(t, b, 1)
		if audiotest.Energy(f) < float64(len(f))*1000*1000 {
			continue // silence, or no frame: nothing was sent
		}
		if audiotest.Power(f, 1200, 8000) > audiotest.Power(f, 700, 8000) {
			break
		}
		if old++; old > 5 {
			t.Fatalf("the cleared tone still plays: %d frames of it after ClearOutput", old)
		}
	}
	if err := audiotest.CheckTone(collect(t, b, 10), 8000, 1200, 15); err != nil {
		t.Errorf("written after ClearOutput: %v", err)
	}
	t.Logf("dropped %v; %d frames of the cleared tone heard after ClearOutput", dropped, old)
}

// waitLoud reads s's frames until one carries sound (RMS above 1000).
func waitLoud(t *testing.T, s *Session) {
	t.Helper()
	for range 250 {
		if f := collect(t, s, 1); audiotest.Energy(f) > float64(len(f))*1000*1000 {
			return
		}
	}
	t.Fatal("no sound within 250 frames")
}

// TestClearOutputCounts: ClearOutput drops, and counts at 20 ms each, the
// frames and packets queued by the loop and waiting on PCMWriter and
// RTPWriter, and the paced samples (the rest of the chunk being played
// and the chunks waiting) at the frame size in use.
func TestClearOutputCounts(t *testing.T) {
	s := &Session{}
	l := &loop{s: s, appN: 160}
	for range 3 {
		l.pcmQ.push(make([]int16, 160))
	}
	for range 2 {
		l.rtpQ.push(&rtp.Packet{})
	}
	l.pacedRest = make([]int16, 80)
	pcm, paced, raw := getChan(s, &s.pcmIn, false), getChan(s, &s.pacedIn, false), getChan(s, &s.rtpIn, false)
	for range 4 {
		pcm <- make([]int16, 160)
	}
	paced <- make([]int16, 320)
	raw <- &rtp.Packet{}
	// 3 + 2 + 4 + 1 frames and packets, 80 + 320 samples: 200 ms + 50 ms.
	if got, want := l.clearOutput(s), 250*time.Millisecond; got != want {
		t.Errorf("dropped: got %v, want %v", got, want)
	}
	if l.pcmQ.n+l.rtpQ.n+len(l.pacedRest)+len(pcm)+len(paced)+len(raw) != 0 {
		t.Errorf("left: %d+%d queued, %d paced samples, %d+%d+%d waiting", l.pcmQ.n, l.rtpQ.n, len(l.pacedRest), len(pcm), len(paced), len(raw))
	}
	// Before Start the frame size is not known: 8 kHz unless PCMRate.
	s2 := &Session{opts: Options{PCMRate: 16000}}
	getChan(s2, &s2.pacedIn, false) <- make([]int16, 16000)
	if got := new(loop).clearOutput(s2); got != time.Second {
		t.Errorf("before Start at 16 kHz: got %v, want 1s", got)
	}
}

package xphone

import (
	"context"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/audiotest"
)

// TestPCMRate: a phone with Config.PCMRate 16000 on a PCMU call reads and
// writes 320-sample frames; its 16 kHz tone reaches an ordinary 8 kHz
// phone at the right frequency and the other way round.
func TestPCMRate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, in := callPair(t, listeningPhone(t, func(c *Config) { c.PCMRate = 16000; c.Codecs = []Codec{CodecPCMU} }), listeningPhone(t))
	feed := func(c Call, freq float64, rate int) {
		g := audiotest.ToneGenerator{Freq: freq, SampleRate: rate, Amplitude: 8000}
		for range 100 {
			f := make([]int16, rate/50)
			g.Fill(f)
			select {
			case c.PacedPCMWriter() <- f:
			case <-ctx.Done():
				return
			}
		}
	}
	go feed(c, 1000, 16000)
	go feed(in, 600, 8000)
	read := func(c Call, n int) []int16 {
		var s []int16
		for range n {
			select {
			case f := <-c.PCMReader():
				s = append(s, f...)
			case <-ctx.Done():
				t.Fatal("no audio")
			}
		}
		return s
	}
	atCaller, atCallee := read(c, 40), read(in, 40)
	if len(atCaller) != 40*320 || len(atCallee) != 40*160 {
		t.Fatalf("got %d and %d samples in 40 frames, want %d (16 kHz) and %d (8 kHz)", len(atCaller), len(atCallee), 40*320, 40*160)
	}
	if err := audiotest.CheckTone(atCaller[len(atCaller)/2:], 16000, 600, 15); err != nil {
		t.Errorf("caller at 16 kHz heard: %v", err)
	}
	if err := audiotest.CheckTone(atCallee[len(atCallee)/2:], 8000, 1000, 15); err != nil {
		t.Errorf("callee at 8 kHz heard: %v", err)
	}
}

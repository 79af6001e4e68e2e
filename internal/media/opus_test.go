//go:build opus

package media

import (
	"testing"

	"github.com/xphone-go/xphone/internal/audiotest"
)

func TestToneOpus(t *testing.T) {
	cfg := Config{Codec: CodecOpus, PayloadType: 111, DTMFPayloadType: 101}
	a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
	if r := a.SampleRate(); r != 16000 {
		t.Fatalf("got sample rate %d, want 16000", r)
	}
	// Opus needs a few frames to settle: check the later part.
	feedTone(t, a, 440, 80)
	feedTone(t, b, 1000, 80)
	checkTone(t, collect(t, b, 50), 16000, 440)
	checkTone(t, collect(t, a, 50), 16000, 1000)
	// RFC 7587 §4.1: the timestamp runs at 48 kHz, 960 per frame.
	if ts := a.l.ci.tsPerFrame; ts != 960 {
		t.Errorf("got timestamp step %d, want 960", ts)
	}
}

func TestOpusConceal(t *testing.T) {
	p := newPipe(t, false)
	lc, err := p.s.buildConfig(Config{Codec: CodecOpus, PayloadType: 111})
	if err != nil {
		t.Fatal(err)
	}
	d := lc.dec
	defer lc.close()
	enc := lc.enc
	g := audiotest.ToneGenerator{Freq: 440, SampleRate: 16000, Amplitude: 8000}
	pcm := make([]int16, 320)
	for range 10 {
		g.Fill(pcm)
		if out := d.decode(nil, enc.encode(nil, pcm)); len(out) != 320 {
			t.Fatalf("got %d samples, want 320", len(out))
		}
	}
	if out := d.concealer().Conceal(nil, 320); len(out) != 320 || audiotest.Energy(out) == 0 {
		t.Errorf("got %d concealed samples with energy %v, want 320 non-silent", len(out), audiotest.Energy(out))
	}
}

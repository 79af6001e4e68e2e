package media

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/xphone-go/xphone/internal/audiotest"
)

func TestPCMStreams(t *testing.T) {
	cfg := Config{Codec: CodecPCMA}
	a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
	pcm := audiotest.Tone(500, 8000, 8000, 8000) // 1 s
	raw := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(v))
	}
	w := a.PCMStreamWriter()
	// Odd-sized writes must reassemble into whole samples and frames.
	for off := 0; off < len(raw); {
		n := min(333, len(raw)-off)
		if m, err := w.Write(raw[off : off+n]); err != nil || m != n {
			t.Fatalf("Write: got %d, %v, want %d, nil", m, err, n)
		}
		off += n
	}
	r := b.PCMStreamReader()
	got := make([]byte, 2*160*40)
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatal(err)
	}
	samples := make([]int16, len(got)/2)
	for i := range samples {
		samples[i] = int16(binary.LittleEndian.Uint16(got[2*i:]))
	}
	if err := audiotest.CheckTone(samples[len(samples)/2:], 8000, 500, 15); err != nil {
		t.Errorf("stream tone: %v", err)
	}
	b.Close()
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Errorf("got %v draining a closed session, want EOF (nil from Copy)", err)
	}
	a.Close()
	// The paced queue is not read any more; a blocked Write ends.
	big := make([]byte, 2*160*(ChannelDepth+2))
	if _, err := w.Write(big); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("got %v writing to a closed session, want io.ErrClosedPipe", err)
	}
}

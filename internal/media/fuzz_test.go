package media

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReceive feeds arbitrary datagrams to the receive path (STUN demux,
// SRTP, RTP and RTCP parsing, DTMF, jitter buffer, decoding), interleaved
// with playout ticks. It must never panic, and a valid packet that
// follows the noise must still be accepted.
func FuzzReceive(f *testing.F) {
	for _, name := range []string{"pcmu-packet.hex", "rtcp-sr-sdes.hex"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "workloads", "rtp", name))
		if err != nil {
			f.Fatal(err)
		}
		b, err := hex.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x80, 101, 0, 1, 0, 0, 0, 160, 0, 0, 0x12, 0x34, 1, 0x8a, 0, 160})
	f.Add([]byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	p := newPipe(f, false)
	p.s.l.cfg.DTMFPayloadType = 101
	f.Fuzz(func(t *testing.T, data []byte) {
		buf := append(p.buf[:0], data...)
		p.s.l.receive(buf, p.from, p.now)
		p.s.l.playout(p.now)
		p.now = p.now.Add(FrameDuration)
		before := p.s.Stats().PacketsReceived
		p.receiveOne()
		if after := p.s.Stats().PacketsReceived; after != before+1 {
			t.Errorf("got %d packets received after a valid one, want %d", after, before+1)
		}
		for len(p.s.PCMReader()) > 0 {
			<-p.s.PCMReader()
		}
	})
}

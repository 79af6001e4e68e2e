package media

import (
	"net"
	"testing"
	"time"

	"github.com/xphone-go/xphone/rtp"
)

// TestSeqSkips: audio numbers close up over skipped ones, across the
// 16-bit wrap, whatever order the packets come in, with duplicates of a
// skipped one counted once, and with skipped numbers long past folded.
func TestSeqSkips(t *testing.T) {
	var k seqSkips
	// 65533 audio, 65534 event, 65535 event (twice), 0 audio, 1 overtaken
	// by the event 2 after it, 3 audio.
	steps := []struct {
		seq   uint16
		audio bool
		want  uint16
	}{
		{65533, true, 65533},
		{65534, false, 0},
		{65535, false, 0},
		{65535, false, 0},
		{0, true, 65534},
		{2, false, 0},
		{1, true, 65535},
		{3, true, 0},
	}
	for i, s := range steps {
		if !s.audio {
			k.skip(s.seq)
			continue
		}
		if got := k.audio(s.seq); got != s.want {
			t.Errorf("step %d: audio %d numbered %d, want %d", i, s.seq, got, s.want)
		}
	}
	for seq := uint16(4); seq < 4+2*skipWindow; seq++ {
		if got, want := k.audio(seq), seq-3; got != want {
			t.Fatalf("audio %d: numbered %d, want %d", seq, got, want)
		}
	}
	if len(k.recent) != 0 || k.base != 3 {
		t.Errorf("after 2×skipWindow: %d numbers kept, base %d; want 0, 3", len(k.recent), k.base)
	}
}

// TestAudioOvertakenByEvent: an audio packet overtaken by the
// telephone-event or comfort-noise packet sent after it keeps its place
// in the jitter buffer instead of being dropped as a duplicate.
func TestAudioOvertakenByEvent(t *testing.T) {
	for _, tc := range []struct {
		name string
		pt   uint8
		pay  []byte
	}{
		{"telephone-event", 101, (&rtp.TelephoneEvent{Event: 5, Duration: 160}).AppendTo(nil)},
		{"comfort noise", 13, []byte{40}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, testOptions())
			cfg := Config{Codec: CodecPCMU, DTMFPayloadType: 101, RTCPMux: true, RemoteRTP: rawPeer(t).LocalAddr().(*net.UDPAddr).AddrPort()}
			if err := s.Start(cfg); err != nil {
				t.Fatal(err)
			}
			s.PCMReader()
			packet := func(pt uint8, seq uint16, payload []byte) []byte {
				b, err := (&rtp.Packet{Header: rtp.Header{PayloadType: pt, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 0xABCD}, Payload: payload}).Marshal()
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			s.loopMu.Lock()
			defer s.loopMu.Unlock()
			from, now := s.LocalRTP(), time.Now()
			for seq := uint16(1); seq <= 10; seq++ {
				s.l.receive(packet(0, seq, make([]byte, 160)), from, now)
			}
			s.l.receive(packet(tc.pt, 12, tc.pay), from, now) // overtakes audio 11
			before := s.l.jb.Stats()
			s.l.receive(packet(0, 11, make([]byte, 160)), from, now)
			after := s.l.jb.Stats()
			if after.Duplicate != before.Duplicate || after.Late != before.Late || after.Buffered != before.Buffered+1 {
				t.Errorf("audio 11 after %s 12: duplicates %d→%d, late %d→%d, buffered %d→%d; want it taken",
					tc.name, before.Duplicate, after.Duplicate, before.Late, after.Late, before.Buffered, after.Buffered)
			}
		})
	}
}

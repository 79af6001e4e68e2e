package media

import (
	"net"
	"testing"
	"time"

	"github.com/xphone-go/xphone/rtp"
)

// TestReceivePayloadTypes: the peer sends with the numbers of our offer
// when its answer renumbered a codec or telephone-event (RFC 3264 §5.1):
// those are taken, its own numbers too where they mean nothing else to
// us, and other payload types are discarded. When the two sides swapped
// two numbers, ours decide.
func TestReceivePayloadTypes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       Config
		audio     []uint8 // taken as audio
		events    []uint8 // taken as key presses
		discarded []uint8
	}{
		{"renumbered", Config{Codec: CodecPCMA, PayloadType: 96, RecvPayloadType: 8, DTMFPayloadType: 100, DTMFRecvPayloadType: 101},
			[]uint8{8, 96}, []uint8{101, 100}, []uint8{0, 102}},
		{"swapped", Config{Codec: CodecPCMA, PayloadType: 101, RecvPayloadType: 111, DTMFPayloadType: 111, DTMFRecvPayloadType: 101},
			[]uint8{111}, []uint8{101}, []uint8{8, 0}},
		{"PCMU, same numbers", Config{Codec: CodecPCMU, DTMFPayloadType: 101},
			[]uint8{0}, []uint8{101}, []uint8{8, 96}},
		{"no telephone-event", Config{Codec: CodecPCMA, PayloadType: 8},
			[]uint8{8}, nil, []uint8{0, 101}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			digits := make(chan rune, 16)
			o := testOptions()
			o.OnDTMF = func(d rune) { digits <- d }
			s := newSession(t, o)
			cfg := tc.cfg
			cfg.RTCPMux, cfg.RemoteRTP = true, rawPeer(t).LocalAddr().(*net.UDPAddr).AddrPort()
			if err := s.Start(cfg); err != nil {
				t.Fatal(err)
			}
			s.loopMu.Lock()
			defer s.loopMu.Unlock()
			from := s.LocalRTP()
			seq, ts := uint16(1), uint32(160)
			packet := func(pt uint8, payload []byte) []byte {
				seq, ts = seq+1, ts+160
				b, err := (&rtp.Packet{Header: rtp.Header{PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 0xABCD}, Payload: payload}).Marshal()
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			for _, pt := range tc.audio {
				before := s.Stats()
				s.l.receive(packet(pt, make([]byte, 160)), from, time.Now())
				if after := s.Stats(); after.PacketsReceived != before.PacketsReceived+1 || after.Discarded != before.Discarded {
					t.Errorf("audio with payload type %d: received %d→%d, discarded %d→%d; want it taken",
						pt, before.PacketsReceived, after.PacketsReceived, before.Discarded, after.Discarded)
				}
			}
			for i, pt := range tc.events {
				ev := rtp.TelephoneEvent{Event: uint8(i + 1), End: true, Duration: 160}
				s.l.receive(packet(pt, ev.AppendTo(nil)), from, time.Now())
				select {
				case d := <-digits:
					if want := rune('0' + i + 1); d != want {
						t.Errorf("event with payload type %d: digit %q, want %q", pt, d, want)
					}
				default:
					t.Errorf("event with payload type %d: no key press", pt)
				}
			}
			for _, pt := range tc.discarded {
				before := s.Stats()
				s.l.receive(packet(pt, make([]byte, 160)), from, time.Now())
				if after := s.Stats(); after.Discarded != before.Discarded+1 || len(digits) != 0 {
					t.Errorf("payload type %d: discarded %d→%d, %d key presses; want it discarded", pt, before.Discarded, after.Discarded, len(digits))
				}
			}
		})
	}
}

// TestDuplicateEventKeepsAudio: a telephone-event packet that comes twice
// under one sequence number (a duplicate, or an end packet sent again
// under its number) is skipped once in the audio's numbering, so the next
// audio packet is not taken for a duplicate by the jitter buffer.
func TestDuplicateEventKeepsAudio(t *testing.T) {
	s := newSession(t, testOptions())
	cfg := Config{Codec: CodecPCMU, DTMFPayloadType: 101, RTCPMux: true, RemoteRTP: rawPeer(t).LocalAddr().(*net.UDPAddr).AddrPort()}
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	s.PCMReader() // the jitter buffer is made for a reader
	packet := func(pt uint8, seq uint16, payload []byte) []byte {
		b, err := (&rtp.Packet{Header: rtp.Header{PayloadType: pt, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 0xABCD}, Payload: payload}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	end := (&rtp.TelephoneEvent{Event: 5, End: true, Duration: 160}).AppendTo(nil)
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	from, now := s.LocalRTP(), time.Now()
	for seq := uint16(1); seq <= 10; seq++ {
		s.l.receive(packet(0, seq, make([]byte, 160)), from, now)
	}
	s.l.receive(packet(101, 11, end), from, now)
	s.l.receive(packet(101, 11, end), from, now) // again, same number
	before := s.l.jb.Stats()
	s.l.receive(packet(0, 12, make([]byte, 160)), from, now)
	after := s.l.jb.Stats()
	if after.Duplicate != before.Duplicate || after.Late != before.Late {
		t.Errorf("audio after a duplicated event packet: jitter buffer duplicates %d→%d, late %d→%d; want it taken",
			before.Duplicate, after.Duplicate, before.Late, after.Late)
	}
}

// TestDTMFPayloadTypeDropped: an Update that drops telephone-event while a
// digit is under way lets that digit end under the payload type it began
// with, never as audio (payload type 0), and gives up the digit still
// queued: it counts as done, so SendDTMFWait does not wait for it.
func TestDTMFPayloadTypeDropped(t *testing.T) {
	peer := rawPeer(t)
	o := testOptions()
	o.DTMFDuration = 200 * time.Millisecond
	s := newSession(t, o)
	cfg := Config{Codec: CodecPCMU, DTMFPayloadType: 101, RTCPMux: true, RemoteRTP: peer.LocalAddr().(*net.UDPAddr).AddrPort()}
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	s.loopMu.Lock()
	if err := s.SendDTMF("56"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tick := func(n int) {
		for range n {
			now = now.Add(FrameDuration)
			s.l.tick(now)
		}
	}
	tick(3) // the first digit is under way
	cfg.DTMFPayloadType = 0
	if err := s.Update(cfg); err != nil {
		t.Fatal(err)
	}
	s.l.applyPending()
	tick(20) // the rest of the first digit
	s.loopMu.Unlock()
	if sent, queued := s.dtmfSent.Load(), s.dtmfQueued; sent != queued || s.Stats().DroppedOutbound != 1 {
		t.Errorf("digits done %d of %d queued, %d dropped; want all done, one dropped", sent, queued, s.Stats().DroppedOutbound)
	}
	peer.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 1500)
	events := 0
	for {
		n, _, err := peer.ReadFromUDPAddrPort(buf)
		if err != nil {
			break // all read
		}
		var p rtp.Packet
		if rtp.IsRTCP(buf[:n]) || p.Unmarshal(buf[:n]) != nil || len(p.Payload) != rtp.TelephoneEventSize {
			continue
		}
		if p.PayloadType != 101 {
			t.Errorf("an event packet went out with payload type %d", p.PayloadType)
		}
		events++
	}
	if events < 10 {
		t.Errorf("event packets of the first digit: got %d, want it whole (10 or more)", events)
	}
}

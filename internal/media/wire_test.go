package media

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/xphone-go/xphone/rtp"
)

// rawPeer is a plain UDP socket standing in for the far end.
func rawPeer(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(deadline))
	return c
}

func readRTP(t *testing.T, c *net.UDPConn) *rtp.Packet {
	t.Helper()
	buf := make([]byte, 1500)
	for {
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no packet: %v", err)
		}
		var p rtp.Packet
		if rtp.IsRTCP(buf[:n]) || p.Unmarshal(buf[:n]) != nil {
			continue
		}
		return p.Clone()
	}
}

// TestDTMFWire checks the packets of one digit as RFC 4733 §2.5.1 wants
// them: a first packet with the marker, updates every 20 ms with growing
// duration, three end packets with the full duration, one timestamp for
// all, and sequence numbers shared with the audio around them.
func TestDTMFWire(t *testing.T) {
	peer := rawPeer(t)
	s := newSession(t, testOptions())
	cfg := Config{Codec: CodecPCMU, DTMFPayloadType: 101, RTCPMux: true, RemoteRTP: peer.LocalAddr().(*net.UDPAddr).AddrPort()}
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 160)
	w := s.PacedPCMWriter()
	for range 30 {
		w <- frame
	}
	first := readRTP(t, peer)
	if !first.Marker || first.PayloadType != 0 {
		t.Errorf("first audio packet: got marker %v PT %d, want true 0", first.Marker, first.PayloadType)
	}
	if err := s.SendDTMF("5"); err != nil {
		t.Fatal(err)
	}
	last := first
	for {
		p := readRTP(t, peer)
		if p.PayloadType == 101 {
			last = checkEvent(t, peer, last, p)
			break
		}
		if p.SequenceNumber != last.SequenceNumber+1 || p.Timestamp != last.Timestamp+160 {
			t.Fatalf("audio: got seq %d ts %d after %d/%d", p.SequenceNumber, p.Timestamp, last.SequenceNumber, last.Timestamp)
		}
		last = p
	}
	// Audio resumes after the digit and its gap as a new talkspurt.
	p := readRTP(t, peer)
	if p.PayloadType != 0 || !p.Marker || p.SequenceNumber != last.SequenceNumber+1 {
		t.Errorf("after the digit: got PT %d marker %v seq %d, want PT 0, marker, seq %d", p.PayloadType, p.Marker, p.SequenceNumber, last.SequenceNumber+1)
	}
}

func checkEvent(t *testing.T, peer *net.UDPConn, prev, p *rtp.Packet) *rtp.Packet {
	t.Helper()
	if p.SequenceNumber != prev.SequenceNumber+1 {
		t.Errorf("event seq: got %d, want %d", p.SequenceNumber, prev.SequenceNumber+1)
	}
	if d := p.Timestamp - prev.Timestamp; d == 0 || d%160 != 0 {
		t.Errorf("event timestamp: got %d after audio at %d, want a later tick", p.Timestamp, prev.Timestamp)
	}
	// 100 ms at 8 kHz: durations 160, 320, 480, 640, then 800 three times with E.
	want := []struct {
		dur    uint16
		end    bool
		marker bool
	}{{160, false, true}, {320, false, false}, {480, false, false}, {640, false, false}, {800, true, false}, {800, true, false}, {800, true, false}}
	ts := p.Timestamp
	for i, w := range want {
		if i > 0 {
			next := readRTP(t, peer)
			if next.SequenceNumber != p.SequenceNumber+1 {
				t.Errorf("packet %d: got seq %d, want %d", i, next.SequenceNumber, p.SequenceNumber+1)
			}
			p = next
		}
		var ev rtp.TelephoneEvent
		if err := ev.Unmarshal(p.Payload); err != nil {
			t.Fatal(err)
		}
		if p.PayloadType != 101 || ev.Event != 5 || ev.Duration != w.dur || ev.End != w.end || p.Marker != w.marker || p.Timestamp != ts {
			t.Errorf("packet %d: got PT %d event %d duration %d end %v marker %v ts %d, want 101 5 %d %v %v %d",
				i, p.PayloadType, ev.Event, ev.Duration, ev.End, p.Marker, p.Timestamp, w.dur, w.end, w.marker, ts)
		}
	}
	return p
}

// TestForeignPayloadDropped sends packets of a payload type that was not
// negotiated: they are counted and dropped, and not played.
func TestForeignPayloadDropped(t *testing.T) {
	peer := rawPeer(t)
	s := newSession(t, testOptions())
	if err := s.Start(Config{Codec: CodecPCMU, RTCPMux: true, RemoteRTP: peer.LocalAddr().(*net.UDPAddr).AddrPort()}); err != nil {
		t.Fatal(err)
	}
	p := rtp.Packet{Header: rtp.Header{PayloadType: 96, SSRC: 7}, Payload: make([]byte, 160)}
	for i := range 10 {
		p.SequenceNumber, p.Timestamp = uint16(i), uint32(160*i)
		b, _ := p.Marshal()
		peer.WriteToUDPAddrPort(b, s.LocalRTP())
	}
	waitCond(t, "foreign packets counted", func() bool { return s.Stats().Discarded >= 10 })
	if st := s.Stats(); st.PacketsReceived != 0 || len(s.PCMReader()) != 0 {
		t.Errorf("got %d packets received and %d frames, want 0 and 0", st.PacketsReceived, len(s.PCMReader()))
	}
}

// TestLatchKeptOverLateAddress: a session started without the peer's
// address (its SDP named a host still being looked up, ua's lookupMedia)
// latches onto where the peer's RTP comes from; the address the lookup
// then gives does not take that over (symmetric RTP: the peer listens
// where it sends from), though it sends nothing more to re-latch.
func TestLatchKeptOverLateAddress(t *testing.T) {
	peer := rawPeer(t)
	o := testOptions()
	o.Latch = true
	s := newSession(t, o)
	cfg := Config{Codec: CodecPCMU, RTCPMux: true}
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	w := s.PacedPCMWriter()
	for range 100 {
		w <- make([]int16, 160)
	}
	p := rtp.Packet{Header: rtp.Header{PayloadType: 0, SSRC: 7, SequenceNumber: 1, Timestamp: 160}, Payload: make([]byte, 160)}
	b, _ := p.Marshal()
	if _, err := peer.WriteToUDPAddrPort(b, s.LocalRTP()); err != nil {
		t.Fatal(err)
	}
	readRTP(t, peer) // latched: the session sends to the peer
	cfg.RemoteRTP = netip.AddrPortFrom(loopback, 9)
	if err := s.Update(cfg); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(deadline)
	for s.hasPending.Load() && time.Now().Before(until) {
		<-time.After(time.Millisecond)
	}
	for range 10 { // more than were on their way before the update
		readRTP(t, peer)
	}
}

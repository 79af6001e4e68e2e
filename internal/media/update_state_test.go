package media

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/rtp"
	"github.com/xphone-go/xphone/srtp"
)

// readSRTCPIndex reads RTCP datagrams at c until one comes and returns its
// SRTCP index (AES_CM_128_HMAC_SHA1_80: E||index, then a 10-byte tag).
func readSRTCPIndex(t *testing.T, c *net.UDPConn) uint32 {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1500)
	for {
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no SRTCP: %v", err)
		}
		if rtp.IsRTCP(buf[:n]) && n >= 14 {
			return binary.BigEndian.Uint32(buf[n-14:]) & 0x7fffffff
		}
	}
}

// TestSRTCPIndexGoesOn: an Update that keeps the keys (here a hold) goes
// on with the SRTCP index: it must not repeat under one key (RFC 3711
// §3.4; with AES-CM the same key, SSRC and index give the same keystream,
// §9.1), and a peer's replay list would refuse the repeats.
func TestSRTCPIndexGoesOn(t *testing.T) {
	peer := rawPeer(t)
	ka, kb := cryptoPair(t)
	o := testOptions()
	o.RTCPInterval = 50 * time.Millisecond
	s := newSession(t, o)
	cfg := Config{Codec: CodecPCMU, RTCPMux: true, RemoteRTP: peer.LocalAddr().(*net.UDPAddr).AddrPort(), SRTPSend: ka, SRTPRecv: kb}
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	var idx []uint32
	for range 3 {
		idx = append(idx, readSRTCPIndex(t, peer))
	}
	cfg.Direction = SendOnly
	if err := s.Update(cfg); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		idx = append(idx, readSRTCPIndex(t, peer))
	}
	for i := 1; i < len(idx); i++ {
		if idx[i] <= idx[i-1] {
			t.Fatalf("SRTCP indexes sent: %v; want them rising under the one key", idx)
		}
	}
}

// TestSRTPReplayAfterUpdate: an Update that keeps the keys keeps the
// replay window (RFC 3711 §3.3.2): a packet taken before is refused after.
func TestSRTPReplayAfterUpdate(t *testing.T) {
	ka, kb := cryptoPair(t)
	ca := Config{Codec: CodecPCMU, SRTPSend: ka, SRTPRecv: kb}
	cb := Config{Codec: CodecPCMU, SRTPSend: kb, SRTPRecv: ka}
	a, b := pair(t, testOptions(), testOptions(), ca, cb)
	tx, err := ka.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	var pkt []byte
	for seq := uint16(100); seq < 106; seq++ {
		p := rtp.Packet{Header: rtp.Header{PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 0x5EC0DE}, Payload: make([]byte, 160)}
		raw, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = tx.EncryptRTP(nil, raw); err != nil {
			t.Fatal(err)
		}
		b.loopMu.Lock()
		b.l.receive(append([]byte(nil), raw...), a.LocalRTP(), time.Now())
		b.loopMu.Unlock()
		pkt = raw
	}
	cb.RemoteRTP, cb.RemoteRTCP, cb.Direction = a.LocalRTP(), a.LocalRTCP(), RecvOnly
	if err := b.Update(cb); err != nil {
		t.Fatal(err)
	}
	b.loopMu.Lock()
	defer b.loopMu.Unlock()
	before := b.Stats()
	b.l.receive(pkt, a.LocalRTP(), time.Now())
	if after := b.Stats(); after.PacketsReceived != before.PacketsReceived || after.AuthFailed != before.AuthFailed+1 {
		t.Errorf("a replay after an Update that kept the keys: received %d→%d, refused %d→%d; want it refused",
			before.PacketsReceived, after.PacketsReceived, before.AuthFailed, after.AuthFailed)
	}
}

// TestLatchedRTCPMoves: with Latch, an Update to a new remote address
// drops where the old peer's RTCP came from, as it drops the latched RTP
// address: reports go to the new peer.
func TestLatchedRTCPMoves(t *testing.T) {
	old, moved := rawPeer(t), rawPeer(t)
	o := testOptions()
	o.Latch = true
	o.RTCPInterval = 50 * time.Millisecond
	s := newSession(t, o)
	cfg := Config{Codec: CodecPCMU, RTCPMux: true, RemoteRTP: old.LocalAddr().(*net.UDPAddr).AddrPort()}
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	rr, err := (&rtp.Compound{ReceiverReports: []rtp.ReceiverReport{{SSRC: 0x1234}}}).AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	s.receiveRTCP(rr, old.LocalAddr().(*net.UDPAddr).AddrPort(), time.Now())
	s.rtcpMu.Lock()
	latched := s.latchedRTCP
	s.rtcpMu.Unlock()
	if !latched.IsValid() {
		t.Fatal("RTCP not latched")
	}
	cfg.RemoteRTP = moved.LocalAddr().(*net.UDPAddr).AddrPort()
	if err := s.Update(cfg); err != nil {
		t.Fatal(err)
	}
	moved.SetReadDeadline(time.Now().Add(5 * time.Second)) // 100 report intervals
	buf := make([]byte, 1500)
	for {
		n, _, err := moved.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no report at the new address: %v", err)
		}
		if rtp.IsRTCP(buf[:n]) {
			break
		}
	}
	s.rtcpMu.Lock()
	defer s.rtcpMu.Unlock()
	if s.latchedRTCP != (netip.AddrPort{}) {
		t.Errorf("latched RTCP address after the move: %v, want none", s.latchedRTCP)
	}
}

// TestSRTimeDuringDTMF: while a digit is sent, the RTP time our sender
// reports extrapolate from is the media clock of the last packet's tick,
// not the event's start timestamp that the packet carries (RFC 4733
// §2.3.1): an SR's RTP and NTP times name the same instant (RFC 3550
// §6.4.1).
func TestSRTimeDuringDTMF(t *testing.T) {
	o := testOptions()
	o.DTMFDuration = time.Second
	s := newSession(t, o)
	cfg := Config{Codec: CodecPCMU, DTMFPayloadType: 101, RTCPMux: true, RemoteRTP: rawPeer(t).LocalAddr().(*net.UDPAddr).AddrPort()}
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.SendDTMF("5"); err != nil {
		t.Fatal(err)
	}
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	now := time.Now()
	for range 10 {
		now = now.Add(FrameDuration)
		s.l.tick(now)
	}
	l := &s.l
	if !l.dtmfOn || l.pktCount == 0 {
		t.Fatalf("no digit under way after 10 ticks (sent %d packets)", l.pktCount)
	}
	if want := l.ts - l.ci.tsPerFrame; l.lastSRTS != want {
		t.Errorf("RTP time of the last packet sent: got %d, want the tick's %d (the event started at %d)", l.lastSRTS, want, l.dtmfTS)
	}
}

// TestSenderReportAfterSending: a report is a sender report while we sent
// since the last report or the one before (RFC 3550 §6.4, we_sent of
// §6.3.8), then a receiver report.
func TestSenderReportAfterSending(t *testing.T) {
	peer := rawPeer(t)
	o := testOptions()
	o.RTCPInterval = time.Hour // no report but ours
	s := newSession(t, o)
	cfg := Config{Codec: CodecPCMU, RTCPMux: true, RemoteRTP: peer.LocalAddr().(*net.UDPAddr).AddrPort()}
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	s.loopMu.Lock()
	s.l.sendAudio(time.Now(), s.l.silence) // one packet, then none
	var kinds []string
	for range 3 {
		s.l.sendReport(time.Now(), false)
		c := readRTCPAt(t, peer)
		switch {
		case len(c.SenderReports) == 1:
			kinds = append(kinds, "SR")
		case len(c.ReceiverReports) == 1:
			kinds = append(kinds, "RR")
		}
	}
	s.loopMu.Unlock()
	if got, want := strings.Join(kinds, " "), "SR SR RR"; got != want {
		t.Errorf("reports after one packet: got %s, want %s", got, want)
	}
}

// readRTCPAt reads datagrams at c until an RTCP compound comes.
func readRTCPAt(t *testing.T, c *net.UDPConn) *rtp.Compound {
	t.Helper()
	buf := make([]byte, 1500)
	for {
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no RTCP: %v", err)
		}
		var cp rtp.Compound
		if rtp.IsRTCP(buf[:n]) && cp.Unmarshal(buf[:n]) == nil {
			return &cp
		}
	}
}

// TestRekeyAtWrap: the peer changes its key right after its sequence
// number wrapped (SEQ 65535, then 0 under the new key, whose context goes
// on with the stream's index). The new receive context starts from the
// stream's highest index, so SEQ 0 is index 65536 (RFC 3711 §3.3.1), not
// 0: every packet authenticates.
func TestRekeyAtWrap(t *testing.T) {
	ka, kb := cryptoPair(t)
	ka2, _ := cryptoPair(t)
	s := newSession(t, testOptions())
	cfg := Config{Codec: CodecPCMU, RTCPMux: true, RemoteRTP: rawPeer(t).LocalAddr().(*net.UDPAddr).AddrPort(), SRTPSend: kb, SRTPRecv: ka}
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	const ssrc = 0xABCD
	sender := func(k *srtp.Crypto) func(seq uint16) []byte {
		ctx, err := k.NewContext()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ctx.Close() })
		ctx.SetIndex(ssrc, 65532) // the peer's stream, before these packets
		return func(seq uint16) []byte {
			b, err := (&rtp.Packet{Header: rtp.Header{PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: ssrc}, Payload: make([]byte, 160)}).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if b, err = ctx.EncryptRTP(nil, b); err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	old, renewed := sender(ka), sender(ka2)
	from := s.LocalRTP()
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	for _, seq := range []uint16{65533, 65534, 65535} {
		s.l.receive(old(seq), from, time.Now())
	}
	cfg.SRTPRecv = ka2
	if err := s.Update(cfg); err != nil {
		t.Fatal(err)
	}
	s.l.applyPending()
	renewed(65535) // the peer's new context is at the wrap too
	failed := s.Stats().AuthFailed
	for seq := uint16(0); seq < 20; seq++ {
		s.l.receive(renewed(seq), from, time.Now())
	}
	if n := s.Stats().AuthFailed - failed; n != 0 {
		t.Errorf("after the rekey at the wrap: %d of 20 packets failed authentication", n)
	}
}

// TestCodecChangeKeepsPacedAudio: a codec change at the same application
// rate (PCMU to PCMA) goes on with the paced chunk under way: every frame
// of 1 s written on PacedPCMWriter is sent or counted dropped.
func TestCodecChangeKeepsPacedAudio(t *testing.T) {
	s := newSession(t, testOptions())
	cfg := Config{Codec: CodecPCMU, RTCPMux: true, RemoteRTP: rawPeer(t).LocalAddr().(*net.UDPAddr).AddrPort()}
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	chunk := make([]int16, 8000) // 1 s: 50 frames
	for i := range chunk {
		chunk[i] = 1000
	}
	s.PacedPCMWriter() <- chunk
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	now := time.Now()
	tick := func(n int) {
		for range n {
			now = now.Add(FrameDuration)
			s.l.tick(now)
		}
	}
	tick(10)
	cfg.Codec, cfg.PayloadType = CodecPCMA, 8
	if err := s.Update(cfg); err != nil {
		t.Fatal(err)
	}
	s.l.applyPending()
	tick(60)
	if st := s.Stats(); st.PacketsSent != 50 || st.DroppedOutbound != 0 {
		t.Errorf("1 s written on PacedPCMWriter across a codec change: %d packets sent, %d dropped; want 50, 0", st.PacketsSent, st.DroppedOutbound)
	}
}

// TestStatsSurviveCodecChange: Late and Concealed count on across a codec
// change, which replaces the jitter buffer.
func TestStatsSurviveCodecChange(t *testing.T) {
	s := newSession(t, testOptions())
	cfg := Config{Codec: CodecPCMU, RTCPMux: true, RemoteRTP: rawPeer(t).LocalAddr().(*net.UDPAddr).AddrPort()}
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	s.PCMReader()
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	from, now := s.LocalRTP(), time.Now()
	pkt := func(seq uint16) []byte {
		b, err := (&rtp.Packet{Header: rtp.Header{PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 0x77}, Payload: make([]byte, 160)}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for seq := uint16(1); seq <= 10; seq++ {
		if seq != 5 {
			s.l.receive(pkt(seq), from, now)
		}
	}
	for range 15 {
		now = now.Add(FrameDuration)
		s.l.tick(now)
	}
	s.l.receive(pkt(5), from, now) // late
	now = now.Add(FrameDuration)
	s.l.tick(now)
	before := s.Stats()
	if before.Late == 0 || before.Concealed == 0 {
		t.Fatalf("set-up: late %d, concealed %d; want both", before.Late, before.Concealed)
	}
	cfg.Codec, cfg.PayloadType = CodecPCMA, 8
	if err := s.Update(cfg); err != nil {
		t.Fatal(err)
	}
	now = now.Add(FrameDuration)
	s.l.tick(now)
	if after := s.Stats(); after.Late < before.Late || after.Concealed < before.Concealed {
		t.Errorf("after a codec change: late %d→%d, concealed %d→%d; want them to count on",
			before.Late, after.Late, before.Concealed, after.Concealed)
	}
}

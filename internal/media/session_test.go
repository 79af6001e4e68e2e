package media

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/internal/leakcheck"
	"github.com/xphone-go/xphone/rtp"
	"github.com/xphone-go/xphone/srtp"
)

func TestToneBothWays(t *testing.T) {
	tests := []struct {
		codec string
		pt    uint8
		mux   bool
	}{
		{CodecPCMU, 0, false},
		{CodecPCMA, 8, true},
		{CodecG722, 9, false},
	}
	for _, tt := range tests {
		t.Run(tt.codec, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Codec: tt.codec, PayloadType: tt.pt, RTCPMux: tt.mux}
			a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
			toneBothWays(t, a, b)
		})
	}
}

// toneBothWays sends a tone each way and checks that each arrives. The
// first frames are skipped (the jitter buffer settles); a later 20-frame
// window must hold the tone, and up to three windows are tried, so that a
// scheduling hiccup on a loaded machine (one concealed or skipped frame)
// does not fail the test while a wrong or missing tone still does.
func toneBothWays(t *testing.T, a, b *Session) {
	t.Helper()
	feedTone(t, a, 440, 150)
	feedTone(t, b, 1000, 150)
	expectTone(t, b, 440)
	expectTone(t, a, 1000)
	if st := a.Stats(); st.PacketsSent == 0 || st.PacketsReceived == 0 {
		t.Errorf("a stats: sent %d, received %d, want both > 0", st.PacketsSent, st.PacketsReceived)
	}
}

// expectTone reads frames from s until a 20-frame window holds freq.
func expectTone(t *testing.T, s *Session, freq float64) {
	t.Helper()
	rate := s.SampleRate()
	collect(t, s, 20)
	var err error
	for range 3 {
		w := collect(t, s, 20)
		if err = audiotest.CheckTone(w, rate, freq, 15); err == nil {
			return
		}
		t.Logf("window without the tone: %v; stats %+v", err, s.Stats())
	}
	t.Errorf("tone %v Hz at %d Hz: %v", freq, rate, err)
}

func TestRTPTaps(t *testing.T) {
	cfg := Config{Codec: CodecPCMU}
	a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
	raw, post := b.RTPRawReader(), b.RTPReader()
	feedTone(t, a, 440, 20)
	for _, ch := range []<-chan *rtp.Packet{raw, post} {
		p := waitEvent(t, ch, "RTP packet")
		if p.PayloadType != 0 || len(p.Payload) != 160 {
			t.Errorf("got PT %d with %d bytes, want PT 0 with 160", p.PayloadType, len(p.Payload))
		}
	}
}

func TestRTPWriter(t *testing.T) {
	cfg := Config{Codec: CodecPCMU}
	a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
	g := audiotest.ToneGenerator{Freq: 600, SampleRate: 8000, Amplitude: 8000}
	pcm := make([]int16, 160)
	// PCM written before and after raw mode starts must be ignored.
	a.PCMWriter() <- make([]int16, 160)
	for range 50 {
		g.Fill(pcm)
		p := &rtp.Packet{Payload: ulawCodec{}.encode(nil, pcm)}
		a.RTPWriter() <- p
	}
	got := collect(t, b, 30)
	checkTone(t, got, 8000, 600)
}

func cryptoPair(t *testing.T) (x, y *srtp.Crypto) {
	t.Helper()
	c1, err := srtp.NewCrypto(1, srtp.ProfileAES128CMSHA1_80, nil)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := srtp.NewCrypto(1, srtp.ProfileAES128CMSHA1_80, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &c1, &c2
}

func TestSRTP(t *testing.T) {
	ka, kb := cryptoPair(t)
	ca := Config{Codec: CodecPCMU, SRTPSend: ka, SRTPRecv: kb}
	cb := Config{Codec: CodecPCMU, SRTPSend: kb, SRTPRecv: ka}
	a, b := pair(t, testOptions(), testOptions(), ca, cb)
	toneBothWays(t, a, b)
	if n := b.Stats().AuthFailed; n != 0 {
		t.Errorf("got %d authentication failures, want 0", n)
	}
}

func TestSRTPWrongKey(t *testing.T) {
	ka, kb := cryptoPair(t)
	_, wrong := cryptoPair(t)
	timeout := make(chan struct{}, 1)
	ob := testOptions()
	ob.MediaTimeout = 400 * time.Millisecond
	ob.OnMediaTimeout = func() { timeout <- struct{}{} }
	ca := Config{Codec: CodecPCMU, SRTPSend: ka, SRTPRecv: kb}
	cb := Config{Codec: CodecPCMU, SRTPSend: kb, SRTPRecv: wrong}
	a, b := pair(t, testOptions(), ob, ca, cb)
	feedTone(t, a, 440, 100)
	waitEvent(t, timeout, "media timeout")
	select {
	case <-b.PCMReader():
		t.Errorf("got audio through a wrong key, want none")
	default:
	}
	if st := b.Stats(); st.AuthFailed == 0 || st.PacketsReceived != 0 {
		t.Errorf("got %d auth failures and %d packets, want > 0 and 0", st.AuthFailed, st.PacketsReceived)
	}
}

func TestDTMF(t *testing.T) {
	digits := make(chan rune, 32)
	ob := testOptions()
	ob.OnDTMF = func(r rune) { digits <- r }
	cfg := Config{Codec: CodecPCMU, DTMFPayloadType: 101}
	a, b := pair(t, testOptions(), ob, cfg, cfg)
	feedTone(t, a, 440, 50) // audio around the digits
	if err := a.SendDTMF("12#*A9"); err != nil {
		t.Fatal(err)
	}
	var got []rune
	for len(got) < 6 {
		got = append(got, waitEvent(t, digits, "digit"))
	}
	// A final digit: a duplicate of an earlier one would arrive before it.
	if err := a.SendDTMF("0"); err != nil {
		t.Fatal(err)
	}
	got = append(got, waitEvent(t, digits, "digit"))
	if string(got) != "12#*A90" {
		t.Errorf("got digits %q, want %q", string(got), "12#*A90")
	}
	if err := a.SendDTMF("x"); err == nil {
		t.Errorf("got nil error for digit x, want one")
	}
	if st := b.Stats(); st.DTMFReceived != 7 {
		t.Errorf("got DTMFReceived %d, want 7", st.DTMFReceived)
	}
}

func TestDTMFNotNegotiated(t *testing.T) {
	cfg := Config{Codec: CodecPCMU}
	a, _ := pair(t, testOptions(), testOptions(), cfg, cfg)
	if err := a.SendDTMF("1"); err == nil {
		t.Errorf("got nil error, want one")
	}
}

func TestHold(t *testing.T) {
	timeout := make(chan struct{}, 1)
	ob := testOptions()
	ob.MediaTimeout = 300 * time.Millisecond
	ob.OnMediaTimeout = func() { timeout <- struct{}{} }
	cfg := Config{Codec: CodecPCMU}
	a, b := pair(t, testOptions(), ob, cfg, cfg)
	feedTone(t, a, 440, 200)
	feedTone(t, b, 440, 200)
	collect(t, b, 5)
	// We put the peer on hold, old style: we stop everything.
	hold := cfg
	hold.RemoteRTP, hold.RemoteRTCP, hold.Direction = b.LocalRTP(), b.LocalRTCP(), Inactive
	if err := a.Update(hold); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, timeout, "media timeout at the held peer")
	for len(a.PCMReader()) > 0 {
		<-a.PCMReader()
	}
	d0 := a.Stats().Discarded
	waitCond(t, "held side discarding", func() bool { return a.Stats().Discarded >= d0+10 })
	if n := len(a.PCMReader()); n != 0 {
		t.Errorf("got %d frames while inactive, want 0", n)
	}
	// Resume: audio flows again both ways.
	resume := hold
	resume.Direction = SendRecv
	if err := a.Update(resume); err != nil {
		t.Fatal(err)
	}
	collect(t, b, 5)
	collect(t, a, 5)
	if got := a.Config().Direction; got != SendRecv {
		t.Errorf("got direction %v, want sendrecv", got)
	}
}

// TestHoldStopsSendingAtOnce: once Update returns, nothing more is sent
// under the old direction: the next visit of the session, whichever half
// of a tick or written frame it serves, applies the update first. The
// session's loop is held while Update runs, so no send is in progress.
func TestHoldStopsSendingAtOnce(t *testing.T) {
	cfg := Config{Codec: CodecPCMU}
	a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
	feedTone(t, a, 440, 200)
	feedTone(t, b, 440, 200)
	collect(t, b, 5)
	hold := cfg
	hold.RemoteRTP, hold.RemoteRTCP, hold.Direction = b.LocalRTP(), b.LocalRTCP(), RecvOnly
	a.loopMu.Lock()
	err := a.Update(hold)
	sent := a.Stats().PacketsSent
	a.loopMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	// Ten ticks of b's audio played or dropped at a: a's loop has run
	// both halves of a tick many times since.
	d0 := a.Stats().PacketsReceived
	waitCond(t, "ten more packets received", func() bool { return a.Stats().PacketsReceived >= d0+10 })
	if got := a.Stats().PacketsSent - sent; got != 0 {
		t.Errorf("packets sent after Update to recvonly: got %d, want 0", got)
	}
}

// waitCond polls cond until it holds or the deadline passes. It is used
// only for counters that have no event to wait on.
func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	end := time.After(deadline)
	for !cond() {
		select {
		case <-tick.C:
		case <-end:
			t.Fatalf("%s: not before the deadline", what)
		}
	}
}

func TestMute(t *testing.T) {
	tests := []struct {
		name string
		mode MuteMode
	}{{"silence", MuteSilence}, {"nothing", MuteNothing}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := make(chan struct{}, 1)
			oa, ob := testOptions(), testOptions()
			oa.MuteMode = tt.mode
			ob.MediaTimeout = 300 * time.Millisecond
			ob.OnMediaTimeout = func() { timeout <- struct{}{} }
			cfg := Config{Codec: CodecPCMU}
			a, b := pair(t, oa, ob, cfg, cfg)
			a.SetMute(true)
			if !a.Muted() {
				t.Fatalf("got Muted false, want true")
			}
			feedTone(t, a, 440, 200)
			if tt.mode == MuteNothing {
				waitEvent(t, timeout, "media timeout")
				if n := b.Stats().PacketsReceived; n != 0 {
					t.Errorf("got %d packets while muted, want 0", n)
				}
				return
			}
			got := collect(t, b, 20)
			if e := audiotest.Energy(got); e != 0 {
				t.Errorf("got energy %v while muted, want 0", e)
			}
			a.SetMute(false)
			waitTone(t, b, 440, 5) // the tone comes back
		})
	}
}

func TestMediaTimeout(t *testing.T) {
	timeout := make(chan struct{}, 4)
	ob := testOptions()
	ob.MediaTimeout = 300 * time.Millisecond
	ob.OnMediaTimeout = func() { timeout <- struct{}{} }
	cfg := Config{Codec: CodecPCMU}
	a, b := pair(t, testOptions(), ob, cfg, cfg)
	feedTone(t, a, 440, 20)
	collect(t, b, 5)
	select {
	case <-timeout:
		t.Fatalf("timeout fired while media flowed")
	default:
	}
	a.Close()
	waitEvent(t, timeout, "media timeout")
}

func TestLatch(t *testing.T) {
	ob := testOptions()
	ob.Latch = true
	cfg := Config{Codec: CodecPCMU, RTCPMux: true}
	a, b := newSession(t, testOptions()), newSession(t, ob)
	ca, cb := cfg, cfg
	ca.RemoteRTP = b.LocalRTP()
	// b was told a wrong address (as behind a NAT): it must latch.
	cb.RemoteRTP = netip.AddrPortFrom(loopback, 9)
	if err := a.Start(ca); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(cb); err != nil {
		t.Fatal(err)
	}
	feedTone(t, a, 440, 60)
	feedTone(t, b, 1000, 60)
	checkTone(t, collect(t, a, 30), 8000, 1000)
}

func TestOverflow(t *testing.T) {
	s := newSession(t, testOptions())
	lc, err := s.buildConfig(Config{Codec: CodecPCMU, RemoteRTP: netip.AddrPortFrom(loopback, 9)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.l.init(s, lc); err != nil {
		t.Fatal(err)
	}
	// Inbound: the oldest are dropped.
	for i := range ChannelDepth + 10 {
		offerOldest(getChan(s, &s.pcmOut, true), []int16{int16(i)}, &s.ctr.droppedIn)
	}
	if got := s.Stats().DroppedInbound; got != 10 {
		t.Errorf("got DroppedInbound %d, want 10", got)
	}
	if f := <-s.PCMReader(); f[0] != 10 {
		t.Errorf("got oldest frame %d, want 10", f[0])
	}
	// Outbound: the newest are dropped.
	w := s.PCMWriter()
	for i := range ChannelDepth {
		w <- []int16{int16(i)}
	}
	s.l.drainWriters()
	for i := range 7 {
		w <- []int16{int16(1000 + i)}
	}
	s.l.drainWriters()
	if got := s.Stats().DroppedOutbound; got != 7 {
		t.Errorf("got DroppedOutbound %d, want 7", got)
	}
	if f, _ := s.l.pcmQ.pop(); f[0] != 0 {
		t.Errorf("got first queued frame %d, want 0", f[0])
	}
}

func TestWriterClosedByUser(t *testing.T) {
	digits := make(chan rune, 4)
	ob := testOptions()
	ob.OnDTMF = func(r rune) { digits <- r }
	cfg := Config{Codec: CodecPCMU, DTMFPayloadType: 101}
	a, _ := pair(t, testOptions(), ob, cfg, cfg)
	close(a.PCMWriter())
	close(a.PacedPCMWriter())
	close(a.RTPWriter())
	// The session lives on: a digit still goes through.
	if err := a.SendDTMF("7"); err != nil {
		t.Fatal(err)
	}
	if got := waitEvent(t, digits, "digit"); got != '7' {
		t.Errorf("got digit %q, want '7'", got)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	leakcheck.Check(t)
	for _, mux := range []bool{false, true} {
		cfg := Config{Codec: CodecPCMU, RTCPMux: mux}
		a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
		feedTone(t, a, 440, 10)
		collect(t, b, 2)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		b.Close() // idempotent
		for range b.PCMReader() {
		}
		if _, ok := <-b.RTPReader(); ok {
			t.Errorf("RTPReader open after Close")
		}
		waitEvent(t, b.Done(), "done")
		if err := b.Update(cfg); !errors.Is(err, ErrClosed) {
			t.Errorf("got Update error %v, want ErrClosed", err)
		}
		a.Close()
	}
	// An unstarted session closes too.
	s, err := New(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, ok := <-s.PCMReader(); ok {
		t.Errorf("PCMReader open after Close")
	}
}

func TestPortRange(t *testing.T) {
	// Find a free pair, then ask for a second session in that range.
	var s *Session
	var err error
	for base := 45000; base < 46000; base += 2 {
		o := testOptions()
		o.PortMin, o.PortMax = base, base+1
		if s, err = New(o); err == nil {
			defer s.Close()
			if p := s.LocalRTP().Port(); p != uint16(base) || s.LocalRTCP().Port() != uint16(base+1) {
				t.Errorf("got ports %d/%d, want %d/%d", p, s.LocalRTCP().Port(), base, base+1)
			}
			_, err = New(o)
			if !errors.Is(err, ErrNoRTPPort) {
				t.Errorf("got error %v, want ErrNoRTPPort", err)
			}
			return
		}
	}
	t.Fatalf("no free port pair found: %v", err)
}

func TestPortEven(t *testing.T) {
	o := testOptions()
	o.PortMin, o.PortMax = 30001, 30003 // one even port with room for RTCP
	s, err := New(o)
	if errors.Is(err, ErrNoRTPPort) {
		// Another process holds it; the odd start must never be used.
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if p := s.LocalRTP().Port(); p != 30002 {
		t.Errorf("got RTP port %d, want 30002", p)
	}
}

func TestConfigErrors(t *testing.T) {
	ka, _ := cryptoPair(t)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"codec", Config{Codec: "GSM"}},
		{"ptime", Config{Codec: CodecPCMU, PTime: 30 * time.Millisecond}},
		{"clock", Config{Codec: CodecG722, PayloadType: 9, ClockRate: 16000}},
		{"dtmf pt", Config{Codec: CodecPCMU, DTMFPayloadType: 0x80}},
		{"half srtp", Config{Codec: CodecPCMU, SRTPSend: ka}},
	}
	s := newSession(t, testOptions())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Start(tt.cfg); err == nil {
				t.Errorf("got nil error, want one")
			}
		})
	}
}

func TestSTUNAnswered(t *testing.T) {
	s := newSession(t, testOptions())
	if err := s.Start(Config{Codec: CodecPCMU, RemoteRTP: netip.AddrPortFrom(loopback, 9)}); err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// RFC 5389 Binding request header, no attributes.
	req := []byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	c.WriteToUDPAddrPort(req, s.LocalRTP())
	c.SetReadDeadline(time.Now().Add(deadline))
	buf := make([]byte, 1500)
	n, _, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("no STUN answer: %v", err)
	}
	if n < 20 || buf[0] != 1 || buf[1] != 1 || string(buf[8:20]) != string(req[8:20]) {
		t.Errorf("got % x, want a Binding success for the transaction", buf[:min(n, 20)])
	}
}

// TestSendDTMFWait: SendDTMFWait returns once the digits have left (the
// queue is empty and every digit counted as sent), after the peer has seen
// each; it returns ctx's error when ctx ends first and ErrClosed when the
// session closes while digits are waiting.
func TestSendDTMFWait(t *testing.T) {
	digits := make(chan rune, 32)
	ob := testOptions()
	ob.OnDTMF = func(r rune) { digits <- r }
	cfg := Config{Codec: CodecPCMU, DTMFPayloadType: 101}
	a, _ := pair(t, testOptions(), ob, cfg, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.SendDTMFWait(ctx, "123"); err != nil {
		t.Fatalf("SendDTMFWait: %v", err)
	}
	if n, sent := len(a.dtmfIn), a.dtmfSent.Load(); n != 0 || sent != 3 {
		t.Errorf("after SendDTMFWait: got %d queued and %d sent, want 0 and 3", n, sent)
	}
	var got []rune
	for len(got) < 3 {
		got = append(got, waitEvent(t, digits, "digit"))
	}
	if string(got) != "123" {
		t.Errorf("peer got %q, want %q", string(got), "123")
	}

	done, stop := context.WithCancel(context.Background())
	stop()
	if err := a.SendDTMFWait(done, "4"); !errors.Is(err, context.Canceled) {
		t.Errorf("SendDTMFWait with an ended ctx: got %v, want context.Canceled", err)
	}

	errc := make(chan error, 1)
	go func() { errc <- a.SendDTMFWait(ctx, "567890") }()
	a.Close()
	if err := waitEvent(t, errc, "SendDTMFWait's return"); !errors.Is(err, ErrClosed) {
		t.Errorf("SendDTMFWait across Close: got %v, want ErrClosed", err)
	}
}

// TestRawOnlySkipsDecoding: a session whose application took only
// RTPRawReader produces no PCM (no jitter buffer, no decoding) while the
// raw packets flow, and does not even make the PCM channel, the jitter
// buffer or the concealer; asking for PCMReader later starts it.
func TestRawOnlySkipsDecoding(t *testing.T) {
	cfg := Config{Codec: CodecPCMU}
	a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
	raw := b.RTPRawReader()
	feedTone(t, a, 440, 100)
	for range 20 {
		waitEvent(t, raw, "raw packet")
	}
	if ch := b.pcmOut.load(); ch != nil {
		t.Errorf("got a PCM channel with %d frames in raw-only mode, want none", len(ch))
	}
	b.loopMu.Lock()
	made := b.l.jb != nil || b.l.player != nil
	b.loopMu.Unlock()
	if made {
		t.Error("raw-only mode made a jitter buffer")
	}
	if st := b.Stats(); st.Concealed != 0 {
		t.Errorf("got %d frames concealed in raw-only mode, want 0", st.Concealed)
	}
	checkTone(t, collect(t, b, 20), 8000, 440)
}

// TestSRTPUpdateKeepsROC: a re-INVITE that keeps the peer's key (most
// peers keep theirs) rebuilds our SRTP contexts in Update; the rollover
// counter of the stream must carry over (RFC 3711 §3.3.1), or every packet
// after a sequence-number wrap fails authentication from then on. The
// sender starts just below the wrap; b updates after it.
func TestSRTPUpdateKeepsROC(t *testing.T) {
	ka, kb := cryptoPair(t)
	ca := Config{Codec: CodecPCMU, SRTPSend: ka, SRTPRecv: kb}
	cb := Config{Codec: CodecPCMU, SRTPSend: kb, SRTPRecv: ka}
	a, b := pair(t, testOptions(), testOptions(), ca, cb)
	a.loopMu.Lock()
	a.l.seq = 65520 // the wrap comes 16 packets in
	a.loopMu.Unlock()
	feedTone(t, a, 440, 200)
	collect(t, b, 40) // past the wrap: the stream's ROC is 1
	cb.RemoteRTP, cb.RemoteRTCP = a.LocalRTP(), a.LocalRTCP()
	if err := b.Update(cb); err != nil {
		t.Fatalf("Update: %v", err)
	}
	before := b.Stats().PacketsReceived
	checkTone(t, collect(t, b, 60), 8000, 440)
	st := b.Stats()
	if st.AuthFailed != 0 {
		t.Errorf("got %d authentication failures after Update, want 0", st.AuthFailed)
	}
	if st.PacketsReceived-before < 50 {
		t.Errorf("got %d packets after Update, want at least 50", st.PacketsReceived-before)
	}
}

// TestSRTPRekeyGrace: after a rekey replaced the peer's key, packets
// protected with the replaced key are still taken for rekeyGrace (sent
// before the peer switched, or on their way), along with those under the
// new key; a replay is refused under either key, and past rekeyGrace the
// replaced key is dropped. Packets are handed to the loop with the time
// of their arrival, so no test waits out the grace.
func TestSRTPRekeyGrace(t *testing.T) {
	ka, kb := cryptoPair(t)
	ka2, _ := cryptoPair(t)
	ca := Config{Codec: CodecPCMU, SRTPSend: ka, SRTPRecv: kb}
	cb := Config{Codec: CodecPCMU, SRTPSend: kb, SRTPRecv: ka}
	a, b := pair(t, testOptions(), testOptions(), ca, cb)
	cb.RemoteRTP, cb.RemoteRTCP, cb.SRTPRecv = a.LocalRTP(), a.LocalRTCP(), ka2
	if err := b.Update(cb); err != nil {
		t.Fatalf("Update: %v", err)
	}
	protect := func(k *srtp.Crypto) func(seq uint16) []byte {
		ctx, err := k.NewContext()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ctx.Close() })
		return func(seq uint16) []byte {
			p := rtp.Packet{Header: rtp.Header{PayloadType: 0, SequenceNumber: seq,
				Timestamp: uint32(seq) * 160, SSRC: 0x5EC0DE}, Payload: make([]byte, 160)}
			raw, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if raw, err = ctx.EncryptRTP(nil, raw); err != nil {
				t.Fatal(err)
			}
			return raw
		}
	}
	oldKey, newKey := protect(ka), protect(ka2)
	b.loopMu.Lock()
	defer b.loopMu.Unlock()
	b.l.applyPending() // as the next visit would
	until := b.l.prevUntil
	if b.l.prevRecv == nil || until.IsZero() {
		t.Fatal("the replaced receive key was not kept")
	}
	from := a.LocalRTP()
	for i, step := range []struct {
		what   string
		pkt    []byte
		at     time.Time
		accept bool
	}{
		{"old key", oldKey(100), until.Add(-time.Second), true},
		{"new key", newKey(101), until.Add(-time.Second), true},
		{"old key, later", oldKey(102), until.Add(-time.Millisecond), true},
		{"old key, replayed", oldKey(100), until.Add(-time.Millisecond), false},
		{"new key, replayed", newKey(101), until.Add(-time.Millisecond), false},
		{"new key, forged", append(newKey(103)[:172], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), until.Add(-time.Millisecond), false},
		{"old key, past the grace", oldKey(104), until, false},
		{"new key, past the grace", newKey(105), until, true},
	} {
		before := b.Stats()
		b.l.receive(step.pkt, from, step.at)
		after := b.Stats()
		taken := after.PacketsReceived == before.PacketsReceived+1 && after.AuthFailed == before.AuthFailed
		refused := after.PacketsReceived == before.PacketsReceived && after.AuthFailed == before.AuthFailed+1
		if (step.accept && !taken) || (!step.accept && !refused) {
			t.Errorf("step %d, %s: received %d→%d, auth failures %d→%d; want taken %v",
				i, step.what, before.PacketsReceived, after.PacketsReceived, before.AuthFailed, after.AuthFailed, step.accept)
		}
	}
	if b.l.prevRecv != nil {
		t.Error("the replaced key is still kept past the grace")
	}

	// SRTCP the same way.
	report := func(k *srtp.Crypto) func() []byte {
		ctx, err := k.NewContext()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ctx.Close() })
		return func() []byte {
			c := rtp.Compound{ReceiverReports: []rtp.ReceiverReport{{SSRC: 0x5EC0DE}}}
			raw, err := c.AppendTo(nil)
			if err != nil {
				t.Fatal(err)
			}
			if raw, err = ctx.EncryptRTCP(nil, raw); err != nil {
				t.Fatal(err)
			}
			return raw
		}
	}
	oldRR, newRR := report(ka), report(ka2)
	for i, step := range []struct {
		what   string
		pkt    []byte
		at     time.Time
		accept bool
	}{
		{"RTCP, old key", oldRR(), until.Add(-time.Second), true},
		{"RTCP, new key", newRR(), until.Add(-time.Millisecond), true},
		{"RTCP, old key, past the grace", oldRR(), until, false},
		{"RTCP, new key, past the grace", newRR(), until.Add(time.Millisecond), true},
	} {
		failed := b.Stats().AuthFailed
		b.receiveRTCP(step.pkt, from, step.at)
		b.rtcpMu.Lock()
		taken := b.remote.lastRTCP.Equal(step.at)
		b.rtcpMu.Unlock()
		refused := b.Stats().AuthFailed == failed+1
		if (step.accept && (!taken || refused)) || (!step.accept && (taken || !refused)) {
			t.Errorf("step %d, %s: taken %v, refused %v; want taken %v", i, step.what, taken, refused, step.accept)
		}
	}
	b.rtcpMu.Lock()
	kept := b.rtcpPrev != nil
	b.rtcpMu.Unlock()
	if kept {
		t.Error("the replaced SRTCP key is still kept past the grace")
	}
}

// TestSRTPUpdateKeepsContexts: an Update that keeps both keys (a hold, a
// codec change) keeps the SRTP and SRTCP contexts themselves, so that
// their packet indexes go on and no keystream is used twice (RFC 3711
// §9.1); one that changes the peer's key builds new receive contexts and
// keeps the send ones.
func TestSRTPUpdateKeepsContexts(t *testing.T) {
	ka, kb := cryptoPair(t)
	ka2, _ := cryptoPair(t)
	ca := Config{Codec: CodecPCMU, SRTPSend: ka, SRTPRecv: kb}
	cb := Config{Codec: CodecPCMU, SRTPSend: kb, SRTPRecv: ka}
	a, b := pair(t, testOptions(), testOptions(), ca, cb)
	contexts := func() (rtpSend, rtcpSend, rtpRecv, rtcpRecv *srtp.Context) {
		b.rtcpMu.Lock()
		defer b.rtcpMu.Unlock()
		return b.l.lc.rtpSend, b.l.lc.rtcpSend, b.l.lc.rtpRecv, b.rtcpRecv
	}
	update := func(c Config) {
		t.Helper()
		c.RemoteRTP, c.RemoteRTCP = a.LocalRTP(), a.LocalRTCP()
		if err := b.Update(c); err != nil {
			t.Fatalf("Update: %v", err)
		}
		b.loopMu.Lock()
		b.l.applyPending()
		b.loopMu.Unlock()
	}
	b.loopMu.Lock()
	s1, sc1, r1, rc1 := contexts()
	b.loopMu.Unlock()
	held := cb
	held.Codec, held.Direction = CodecPCMA, SendOnly
	update(held)
	b.loopMu.Lock()
	s2, sc2, r2, rc2 := contexts()
	b.loopMu.Unlock()
	if s2 != s1 || sc2 != sc1 || r2 != r1 || rc2 != rc1 {
		t.Errorf("same keys, new codec and direction: contexts replaced (send %v %v, receive %v %v)", s2 == s1, sc2 == sc1, r2 == r1, rc2 == rc1)
	}
	rekeyed := held
	rekeyed.SRTPRecv = ka2
	update(rekeyed)
	b.loopMu.Lock()
	s3, sc3, r3, rc3 := contexts()
	b.loopMu.Unlock()
	if s3 != s1 || sc3 != sc1 || r3 == r1 || rc3 == rc1 || r3 == nil || rc3 == nil {
		t.Errorf("the peer's new key: send kept %v %v (want true), receive kept %v %v (want false)", s3 == s1, sc3 == sc1, r3 == r1, rc3 == rc1)
	}
}

package media

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/rtp"
)

// TestRTCPReports: reports cross both ways, on their own port or muxed,
// in the clear or as SRTCP (RFC 3711 §3.4), and give an RTT; with SRTP a
// report in the clear is refused.
func TestRTCPReports(t *testing.T) {
	for _, c := range []struct{ mux, srtp bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		mux := c.mux
		oa, ob := testOptions(), testOptions()
		oa.RTCPInterval, ob.RTCPInterval = 50e6, 50e6 // 50 ms
		ca := Config{Codec: CodecPCMU, RTCPMux: mux}
		cb := ca
		if c.srtp {
			ka, kb := cryptoPair(t)
			ca.SRTPSend, ca.SRTPRecv = ka, kb
			cb.SRTPSend, cb.SRTPRecv = kb, ka
		}
		a, b := pair(t, oa, ob, ca, cb)
		feedTone(t, a, 440, 200)
		feedTone(t, b, 440, 200)
		collect(t, a, 3)
		// RTT needs an SR from b, then an SR or RR from a about b's
		// stream, back at b.
		waitCond(t, "RTT from the peer's reports", func() bool { return b.Stats().RTT > 0 && a.Stats().RTT > 0 })
		st := b.Stats()
		t.Logf("mux=%v: RTT %v / %v", mux, st.RTT, a.Stats().RTT)
		if st.RTT > deadline || st.RemoteLost != 0 {
			t.Errorf("mux=%v: got RTT %v and remote loss %d, want a small RTT and no loss", mux, st.RTT, st.RemoteLost)
		}
		if c.srtp {
			plain, err := (&rtp.Compound{ReceiverReports: []rtp.ReceiverReport{{SSRC: 7}}}).AppendTo(nil)
			if err != nil {
				t.Fatal(err)
			}
			failed := b.Stats().AuthFailed
			b.receiveRTCP(plain, a.LocalRTP(), time.Now())
			if got := b.Stats().AuthFailed; got != failed+1 {
				t.Errorf("mux=%v: RTCP in the clear to an SRTP session: auth failures %d → %d, want it refused", mux, failed, got)
			}
		}
		a.Close()
		b.Close()
	}
}

func TestUpdateCodecAndRekey(t *testing.T) {
	cfg := Config{Codec: CodecPCMU, DTMFPayloadType: 101}
	a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
	feedTone(t, a, 440, 40)
	feedTone(t, b, 1000, 40)
	checkTone(t, collect(t, b, 30), 8000, 440)
	checkTone(t, collect(t, a, 30), 8000, 1000)
	// Let the 8 kHz frames go out before the codec changes.
	waitCond(t, "paced queues empty", func() bool { return len(a.pacedIn.load()) == 0 && len(b.pacedIn.load()) == 0 })

	// A re-INVITE moves to G.722 with SRTP.
	ka, kb := cryptoPair(t)
	ca := Config{Codec: CodecG722, PayloadType: 9, RemoteRTP: b.LocalRTP(), RemoteRTCP: b.LocalRTCP(), SRTPSend: ka, SRTPRecv: kb}
	cb := Config{Codec: CodecG722, PayloadType: 9, RemoteRTP: a.LocalRTP(), RemoteRTCP: a.LocalRTCP(), SRTPSend: kb, SRTPRecv: ka}
	if err := a.Update(ca); err != nil {
		t.Fatal(err)
	}
	if err := b.Update(cb); err != nil {
		t.Fatal(err)
	}
	// Frames of the old codec may still be queued; wait for 16 kHz.
	waitCond(t, "new codec", func() bool { return a.SampleRate() == 16000 && b.SampleRate() == 16000 })
	for _, s := range []*Session{a, b} {
		for len(s.PCMReader()) > 0 {
			<-s.PCMReader()
		}
	}
	feedTone(t, a, 700, 80)
	feedTone(t, b, 1200, 80)
	var gotA, gotB []int16
	for len(gotB) < 40*320 {
		if f := collect(t, b, 1); len(f) == 320 {
			gotB = append(gotB, f...)
		}
	}
	for len(gotA) < 40*320 {
		if f := collect(t, a, 1); len(f) == 320 {
			gotA = append(gotA, f...)
		}
	}
	checkTone(t, gotB, 16000, 700)
	checkTone(t, gotA, 16000, 1200)
	if st := a.Stats(); st.Codec != CodecG722 {
		t.Errorf("got codec %q, want G722", st.Codec)
	}
}

// mediaGoroutines counts the goroutines running session code (started by
// Session.Start) and those of the shared scheduler.
func mediaGoroutines() (session, scheduler int) {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		switch {
		case strings.Contains(g, "created by github.com/xphone-go/xphone/internal/media.(*Session).Start"):
			session++
		case strings.Contains(g, "created by github.com/xphone-go/xphone/internal/media.(*scheduler).add"):
			scheduler++
		}
	}
	return session, scheduler
}

func TestGoroutinesPerSession(t *testing.T) {
	none := func() bool { s, sc := mediaGoroutines(); return s == 0 && sc == 0 }
	// Sessions of earlier tests are closed, but the scheduler may not
	// have noticed yet.
	waitCond(t, "earlier sessions gone", none)
	for _, mux := range []bool{false, true} {
		cfg := Config{Codec: CodecPCMU, RTCPMux: mux}
		a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
		want := 0 // the scheduler reads the RTP socket
		if !pollRTP {
			want = 2 // a reader per session
		}
		if !pollRTCP && !mux {
			want += 2
		}
		got, shards := mediaGoroutines()
		if got != want {
			t.Errorf("mux=%v: got %d session goroutines for two sessions, want %d", mux, got, want)
		}
		if shards < 1 || shards > runtime.GOMAXPROCS(0) {
			t.Errorf("mux=%v: got %d scheduler goroutines, want 1 to GOMAXPROCS (%d)", mux, shards, runtime.GOMAXPROCS(0))
		}
		a.Close()
		b.Close()
		// The scheduler's goroutines leave at their next tick.
		waitCond(t, "media goroutines gone", none)
	}
}

func TestHoldTimeout(t *testing.T) {
	timeout := make(chan struct{}, 4)
	oa := testOptions()
	oa.MediaTimeout = 200 * time.Millisecond
	oa.HoldTimeout = 300 * time.Millisecond
	oa.OnMediaTimeout = func() { timeout <- struct{}{} }
	ob := testOptions()
	ob.RTCPInterval = 50 * time.Millisecond
	cfg := Config{Codec: CodecPCMU}
	a, b := pair(t, oa, ob, cfg, cfg)
	// The peer holds us: we only receive nothing, and its RTCP keeps the
	// call alive well past MediaTimeout.
	held := cfg
	held.RemoteRTP, held.RemoteRTCP, held.Direction = b.LocalRTP(), b.LocalRTCP(), SendOnly
	if err := a.Update(held); err != nil {
		t.Fatal(err)
	}
	waitCond(t, "RTCP while held", func() bool {
		a.rtcpMu.Lock()
		defer a.rtcpMu.Unlock()
		return a.remote.lastRTCP.After(time.Now().Add(-50 * time.Millisecond))
	})
	select {
	case <-timeout:
		t.Fatalf("timeout fired while the held peer sent RTCP")
	default:
	}
	// The peer vanishes: the hold timeout fires.
	b.Close()
	waitEvent(t, timeout, "hold timeout")
}

func TestPacedWriterBlocks(t *testing.T) {
	cfg := Config{Codec: CodecPCMU}
	a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
	w := a.PacedPCMWriter()
	frame := make([]int16, 160)
	for range ChannelDepth {
		w <- frame
	}
	// The queue is full: the next write waits for the session to take a
	// frame, and nothing is dropped.
	select {
	case w <- frame:
	case <-time.After(deadline):
		t.Fatalf("paced writer never drained")
	}
	collect(t, b, 3)
	if n := a.Stats().DroppedOutbound; n != 0 {
		t.Errorf("got %d dropped frames, want 0", n)
	}
}

func TestNewSource(t *testing.T) {
	cfg := Config{Codec: CodecPCMU}
	a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
	feedTone(t, a, 440, 60)
	expectTone(t, b, 440)
	a.Close()
	// A new sender (new SSRC, sequence and timestamp) takes over: the
	// receiver resynchronizes and plays it.
	c := newSession(t, testOptions())
	cc := cfg
	cc.RemoteRTP, cc.RemoteRTCP = b.LocalRTP(), b.LocalRTCP()
	if err := c.Start(cc); err != nil {
		t.Fatal(err)
	}
	feedTone(t, c, 1000, 150)
	for i := 0; ; i++ {
		f := collect(t, b, 20)
		err := audiotest.CheckTone(f, 8000, 1000, 15)
		if err == nil {
			break
		}
		t.Logf("window %d: %v %+v", i, err, b.Stats())
		if i == 10 {
			t.Fatalf("new source's tone never arrived")
		}
	}
}

//go:build opus

package media

import "testing"

// TestCodecChangeClockRate: a change from PCMU (8 kHz RTP clock) to Opus
// (48 kHz) from a peer that keeps its SSRC moves the receive statistics
// to the new clock (rtp.Stats.SetClockRate): their jitter compares
// arrival times in the timestamps' units (RFC 3550 A.8).
func TestCodecChangeClockRate(t *testing.T) {
	cfg := Config{Codec: CodecPCMU}
	a, b := pair(t, testOptions(), testOptions(), cfg, cfg)
	feedTone(t, a, 440, 20)
	collect(t, b, 10)
	cb := Config{Codec: CodecOpus, PayloadType: 111, RemoteRTP: a.LocalRTP(), RemoteRTCP: a.LocalRTCP()}
	if err := b.Update(cb); err != nil {
		t.Fatal(err)
	}
	b.loopMu.Lock()
	defer b.loopMu.Unlock()
	b.l.applyPending()
	if got := b.l.rstats.ClockRate; got != 48000 {
		t.Errorf("receive statistics' clock after the change to Opus: got %d Hz, want 48000", got)
	}
}

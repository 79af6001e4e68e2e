package xphone

import (
	"context"
	"testing"
	"time"
)

// TestMuteModes: a muted call keeps sending (silent) RTP by default and
// sends none with Config.MuteSendsNothing. The muted side's packet counter
// is read before and after it has received 15 frames from its peer.
func TestMuteModes(t *testing.T) {
	for _, nothing := range []bool{false, true} {
		name := "silence"
		if nothing {
			name = "nothing"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, in := callPair(t, listeningPhone(t, func(c *Config) { c.MuteSendsNothing = nothing }), listeningPhone(t))
			go playTone(in, 440, 8000) // the callee talks, so the caller has frames to wait on
			frames := func(n int) {
				for range n {
					select {
					case <-c.PCMReader():
					case <-ctx.Done():
						t.Fatal("no audio from the callee")
					}
				}
			}
			frames(5)
			if err := c.Mute(); err != nil {
				t.Fatalf("Mute: %v", err)
			}
			frames(2) // the mute takes effect at the next tick
			before := c.Stats().PacketsSent
			frames(15)
			sent := c.Stats().PacketsSent - before
			if nothing && sent > 1 {
				t.Errorf("muted with MuteSendsNothing: sent %d packets over 15 frames, want at most 1", sent)
			}
			if !nothing && sent < 5 {
				t.Errorf("muted (silence): sent %d packets over 15 frames, want at least 5", sent)
			}
		})
	}
}

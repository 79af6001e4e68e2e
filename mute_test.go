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
			callee := listeningPhone(t)
			p := listeningPhone(t, func(c *Config) { c.MuteSendsNothing = nothing })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got := make(chan Call, 1)
			callee.OnIncoming(func(c Call) {
				c.Accept(context.Background()) //nolint:errcheck // Dial's result is the check
				got <- c
			})
			c, err := p.Dial(ctx, phoneURI(callee))
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			in := <-got
			go func() { // the callee talks, so the caller has frames to wait on
				for {
					select {
					case in.PCMWriter() <- make([]int16, 160):
					case <-in.Context().Done():
						return
					}
					select {
					case <-time.After(20 * time.Millisecond):
					case <-in.Context().Done():
						return
					}
				}
			}()
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
			c.End(ctx) //nolint:errcheck // teardown
		})
	}
}

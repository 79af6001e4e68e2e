package xphone

import (
	"context"
	"testing"
	"time"
)

// TestTrimWriteBacklog: a writer that got five frames ahead and then
// writes in real time keeps that backlog (20 ms × 5 of delay) for the
// whole call by default, and loses the oldest frames of it with
// Config.TrimWriteBacklog.
func TestTrimWriteBacklog(t *testing.T) {
	for _, trim := range []bool{false, true} {
		name := "off"
		if trim {
			name = "on"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, in := callPair(t, listeningPhone(t, func(c *Config) { c.TrimWriteBacklog = trim }), listeningPhone(t))
			go playTone(in, 440, 8000) // the callee talks: the caller's clock
			for range 5 {              // five frames ahead
				c.PCMWriter() <- make([]int16, 160)
			}
			for range 80 { // then one per frame heard
				select {
				case <-c.PCMReader():
				case <-ctx.Done():
					t.Fatal("no audio from the callee")
				}
				select {
				case c.PCMWriter() <- make([]int16, 160):
				default:
				}
			}
			dropped := c.Stats().OutboundDropped
			if !trim && dropped != 0 {
				t.Errorf("without trimming: got %d frames dropped, want 0", dropped)
			}
			if trim && dropped == 0 {
				t.Errorf("with TrimWriteBacklog: got no frame dropped over 80 frames of a 5-frame backlog, want some")
			}
		})
	}
}

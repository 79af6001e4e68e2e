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
			callee := listeningPhone(t)
			caller := listeningPhone(t, func(c *Config) { c.TrimWriteBacklog = trim })
			got := make(chan Call, 1)
			callee.OnIncoming(func(c Call) {
				c.Accept(context.Background()) //nolint:errcheck // Dial's result is the check
				got <- c
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := caller.Dial(ctx, phoneURI(callee))
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.End(ctx) //nolint:errcheck // teardown
			in := <-got
			go func() { // the callee talks: the caller's clock
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
			for range 5 { // five frames ahead
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

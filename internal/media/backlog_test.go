package media

import "testing"

// TestTrimBacklog drives the send half by hand: a real-time writer one
// frame ahead loses one frame and then keeps pace with no backlog; a
// burst loses nothing; without the option nothing is trimmed.
func TestTrimBacklog(t *testing.T) {
	for _, tc := range []struct {
		name        string
		trim        bool
		ahead       int // frames written before the first tick
		perTick     int // frames written before each tick
		ticks       int
		wantDropped uint64
		wantLeft    int
	}{
		{"steady one ahead", true, 1, 1, 200, 1, 0},
		{"steady three ahead", true, 3, 1, 200, 3, 0},
		{"steady one ahead, off", false, 1, 1, 200, 0, 1},
		{"burst of 100", true, 100, 0, 120, 0, 0},
		{"burst of 100 while writing in real time", true, 100, 1, 200, 0, 100},
		{"in pace", true, 0, 1, 200, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipe(t, false)
			p.s.opts.TrimBacklog = tc.trim
			for range tc.ahead {
				p.s.l.pcmQ.push(p.frame)
			}
			for range tc.ticks {
				for range tc.perTick {
					p.s.l.pcmQ.push(p.frame)
				}
				p.s.l.send(p.now)
			}
			if got := p.s.Stats().DroppedOutbound; got != tc.wantDropped {
				t.Errorf("got %d frames dropped, want %d", got, tc.wantDropped)
			}
			if got := p.s.l.pcmQ.n; got != tc.wantLeft {
				t.Errorf("got %d frames left waiting, want %d", got, tc.wantLeft)
			}
		})
	}
}

package media

import (
	"testing"
	"time"
)

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

// TestLateFrame: a frame written after its tick's send half, while the
// application is talking, goes out at the scheduler's next try in the
// same tick (sendLate) with that tick's timestamp and sequence number, so
// no queue builds up; a tick that ends without its frame ends the
// talkspurt, and the next frame carries the marker bit.
func TestLateFrame(t *testing.T) {
	p := newPipe(t, false)
	l := &p.s.l
	p.sink.SetReadDeadline(time.Now().Add(deadline))
	tick := func(queue bool) {
		if queue {
			l.pcmQ.push(p.frame)
		}
		l.send(p.now)
		p.now = p.now.Add(FrameDuration)
	}
	tick(true)
	first := readRTP(t, p.sink)
	if !first.Marker {
		t.Error("first packet: no marker")
	}
	tick(false) // the frame is late
	if !l.late {
		t.Fatal("tick without a frame while talking: not waiting for it")
	}
	if l.sendLate(p.now) {
		t.Fatal("sendLate with nothing written: reported the tick closed")
	}
	l.pcmQ.push(p.frame)
	if !l.sendLate(p.now) {
		t.Fatal("sendLate with the frame written: tick not closed")
	}
	second := readRTP(t, p.sink)
	if second.Timestamp != first.Timestamp+160 || second.SequenceNumber != first.SequenceNumber+1 || second.Marker {
		t.Errorf("late packet: ts %d seq %d marker %v; want ts %d seq %d, no marker",
			second.Timestamp, second.SequenceNumber, second.Marker, first.Timestamp+160, first.SequenceNumber+1)
	}
	tick(true)
	third := readRTP(t, p.sink)
	if third.Timestamp != first.Timestamp+320 || third.Marker {
		t.Errorf("next packet: ts %d marker %v; want ts %d, no marker", third.Timestamp, third.Marker, first.Timestamp+320)
	}
	tick(false) // late, and never comes
	tick(false) // closes it: the talkspurt ended, nothing more awaited
	if l.late {
		t.Error("silent application: still waiting for frames")
	}
	tick(true)
	fourth := readRTP(t, p.sink)
	if fourth.Timestamp != first.Timestamp+800 || !fourth.Marker {
		t.Errorf("after a pause: ts %d marker %v; want ts %d with the marker", fourth.Timestamp, fourth.Marker, first.Timestamp+800)
	}
}

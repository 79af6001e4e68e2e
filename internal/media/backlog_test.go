package media

import (
	"testing"
	"time"
)

// TestTrimBacklog drives the send half by hand: a real-time writer one
// frame ahead loses one frame and then keeps pace with no backlog; a
// burst loses nothing. Without the option, a writer one or two frames
// behind is caught up (catchUp) without a loss, one further behind is
// paced as written; every frame written is sent, dropped or still queued.
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
		{"steady one ahead, off", false, 1, 1, 200, 0, 0},
		{"steady two ahead, off", false, 2, 1, 200, 0, 0},
		{"steady three ahead, off", false, 3, 1, 200, 0, 3},
		{"burst of 100 while writing in real time, off", false, 100, 1, 200, 0, 100},
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
			st := p.s.Stats()
			if n, written := st.PacketsSent+st.DroppedOutbound+uint64(p.s.l.pcmQ.n), uint64(tc.ahead+tc.perTick*tc.ticks); n != written {
				t.Errorf("sent %d + dropped %d + queued %d = %d, want the %d written",
					st.PacketsSent, st.DroppedOutbound, p.s.l.pcmQ.n, n, written)
			}
		})
	}
}

// TestLateFrame: a frame written after its tick's send half goes out at
// the scheduler's next try in the same tick (sendPending) with that tick's
// timestamp and sequence number, from the call's first frame on; a tick
// that ends without its frame ends the talkspurt, and the next frame
// carries the marker bit; a writer quiet for quietTicks is no longer
// waited for.
func TestLateFrame(t *testing.T) {
	p := newPipe(t, false)
	l := &p.s.l
	w := p.s.PCMWriter()
	p.sink.SetReadDeadline(time.Now().Add(deadline))
	tick := func(write bool) {
		if write {
			w <- p.frame
		}
		l.send(p.now)
		p.now = p.now.Add(FrameDuration)
	}
	lateWrite := func() {
		t.Helper()
		if l.sendPending(p.now) {
			t.Fatal("sendPending with nothing written: reported the tick closed")
		}
		w <- p.frame
		if l.sendPending(p.now) || l.late {
			t.Fatal("sendPending with the frame written: tick still waiting for it, or closed for an early frame")
		}
	}
	tick(false) // the first frame comes just after the first send half
	if !l.late {
		t.Fatal("tick without a frame from a new writer: not waiting for it")
	}
	lateWrite()
	first := readRTP(t, p.sink)
	if !first.Marker {
		t.Error("first packet: no marker")
	}
	tick(false) // and so does the next
	lateWrite()
	second := readRTP(t, p.sink)
	if second.Timestamp != first.Timestamp+160 || second.SequenceNumber != first.SequenceNumber+1 || second.Marker {
		t.Errorf("late packet: ts %d seq %d marker %v; want ts %d seq %d, no marker",
			second.Timestamp, second.SequenceNumber, second.Marker, first.Timestamp+160, first.SequenceNumber+1)
	}
	tick(true) // on time
	third := readRTP(t, p.sink)
	if third.Timestamp != first.Timestamp+320 || third.Marker {
		t.Errorf("next packet: ts %d marker %v; want ts %d, no marker", third.Timestamp, third.Marker, first.Timestamp+320)
	}
	tick(false) // late, and never comes
	tick(false) // ends the talkspurt
	if l.talking {
		t.Error("a tick closed without its frame: talkspurt goes on")
	}
	tick(true)
	fourth := readRTP(t, p.sink)
	if fourth.Timestamp != first.Timestamp+800 || !fourth.Marker {
		t.Errorf("after a pause: ts %d marker %v; want ts %d with the marker", fourth.Timestamp, fourth.Marker, first.Timestamp+800)
	}
	if n := p.s.Stats().PacketsSent; n != 4 {
		t.Errorf("packets sent: got %d, want 4", n)
	}
	for range quietTicks + 1 {
		tick(false)
	}
	if l.late {
		t.Errorf("writer quiet for %d ticks: still waited for", quietTicks+1)
	}
}

// TestEarlyFrame: a frame written after its tick's frame went out is sent
// at the scheduler's next try (sendPending) as the next tick's, with that
// tick's timestamp and sequence number, and the next send half then sends
// nothing: the stream runs at most one frame ahead of the session's clock,
// so a second frame written in the same tick waits for that send half,
// then goes out early in its turn. A PacedPCMWriter chunk is never sent
// early.
func TestEarlyFrame(t *testing.T) {
	p := newPipe(t, false)
	l := &p.s.l
	w := p.s.PCMWriter()
	p.sink.SetReadDeadline(time.Now().Add(deadline))
	sent := func() uint64 { return p.s.Stats().PacketsSent }
	w <- p.frame
	l.send(p.now) // on time
	first := readRTP(t, p.sink)
	w <- p.frame
	if !l.sendPending(p.now) || !l.ahead {
		t.Fatal("a frame written after the tick's went out: not sent early")
	}
	early := readRTP(t, p.sink)
	if early.Timestamp != first.Timestamp+160 || early.SequenceNumber != first.SequenceNumber+1 || early.Marker {
		t.Errorf("early packet: ts %d seq %d marker %v; want ts %d seq %d, no marker",
			early.Timestamp, early.SequenceNumber, early.Marker, first.Timestamp+160, first.SequenceNumber+1)
	}
	w <- p.frame
	if !l.sendPending(p.now) || sent() != 2 {
		t.Fatalf("a second frame in the same tick: %d packets sent, want 2 (one frame ahead at most)", sent())
	}
	l.send(p.now) // the early frame's tick: nothing more
	if sent() != 2 || l.late {
		t.Fatalf("the send half of a tick whose frame went early: %d packets sent (want 2), late %v", sent(), l.late)
	}
	if !l.sendPending(p.now) {
		t.Fatal("the waiting frame did not go out early after the send half")
	}
	third := readRTP(t, p.sink)
	if third.Timestamp != first.Timestamp+320 || third.SequenceNumber != first.SequenceNumber+2 {
		t.Errorf("third packet: ts %d seq %d; want ts %d seq %d", third.Timestamp, third.SequenceNumber, first.Timestamp+320, first.SequenceNumber+2)
	}
	l.send(p.now) // the third frame's tick
	p.s.PacedPCMWriter() <- p.frame
	if l.sendPending(p.now) || sent() != 3 {
		t.Errorf("a paced chunk after the send half: %d packets sent, want it kept for the next", sent())
	}
	l.send(p.now)
	if sent() != 4 {
		t.Errorf("the paced chunk's send half: %d packets sent, want 4", sent())
	}
}

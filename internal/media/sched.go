package media

import (
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xphone-go/xphone/rtp"
)

// The shared scheduler runs the 20 ms work of every started session: a few
// goroutines (one per GOMAXPROCS, each a "shard"), each with one ticker,
// instead of a goroutine and a timer per call. A shard splits its sessions
// into phases groups, each served at its own offset of the frame, so that
// the packets of many calls do not all go out in one burst.
//
// A session is visited twice per frame: its receive half (pending Update,
// RTCP poll, playout of one frame, media timeout, statistics) and, half a
// frame later, its send half (one frame, DTMF or raw packet, and RTCP
// reports when due). The gap lets an application that answers what it
// hears (an echo, a voice bot) have its reply sent half a frame after the
// frame was played, rather than a whole frame.
//
// Serving a session never blocks: every channel operation of a tick is
// non-blocking, and the shard holds no lock of its own while it serves.

// phases is the number of offsets at which a shard serves its sessions.
// It is even, so that the send half sits half a frame after the receive
// half.
const phases = 4

// quantum is the period of a shard's ticker.
const quantum = FrameDuration / phases

// stallFrames is how far, in frames, a session may fall behind before the
// missed ticks are skipped rather than run back to back.
const stallFrames = 5

type scheduler struct {
	once   sync.Once
	shards []*shard
}

// sched is the process's scheduler; its shards are made on first use.
var sched scheduler

// shard serves a share of the sessions from one goroutine, which runs
// while the shard has sessions and exits when it has none.
type shard struct {
	n atomic.Int64 // sessions, for balancing

	mu      sync.Mutex // guards the fields below
	groups  [phases][]*Session
	running bool

	// ioMu is held by the shard's goroutine from the start of a pass over
	// its sockets until everything the pass queued on them has been
	// submitted (shardIO), so that a session closing its sockets (barrier)
	// never leaves the ring a descriptor that might be reused.
	ioMu sync.Mutex

	// Owned by the shard's goroutine: the sessions of the current slot
	// and the scratch buffers lent to each session while it is served.
	visit []*Session
	late  []lateSend // sessions whose writer's next frame is awaited before their next send half
	sc    *scratch

	shardIO // the shard's socket reading (pollRTP)
}

// lateSend is a session whose application has been writing frames: after
// its send half it is tried each quantum until slot until, the end of the
// tick, for a frame that came since (loop.sendPending).
type lateSend struct {
	s     *Session
	until int64
	// The writer channels a frame may come on, as the loop last saw them:
	// checked without the session's lock (a channel's len is safe from
	// any goroutine) and without reaching into the session.
	rtp        <-chan *rtp.Packet
	pcm, paced <-chan []int16
}

// pending reports whether a frame may have come for w.
func (w *lateSend) pending() bool { return len(w.rtp) > 0 || len(w.pcm) > 0 || len(w.paced) > 0 }

// add puts s in the shard with the fewest sessions, in its least loaded
// phase, and starts that shard's goroutine if it is not running.
func (sc *scheduler) add(s *Session) {
	sc.init()
	sh := sc.shards[0]
	for _, o := range sc.shards[1:] {
		if o.n.Load() < sh.n.Load() {
			sh = o
		}
	}
	sh.n.Add(1)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p := 0
	for i := range sh.groups {
		if len(sh.groups[i]) < len(sh.groups[p]) {
			p = i
		}
	}
	if pollRTP {
		sh.watch(s)
	}
	sh.groups[p] = append(sh.groups[p], s)
	s.shard, s.phase = sh, p
	if !sh.running {
		sh.running = true
		if sh.sc == nil {
			// Made here, before the goroutine: a test may run a read
			// pass of its own (under ioMu) while run starts.
			sh.sc = newScratch()
			sh.sc.sh = sh
		}
		go sh.run()
	}
}

// init makes the shards, once.
func (sc *scheduler) init() {
	sc.once.Do(func() {
		sc.shards = make([]*shard, max(1, runtime.GOMAXPROCS(0)))
		for i := range sc.shards {
			sc.shards[i] = new(shard)
		}
	})
}

// remove takes s out of its shard. After it returns the shard starts no
// new visit of s; one in progress may still run (Close waits for it with
// the session's loop lock).
func (sh *shard) remove(s *Session) {
	sh.mu.Lock()
	g := sh.groups[s.phase]
	for i, o := range g {
		if o == s {
			last := len(g) - 1
			g[i] = g[last]
			g[last] = nil
			sh.groups[s.phase] = g[:last]
			sh.n.Add(-1)
			sh.unwatch(s)
			break
		}
	}
	sh.mu.Unlock()
}

// run is the shard's goroutine. Time is cut into slots of one quantum
// from the goroutine's start; slot m serves the receive half of phase m
// mod phases and the send half of the phase served half a frame earlier.
// A slot's sessions are judged due against the slot's nominal time, so a
// ticker that fires late or a visit that runs long never shifts a
// session off its schedule; slots missed while the goroutine was busy are
// served at once, in order.
func (sh *shard) run() {
	start := time.Now()
	t := time.NewTicker(quantum)
	defer t.Stop()
	last := int64(0)
	for {
		<-t.C
		if !sh.pass(start, &last) {
			return
		}
	}
}

// pass reads the sockets with data and serves the slots due since the
// last pass, then submits what they queued. It reports false when the
// shard has no sessions left and its goroutine must exit.
func (sh *shard) pass(start time.Time, last *int64) bool {
	sh.ioMu.Lock()
	defer sh.ioMu.Unlock()
	sh.readReady(time.Now())
	cur := int64(time.Since(start) / quantum)
	idle := false
	for m := max(*last+1, cur-phases+1); m <= cur && !idle; m++ {
		idle = !sh.serve(m, start.Add(time.Duration(m)*quantum))
	}
	*last = max(*last, cur)
	sh.submit(time.Now())
	return !idle || !sh.stop()
}

// stop ends the shard's run when it still has no session, after the
// pass submitted what it queued: its poller and ring are released (the
// next session makes new ones), so that a process whose calls have all
// ended holds none of their descriptors. It reports whether the
// goroutine must exit; ioMu is held.
func (sh *shard) stop() bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.n.Load() != 0 {
		return false // a session came since serve found none
	}
	clear(sh.late) // before the next goroutine can start
	sh.late = sh.late[:0]
	sh.release()
	sh.running = false
	return true
}

// barrier waits for the pass in progress, if any, to submit what it
// queued: after it, no operation of the shard's refers to a socket of a
// session that was stopped before.
func (sh *shard) barrier() {
	sh.ioMu.Lock()
	//lint:ignore SA2001 the empty critical section is the point: it waits for the pass
	sh.ioMu.Unlock()
}

// serve runs slot m, due at the given nominal time: first the late sends
// of earlier slots, then the receive half of phase m mod phases and the
// send half of the phase half a frame behind it. It reports false, and
// serves nothing, when the shard has no sessions left.
func (sh *shard) serve(m int64, due time.Time) bool {
	sh.mu.Lock()
	if sh.n.Load() == 0 {
		sh.mu.Unlock()
		return false
	}
	p := int(m % phases)
	rx := sh.groups[p]
	tx := sh.groups[(p+phases/2)%phases]
	sh.visit = append(append(sh.visit[:0], rx...), tx...)
	sh.mu.Unlock()
	keep := sh.late[:0]
	for _, w := range sh.late {
		if (!w.pending() || !w.s.servePending(time.Now(), sh.sc)) && m < w.until {
			keep = append(keep, w)
		}
	}
	clear(sh.late[len(keep):])
	sh.late = keep
	for i, s := range sh.visit {
		if i < len(rx) {
			s.serveReceive(due, time.Now(), sh.rx, sh.sc)
		} else if w, ok := s.serveSend(time.Now(), sh.sc); ok {
			w.until = m + phases - 1
			sh.late = append(sh.late, w)
		}
	}
	clear(sh.visit) // let closed sessions go
	return true
}

// serveReceive runs the receive half of every tick of the session that is
// due by the slot's nominal time: one normally, more to catch up after a
// stall of a few frames. now is the real time, for the media clock.
func (s *Session) serveReceive(due, now time.Time, rx *rxBatch, sc *scratch) {
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	if s.stopped {
		return
	}
	s.l.buf = sc
	defer func() { s.l.buf = nil }()
	if pollRTP && !s.polled {
		s.drainRTP(rx, now) // no poller: read at each receive half
	}
	l := &s.l
	if l.next.IsZero() {
		l.next = due // the first visit: the session's schedule is its slot's
	}
	for !due.Before(l.next) {
		l.tickReceive(now)
		l.owed++
		l.next = l.next.Add(FrameDuration)
		if behind := due.Sub(l.next); behind > stallFrames*FrameDuration {
			// Stalled (suspended process, overload): skip the missed
			// ticks instead of bursting them out, and drop the audio
			// that was due in them, so that the delay of what follows
			// does not grow by the length of the stall.
			l.skipTicks(int(behind / FrameDuration))
			l.next = due.Add(FrameDuration)
		}
	}
}

// serveRead runs the receive path on every datagram waiting on s's RTP
// socket.
func (s *Session) serveRead(rx *rxBatch, now time.Time, sc *scratch) {
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	if s.stopped {
		return
	}
	s.l.buf = sc
	s.drainRTP(rx, now)
	s.l.buf = nil
}

// serveDatagram runs the receive path on one datagram read from s's RTP
// socket, unless s is stopped.
func (s *Session) serveDatagram(buf []byte, from netip.AddrPort, now time.Time, sc *scratch) {
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	if s.stopped {
		return
	}
	s.l.buf = sc
	s.l.receive(buf, from, now)
	s.l.buf = nil
}

// serveSend runs the send half of every tick whose receive half ran. It
// reports whether a frame from the application may still go out before
// the next send half (loop.sendPending), and on which writer channels.
func (s *Session) serveSend(now time.Time, sc *scratch) (lateSend, bool) {
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	if s.stopped {
		return lateSend{}, false
	}
	s.l.buf = sc
	defer func() { s.l.buf = nil }()
	l := &s.l
	l.applyPending()
	for ; l.owed > 0; l.owed-- {
		l.tickSend(now)
	}
	if !l.waitsForWriter() {
		return lateSend{}, false
	}
	w := lateSend{s: s, rtp: l.rtpIn, pcm: l.pcmIn}
	if l.late {
		w.paced = l.pacedIn // the open tick takes a paced frame too
	}
	return w, true
}

// servePending sends a frame the application has written since s's send
// half, if any (loop.sendPending). It reports whether nothing more can go
// out before the next send half.
func (s *Session) servePending(now time.Time, sc *scratch) bool {
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	if s.stopped {
		return true
	}
	s.l.buf = sc
	defer func() { s.l.buf = nil }()
	s.l.applyPending()
	return s.l.sendPending(now)
}

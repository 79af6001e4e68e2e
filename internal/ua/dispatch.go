package ua

import "sync"

// tracker counts goroutines the UA started and waits for them. Unlike
// sync.WaitGroup it allows adding while another goroutine waits, which
// happens when a callback ends a call during Disconnect.
type tracker struct {
	mu   sync.Mutex
	n    int
	idle *sync.Cond
}

func (t *tracker) goFunc(f func()) {
	t.mu.Lock()
	t.n++
	t.mu.Unlock()
	go func() {
		defer t.done()
		f()
	}()
}

func (t *tracker) add() {
	t.mu.Lock()
	t.n++
	t.mu.Unlock()
}

func (t *tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 && t.idle != nil {
		t.idle.Broadcast()
	}
	t.mu.Unlock()
}

// wait returns when no tracked goroutine runs.
func (t *tracker) wait() {
	t.mu.Lock()
	if t.idle == nil {
		t.idle = sync.NewCond(&t.mu)
	}
	for t.n > 0 {
		t.idle.Wait()
	}
	t.mu.Unlock()
}

// serial runs queued functions one at a time, in order, on a goroutine that
// exists only while the queue is not empty: callbacks never run under a lock
// and no goroutine idles per call.
type serial struct {
	t       *tracker
	mu      sync.Mutex
	q       []func()
	latest  func() // the newest doLatest function that found the queue full
	running bool
}

// do queues f whatever the queue holds: for events that come at most a
// few times per call or per UA (the end of a call, registration).
func (s *serial) do(f func()) { s.push(f, pushAlways) }

// maxQueued is how many functions a serial may hold before tryDo refuses
// more: events a peer can send at any rate (DTMF, transfer progress) must
// not grow the queue without bound behind an application callback that
// stalls.
const maxQueued = 1024

// tryDo queues f unless maxQueued functions wait already; it reports
// whether f was queued.
func (s *serial) tryDo(f func()) bool { return s.push(f, pushBounded) }

// doLatest queues f, an event that supersedes the one before it (a call's
// state): when maxQueued functions wait, f is held aside instead, in place
// of any held before, and runs once the queue has drained. Behind a
// stalled callback the application may miss some of these events, never
// the latest; until it has run, tryDo refuses, so that nothing overtakes it.
func (s *serial) doLatest(f func()) { s.push(f, pushLatest) }

const (
	pushAlways = iota
	pushBounded
	pushLatest
)

func (s *serial) push(f func(), mode int) bool {
	s.mu.Lock()
	full := len(s.q) >= maxQueued || s.latest != nil
	switch {
	case mode == pushBounded && full:
		s.mu.Unlock()
		return false
	case mode == pushLatest && full:
		s.latest = f
	case mode == pushAlways && s.latest != nil:
		s.q = append(s.q, s.latest, f) // in order
		s.latest = nil
	default:
		s.q = append(s.q, f)
	}
	if s.running {
		s.mu.Unlock()
		return true
	}
	s.running = true
	s.t.add()
	s.mu.Unlock()
	go s.drain()
	return true
}

// pending returns how many functions wait, the held one included.
func (s *serial) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.q)
	if s.latest != nil {
		n++
	}
	return n
}

func (s *serial) drain() {
	defer s.t.done()
	for {
		s.mu.Lock()
		if len(s.q) == 0 && s.latest != nil {
			s.q = append(s.q, s.latest)
			s.latest = nil
		}
		if len(s.q) == 0 {
			s.running = false
			s.q = nil
			s.mu.Unlock()
			return
		}
		f := s.q[0]
		s.q[0] = nil
		s.q = s.q[1:]
		s.mu.Unlock()
		f()
	}
}

// coalescer hands a stream of reports (a NOTIFY's voicemail summary, a
// watched line's state) to a serial in order; once maxReports of them
// wait, a new one takes the place of the newest waiting, so a peer's
// NOTIFYs never queue without bound behind a stalled callback, which
// still gets the last.
type coalescer struct {
	mu     sync.Mutex
	queued int     // reports queued and not yet begun
	last   *func() // what the newest queued report runs
}

// maxReports is how many reports of one stream may wait.
const maxReports = 64

// post queues f on s, or puts it in place of the newest waiting report.
func (c *coalescer) post(s *serial, f func()) {
	c.mu.Lock()
	if c.queued >= maxReports {
		*c.last = f
		c.mu.Unlock()
		return
	}
	slot := &f
	c.queued++
	c.last = slot
	c.mu.Unlock()
	s.do(func() {
		c.mu.Lock()
		f := *slot
		c.queued--
		c.mu.Unlock()
		f()
	})
}

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
	running bool
}

func (s *serial) do(f func()) { s.push(f, false) }

// maxQueued is how many functions a serial may hold before tryDo refuses
// more: events a peer can send at any rate (DTMF, transfer progress) must
// not grow the queue without bound behind an application callback that
// stalls.
const maxQueued = 1024

// tryDo queues f unless maxQueued functions wait already; it reports
// whether f was queued.
func (s *serial) tryDo(f func()) bool { return s.push(f, true) }

func (s *serial) push(f func(), bounded bool) bool {
	s.mu.Lock()
	if bounded && len(s.q) >= maxQueued {
		s.mu.Unlock()
		return false
	}
	s.q = append(s.q, f)
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

func (s *serial) drain() {
	defer s.t.done()
	for {
		s.mu.Lock()
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

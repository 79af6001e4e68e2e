package transaction

import (
	"sync"
	"time"
)

// waitTick is the resolution of the long timers: entries due within the
// same millisecond fire together, in one callback.
const waitTick = time.Millisecond

// waitQueue runs the long timers of server transactions (Timers H, J, L:
// 64*T1; Timer I: T4, RFC 3261 §17.2). Every entry of one queue has the
// same duration, so entries are due in the order they were added: a
// doubly linked list in that order and one Clock timer for its head
// replace a timer per transaction, its allocation and its goroutine.
type waitQueue struct {
	l *Layer
	d time.Duration

	mu         sync.Mutex
	head, tail *srv
	t          Timer
	armed      bool // t will fire
	closed     bool
}

// waitLink is a server transaction's place in a waitQueue; guarded by
// the queue's mutex.
type waitLink struct {
	q          *waitQueue
	prev, next *srv
	at         time.Time // due, rounded up to waitTick from the layer's epoch
}

// due returns when an entry added now is due, on the waitTick grid.
func (q *waitQueue) due() time.Time {
	off := q.l.clock.Now().Sub(q.l.epoch) + q.d
	off = (off + waitTick - 1) / waitTick * waitTick
	return q.l.epoch.Add(off)
}

// add appends s, due after q.d, and returns when it is due. s must not
// be in a queue.
func (q *waitQueue) add(s *srv) time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	at := q.due()
	s.link = waitLink{q: q, prev: q.tail, at: at}
	if q.tail != nil {
		q.tail.link.next = s
	} else {
		q.head = s
	}
	q.tail = s
	if !q.armed && !q.closed {
		q.arm(at)
	}
	return at
}

// remove takes s out of q if it is still there.
func (q *waitQueue) remove(s *srv) {
	q.mu.Lock()
	if s.link.q == q {
		q.unlink(s)
	}
	q.mu.Unlock()
}

// unlink takes s out of the list; q.mu is held.
func (q *waitQueue) unlink(s *srv) {
	if s.link.prev != nil {
		s.link.prev.link.next = s.link.next
	} else {
		q.head = s.link.next
	}
	if s.link.next != nil {
		s.link.next.link.prev = s.link.prev
	} else {
		q.tail = s.link.prev
	}
	s.link = waitLink{}
}

// arm sets the timer for at; q.mu is held.
func (q *waitQueue) arm(at time.Time) {
	d := max(at.Sub(q.l.clock.Now()), 0)
	if q.t == nil {
		q.t = q.l.clock.AfterFunc(d, q.fire)
	} else {
		q.t.Reset(d)
	}
	q.armed = true
}

// fire takes every entry that is due off the list, re-arms the timer for
// the next one, and runs the entries' callbacks outside the lock.
func (q *waitQueue) fire() {
	q.mu.Lock()
	q.armed = false
	now := q.l.clock.Now()
	var batch []*srv
	for s := q.head; s != nil && !s.link.at.After(now); s = q.head {
		q.unlink(s)
		batch = append(batch, s)
	}
	if q.head != nil && !q.closed {
		q.arm(q.head.link.at)
	}
	q.mu.Unlock()
	for _, s := range batch {
		s.onWait()
	}
}

// close stops the timer; entries left are dropped by Layer.Close.
func (q *waitQueue) close() {
	q.mu.Lock()
	q.closed = true
	if q.t != nil {
		q.t.Stop()
	}
	q.armed = false
	q.mu.Unlock()
}

package transaction

import (
	"sync"
	"sync/atomic"
	"time"
)

// waitTick is the resolution of the long timers: entries due within the
// same 10 ms fire together, in one callback, so that under load the queue
// wakes the process at most 100 times a second. Timers H, I, J and L are
// "at least" durations of seconds (RFC 3261 Table 4): ending up to 10 ms
// late changes nothing on the wire.
const waitTick = 10 * time.Millisecond

// lazySlack is how long after its due tick a done record, or an entry of
// Timer I's queue, may stay when no traffic drops it, in waitTicks: what
// ends without the TU seeing it is dropped by the traffic that follows,
// and by a timer this much later when none does.
const lazySlack = int64(250 * time.Millisecond / waitTick)

// tick returns the current time in waitTicks since the layer's epoch,
// starting at 1 so that 0 can mean "not armed".
func (l *Layer) tick() int64 {
	return int64(l.clock.Now().Sub(l.epoch)/waitTick) + 1
}

// waitQueue runs the long timers of server transactions the layer keeps
// in its maps (Timer H, and J and L for those not retired to the done log:
// 64*T1; Timer I: T4, RFC 3261 §17.2). Every entry of one queue has the
// same duration, so entries are due in the order they were added: a
// doubly linked list in that order and one Clock timer for its head
// replace a timer per transaction, its allocation and its goroutine.
//
// A queue with slack (Timer I's, whose only effect is that the transaction
// ends) is also run by the layer before it handles a request and before
// it counts transactions, whenever an entry is due; its timer is set
// slack ticks after the head is due, for when no request comes. Nothing
// can then see an entry outlive its due tick, and under a steady load of
// such entries the timer, which fires in a new goroutine that wakes a
// thread, no longer fires every tick.
type waitQueue struct {
	l     *Layer
	d     time.Duration
	slack int64        // ticks between the head's due tick and the timer
	next  atomic.Int64 // due tick of the head; 0: empty

	mu         sync.Mutex
	head, tail *srv
	t          Timer
	armed      bool // t will fire
	closed     bool
}

// waitLink is a server transaction's place in a waitQueue; guarded by
// the queue's mutex. q, the queue, is also read without it (by the
// transaction, to know which queue to take it out of): it is atomic.
type waitLink struct {
	q          atomic.Pointer[waitQueue]
	prev, next *srv
	at         int64 // the tick it is due at (see Layer.tick)
}

// due returns the tick at which an entry added now is due: q.d later,
// rounded up to a whole tick.
func (q *waitQueue) due() int64 {
	_, due := q.nowDue()
	return due
}

// nowDue returns the current tick (see Layer.tick) and due, from one
// reading of the clock.
func (q *waitQueue) nowDue() (now, due int64) {
	off := q.l.clock.Now().Sub(q.l.epoch)
	return int64(off/waitTick) + 1, int64((off+q.d+waitTick-1)/waitTick) + 1
}

// add appends s, due after q.d, and returns when it is due. s must not
// be in a queue.
func (q *waitQueue) add(s *srv) int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	at := q.due()
	s.link.prev, s.link.next, s.link.at = q.tail, nil, at
	s.link.q.Store(q)
	if q.tail != nil {
		q.tail.link.next = s
	} else {
		q.head = s
	}
	q.tail = s
	if q.head == s {
		q.next.Store(at)
	}
	if !q.armed && !q.closed {
		q.arm(at)
	}
	return at
}

// remove takes s out of q if it is still there.
func (q *waitQueue) remove(s *srv) {
	q.mu.Lock()
	if s.link.q.Load() == q {
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
		if q.head != nil {
			q.next.Store(q.head.link.at)
		} else {
			q.next.Store(0)
		}
	}
	if s.link.next != nil {
		s.link.next.link.prev = s.link.prev
	} else {
		q.tail = s.link.prev
	}
	s.link.prev, s.link.next, s.link.at = nil, nil, 0
	s.link.q.Store(nil)
}

// arm sets the timer for tick at (plus the queue's slack); q.mu is held.
func (q *waitQueue) arm(at int64) {
	at += q.slack
	d := max(q.l.epoch.Add(time.Duration(at-1)*waitTick).Sub(q.l.clock.Now()), 0)
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
	now := q.l.tick()
	var batch []*srv
	for s := q.head; s != nil && s.link.at <= now; s = q.head {
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

// runDue runs the queue's due entries now, if it has slack and any is
// due. No lock may be held.
func (q *waitQueue) runDue() {
	if q.slack == 0 {
		return
	}
	if n := q.next.Load(); n != 0 && n <= q.l.tick() {
		q.fire()
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

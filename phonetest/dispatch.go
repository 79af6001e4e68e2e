package phonetest

import "sync"

// dispatcher delivers callbacks one at a time, in the order they were
// queued, on the goroutine that calls run, without holding any lock while a
// callback runs. A run that finds another run in progress (on another
// goroutine, or further up the stack of a callback) returns at once: the run
// in progress delivers what it queued. It starts no goroutine.
type dispatcher struct {
	mu      sync.Mutex
	queue   []func()
	running bool
}

// push queues f. It may be called with other locks held.
func (d *dispatcher) push(f func()) {
	if f == nil {
		return
	}
	d.mu.Lock()
	d.queue = append(d.queue, f)
	d.mu.Unlock()
}

// run delivers queued callbacks until none are left. It must be called
// with no lock held.
func (d *dispatcher) run() {
	d.mu.Lock()
	if d.running {
		d.mu.Unlock()
		return
	}
	d.running = true
	defer func() {
		// Reached with d.mu held, normally or when a callback panicked.
		d.running = false
		d.mu.Unlock()
	}()
	for len(d.queue) > 0 {
		f := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()
		func() {
			defer d.mu.Lock()
			f()
		}()
	}
}

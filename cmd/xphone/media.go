package main

import (
	"context"
	"sync"
	"time"

	"github.com/xphone-go/xphone"
)

// recorder keeps everything a call's PCMReader delivers, until the call
// ends and the channel closes. Optionally it echoes each frame back.
type recorder struct {
	mu     sync.Mutex
	buf    []int16
	grew   chan struct{} // closed and replaced on each frame
	done   chan struct{}
	frames int
}

// startRecorder starts reading c's audio on a goroutine that exits when
// the call ends.
func startRecorder(c xphone.Call) *recorder { return startRecorderEcho(c, false) }

// startRecorderEcho is startRecorder that, with echo, also sends every
// frame back to the caller.
func startRecorderEcho(c xphone.Call, echo bool) *recorder {
	r := &recorder{grew: make(chan struct{}), done: make(chan struct{})}
	in := c.PCMReader()
	go func() {
		defer close(r.done)
		for f := range in {
			if echo {
				// Each frame is the receiver's to keep; send a copy
				// because the recorder keeps the original.
				select {
				case c.PCMWriter() <- append([]int16(nil), f...):
				default:
				}
			}
			r.mu.Lock()
			r.buf = append(r.buf, f...)
			r.frames++
			close(r.grew)
			r.grew = make(chan struct{})
			r.mu.Unlock()
		}
	}()
	return r
}

// len returns the number of samples heard so far.
func (r *recorder) len() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.buf) }

// since returns a copy of the samples heard from index i on.
func (r *recorder) since(i int) []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i > len(r.buf) {
		return nil
	}
	return append([]int16(nil), r.buf[i:]...)
}

// samples returns a copy of everything heard.
func (r *recorder) samples() []int16 { return r.since(0) }

// waitLen waits until n samples were heard, the call ended, ctx ended or
// d passed, whichever is first.
func (r *recorder) waitLen(ctx context.Context, n int, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		r.mu.Lock()
		have, grew := len(r.buf), r.grew
		r.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-grew:
		case <-r.done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			return
		}
	}
}

// wait returns when the call ended and every frame was taken.
func (r *recorder) wait() { <-r.done }

// source feeds a call's PCMWriter with one 20 ms frame every 20 ms for as
// long as the call lasts: audio queued with play, else silence, as a
// phone's microphone would. Keeping the stream going keeps the peer's
// media timeout and NAT bindings fed. It stops when the call ends.
type source struct {
	c     xphone.Call
	queue chan playItem
	done  chan struct{}
}

type playItem struct {
	samples []int16
	done    chan struct{} // closed when the last frame went out
}

// startSource starts the feeder goroutine of c.
func startSource(c xphone.Call) *source {
	s := &source{c: c, queue: make(chan playItem, 16), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *source) run() {
	defer close(s.done)
	frame := s.c.Codec().FrameSize()
	if frame == 0 {
		frame = 160
	}
	tick := time.NewTicker(xphone.FrameDuration)
	defer tick.Stop()
	var cur playItem
	pos := 0
	for {
		if cur.samples == nil {
			select {
			case cur = <-s.queue:
				pos = 0
			default:
			}
		}
		f := make([]int16, frame)
		if cur.samples != nil {
			pos += copy(f, cur.samples[pos:])
			if pos >= len(cur.samples) {
				close(cur.done)
				cur = playItem{}
			}
		}
		select {
		case s.c.PCMWriter() <- f:
		case <-s.c.Context().Done():
			if cur.done != nil {
				close(cur.done)
			}
			return
		}
		select {
		case <-tick.C:
		case <-s.c.Context().Done():
			if cur.done != nil {
				close(cur.done)
			}
			return
		}
	}
}

// play queues samples (at the call's PCM rate) and waits until they were
// sent, or the call's or ctx's end.
func (s *source) play(ctx context.Context, samples []int16) error {
	it := playItem{samples: samples, done: make(chan struct{})}
	if len(samples) == 0 {
		return nil
	}
	select {
	case s.queue <- it:
	case <-s.c.Context().Done():
		return context.Cause(s.c.Context())
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-it.done:
		if s.c.Context().Err() != nil {
			return context.Cause(s.c.Context())
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

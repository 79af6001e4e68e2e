package phonetest

import (
	"slices"
	"time"

	"github.com/xphone-go/xphone/rtp"
)

// PCMReader returns the channel InjectPCM delivers to.
func (c *MockCall) PCMReader() <-chan []int16 { return c.pcmIn }

// RTPReader returns the channel InjectRTP delivers clones to.
func (c *MockCall) RTPReader() <-chan *rtp.Packet { return c.rtpIn }

// RTPRawReader returns the channel InjectRTP delivers to.
func (c *MockCall) RTPRawReader() <-chan *rtp.Packet { return c.rtpRaw }

// PCMWriter returns a channel whose frames SentPCM records.
func (c *MockCall) PCMWriter() chan<- []int16 { c.startPump(); return c.pcmOut }

// PacedPCMWriter returns a channel whose slices SentPCM records as sent,
// without pacing or splitting into frames, so tests do not wait in real
// time.
func (c *MockCall) PacedPCMWriter() chan<- []int16 { c.startPump(); return c.paced }

// ClearOutput counts the call (OutputCleared) and returns 0: the mock
// records what is written at once, so nothing waits to be dropped.
func (c *MockCall) ClearOutput() time.Duration {
	c.sync()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cleared++
	return 0
}

// OutputCleared returns how many times ClearOutput was called, for tests
// of barge-in.
func (c *MockCall) OutputCleared() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cleared
}

// RTPWriter returns a channel whose packets SentRTP records.
func (c *MockCall) RTPWriter() chan<- *rtp.Packet { c.startPump(); return c.rtpOut }

// startPump starts the goroutine that records writes, once, unless the
// call has ended.
func (c *MockCall) startPump() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pumpStarted || c.ctx.Err() != nil {
		return
	}
	c.pumpStarted = true
	go c.pump()
}

// pump records what the application writes until the call ends, then
// records what was already queued and exits. A writer channel the
// application closed is left alone.
func (c *MockCall) pump() {
	defer close(c.pumpDone)
	pcm, paced, rtpc := (<-chan []int16)(c.pcmOut), (<-chan []int16)(c.paced), (<-chan *rtp.Packet)(c.rtpOut)
	for {
		select {
		case f, ok := <-pcm:
			if !ok {
				pcm = nil
				continue
			}
			c.recordPCM(f)
		case f, ok := <-paced:
			if !ok {
				paced = nil
				continue
			}
			c.recordPCM(f)
		case p, ok := <-rtpc:
			if !ok {
				rtpc = nil
				continue
			}
			c.recordRTP(p)
		case reply := <-c.flush:
			c.drain(&pcm, &paced, &rtpc)
			close(reply)
		case <-c.ctx.Done():
			c.drain(&pcm, &paced, &rtpc)
			return
		}
	}
}

// drain records everything queued on the writer channels now.
func (c *MockCall) drain(pcm, paced *<-chan []int16, rtpc *<-chan *rtp.Packet) {
	for {
		select {
		case f, ok := <-*pcm:
			if !ok {
				*pcm = nil
				continue
			}
			c.recordPCM(f)
		case f, ok := <-*paced:
			if !ok {
				*paced = nil
				continue
			}
			c.recordPCM(f)
		case p, ok := <-*rtpc:
			if !ok {
				*rtpc = nil
				continue
			}
			c.recordRTP(p)
		default:
			return
		}
	}
}

func (c *MockCall) recordPCM(f []int16) {
	c.mu.Lock()
	c.sentPCM = append(c.sentPCM, f)
	c.mu.Unlock()
}

func (c *MockCall) recordRTP(p *rtp.Packet) {
	c.mu.Lock()
	c.sentRTP = append(c.sentRTP, p)
	c.mu.Unlock()
}

// sync waits until everything written before it was called is recorded.
func (c *MockCall) sync() {
	c.mu.Lock()
	started := c.pumpStarted
	c.mu.Unlock()
	if !started {
		return
	}
	reply := make(chan struct{})
	select {
	case c.flush <- reply:
		<-reply
	case <-c.pumpDone:
	}
}

// SentPCM returns every slice sent on PCMWriter and PacedPCMWriter before
// SentPCM was called (and before the call ended), in the order of each
// channel. The slices are the ones the application sent.
func (c *MockCall) SentPCM() [][]int16 {
	c.sync()
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sentPCM)
}

// SentRTP returns every packet sent on RTPWriter before SentRTP was called
// (and before the call ended), in order.
func (c *MockCall) SentRTP() []*rtp.Packet {
	c.sync()
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sentRTP)
}

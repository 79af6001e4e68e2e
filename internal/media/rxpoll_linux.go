//go:build linux && (amd64 || arm64)

package media

import (
	"errors"
	"net/netip"
	"time"

	"github.com/xphone-go/xphone/internal/udpsock"
)

// pollRTP says the scheduler reads the sessions' RTP sockets itself, so
// that a session needs no goroutine of its own. Each shard asks its epoll
// instance (udpsock.Poller, without waiting) which sockets have data once per
// quantum, a quarter of a frame, and reads each of those with one
// non-blocking recvmmsg(2) that returns every datagram waiting (usually
// one). A packet is thus read at most a quantum after it arrived, and no
// socket is read in vain; the jitter buffer takes it as arriving at the
// next playout tick (loop.playable). Compared with a reader goroutine per call,
// this saves per packet a netpoll wake-up and two goroutine switches, and
// per call a goroutine stack and a read buffer (a shard's buffers serve
// all its sessions).
const pollRTP = true

// rxBatchN is how many datagrams one recvmmsg reads at most.
const rxBatchN = 8

const rxBufSize = 1500 + 64

// rxBatch is a shard's receive buffers; it is used by one goroutine.
type rxBatch = udpsock.Batch

func newRxBatch() *rxBatch { return udpsock.NewBatch(rxBatchN, rxBufSize) }

// drainRTP reads every datagram waiting on the session's RTP socket and
// runs the receive path on each; s.loopMu is held.
func (s *Session) drainRTP(b *rxBatch, now time.Time) {
	for {
		n, err := b.Read(s.rtpSock.Conn)
		if err != nil || n <= 0 {
			return // closed, or nothing waiting
		}
		for i := range n {
			buf, from := b.Datagram(i)
			s.l.receive(buf, from, now)
		}
		if n < b.Len() {
			return
		}
	}
}

// startReaders starts nothing: the scheduler reads the sockets.
func (s *Session) startReaders() {}

// shardIO is what a shard reads and writes its sessions' sockets with.
// Everything in it is used with the shard's ioMu held.
type shardIO struct {
	rx    *rxBatch
	poll  *udpsock.Poller    // nil when epoll is not available: every receive half reads
	byFD  map[int32]*Session // the sessions poll watches; guarded by shard.mu
	ready []*Session         // owned by the shard's goroutine

	// ring batches the shard's reads and sends (nil where io_uring is
	// unavailable: one system call per datagram then).
	ring    *udpsock.Ring[ioTag]
	reaping bool    // submit is handing out completions
	closing []*sock // sockets to close once nothing queued uses them
}

// ioTag is what a queued ring operation is for: a receive on s's RTP
// socket, or a send of s (payload >= 0 for RTP: its octets, for the
// statistics).
type ioTag struct {
	s       *Session
	payload int32
}

// useRing says shards batch their I/O with io_uring where the kernel
// allows it; tests turn it off to run the plain system calls.
var useRing = true

// ringEntries is how many operations a shard queues before it must submit.
const ringEntries = 128

// rxRounds bounds the rounds of one readReady: a socket that keeps
// receiving waits for the next quantum after this many datagrams.
const rxRounds = 8

// watch has the shard's poller tell when s's RTP socket has data; sh.mu
// is held. Without a poller, s is read at each of its receive halves.
func (sh *shard) watch(s *Session) {
	if sh.rx == nil {
		sh.rx = newRxBatch()
		sh.poll = udpsock.NewPoller()
		sh.byFD = map[int32]*Session{}
		if useRing {
			sh.ring, _ = udpsock.NewRing[ioTag](ringEntries, rxBufSize)
		}
	}
	if sh.poll == nil || sh.poll.Add(s.rtpSock.Conn) != nil {
		return
	}
	sh.byFD[int32(s.rtpSock.Fd())] = s
	s.polled = true
}

// release closes the shard's poller and ring once it has no session and
// nothing is queued; watch makes new ones. sh.mu and sh.ioMu are held.
func (sh *shard) release() {
	if sh.ring != nil {
		sh.ring.Close()
	}
	if sh.poll != nil {
		sh.poll.Close()
	}
	sh.rx, sh.poll, sh.ring, sh.byFD = nil, nil, nil, nil
}

// unwatch stops watching s, before its socket closes; sh.mu is held.
func (sh *shard) unwatch(s *Session) {
	if !s.polled {
		return
	}
	sh.poll.Del(s.rtpSock.Conn)
	delete(sh.byFD, int32(s.rtpSock.Fd()))
	if len(sh.byFD) == 0 {
		sh.byFD = map[int32]*Session{} // let a map grown under load go
	}
}

// readReady reads every watched socket that has data. With the ring, a
// round reads one datagram from each socket the poller reports, in one
// submission, and the next round asks the poller again (it is
// level-triggered: a socket still holding a datagram is reported again),
// until none is ready or rxRounds rounds ran; one question per round
// costs less than a receive per socket that mostly finds nothing. Without
// the ring, each ready socket is drained with recvmmsg.
func (sh *shard) readReady(now time.Time) {
	if sh.poll == nil {
		return
	}
	for round := 0; round < rxRounds; round++ {
		evs := sh.poll.Ready()
		if len(evs) == 0 {
			return
		}
		sh.mu.Lock()
		for i := range evs {
			if s := sh.byFD[evs[i].Fd]; s != nil {
				sh.ready = append(sh.ready, s)
			}
		}
		sh.mu.Unlock()
		for _, s := range sh.ready {
			if !sh.queueRecv(s, now) {
				s.serveRead(sh.rx, now, sh.sc)
			}
		}
		sh.submit(now)
		clear(sh.ready)
		sh.ready = sh.ready[:0]
		if sh.ring == nil && len(evs) < sh.poll.Cap() {
			return // every ready socket was drained
		}
	}
}

// queueRecv queues the receive of one datagram on s's RTP socket, for the
// shard's next submit. It reports false when the caller must read the
// socket itself: no ring, or a ring that failed as it was submitted to
// make room.
func (sh *shard) queueRecv(s *Session, now time.Time) bool {
	if sh.ring == nil {
		return false
	}
	err := sh.ring.Recv(s.rtpSock.Conn, ioTag{s: s})
	if errors.Is(err, udpsock.ErrRingFull) {
		sh.submit(now)
		if sh.ring == nil {
			return false
		}
		err = sh.ring.Recv(s.rtpSock.Conn, ioTag{s: s})
	}
	return err == nil || errors.Is(err, udpsock.ErrClosed) // closed: the session is going
}

// submit runs every queued operation of the ring and handles the
// results: a datagram received goes through its session's receive path,
// a failed RTP send comes off the session's statistics. Then the
// sockets waiting to close are closed.
func (sh *shard) submit(now time.Time) {
	if sh.ring == nil || sh.ring.Queued() == 0 {
		sh.closeWaiting()
		return
	}
	done, err := sh.ring.Submit()
	if err != nil {
		// The ring itself failed (not an operation on it): what it
		// completed is handled below, and the shard makes a system call
		// per datagram from now on.
		defer func() {
			sh.ring.Close()
			sh.ring = nil
		}()
	}
	sh.reaping = true
	for i := range done {
		c := &done[i]
		s := c.Tag.s
		switch {
		case !c.Recv:
			if c.N < 0 && c.Tag.payload >= 0 {
				s.ctr.packetsSent.Add(^uint64(0))
				s.ctr.bytesSent.Add(^uint64(c.Tag.payload - 1))
			}
		case c.N >= 0 && c.N <= rxBufSize: // a longer one is not RTP: dropped
			buf, from := sh.ring.Datagram(c)
			s.serveDatagram(buf, from, now, sh.sc)
		}
	}
	sh.reaping = false
	sh.closeWaiting()
}

func (sh *shard) closeWaiting() {
	for _, c := range sh.closing {
		c.Close()
	}
	clear(sh.closing)
	sh.closing = sh.closing[:0]
}

// queueSend queues b for c to send to dst, for the shard's next submit;
// payload is the RTP payload's octets, or -1. It reports false when the
// caller must send it itself: no ring, or c closed.
func (sh *shard) queueSend(c *sock, b []byte, dst netip.AddrPort, s *Session, payload int) bool {
	if sh.ring == nil {
		return false
	}
	err := sh.ring.Send(c.Conn, b, dst, ioTag{s, int32(payload)})
	if errors.Is(err, udpsock.ErrRingFull) && !sh.reaping {
		sh.submit(time.Now())
		if sh.ring == nil {
			return false // the ring failed: send it directly
		}
		err = sh.ring.Send(c.Conn, b, dst, ioTag{s, int32(payload)})
	}
	return err == nil
}

// queueClose has c closed after the shard's next submit, when no queued
// operation uses it any more. It reports false when the caller must close
// it itself.
func (sh *shard) queueClose(c *sock) bool {
	if sh.ring == nil {
		return false
	}
	sh.closing = append(sh.closing, c)
	return true
}

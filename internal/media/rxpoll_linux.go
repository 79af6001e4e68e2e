//go:build linux && (amd64 || arm64)

package media

import (
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

// shardIO is what a shard reads its sessions' sockets with.
type shardIO struct {
	rx    *rxBatch
	poll  *udpsock.Poller    // nil when epoll is not available: every receive half reads
	byFD  map[int32]*Session // the sessions poll watches; guarded by shard.mu
	ready []*Session         // owned by the shard's goroutine
}

// watch has the shard's poller tell when s's RTP socket has data; sh.mu
// is held. Without a poller, s is read at each of its receive halves.
func (sh *shard) watch(s *Session) {
	if sh.rx == nil {
		sh.rx = newRxBatch()
		sh.poll = udpsock.NewPoller()
		sh.byFD = map[int32]*Session{}
	}
	if sh.poll == nil || sh.poll.Add(s.rtpSock.Conn) != nil {
		return
	}
	sh.byFD[int32(s.rtpSock.Fd())] = s
	s.polled = true
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

// readReady reads every watched socket that has data.
func (sh *shard) readReady(now time.Time) {
	if sh.poll == nil {
		return
	}
	for {
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
			s.serveRead(sh.rx, now, sh.sc)
		}
		clear(sh.ready)
		sh.ready = sh.ready[:0]
		if len(evs) < sh.poll.Cap() {
			return
		}
	}
}

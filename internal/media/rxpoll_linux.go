//go:build linux && (amd64 || arm64)

package media

import (
	"net/netip"
	"syscall"
	"time"
	"unsafe"
)

// pollRTP says the scheduler reads the sessions' RTP sockets itself, so
// that a session needs no goroutine of its own. Each shard asks its epoll
// instance (readyPoller, without waiting) which sockets have data once per
// quantum, a quarter of a frame, and reads each of those with one
// non-blocking recvmmsg(2) that returns every datagram waiting (usually
// one). A packet is thus read at most a quantum after it arrived, and no
// socket is read in vain. The jitter buffer is given the read time as the
// arrival time, not the kernel's receive time: a packet can only be played
// once it has been read, so the wait for the next poll is part of the
// transit jitter the buffer must absorb. (Given the kernel's time, it sized
// its delay without that wait and played about 5% of the packets of a
// 30 ± 30 ms link as late.) Compared with a reader goroutine per call,
// this saves per packet a netpoll wake-up and two goroutine switches, and
// per call a goroutine stack and a read buffer (a shard's buffers serve
// all its sessions).
const pollRTP = true

// rxBatchN is how many datagrams one recvmmsg reads at most.
const rxBatchN = 8

const rxBufSize = 1500 + 64

// mmsghdr is struct mmsghdr of recvmmsg(2).
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

// rxBatch is a shard's receive buffers; it is used by one goroutine.
type rxBatch struct {
	hdrs  [rxBatchN]mmsghdr
	iovs  [rxBatchN]syscall.Iovec
	names [rxBatchN]syscall.RawSockaddrInet6
	bufs  [rxBatchN][rxBufSize]byte
	n     int                   // datagrams read by the last call of fn
	fn    func(fd uintptr) bool // built once: no allocation per read
}

func newRxBatch() *rxBatch {
	b := new(rxBatch)
	for i := range b.hdrs {
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(rxBufSize)
		h := &b.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Iov = &b.iovs[i]
		h.Iovlen = 1
	}
	b.fn = func(fd uintptr) bool {
		for i := range b.hdrs {
			h := &b.hdrs[i].hdr
			h.Namelen = uint32(unsafe.Sizeof(b.names[i]))
			h.Flags = 0
		}
		r, _, errno := syscall.Syscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), rxBatchN, syscall.MSG_DONTWAIT, 0, 0)
		b.n = int(r)
		if errno != 0 {
			b.n = 0 // EAGAIN: nothing waiting; never block here
		}
		return true
	}
	return b
}

// drainRTP reads every datagram waiting on the session's RTP socket and
// runs the receive path on each; s.loopMu is held.
func (s *Session) drainRTP(b *rxBatch, now time.Time) {
	for {
		if s.rtpSock.rawRead(b.fn) != nil || b.n <= 0 {
			return // closed, or nothing waiting
		}
		for i := range b.n {
			m := &b.hdrs[i]
			n := min(int(m.n), rxBufSize)
			s.l.receive(b.bufs[i][:n], b.source(i), now)
		}
		if b.n < rxBatchN {
			return
		}
	}
}

// source returns the sender of datagram i.
func (b *rxBatch) source(i int) netip.AddrPort {
	sa := &b.names[i]
	switch sa.Family {
	case syscall.AF_INET:
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), uint16(p[0])<<8|uint16(p[1]))
	case syscall.AF_INET6:
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// startReaders starts nothing: the scheduler reads the sockets.
func (s *Session) startReaders() {}

// shardIO is what a shard reads its sessions' sockets with.
type shardIO struct {
	rx    *rxBatch
	poll  *readyPoller       // nil when epoll is not available: every receive half reads
	byFD  map[int32]*Session // the sessions poll watches; guarded by shard.mu
	ready []*Session         // owned by the shard's goroutine
}

// watch has the shard's poller tell when s's RTP socket has data; sh.mu
// is held. Without a poller, s is read at each of its receive halves.
func (sh *shard) watch(s *Session) {
	if sh.rx == nil {
		sh.rx = newRxBatch()
		sh.poll = newReadyPoller()
		sh.byFD = map[int32]*Session{}
	}
	if sh.poll == nil || sh.poll.add(s.rtpSock) != nil {
		return
	}
	sh.byFD[int32(s.rtpSock.fd)] = s
	s.polled = true
}

// unwatch stops watching s, before its socket closes; sh.mu is held.
func (sh *shard) unwatch(s *Session) {
	if !s.polled {
		return
	}
	sh.poll.del(s.rtpSock)
	delete(sh.byFD, int32(s.rtpSock.fd))
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
		evs := sh.poll.ready()
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
		if len(evs) < len(sh.poll.events) {
			return
		}
	}
}

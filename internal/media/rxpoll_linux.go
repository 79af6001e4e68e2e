//go:build linux && (amd64 || arm64)

package media

import (
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"
)

// pollRTP says the scheduler reads each session's RTP socket itself, at
// the receive half of every tick, so that a session needs no goroutine of
// its own: one non-blocking recvmmsg(2) returns every datagram waiting
// (usually one). The jitter buffer is given the read time as the arrival
// time, not the kernel's receive time: a packet can only be played once it
// has been read, so the wait for the next poll (up to a frame) is part of
// the transit jitter the buffer must absorb. Given the kernel's time, it
// sized its delay without that wait and played about 5% of the packets of
// a 30 ± 30 ms link as late (TestFaultMediaImpairedLink: 10.5% concealed
// against 4.5% now). Compared with a reader goroutine
// per call, this saves per packet one empty read, a netpoll wake-up and
// two goroutine switches, and per call a goroutine stack and a read
// buffer (a shard's buffers serve all its sessions).
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

// setupRxPoll returns c's raw connection, or nil when the session must
// fall back to a reader goroutine.
func setupRxPoll(c *net.UDPConn) syscall.RawConn {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// drainRTP reads every datagram waiting on the session's RTP socket and
// runs the receive path on each; s.loopMu is held.
func (s *Session) drainRTP(b *rxBatch, now time.Time) {
	for {
		if s.rtpRC.Read(b.fn) != nil || b.n <= 0 {
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

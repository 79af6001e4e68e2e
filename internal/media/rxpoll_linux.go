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
// (usually one), each with the kernel's receive time (SO_TIMESTAMPNS,
// socket(7)), so the jitter buffer sees true arrival times although the
// packet is read up to a frame later. Compared with a reader goroutine
// per call, this saves per packet one empty read, a netpoll wake-up and
// two goroutine switches, and per call a goroutine stack and a read
// buffer (a shard's buffers serve all its sessions).
const pollRTP = true

// rxBatchN is how many datagrams one recvmmsg reads at most.
const rxBatchN = 8

const (
	rxBufSize  = 1500 + 64
	cmsgHdrLen = int(unsafe.Sizeof(syscall.Cmsghdr{}))
	// room for one SCM_TIMESTAMPNS message, and some to spare
	rxCtlWords = 8
)

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
	ctl   [rxBatchN][rxCtlWords]uint64 // 8-byte aligned for the cmsg headers
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
		h.Control = (*byte)(unsafe.Pointer(&b.ctl[i][0]))
	}
	b.fn = func(fd uintptr) bool {
		for i := range b.hdrs {
			h := &b.hdrs[i].hdr
			h.Namelen = uint32(unsafe.Sizeof(b.names[i]))
			h.SetControllen(rxCtlWords * 8)
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

// setupRxPoll turns kernel receive timestamps on for c and returns its
// raw connection, or nil when the session must fall back to a reader
// goroutine.
func setupRxPoll(c *net.UDPConn) syscall.RawConn {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil || serr != nil {
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
			s.l.receive(b.bufs[i][:n], b.source(i), b.arrival(i, now))
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

// arrival returns the kernel's receive time of datagram i, on now's
// monotonic clock; now when the kernel gave none.
func (b *rxBatch) arrival(i int, now time.Time) time.Time {
	h := &b.hdrs[i].hdr
	ctl := unsafe.Slice((*byte)(unsafe.Pointer(&b.ctl[i][0])), rxCtlWords*8)[:min(int(h.Controllen), rxCtlWords*8)]
	for len(ctl) >= cmsgHdrLen {
		c := (*syscall.Cmsghdr)(unsafe.Pointer(&ctl[0]))
		l := int(c.Len)
		if l < cmsgHdrLen || l > len(ctl) {
			break
		}
		if c.Level == syscall.SOL_SOCKET && c.Type == syscall.SCM_TIMESTAMPNS && l >= cmsgHdrLen+int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&ctl[cmsgHdrLen]))
			// The stamp is wall-clock time; carry its age over to now,
			// which has a monotonic reading.
			age := time.Unix(ts.Sec, ts.Nsec).Sub(now)
			if age > 0 || age < -time.Second {
				return now // the wall clock stepped
			}
			return now.Add(age)
		}
		l = (l + 7) &^ 7
		if l >= len(ctl) {
			break
		}
		ctl = ctl[l:]
	}
	return now
}

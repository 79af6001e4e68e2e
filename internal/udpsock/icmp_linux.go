//go:build linux && (amd64 || arm64)

package udpsock

import (
	"errors"
	"net/netip"
	"syscall"
	"unsafe"
)

// ICMP errors (RFC 3261 §18.4: port, host or network unreachable should
// fail the send): with ReportUnreachable, the kernel queues each ICMP
// error that answers a datagram of the socket, with the datagram as far
// as the ICMP message quoted it and where it was going, and makes the
// socket's next read or write fail once with the error (ip(7),
// IP_RECVERR). Batch.Read then returns ErrUnreachable; ReadUnreachable
// takes the queued errors.

// ErrUnreachable is returned by Batch.Read when ICMP errors wait to be
// read with ReadUnreachable.
var ErrUnreachable = errors.New("udpsock: an ICMP error is queued")

// Unreachable reports whether err is one an ICMP error sets on a socket
// with ReportUnreachable.
func Unreachable(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case syscall.ECONNREFUSED, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.EHOSTDOWN,
		syscall.ENETDOWN, syscall.EPROTO, syscall.EACCES, syscall.EPERM, syscall.ENOPROTOOPT:
		return true
	}
	return false
}

// ReportUnreachable turns on the queue of ICMP errors (IP_RECVERR, and
// IPV6_RECVERR on an IPv6 or dual-stack socket), or off again with on
// false. It is safe for concurrent use.
func (c *Conn) ReportUnreachable(on bool) error {
	v := 0
	if on {
		v = 1
	}
	if c.v6 {
		if err := syscall.SetsockoptInt(c.fd, syscall.IPPROTO_IPV6, syscall.IPV6_RECVERR, v); err != nil {
			return err
		}
	}
	err := syscall.SetsockoptInt(c.fd, syscall.IPPROTO_IP, syscall.IP_RECVERR, v)
	if err != nil && !c.v6 {
		return err
	}
	return nil // on a dual-stack socket IPV6_RECVERR serves IPv4-mapped traffic too
}

// Pending reports, once, that a write took the error an ICMP message set
// (WriteTo made it again): ReadUnreachable has the ICMP error, which no
// Batch.Read will report.
func (c *Conn) Pending() bool { return c.pending.Load() && c.pending.Swap(false) }

// sockExtendedErr is struct sock_extended_err (linux/errqueue.h).
type sockExtendedErr struct {
	errno  uint32
	origin uint8
	typ    uint8
	code   uint8
	_      uint8
	info   uint32
	data   uint32
}

const (
	eeOriginICMP  = 2 // SO_EE_ORIGIN_ICMP
	eeOriginICMP6 = 3 // SO_EE_ORIGIN_ICMP6
)

// ReadUnreachable takes one queued ICMP error without waiting: into buf
// what the ICMP message quoted of the datagram (n bytes), where the
// datagram was going, and the error (ECONNREFUSED for port unreachable).
// ok is false when none is queued. Errors of other origins are skipped.
// It is safe for concurrent use.
func (c *Conn) ReadUnreachable(buf []byte) (n int, dst netip.AddrPort, cause syscall.Errno, ok bool) {
	if len(buf) == 0 {
		return 0, netip.AddrPort{}, 0, false
	}
	var name syscall.RawSockaddrInet6
	var oob [256]byte
	for {
		iov := syscall.Iovec{Base: &buf[0]}
		iov.SetLen(len(buf))
		h := syscall.Msghdr{Name: (*byte)(unsafe.Pointer(&name)), Namelen: uint32(unsafe.Sizeof(name)),
			Iov: &iov, Iovlen: 1, Control: &oob[0]}
		h.SetControllen(len(oob))
		r, _, errno := syscall.Syscall(syscall.SYS_RECVMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&h)),
			syscall.MSG_ERRQUEUE|syscall.MSG_DONTWAIT)
		if errno != 0 {
			return 0, netip.AddrPort{}, 0, false // EAGAIN: none queued
		}
		cmsgs, err := syscall.ParseSocketControlMessage(oob[:h.Controllen])
		if err != nil {
			continue
		}
		for _, m := range cmsgs {
			if !(m.Header.Level == syscall.IPPROTO_IP && m.Header.Type == syscall.IP_RECVERR ||
				m.Header.Level == syscall.IPPROTO_IPV6 && m.Header.Type == syscall.IPV6_RECVERR) ||
				len(m.Data) < int(unsafe.Sizeof(sockExtendedErr{})) {
				continue
			}
			ee := (*sockExtendedErr)(unsafe.Pointer(&m.Data[0]))
			if ee.origin != eeOriginICMP && ee.origin != eeOriginICMP6 {
				continue
			}
			return min(int(r), len(buf)), source(&name), syscall.Errno(ee.errno), true
		}
	}
}

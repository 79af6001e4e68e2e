//go:build linux && (amd64 || arm64)

package udpsock

import (
	"errors"
	"net/netip"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// A Ring batches datagram sends and receives on many sockets into one
// io_uring_enter(2): the caller queues operations (Send, Recv), then
// Submit hands them all to the kernel at once and waits for every
// result. On a virtual machine with page-table isolation a system call
// costs about a microsecond before it does any work (a getppid(2) loop
// measured 1.2 µs here), and a media server makes two per packet per
// call; a ring makes a few per batch instead.
//
// Every operation carries MSG_DONTWAIT, so none ever waits for a socket:
// a send that finds the socket's buffer full and a receive that finds no
// datagram complete at once with EAGAIN, during the submission.
//
// A Ring is used by one goroutine. The sockets of queued operations must
// stay open until Submit returns: the Ring holds their descriptor
// numbers, not the sockets.
type Ring[T any] struct {
	fd      int
	entries uint32

	ringMem, cqMem, sqeMem []byte // cqMem: only without a single mapping
	sqTail                 *uint32
	sqArray                []uint32
	sqes                   []sqe
	cqHead, cqTail         *uint32
	cqMask                 uint32
	cqes                   []cqe

	bufSize int
	slots   []ringSlot[T] // never reallocated: the kernel holds pointers into it
	free    []int32
	queued  uint32 // entries written since the last Submit
	done    []Completion[T]
}

// Completion is the result of one queued operation.
type Completion[T any] struct {
	Tag  T    // what the operation was queued with
	Recv bool // a receive (else a send)
	// N is the datagram's length for a receive (more than the buffer
	// when it was truncated), the bytes sent for a send, or -1.
	N    int
	Err  syscall.Errno // when N is -1; EAGAIN: nothing waiting, or no room
	slot int32
}

type ringSlot[T any] struct {
	hdr  syscall.Msghdr
	iov  syscall.Iovec
	name syscall.RawSockaddrInet6
	buf  []byte // made on first use
	tag  T
	recv bool
}

// io_uring ABI (include/uapi/linux/io_uring.h). The system call numbers
// are the same on every architecture.
const (
	sysIOUringSetup = 425
	sysIOUringEnter = 426

	opSendmsg = 9
	opRecvmsg = 10

	setupSubmitAll = 1 << 7 // keep submitting after an entry fails
	enterGetEvents = 1
	featSingleMmap = 1

	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000
)

type sqOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sq                                                                     sqOffsets
	cq                                                                     cqOffsets
}

type sqe struct {
	opcode, flags         uint8
	ioprio                uint16
	fd                    int32
	off, addr             uint64
	len, opFlags          uint32
	userData              uint64
	bufIndex, personality uint16
	spliceFdIn            int32
	addr3, pad            uint64
}

type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// ErrRingFull is returned by Send and Recv when entries operations are
// queued: Submit first.
var ErrRingFull = errors.New("udpsock: ring full")

// NewRing sets up an io_uring for up to entries queued operations (a
// power of two, at most 4096) on datagrams of up to bufSize bytes. It
// fails where io_uring is unavailable (an old kernel, or a seccomp policy
// or sysctl that forbids it); the caller then uses plain system calls.
func NewRing[T any](entries, bufSize int) (*Ring[T], error) {
	if entries < 1 || entries > 4096 || entries&(entries-1) != 0 {
		return nil, errors.New("udpsock: ring entries must be a power of two up to 4096")
	}
	var p uringParams
	p.flags = setupSubmitAll
	fd, _, errno := syscall.Syscall(sysIOUringSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno == syscall.EINVAL { // before Linux 5.18: no SUBMIT_ALL
		p = uringParams{}
		fd, _, errno = syscall.Syscall(sysIOUringSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	}
	if errno != 0 {
		return nil, &ringError{"io_uring_setup", errno}
	}
	r := &Ring[T]{fd: int(fd), entries: p.sqEntries, bufSize: bufSize}
	if err := r.mmap(&p); err != nil {
		r.Close()
		return nil, err
	}
	n := 2 * int(r.entries) // the last batch's results plus a full queue
	r.slots = make([]ringSlot[T], n)
	r.free = make([]int32, 0, n)
	for i := n - 1; i >= 0; i-- {
		r.free = append(r.free, int32(i))
	}
	return r, nil
}

type ringError struct {
	op    string
	errno syscall.Errno
}

func (e *ringError) Error() string { return "udpsock: " + e.op + ": " + e.errno.Error() }
func (e *ringError) Unwrap() error { return e.errno }

func (r *Ring[T]) mmap(p *uringParams) error {
	sqSize := int(p.sq.array) + int(p.sqEntries)*4
	cqSize := int(p.cq.cqes) + int(p.cqEntries)*int(unsafe.Sizeof(cqe{}))
	single := p.features&featSingleMmap != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}
	prot, flags := syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE
	sq, err := syscall.Mmap(r.fd, offSQRing, sqSize, prot, flags)
	if err != nil {
		return &ringError{"mmap", err.(syscall.Errno)}
	}
	r.ringMem = sq
	cq := sq
	if !single {
		if cq, err = syscall.Mmap(r.fd, offCQRing, cqSize, prot, flags); err != nil {
			return &ringError{"mmap", err.(syscall.Errno)}
		}
		r.cqMem = cq
	}
	sqes, err := syscall.Mmap(r.fd, offSQEs, int(p.sqEntries)*int(unsafe.Sizeof(sqe{})), prot, flags)
	if err != nil {
		return &ringError{"mmap", err.(syscall.Errno)}
	}
	r.sqeMem = sqes
	u32 := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sqTail = u32(sq, p.sq.tail)
	r.sqArray = unsafe.Slice(u32(sq, p.sq.array), p.sqEntries)
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&sqes[0])), p.sqEntries)
	r.cqHead = u32(cq, p.cq.head)
	r.cqTail = u32(cq, p.cq.tail)
	r.cqMask = *u32(cq, p.cq.ringMask)
	r.cqes = unsafe.Slice((*cqe)(unsafe.Pointer(&cq[p.cq.cqes])), p.cqEntries)
	return nil
}

// Close releases the ring, once. Nothing may be queued.
func (r *Ring[T]) Close() {
	for _, m := range [][]byte{r.sqeMem, r.cqMem, r.ringMem} {
		if m != nil {
			syscall.Munmap(m)
		}
	}
	r.sqeMem, r.cqMem, r.ringMem = nil, nil, nil
	if r.fd >= 0 {
		syscall.Close(r.fd)
		r.fd = -1
	}
}

// Cap is how many operations can be queued between two Submits.
func (r *Ring[T]) Cap() int { return int(r.entries) }

// Queued is how many operations wait for Submit.
func (r *Ring[T]) Queued() int { return int(r.queued) }

// Send queues a copy of b for c to send to dst. It fails with
// ErrRingFull when Cap operations are queued, with ErrClosed when c is
// closed, and when b does not fit the ring's buffers or dst cannot be
// reached from c.
func (r *Ring[T]) Send(c *Conn, b []byte, dst netip.AddrPort, tag T) error {
	if len(b) > r.bufSize {
		return errors.New("udpsock: datagram larger than the ring's buffers")
	}
	i, s, err := r.take(c)
	if err != nil {
		return err
	}
	a := dst.Addr()
	switch {
	case c.v6:
		s.name = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: a.As16()}
		putPort(&s.name.Port, dst.Port())
		s.hdr.Namelen = uint32(unsafe.Sizeof(syscall.RawSockaddrInet6{}))
	case a.Is4() || a.Is4In6():
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&s.name))
		*sa = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: a.Unmap().As4()}
		putPort(&sa.Port, dst.Port())
		s.hdr.Namelen = uint32(unsafe.Sizeof(syscall.RawSockaddrInet4{}))
	default:
		r.free = append(r.free, i)
		return errFamily
	}
	copy(s.buf, b)
	s.iov.SetLen(len(b))
	s.recv, s.tag = false, tag
	r.push(i, c, opSendmsg)
	return nil
}

// Recv queues the receive of one datagram on c.
func (r *Ring[T]) Recv(c *Conn, tag T) error {
	i, s, err := r.take(c)
	if err != nil {
		return err
	}
	s.hdr.Namelen = uint32(unsafe.Sizeof(s.name))
	s.iov.SetLen(len(s.buf))
	s.recv, s.tag = true, tag
	r.push(i, c, opRecvmsg)
	return nil
}

// take reserves a slot for an operation on c.
func (r *Ring[T]) take(c *Conn) (int32, *ringSlot[T], error) {
	if r.queued == r.entries {
		return 0, nil, ErrRingFull
	}
	c.mu.RLock()
	closed := c.shut || c.closed
	c.mu.RUnlock()
	if closed {
		return 0, nil, ErrClosed
	}
	i := r.free[len(r.free)-1]
	r.free = r.free[:len(r.free)-1]
	s := &r.slots[i]
	if s.buf == nil {
		s.buf = make([]byte, r.bufSize)
		s.iov.Base = &s.buf[0]
		s.hdr.Iov = &s.iov
		s.hdr.Iovlen = 1
		s.hdr.Name = (*byte)(unsafe.Pointer(&s.name))
	}
	s.hdr.Flags = 0
	return i, s, nil
}

// push writes the submission entry of slot i.
func (r *Ring[T]) push(i int32, c *Conn, op uint8) {
	k := (atomic.LoadUint32(r.sqTail) + r.queued) & (r.entries - 1)
	flags := uint32(syscall.MSG_DONTWAIT)
	if op == opRecvmsg {
		flags |= syscall.MSG_TRUNC // N tells the datagram's real length
	}
	r.sqes[k] = sqe{
		opcode:   op,
		fd:       int32(c.fd),
		addr:     uint64(uintptr(unsafe.Pointer(&r.slots[i].hdr))),
		len:      1,
		opFlags:  flags,
		userData: uint64(i),
	}
	r.sqArray[k] = k
	r.queued++
}

// Submit hands every queued operation to the kernel and waits for all
// their results, which it returns. The results, and the buffers Datagram
// returns for them, stay valid until the next Submit. An error means the
// ring itself failed: the results returned are those that came, and the
// ring must be closed.
func (r *Ring[T]) Submit() ([]Completion[T], error) {
	for _, c := range r.done {
		r.free = append(r.free, c.slot)
	}
	clear(r.done) // drop the tags
	r.done = r.done[:0]
	n := r.queued
	if n == 0 {
		return nil, nil
	}
	atomic.StoreUint32(r.sqTail, atomic.LoadUint32(r.sqTail)+n)
	r.queued = 0
	for left := n; left > 0; {
		// Submitting never waits (every operation is MSG_DONTWAIT), but
		// a large batch keeps the kernel busy for a while: told of such a
		// system call, the runtime's monitor would hand this thread's P
		// to another thread and wake more often to watch, which costs
		// more than the submission. So it is a raw system call; waiting
		// for stragglers below is not.
		got, _, errno := syscall.RawSyscall6(sysIOUringEnter, uintptr(r.fd), uintptr(left), 0, 0, 0, 0)
		switch errno {
		case 0:
			left -= uint32(got)
		case syscall.EINTR:
		case syscall.EAGAIN, syscall.EBUSY:
			r.reap() // the completion queue is full: make room
		default:
			return r.done, &ringError{"io_uring_enter", errno}
		}
	}
	for r.reap(); uint32(len(r.done)) < n; r.reap() {
		_, _, errno := syscall.Syscall6(sysIOUringEnter, uintptr(r.fd), 0, uintptr(n-uint32(len(r.done))), enterGetEvents, 0, 0)
		if errno != 0 && errno != syscall.EINTR {
			return r.done, &ringError{"io_uring_enter", errno}
		}
	}
	return r.done, nil
}

// reap collects the completions the kernel has posted.
func (r *Ring[T]) reap() {
	head, tail := atomic.LoadUint32(r.cqHead), atomic.LoadUint32(r.cqTail)
	for ; head != tail; head++ {
		e := r.cqes[head&r.cqMask]
		i := int32(e.userData)
		s := &r.slots[i]
		c := Completion[T]{Tag: s.tag, Recv: s.recv, N: int(e.res), slot: i}
		if e.res < 0 {
			c.N, c.Err = -1, syscall.Errno(-e.res)
		}
		var zero T
		s.tag = zero
		r.done = append(r.done, c)
	}
	atomic.StoreUint32(r.cqHead, head)
}

// Datagram returns the datagram a receive got, cut to the buffer size, and
// its source, with IPv4-mapped addresses unmapped.
func (r *Ring[T]) Datagram(c *Completion[T]) ([]byte, netip.AddrPort) {
	if !c.Recv || c.N < 0 {
		return nil, netip.AddrPort{}
	}
	s := &r.slots[c.slot]
	return s.buf[:min(c.N, len(s.buf))], source(&s.name)
}

//go:build linux && (amd64 || arm64)

package udpsock

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"unsafe"
)

func newRing(t *testing.T, entries, size int) *Ring[int] {
	t.Helper()
	r, err := NewRing[int](entries, size)
	if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EPERM) {
		skipNoRing(t, err) // the media path then uses plain system calls
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// skipNoRing skips a test where the kernel or a seccomp policy refuses
// io_uring, except in CI, whose machines allow it: there the ring must be
// tested.
func skipNoRing(t *testing.T, err error) {
	t.Helper()
	skipOutsideCI(t, "io_uring unavailable: %v", err)
}

// skipOutsideCI skips a test that this machine cannot run, or fails it in
// CI, whose machines can (io_uring, an IPv6 loopback).
func skipOutsideCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("in CI: "+format, args...)
	}
	t.Skipf(format, args...)
}

// waitReadable blocks until c has a datagram (or the deadline passes), so
// that a non-blocking receive that follows finds it.
func waitReadable(t *testing.T, c *Conn) {
	t.Helper()
	fds := []pollFd{{fd: int32(c.fd), events: 1}} // POLLIN
	for {
		n, err := pollFds(fds, int(deadline.Milliseconds()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n != 1 {
			t.Fatalf("socket never became readable: n=%d err=%v", n, err)
		}
		return
	}
}

// TestRingSendRecv: many sends from several sockets go out in one Submit,
// and receives queued on every socket come back with each datagram and
// its source, in one Submit too; a receive with nothing waiting
// completes at once with EAGAIN.
func TestRingSendRecv(t *testing.T) {
	for _, fam := range []struct {
		name string
		addr netip.Addr
	}{{"ipv4", loopback}, {"ipv6", netip.MustParseAddr("::1")}} {
		t.Run(fam.name, func(t *testing.T) {
			r := newRing(t, 16, 1500)
			var socks [4]*Conn
			for i := range socks {
				c, err := Listen(netip.AddrPortFrom(fam.addr, 0), false, 0)
				if err != nil {
					skipOutsideCI(t, "no %s loopback: %v", fam.name, err)
				}
				t.Cleanup(func() { c.Close() })
				socks[i] = c
			}
			// Socket i sends "from i" to socket (i+1) mod 4.
			for i, c := range socks {
				dst := socks[(i+1)%len(socks)].LocalAddr()
				if err := r.Send(c, fmt.Appendf(nil, "from %d", i), dst, 100+i); err != nil {
					t.Fatal(err)
				}
			}
			if r.Queued() != len(socks) {
				t.Fatalf("Queued = %d, want %d", r.Queued(), len(socks))
			}
			done, err := r.Submit()
			if err != nil {
				t.Fatal(err)
			}
			if len(done) != len(socks) {
				t.Fatalf("%d completions, want %d", len(done), len(socks))
			}
			for _, c := range done {
				if c.Recv || c.N != len("from 0") || c.Tag < 100 {
					t.Fatalf("send completion %+v", c)
				}
			}
			for _, c := range socks {
				waitReadable(t, c)
				if err := r.Recv(c, 0); err != nil {
					t.Fatal(err)
				}
			}
			for i, c := range socks {
				if err := r.Recv(c, 10+i); err != nil { // a second receive each: nothing left
					t.Fatal(err)
				}
			}
			done, err = r.Submit()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]netip.AddrPort{}
			again := 0
			for i := range done {
				c := &done[i]
				if !c.Recv {
					t.Fatalf("completion %+v is not a receive", c)
				}
				if c.N < 0 {
					if c.Err != syscall.EAGAIN || c.Tag < 10 {
						t.Fatalf("receive failed: %+v", c)
					}
					again++
					continue
				}
				b, from := r.Datagram(c)
				got[string(b)] = from
			}
			if again != len(socks) {
				t.Errorf("%d receives found nothing, want %d", again, len(socks))
			}
			for i, c := range socks {
				if from, ok := got[fmt.Sprintf("from %d", i)]; !ok || from != c.LocalAddr() {
					t.Errorf("datagram from socket %d: source %v (present %v), want %v", i, from, ok, c.LocalAddr())
				}
			}
		})
	}
}

// TestRingReuse: more operations than the ring holds go through in several
// Submits, with its buffers reused, and none is lost.
func TestRingReuse(t *testing.T) {
	r := newRing(t, 8, 64)
	tx := listen(t, netip.AddrPortFrom(loopback, 0), false)
	rx := listen(t, netip.AddrPortFrom(loopback, 0), false)
	if err := rx.SetReadBuffer(1 << 20); err != nil {
		t.Fatal(err)
	}
	const total = 100
	sent := 0
	for i := range total {
		err := r.Send(tx, []byte{byte(i)}, rx.LocalAddr(), i)
		if errors.Is(err, ErrRingFull) {
			if r.Queued() != r.Cap() {
				t.Fatalf("ErrRingFull with %d of %d queued", r.Queued(), r.Cap())
			}
			done, serr := r.Submit()
			if serr != nil {
				t.Fatal(serr)
			}
			sent += len(done)
			err = r.Send(tx, []byte{byte(i)}, rx.LocalAddr(), i)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	done, err := r.Submit()
	if err != nil {
		t.Fatal(err)
	}
	sent += len(done)
	if sent != total {
		t.Fatalf("%d sends completed, want %d", sent, total)
	}
	seen := make([]bool, total)
	for n := 0; n < total; {
		waitReadable(t, rx)
		for range r.Cap() {
			if err := r.Recv(rx, 0); err != nil {
				t.Fatal(err)
			}
		}
		done, err := r.Submit()
		if err != nil {
			t.Fatal(err)
		}
		for i := range done {
			if b, _ := r.Datagram(&done[i]); len(b) == 1 {
				if seen[b[0]] {
					t.Fatalf("datagram %d twice", b[0])
				}
				seen[b[0]] = true
				n++
			}
		}
	}
}

// TestRingLimits: a closed socket, an oversized datagram and a truncated
// receive are reported, not sent or delivered cut.
func TestRingLimits(t *testing.T) {
	r := newRing(t, 4, 16)
	a := listen(t, netip.AddrPortFrom(loopback, 0), false)
	b := listen(t, netip.AddrPortFrom(loopback, 0), false)
	if err := r.Send(a, make([]byte, 17), b.LocalAddr(), 0); err == nil {
		t.Error("a datagram larger than the buffers was queued")
	}
	if err := a.WriteTo(make([]byte, 40), b.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	waitReadable(t, b)
	if err := r.Recv(b, 0); err != nil {
		t.Fatal(err)
	}
	done, err := r.Submit()
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0].N != 40 {
		t.Fatalf("truncated receive: %+v, want N=40 (the datagram's length)", done)
	}
	if got, _ := r.Datagram(&done[0]); len(got) != 16 {
		t.Errorf("Datagram returned %d bytes, want the buffer's 16", len(got))
	}
	c := listen(t, netip.AddrPortFrom(loopback, 0), false)
	c.Close()
	if err := r.Send(c, []byte("x"), b.LocalAddr(), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Send on a closed socket: %v, want ErrClosed", err)
	}
	if err := r.Recv(c, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Recv on a closed socket: %v, want ErrClosed", err)
	}
	if done, err := r.Submit(); err != nil || len(done) != 0 {
		t.Errorf("Submit with nothing queued: %v, %v", done, err)
	}
}

// BenchmarkSendPerSocket compares sending one datagram from each of 64
// sockets with a sendto(2) each and with one ring submission.
func BenchmarkSendPerSocket(b *testing.B) {
	const n = 64
	rx, err := Listen(netip.AddrPortFrom(loopback, 0), false, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer rx.Close()
	rx.SetReadBuffer(8 << 20)
	var socks [n]*Conn
	for i := range socks {
		if socks[i], err = Listen(netip.AddrPortFrom(loopback, 0), false, 0); err != nil {
			b.Fatal(err)
		}
		defer socks[i].Close()
	}
	pkt := make([]byte, 172) // a PCMU RTP packet
	drain := NewBatch(64, 256)
	b.Run("impl=sendto", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range socks {
				c.WriteTo(pkt, rx.LocalAddr())
			}
			for k, _ := drain.Read(rx); k > 0; k, _ = drain.Read(rx) {
			}
		}
	})
	b.Run("impl=ring", func(b *testing.B) {
		r, err := NewRing[int](n, 256)
		if err != nil {
			b.Skip(err)
		}
		defer r.Close()
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range socks {
				r.Send(c, pkt, rx.LocalAddr(), 0)
			}
			r.Submit()
			for k, _ := drain.Read(rx); k > 0; k, _ = drain.Read(rx) {
			}
		}
	})
}

// pollFd is struct pollfd.
type pollFd struct {
	fd              int32
	events, revents int16
}

// pollFds is poll(2) through ppoll, which every architecture has.
func pollFds(fds []pollFd, ms int) (int, error) {
	ts := syscall.NsecToTimespec(int64(ms) * 1e6)
	n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)),
		uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// TestRingBroken: when the ring itself fails (here its descriptor is
// gone), Submit reports an error instead of waiting for results that
// cannot come.
func TestRingBroken(t *testing.T) {
	r, err := NewRing[int](4, 64)
	if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EPERM) {
		skipNoRing(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	a := listen(t, netip.AddrPortFrom(loopback, 0), false)
	if err := r.Send(a, []byte("x"), a.LocalAddr(), 0); err != nil {
		t.Fatal(err)
	}
	syscall.Close(r.fd)
	if _, err := r.Submit(); !errors.Is(err, syscall.EBADF) {
		t.Errorf("Submit on a closed ring: %v, want EBADF", err)
	}
	r.fd = -1 // already closed
	r.Close()
	r.Close() // twice: nothing more happens
}

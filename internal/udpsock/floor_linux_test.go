//go:build linux && (amd64 || arm64)

package udpsock

import (
	"fmt"
	"net/netip"
	"syscall"
	"testing"
)

// echoSide is one process's sockets in BenchmarkEchoFloor: one per call,
// with a poller over them and the socket of each descriptor.
type echoSide struct {
	socks []*Conn
	poll  *Poller
	byFD  map[int]*Conn
	ring  *Ring[int]
	batch *Batch
}

func newEchoSide(b *testing.B, n int, ring bool) *echoSide {
	b.Helper()
	s := &echoSide{poll: NewPoller(), byFD: make(map[int]*Conn, n), batch: NewBatch(8, 256)}
	if s.poll == nil {
		b.Skip("no epoll")
	}
	b.Cleanup(func() { syscall.Close(s.poll.epfd) })
	for range n {
		c, err := Listen(netip.AddrPortFrom(loopback, 0), false, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		if err := s.poll.Add(c); err != nil {
			b.Fatal(err)
		}
		s.socks = append(s.socks, c)
		s.byFD[c.Fd()] = c
	}
	if ring {
		r, err := NewRing[int](1024, 256)
		if err != nil {
			b.Skip(err)
		}
		b.Cleanup(r.Close)
		s.ring = r
	}
	return s
}

// submit runs the ring's queued operations and calls done for every
// datagram received.
func (s *echoSide) submit(b *testing.B, done func(c *Conn, p []byte, src netip.AddrPort)) {
	comps, err := s.ring.Submit()
	if err != nil {
		b.Fatal(err)
	}
	for i := range comps {
		if comps[i].Recv && comps[i].N > 0 {
			p, src := s.ring.Datagram(&comps[i])
			done(s.socks[comps[i].Tag], p, src)
		}
	}
}

// receive reads n datagrams from the side's sockets as they become
// ready, passing each to got: with the ring, one receive per ready socket
// per round, all submitted at once; else a recvmmsg per ready socket.
func (s *echoSide) receive(b *testing.B, n int, index map[*Conn]int, got func(c *Conn, p []byte, src netip.AddrPort)) {
	for seen := 0; seen < n; {
		for _, ev := range s.poll.Ready() {
			c := s.byFD[int(ev.Fd)]
			if s.ring == nil {
				k, _ := s.batch.Read(c)
				for i := range k {
					p, src := s.batch.Datagram(i)
					got(c, p, src)
				}
				seen += k
				continue
			}
			if s.ring.Queued() == s.ring.Cap() {
				s.submit(b, func(c *Conn, p []byte, src netip.AddrPort) { seen++; got(c, p, src) })
			}
			s.ring.Recv(c, index[c])
		}
		if s.ring != nil {
			s.submit(b, func(c *Conn, p []byte, src netip.AddrPort) { seen++; got(c, p, src) })
		}
	}
}

// BenchmarkEchoFloor is the kernel's share of the media load run
// (cmd/xphone-load, ../shared/peerbench/media-load.sh): per op, one
// 172-byte RTP datagram from each of the caller's sockets to its
// answering socket, read there and sent back, and read by the caller,
// with the media shards' system calls (impl=ring: batched sendmsg and
// recvmsg on an io_uring, epoll for readiness) or one system call per
// datagram (impl=syscall: sendto, and recvmmsg per ready socket, as a
// reader per socket does), and no other work. One goroutine does it all,
// so its time is CPU time: ns/datagram is what moving one datagram costs
// both processes together, and cpu%-1000calls the share of one core
// that 1,000 calls (50 datagrams a second each way) need for that alone.
func BenchmarkEchoFloor(b *testing.B) {
	pkt := make([]byte, 172)
	for _, n := range []int{125, 1000} {
		for _, impl := range []string{"ring", "syscall"} {
			b.Run(fmt.Sprintf("calls=%d/impl=%s", n, impl), func(b *testing.B) {
				caller, answerer := newEchoSide(b, n, impl == "ring"), newEchoSide(b, n, impl == "ring")
				index := make(map[*Conn]int, 2*n)
				for i := range n {
					index[caller.socks[i]], index[answerer.socks[i]] = i, i
				}
				send := func(s *echoSide, c *Conn, p []byte, dst netip.AddrPort) {
					if s.ring == nil {
						if err := c.WriteTo(p, dst); err != nil {
							b.Fatal(err)
						}
						return
					}
					if s.ring.Queued() == s.ring.Cap() {
						s.submit(b, nil)
					}
					if err := s.ring.Send(c, p, dst, index[c]); err != nil {
						b.Fatal(err)
					}
				}
				echo := func(c *Conn, p []byte, src netip.AddrPort) { send(answerer, c, p, src) }
				drop := func(*Conn, []byte, netip.AddrPort) {}
				b.ReportAllocs()
				for b.Loop() {
					for i, c := range caller.socks {
						send(caller, c, pkt, answerer.socks[i].LocalAddr())
					}
					if caller.ring != nil {
						caller.submit(b, nil)
					}
					answerer.receive(b, n, index, echo)
					if answerer.ring != nil {
						answerer.submit(b, nil)
					}
					caller.receive(b, n, index, drop)
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(2*n)
				b.ReportMetric(ns, "ns/datagram")
				b.ReportMetric(ns*1000*50*2/1e9*100, "cpu%-1000calls")
			})
		}
	}
}

//go:build interop && linux && (amd64 || arm64)

package interop

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xphone-go/xphone/interop/internal/netem"
)

// inNetns runs f on a thread that has joined the network namespace ns, so
// sockets f creates live there (and stay there, whichever thread uses them
// later). The thread is never handed back to the scheduler: it ends with
// the goroutine.
func inNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // no Unlock: the thread dies with this goroutine
		fd, err := syscall.Open("/run/netns/"+ns, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		_, _, e := syscall.RawSyscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0)
		syscall.Close(fd)
		if e != 0 {
			errc <- fmt.Errorf("setns %s: %w", ns, e)
			return
		}
		errc <- f()
	}()
	return <-errc
}

var linkSeq atomic.Int32

// impairedLink is two network namespaces made by the test, joined by a
// link impaired in both directions: A=127.100.0.1, B=127.100.0.2.
type impairedLink struct {
	nsA, nsB string
	mode     string                // "netem" (kernel) or "wire" (netem.Run over TUN)
	stop     func() netem.RunStats // wire mode: stops the relay; nil in netem mode
}

const linkA, linkB = "127.100.0.1", "127.100.0.2"

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newImpairedLink builds the namespaces and the link: kernel netem when the
// kernel has sch_netem, else the user-space relay. Everything is removed in
// t.Cleanup.
func newImpairedLink(t *testing.T, im netem.Impairment, seed uint64) *impairedLink {
	t.Helper()
	needRoot(t)
	needBinary(t, "ip")
	needBinary(t, "sysctl")
	n := linkSeq.Add(1)
	id := fmt.Sprintf("%d%d", os.Getpid()%100000, n)
	l := &impairedLink{nsA: "xpA" + id, nsB: "xpB" + id}
	for _, ns := range []string{l.nsA, l.nsB} {
		ipCmd(t, "ip", "netns", "add", ns)
		recordCleanup("netns", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		ipCmd(t, "ip", "-n", ns, "link", "set", "lo", "up")
		ipCmd(t, "ip", "-n", ns, "addr", "del", "127.0.0.1/8", "dev", "lo")
		ipCmd(t, "ip", "-n", ns, "addr", "add", "127.0.0.1/32", "dev", "lo")
		ipCmd(t, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1")
	}
	switch err := netem.KernelNetem(l.nsA); err {
	case nil:
		l.mode = "netem"
		va, vb := "xpv"+id+"a", "xpv"+id+"b"
		ipCmd(t, "ip", "-n", l.nsA, "link", "add", va, "type", "veth", "peer", "name", vb, "netns", l.nsB)
		for _, e := range [][4]string{{l.nsA, va, linkA, linkB}, {l.nsB, vb, linkB, linkA}} {
			ipCmd(t, "ip", "netns", "exec", e[0], "sysctl", "-qw", "net.ipv4.conf."+e[1]+".route_localnet=1")
			ipCmd(t, "ip", "-n", e[0], "addr", "add", e[2], "peer", e[3]+"/32", "dev", e[1])
			ipCmd(t, "ip", "-n", e[0], "link", "set", "dev", e[1], "up")
			ipCmd(t, append([]string{"ip", "netns", "exec", e[0], "tc", "qdisc", "add", "dev", e[1], "root"}, netem.TCArgs(im)...)...)
		}
	case netem.ErrNoKernelNetem:
		l.mode = "wire"
		da, db := "xpt"+id+"a", "xpt"+id+"b"
		a, err := netem.OpenTUN(da)
		if err != nil {
			t.Fatal(err)
		}
		b, err := netem.OpenTUN(db)
		if err != nil {
			a.Close()
			t.Fatal(err)
		}
		if err := netem.Attach(da, l.nsA, linkA, linkB); err != nil {
			a.Close()
			b.Close()
			t.Fatal(err)
		}
		if err := netem.Attach(db, l.nsB, linkB, linkA); err != nil {
			a.Close()
			b.Close()
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var st netem.RunStats
		var wg sync.WaitGroup
		wg.Go(func() {
			var err error
			if st, err = netem.Run(ctx, a, b, im, im, seed); err != nil {
				t.Errorf("netem.Run: %v", err)
			}
		})
		var once sync.Once
		l.stop = func() netem.RunStats {
			once.Do(func() { cancel(); wg.Wait() })
			return st
		}
		t.Cleanup(func() { l.stop() })
	default:
		t.Fatal(err)
	}
	t.Logf("impaired link %s(%s) <-> %s(%s), mode %s: %s, seed %d", l.nsA, linkA, l.nsB, linkB, l.mode, im, seed)
	return l
}

// udpIn opens a UDP socket bound to addr inside namespace ns.
func udpIn(t *testing.T, ns, addr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := inNetns(ns, func() error {
		var err error
		c, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(mustAddrPort(addr)))
		return err
	})
	if err != nil {
		t.Fatalf("listen %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// streamResult is what the receiver of a paced UDP stream saw.
type streamResult struct {
	sent, received, reordered int
	meanDelay, sdDelay        time.Duration
	minDelay, maxDelay        time.Duration
	p10, p50, p90             time.Duration // delay quantiles
}

// sendStream sends n packets, one every interval, from A to B across l and
// measures what arrives: count, order and one-way delay (sender and
// receiver share this process's monotonic clock).
// When expect > 0 the receiver stops as soon as that many packets arrived.
func sendStream(t *testing.T, l *impairedLink, n int, interval, maxDelay time.Duration, expect int) streamResult {
	t.Helper()
	rx := udpIn(t, l.nsB, linkB+":0")
	tx := udpIn(t, l.nsA, linkA+":0")
	dst := rx.LocalAddr().(*net.UDPAddr)
	start := time.Now()

	type arrival struct {
		seq   int
		delay time.Duration
	}
	arrivals := make(chan []arrival, 1)
	var lastSend atomic.Int64 // ns since start of the last send, 0 before it
	go func() {
		var got []arrival
		buf := make([]byte, 64)
		for {
			// Stop reading maxDelay after the last packet left.
			deadline := start.Add(time.Duration(n)*interval + 10*time.Second)
			if ls := lastSend.Load(); ls != 0 {
				deadline = start.Add(time.Duration(ls) + maxDelay)
			}
			rx.SetReadDeadline(deadline)
			k, _, err := rx.ReadFromUDP(buf)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() && lastSend.Load() == 0 {
					continue
				}
				arrivals <- got
				return
			}
			now := time.Since(start)
			if k < 12 {
				continue
			}
			seq := int(binary.BigEndian.Uint32(buf))
			sentAt := time.Duration(binary.BigEndian.Uint64(buf[4:]))
			got = append(got, arrival{seq, now - sentAt})
			if len(got) == expect {
				arrivals <- got
				return
			}
		}
	}()

	tick := time.NewTicker(interval)
	defer tick.Stop()
	pkt := make([]byte, 172) // a 20 ms G.711 RTP packet's size
	for i := range n {
		binary.BigEndian.PutUint32(pkt, uint32(i))
		binary.BigEndian.PutUint64(pkt[4:], uint64(time.Since(start)))
		if _, err := tx.WriteToUDP(pkt, dst); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i < n-1 {
			<-tick.C
		}
	}
	lastSend.Store(int64(time.Since(start)))
	got := <-arrivals

	r := streamResult{sent: n, received: len(got), minDelay: time.Duration(math.MaxInt64)}
	highest := -1
	var sum, sumSq float64
	for _, a := range got {
		if a.seq < highest {
			r.reordered++
		}
		highest = max(highest, a.seq)
		r.minDelay, r.maxDelay = min(r.minDelay, a.delay), max(r.maxDelay, a.delay)
		sum += a.delay.Seconds()
		sumSq += a.delay.Seconds() * a.delay.Seconds()
	}
	if len(got) > 0 {
		d := make([]time.Duration, len(got))
		for i, a := range got {
			d[i] = a.delay
		}
		slices.Sort(d)
		r.p10, r.p50, r.p90 = d[len(d)/10], d[len(d)/2], d[len(d)*9/10]
		mean := sum / float64(len(got))
		r.meanDelay = time.Duration(mean * 1e9)
		r.sdDelay = time.Duration(math.Sqrt(max(0, sumSq/float64(len(got))-mean*mean)) * 1e9)
	}
	return r
}

// TestNetemImpairedUDPStream sends a 50-packets-per-20-ms-like UDP stream
// (1000 packets, one every 2 ms) across a link with 5% loss and
// 40 ms ± 30 ms delay, then with FIFO order kept, and checks that loss,
// delay, jitter and reordering seen by the receiver match the configuration
// within statistical bounds (about 4.5 standard deviations; delay bounds
// allow extra scheduling latency on a loaded 2-core machine, never less
// than the configured minimum).
func TestNetemImpairedUDPStream(t *testing.T) {
	const n = 1000
	tests := []struct {
		name    string
		reorder bool
	}{
		{"reorder", true},
		{"fifo", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im := netem.Impairment{Delay: 40 * time.Millisecond, Jitter: 30 * time.Millisecond, Loss: 5, Reorder: tt.reorder}
			l := newImpairedLink(t, im, 1)
			expect := 0
			if l.mode == "wire" {
				// The relay's drops depend only on the seed and the packet
				// count (nothing else crosses the link): a twin Shaper
				// predicts how many packets arrive.
				twin, err := netem.NewShaper(im, 1)
				if err != nil {
					t.Fatal(err)
				}
				for range n {
					if _, drop := twin.Schedule(time.Now()); !drop {
						expect++
					}
				}
			}
			r := sendStream(t, l, n, 2*time.Millisecond, im.Delay+im.Jitter+2*time.Second, expect)
			lossPct := 100 * float64(r.sent-r.received) / float64(r.sent)
			t.Logf("sent %d, received %d (loss %.1f%%), reordered %d, delay mean %v sd %v min %v p10 %v p50 %v p90 %v max %v",
				r.sent, r.received, lossPct, r.reordered, r.meanDelay, r.sdDelay, r.minDelay, r.p10, r.p50, r.p90, r.maxDelay)
			if l.stop != nil {
				st := l.stop()
				t.Logf("relay: %+v", st)
				if st.AB.Forwarded != r.received {
					t.Errorf("got %d received, want the %d the relay forwarded", r.received, st.AB.Forwarded)
				}
			}

			// Loss: binomial, n=1000, p=5%: σ = 0.69%.
			if lossPct < 1.9 || lossPct > 8.1 {
				t.Errorf("got loss %.1f%%, want 5%% ± 3.1%%", lossPct)
			}
			// Delay: never below Delay-Jitter (packets cannot leave early).
			if lo := im.Delay - im.Jitter; r.minDelay < lo-time.Millisecond {
				t.Errorf("got minimum delay %v, want at least %v", r.minDelay, lo)
			}
			if tt.reorder {
				// Delays are uniform over [10 ms, 70 ms]: the 10th, 50th and
				// 90th percentiles are 16, 40 and 64 ms, each with a
				// sampling σ of about 0.6 ms. Quantiles, unlike the mean and
				// σ, shrug off a few packets held up by a loaded machine;
				// allow 3 ms below and 12 ms above for scheduling.
				lo, span := im.Delay-im.Jitter, 2*im.Jitter
				for _, q := range []struct {
					name string
					got  time.Duration
					frac float64
				}{{"p10", r.p10, 0.1}, {"p50", r.p50, 0.5}, {"p90", r.p90, 0.9}} {
					want := lo + time.Duration(q.frac*float64(span))
					if q.got < want-3*time.Millisecond || q.got > want+12*time.Millisecond {
						t.Errorf("got %s delay %v, want %v (-3 ms, +12 ms)", q.name, q.got, want)
					}
				}
				// With ±30 ms jitter and 2 ms spacing most packets overtake
				// or are overtaken.
				if r.reordered < r.received/10 {
					t.Errorf("got %d of %d packets reordered, want at least 10%%", r.reordered, r.received)
				}
			} else {
				// FIFO holds a packet behind a later-due predecessor, so
				// the median grows towards Delay+Jitter but stays within it.
				if r.p50 < im.Delay-3*time.Millisecond || r.p50 > im.Delay+im.Jitter+12*time.Millisecond {
					t.Errorf("got median delay %v, want between %v and %v (+12 ms)", r.p50, im.Delay, im.Delay+im.Jitter)
				}
				if r.reordered != 0 {
					t.Errorf("FIFO link: got %d packets reordered, want 0", r.reordered)
				}
			}
		})
	}
}

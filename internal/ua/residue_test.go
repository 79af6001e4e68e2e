package ua

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
)

// TestCallsLeaveNoResidue: hundreds of calls between two UAs, answered
// and hung up from either side (over TCP also rejected, and cancelled
// while ringing), leave nothing behind once the protocol timers have run
// out (T1 = 20 ms and T4 = 50 ms: Timers H, J, L and M end after 64*T1, K
// after T4; with T1 = 5 ms, Timer B, 64*T1, expired before a loaded
// machine's callee answered). After a first batch, which lets maps, logs and read buffers
// grow to what this traffic needs, a second batch must leave no call and
// no transaction listed, the goroutines as they were and the live heap
// within 32 KiB of where it was: a leak of 160 bytes a call, less than
// any call's record, would exceed it. Over UDP a failed INVITE's
// transaction waits out Timer D, at least 32 s whatever T1 (RFC 3261
// §17.1.1.2), so the UDP run has answered calls only.
func TestCallsLeaveNoResidue(t *testing.T) {
	for _, proto := range []transport.Protocol{transport.UDP, transport.TCP} {
		t.Run(proto.String(), func(t *testing.T) { callsLeaveNoResidue(t, proto) })
	}
}

func callsLeaveNoResidue(t *testing.T, proto transport.Protocol) {
	calls := make(chan *Call, 1)
	reject := make(chan bool, 1) // what b does with the next call
	b := newUA(t, func(c *Config) {
		c.Transport = proto
		c.T1, c.T4 = 20*time.Millisecond, 50*time.Millisecond
		c.OnIncoming = func(call *Call) {
			go func() { // OnIncoming returns promptly
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				switch <-reject {
				case true:
					if err := call.Reject(ctx, 486, ""); err != nil {
						t.Errorf("Reject: %v", err)
					}
				default:
					calls <- call // the test accepts, or lets it ring
				}
			}()
		}
	})
	a := newUA(t, func(c *Config) { c.Transport, c.T1, c.T4 = proto, 20*time.Millisecond, 50*time.Millisecond })
	target := sipAddr(b, proto)
	kinds := 5 // answered (three), rejected, cancelled
	if proto == transport.UDP {
		kinds = 3
	}
	round := func(i int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		switch i % kinds {
		case 3: // rejected
			reject <- true
			if _, err := a.Dial(ctx, target, DialOptions{}); err == nil {
				t.Fatalf("call %d: Dial succeeded, want 486", i)
			}
		case 4: // cancelled while ringing
			reject <- false
			dctx, stop := context.WithCancel(ctx)
			res := dialAsync(dctx, a, target, DialOptions{})
			in := recvCall(t, calls)
			stop()
			if r := recvDial(t, res); r.err == nil {
				t.Fatalf("call %d: Dial succeeded, want it cancelled", i)
			}
			waitDone(t, in)
		default: // answered, hung up by the caller or the callee
			reject <- false
			res := dialAsync(ctx, a, target, DialOptions{})
			in := recvCall(t, calls)
			if err := in.Accept(ctx); err != nil {
				t.Fatalf("call %d: Accept: %v", i, err)
			}
			r := recvDial(t, res)
			if r.err != nil {
				t.Fatalf("call %d: Dial: %v", i, r.err)
			}
			ender, other := r.c, in
			if i%2 == 1 {
				ender, other = in, r.c
			}
			if err := ender.End(ctx); err != nil {
				t.Fatalf("call %d: End: %v", i, err)
			}
			waitDone(t, other)
		}
	}
	// quiet waits until neither UA lists a call or an open transaction
	// and the goroutines and live heap are within bounds; it returns the
	// heap and the goroutine count it saw last.
	quiet := func(heapBound uint64, goroutines int) (uint64, int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			a.mu.Lock()
			n := len(a.calls) + len(a.order)
			a.mu.Unlock()
			b.mu.Lock()
			n += len(b.calls) + len(b.order)
			b.mu.Unlock()
			for _, u := range []*UA{a, b} {
				c, s := u.tl.Open()
				n += c + s
			}
			heap, g := heapAfterGC(), runtime.NumGoroutine()
			if n == 0 && heap <= heapBound && g <= goroutines {
				return heap, g
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 30 s: %d calls and transactions, live heap %d B (bound %d), %d goroutines (bound %d)",
					n, heap, heapBound, g, goroutines)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if proto == transport.UDP {
		// A UDP reader that finds its batch full reads more at once next
		// time (up to 16 datagrams of up to 64 KiB): let both grow theirs
		// to the most now, with bursts of junk datagrams, rather than at a
		// random point of the run.
		pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			for _, u := range []*UA{a, b} {
				for range 64 {
					pc.WriteToUDPAddrPort([]byte("junk"), netipAddr(u))
				}
			}
		}
		pc.Close()
	}
	const batch = 200
	for i := range batch {
		round(i)
	}
	heap0, g0 := quiet(^uint64(0), 1<<30)
	for i := range batch {
		round(batch + i)
	}
	heap1, g1 := quiet(heap0+32<<10, g0)
	t.Logf("%d calls: live heap %d B after the first %d, %d B after the next %d (%+d B a call); goroutines %d, %d",
		2*batch, heap0, batch, heap1, batch, (int64(heap1)-int64(heap0))/batch, g0, g1)
}

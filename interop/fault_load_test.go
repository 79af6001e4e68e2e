//go:build interop && linux

package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// memory is a snapshot of the process's memory after a full GC.
type memory struct {
	heapInuse uint64 // runtime.MemStats.HeapInuse
	rss       uint64 // VmRSS of /proc/self/status, bytes
}

func measureMemory(t *testing.T) memory {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := memory{heapInuse: ms.HeapInuse}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", rest, err)
			}
			m.rss = kb << 10
		}
	}
	return m
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// TestFaultLoadSIPpCallsPhone: SIPp's built-in UAC places 200 calls at 20
// calls/s, each held 1 s (about 20 at once), to our phone listening
// without registration, which accepts each one; SIPp hangs up every call.
// SIPp must report 200 successful and 0 failed calls, every call must
// have ended with remote hangup, and afterwards our goroutine count must
// return to what it was before the load and the heap in use and RSS
// (after a GC) stay within a few MiB of it.
func TestFaultLoadSIPpCallsPhone(t *testing.T) {
	const (
		calls = 200
		rate  = 20
		hold  = 1000 // ms
	)
	port := freePort(t)
	p := listeningPhone(t, "xphone", port, nil)
	var accepted, endedRemote, endedOther atomic.Int64
	p.OnIncoming(func(c xphone.Call) {
		c.OnEnded(func(r xphone.EndReason) {
			if r == xphone.EndRemoteHangup {
				endedRemote.Add(1)
			} else {
				endedOther.Add(1)
				t.Errorf("call %s ended with %v, want %v", c.CallID(), r, xphone.EndRemoteHangup)
			}
		})
		// Accept blocks until the 200 is sent: not on the callback
		// goroutine, which serves every call.
		go func() {
			if err := c.Accept(context.Background()); err != nil {
				t.Errorf("Accept %s: %v", c.CallID(), err)
				return
			}
			accepted.Add(1)
		}()
	})
	// The baseline: the connected phone, no call yet.
	baseG := runtime.NumGoroutine()
	base := measureMemory(t)

	stf := filepath.Join(t.TempDir(), "stat.csv")
	start := time.Now()
	s := startSIPpBuiltin(t, "uac", "-m", strconv.Itoa(calls), "-r", strconv.Itoa(rate), "-d", strconv.Itoa(hold),
		"-l", strconv.Itoa(4*rate*hold/1000), "-trace_stat", "-stf", stf, "-fd", "1", "-s", "xphone",
		fmt.Sprintf("127.0.0.1:%d", port))
	var peakG atomic.Int64
	stopPeak := make(chan struct{})
	go func() {
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stopPeak:
				return
			case <-tk.C:
				if n := int64(runtime.NumGoroutine()); n > peakG.Load() {
					peakG.Store(n)
				}
			}
		}
	}()
	err := s.wait(t, time.Duration(calls/rate)*time.Second+40*time.Second)
	close(stopPeak)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("SIPp exited with %v, want status 0", err)
	}
	st := sippStats(t, stf)
	t.Logf("SIPp: %d calls at %d/s held %d ms in %v: SuccessfulCall(C)=%s FailedCall(C)=%s Retransmissions(C)=%s; phone accepted %d, ended by remote hangup %d, otherwise %d",
		calls, rate, hold, took.Round(time.Millisecond), st["SuccessfulCall(C)"], st["FailedCall(C)"], st["Retransmissions(C)"],
		accepted.Load(), endedRemote.Load(), endedOther.Load())
	if got := st["SuccessfulCall(C)"]; got != strconv.Itoa(calls) {
		t.Errorf("SIPp successful calls: got %s, want %d", got, calls)
	}
	if got := st["FailedCall(C)"]; got != "0" {
		t.Errorf("SIPp failed calls: got %s, want 0", got)
	}
	eventually(t, 10*time.Second, "every call ended at the phone", func() error {
		if n := endedRemote.Load() + endedOther.Load(); n != calls || len(p.Calls()) != 0 {
			return fmt.Errorf("got %d calls ended (%d still up), want %d", n, len(p.Calls()), calls)
		}
		return nil
	})
	if got := accepted.Load(); got != calls {
		t.Errorf("calls accepted: got %d, want %d", got, calls)
	}

	var afterG int
	eventually(t, 10*time.Second, "goroutines back to the count before the load", func() error {
		if afterG = runtime.NumGoroutine(); afterG > baseG {
			return fmt.Errorf("got %d goroutines, want at most %d", afterG, baseG)
		}
		return nil
	})
	after := measureMemory(t)
	t.Logf("goroutines: %d before, peak %d, %d after; heap in use %s before, %s after; RSS %s before, %s after",
		baseG, peakG.Load(), afterG, mib(base.heapInuse), mib(after.heapInuse), mib(base.rss), mib(after.rss))
	// Tolerances: a few MiB for the allocator's spans and pools and for
	// the transactions still absorbing retransmissions (Timer J/L, up to
	// 32 s, RFC 3261 §17.2.2, RFC 6026); 200 calls of retained call state
	// (two media sockets, 256-frame channels, dialog, messages) would be
	// more.
	const heapSlack, rssSlack = 4 << 20, 16 << 20
	if after.heapInuse > base.heapInuse+heapSlack {
		t.Errorf("heap in use after the load: got %s, want at most %s + %s", mib(after.heapInuse), mib(base.heapInuse), mib(heapSlack))
	}
	if after.rss > base.rss+rssSlack {
		t.Errorf("RSS after the load: got %s, want at most %s + %s", mib(after.rss), mib(base.rss), mib(rssSlack))
	}
}

// Package leakcheck finds goroutines that a test left running.
//
// A package whose code starts goroutines calls it from TestMain:
//
//	func TestMain(m *testing.M) { leakcheck.Main(m) }
//
// Main runs the tests and then waits, up to a deadline, for every goroutine
// that was not running before the tests to exit. Goroutines that survive are
// printed with their stacks and the test binary exits non-zero. Per-test
// checks use Check in a t.Cleanup.
//
// It uses the standard library only, in the manner of net/http's own
// main_test.go: a goroutine is identified by the function at the top of its
// creation stack, and goroutines of the runtime and the testing package are
// ignored.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Wait is how long Main and Check wait for goroutines to exit before they
// report them. Goroutines usually exit within microseconds of the Close that
// stops them; the generous bound keeps the check reliable on a loaded machine.
const Wait = 5 * time.Second

// Main runs m, then fails the test binary if goroutines started by the tests
// are still running after Wait. It does not return.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := settle(nil, Wait); len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "leakcheck: %d goroutine(s) still running after the tests:\n\n%s\n",
				len(leaked), strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// Check records the goroutines running now and registers a cleanup that
// fails t if, when the test ends, others are still running after Wait.
// Tests that use Check must not run in parallel with tests that start
// goroutines of their own.
func Check(t testing.TB) {
	t.Helper()
	before := interesting()
	t.Cleanup(func() {
		if leaked := settle(before, Wait); len(leaked) > 0 {
			t.Errorf("leakcheck: %d goroutine(s) leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	})
}

// settle polls until no goroutine outside before is running or d passes.
// There is no event to wait on for a goroutine's exit, so this is the one
// place that polls; it backs off from 1 ms to 100 ms.
func settle(before map[string]string, d time.Duration) []string {
	deadline := time.Now().Add(d)
	pause := time.Millisecond
	for {
		var leaked []string
		for id, stack := range interesting() {
			if _, ok := before[id]; !ok {
				leaked = append(leaked, "goroutine "+id+"\n"+stack)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			slices.Sort(leaked)
			return leaked
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// interesting returns, by goroutine ID, the stacks of the goroutines other
// than the caller's that are not part of the runtime or the test framework.
func interesting() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := make(map[string]string)
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // the calling goroutine
		}
		head, stack, ok := strings.Cut(g, "\n")
		if !ok || ignored(stack) {
			continue
		}
		// head is "goroutine 42 [chan receive, 2 minutes]:".
		id, _, _ := strings.Cut(strings.TrimPrefix(head, "goroutine "), " ")
		out[id] = stack
	}
	return out
}

// ignored reports whether a goroutine stack belongs to the runtime or to the
// testing package rather than to code under test.
func ignored(stack string) bool {
	for _, s := range []string{
		"testing.(*M).",
		"testing.(*T).Run",
		"testing.(*T).Parallel",
		"testing.(*B).run",
		"testing.(*F).",
		"testing.RunTests",
		"testing.runFuzzing",
		"testing.tRunner",
		"testing/synctest",
		"os/signal.signal_recv",
		"os/signal.loop",
		"runtime.ensureSigM",
		"created by runtime.gc",
		"created by os/signal.Notify",
	} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return stack == ""
}

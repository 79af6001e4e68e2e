package phonetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// openFiles returns the targets of the process's open file descriptors
// ("socket:[123]", "anon_inode:[eventpoll]", paths), sorted; ok is false
// where /proc/self/fd does not exist.
func openFiles() (files []string, ok bool) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, false
	}
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
			files = append(files, target)
		}
	}
	slices.Sort(files)
	return files, true
}

// waitFiles waits until no more descriptors are open than in want, and
// reports the ones in excess if that does not happen within e2eWait.
func waitFiles(t *testing.T, when string, want []string) {
	t.Helper()
	deadline := time.Now().Add(e2eWait)
	for {
		got, _ := openFiles()
		if len(got) <= len(want) {
			return
		}
		if time.Now().After(deadline) {
			var extra []string
			left := slices.Clone(want)
			for _, f := range got {
				if i, found := slices.BinarySearch(left, f); found {
					left = slices.Delete(left, i, i+1)
				} else {
					extra = append(extra, f)
				}
			}
			t.Fatalf("%s: %d descriptors open, want at most %d; not open before: %v", when, len(got), len(want), extra)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestE2ENoDescriptorLeak: calls that are answered and hung up from
// either side, rejected, cancelled while ringing, or refused for want of
// a codec leave no descriptor behind (RTP and RTCP sockets, the media
// scheduler's epoll and io_uring instances, TCP connections), over UDP
// and TCP; and once the phones and the PBX are stopped the process holds
// what it held before they started.
func TestE2ENoDescriptorLeak(t *testing.T) {
	if _, ok := openFiles(); !ok {
		t.Skipf("no /proc/self/fd on %s: descriptors cannot be counted", runtime.GOOS)
	}
	// The network poller opens its own descriptors on first use; let it
	// do so before the baseline.
	if c, err := net.ListenPacket("udp", "127.0.0.1:0"); err == nil {
		c.Close()
	}
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			before, _ := openFiles()
			t.Cleanup(func() { waitFiles(t, "after the phones and the PBX stopped", before) })
			pbx := startE2E(t, PBXConfig{})
			aliceCfg, bobCfg := e2eConfig(pbx, "alice"), e2eConfig(pbx, "bob")
			aliceCfg.Transport, bobCfg.Transport = transport, transport
			alice, bob := e2ePhone(t, aliceCfg), e2ePhone(t, bobCfg)
			answer := make(chan string, 1) // what bob does with the next call
			in := listen(bob, func(c xphone.Call) {
				switch <-answer {
				case "accept":
					if err := c.Accept(context.Background()); err != nil {
						t.Errorf("Accept: %v", err)
					}
				case "reject":
					if err := c.Reject(context.Background(), 486, ""); err != nil {
						t.Errorf("Reject: %v", err)
					}
				}
			})
			answered := 0
			call := func(how string) {
				t.Helper()
				answer <- how
				ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
				defer cancel()
				switch how {
				case "accept":
					out, err := dial(t, alice, "bob")
					if err != nil {
						t.Fatalf("Dial: %v", err)
					}
					callee := in.next(t)
					ender, other := out, callee
					if answered++; answered%2 == 0 {
						ender, other = callee, out
					}
					if err := ender.End(ctx); err != nil {
						t.Fatalf("End: %v", err)
					}
					ender.waitEnded(t, "hanging-up side", xphone.EndLocalHangup)
					other.waitEnded(t, "other side", xphone.EndRemoteHangup)
				case "reject":
					if _, err := dial(t, alice, "bob"); !errors.Is(err, xphone.ErrBusy) {
						t.Fatalf("Dial: got %v, want ErrBusy", err)
					}
					in.next(t).waitEnded(t, "rejecting side", xphone.EndRejected)
				case "cancel":
					dctx, stop := context.WithCancel(ctx)
					res := make(chan error, 1)
					go func() {
						_, err := alice.Dial(dctx, "bob")
						res <- err
					}()
					callee := in.next(t) // ringing: bob neither accepts nor rejects
					stop()
					if err := <-res; err == nil {
						t.Fatal("Dial: got a call, want it cancelled")
					}
					callee.waitEnded(t, "callee", xphone.EndCancelled)
				}
				for len(alice.Calls())+len(bob.Calls()) != 0 && ctx.Err() == nil {
					time.Sleep(5 * time.Millisecond)
				}
			}
			call("accept") // sockets and instances made once per process
			steady, _ := openFiles()
			t.Logf("%d descriptors open before the phones started, %d after their first call", len(before), len(steady))
			for i, how := range []string{"accept", "accept", "reject", "cancel", "accept", "accept", "reject", "cancel"} {
				call(how)
				waitFiles(t, fmt.Sprintf("after call %d (%s)", i+2, how), steady)
			}
		})
	}
}

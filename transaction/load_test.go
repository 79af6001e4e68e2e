package transaction

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// TestLoad runs 2000 INVITE/200/ACK and 2000 OPTIONS/200 exchanges through
// two layers over UDP at once. While the transactions wait out their
// timers, no goroutine exists per transaction; afterwards the maps are
// empty and the goroutine count is back to where it was.
func TestLoad(t *testing.T) {
	const n = 2000
	for _, proto := range []transport.Protocol{transport.UDP, transport.TCP} {
		t.Run(proto.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := newFakeNet()
				defer net.close()
				server := newAnswerer()
				cl := net.attach(addrA, proto, &tu{}, Config{})
				sl := net.attach(addrB, proto, server, Config{})
				dst := transport.Addr{Protocol: proto, AddrPort: addrB}
				synctest.Wait()
				baseline := bubbleGoroutines()
				if baseline < 2 { // this goroutine and the network's pump
					t.Fatalf("goroutines in the bubble: got %d, want at least 2", baseline)
				}

				invites := make([]*ClientTx, 0, n)
				options := make([]*ClientTx, 0, n)
				for range n {
					tx, err := cl.Request(context.Background(), request(t, "INVITE", "", proto.String()), dst)
					if err != nil {
						t.Fatal(err)
					}
					invites = append(invites, tx)
					tx, err = cl.Request(context.Background(), request(t, "OPTIONS", "", proto.String()), dst)
					if err != nil {
						t.Fatal(err)
					}
					options = append(options, tx)
				}
				for _, tx := range invites {
					resp := final(t, tx)
					if err := ack2xx(cl, tx, resp, dst); err != nil {
						t.Fatal(err)
					}
				}
				for _, tx := range options {
					final(t, tx)
				}
				synctest.Wait()
				c, s := cl.counts()
				_, s2 := sl.counts()
				if c == 0 || s+s2 == 0 {
					t.Errorf("live transactions mid-test: got %d client, %d server, want some waiting on timers", c, s+s2)
				}
				if got := bubbleGoroutines(); got != baseline {
					t.Errorf("goroutines with %d transactions waiting: got %d, want %d", c+s2, got, baseline)
				}
				time.Sleep(time.Minute)
				synctest.Wait()
				checkEmpty(t, cl)
				checkEmpty(t, sl)
				if got := bubbleGoroutines(); got != baseline {
					t.Errorf("goroutines after: got %d, want %d", got, baseline)
				}
				reqs, out, errs := server.snapshot()
				if len(reqs) != 2*n || len(out) != n || len(errs) != 0 {
					t.Errorf("server TU: got %d requests, %d ACKs, %v errors; want %d, %d, none", len(reqs), len(out), len(errs), 2*n, n)
				}
			})
		})
	}
}

// bubbleGoroutines counts the goroutines of the synctest bubble the caller
// runs in (the process's others, such as earlier tests' stragglers, are
// left out). Tests do not run in parallel, so there is one bubble.
func bubbleGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), ", synctest bubble ")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// final waits for tx's final response.
func final(t *testing.T, tx *ClientTx) *sipmsg.Message {
	t.Helper()
	for m := range tx.Responses() {
		if m.StatusCode >= 200 {
			return m
		}
	}
	t.Fatalf("no final response: %v", tx.Err())
	return nil
}

// TestLoss drops the first copy of every request and response between
// two layers over UDP: retransmissions on both sides recover, and the
// server absorbs the retransmitted requests (each TU sees one request).
func TestLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := newFakeNet()
		defer net.close()
		seen := map[string]bool{}
		net.drop = func(m *sipmsg.Message) bool {
			k := m.String()
			k = k[:strings.Index(k, "\r\n")]
			if via, err := m.Via(); err == nil {
				k += via.Branch()
			}
			if seen[k] {
				return false
			}
			seen[k] = true
			return true
		}
		server := &tu{}
		server.onRequest = func(tx *ServerTx) {
			code := 200
			if tx.Request().Method == "INVITE" {
				code = 486
			}
			r := sipmsg.NewResponse(tx.Request(), code, "")
			_ = r.SetToTag("s1")
			_ = tx.Respond(r)
		}
		cl := net.attach(addrA, transport.UDP, &tu{}, Config{})
		sl := net.attach(addrB, transport.UDP, server, Config{})
		start := time.Now()
		inv, err := cl.Request(context.Background(), request(t, "INVITE", "", "UDP"), udp(addrB))
		if err != nil {
			t.Fatal(err)
		}
		opt, err := cl.Request(context.Background(), request(t, "OPTIONS", "", "UDP"), udp(addrB))
		if err != nil {
			t.Fatal(err)
		}
		if got := final(t, inv).StatusCode; got != 486 {
			t.Errorf("INVITE: got %d, want 486", got)
		}
		// INVITE lost at 0, retransmitted at 0.5 (Timer A); 486 lost, resent
		// at 1.0 by Timer G; ACK lost, 486 resent at 2.0, ACKed again.
		if got := time.Since(start); got != time.Second {
			t.Errorf("INVITE final after %v, want 1s", got)
		}
		if got := final(t, opt).StatusCode; got != 200 {
			t.Errorf("OPTIONS: got %d, want 200", got)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		checkEmpty(t, cl)
		checkEmpty(t, sl)
		if reqs, _, errs := server.snapshot(); len(reqs) != 2 || len(errs) != 0 {
			t.Errorf("server TU: got %d requests, %v errors; want 2, none", len(reqs), errs)
		}
	})
}

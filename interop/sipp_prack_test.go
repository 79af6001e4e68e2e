//go:build interop

package interop

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// Reliable provisional responses (RFC 3262) between our phone and SIPp:
// SIPp calling with Require: 100rel and PRACKing our 180 and 183, and SIPp
// answering our INVITE with a reliable 183 that we must PRACK.

// rseqsIn returns the RSeq values in SIPp's message trace, in order, each
// once (retransmissions repeat them).
func rseqsIn(t *testing.T, p *peer) []uint32 {
	t.Helper()
	trace, err := os.ReadFile(filepath.Join(p.dir, "messages.log"))
	if err != nil {
		t.Fatalf("SIPp message trace: %v", err)
	}
	var out []uint32
	seen := map[uint32]bool{}
	for _, m := range regexp.MustCompile(`(?mi)^RSeq:\s*(\d+)`).FindAllSubmatch(trace, -1) {
		n, err := strconv.ParseUint(string(m[1]), 10, 32)
		if err != nil {
			t.Fatalf("RSeq %q: %v", m[1], err)
		}
		if !seen[uint32(n)] {
			seen[uint32(n)] = true
			out = append(out, uint32(n))
		}
	}
	return out
}

// TestSIPpPrackCallsPhone: SIPp (prack-uac.xml) calls our phone with
// Require and Supported: 100rel. The phone's automatic 180 and the 183 of
// Progress arrive reliably (Require: 100rel, RSeq counting up by one), SIPp
// PRACKs each and gets 200, then Accept's 200 (sent only after the 183's
// PRACK), ACK, and SIPp's BYE. SIPp's checks (ereg check_it) fail the
// call when a header is missing.
func TestSIPpPrackCallsPhone(t *testing.T) {
	port := freePort(t)
	ph := listeningPhone(t, "callee", port, nil)
	errs := make(chan error, 1)
	ended := make(chan xphone.EndReason, 1)
	ph.OnIncoming(func(c xphone.Call) {
		c.OnEnded(func(r xphone.EndReason) { ended <- r })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Progress(ctx); err != nil {
			errs <- err
			return
		}
		errs <- c.Accept(ctx)
	})
	stf := filepath.Join(t.TempDir(), "stat.csv")
	p, _ := startSIPp(t, "prack-uac", "-trace_stat", "-stf", stf, "-fd", "1",
		"-s", "callee", "-d", "300", "127.0.0.1:"+strconv.Itoa(port))
	select {
	case err := <-errs:
		if err != nil {
			t.Fatalf("Progress/Accept: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no incoming call")
	}
	checkSIPp(t, p, stf, 1, -1)
	select {
	case r := <-ended:
		if r != xphone.EndRemoteHangup {
			t.Errorf("end reason: got %v, want %v", r, xphone.EndRemoteHangup)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("call did not end after SIPp's BYE")
	}
	rs := rseqsIn(t, p)
	if len(rs) != 2 || rs[1] != rs[0]+1 || rs[0] == 0 || rs[0] > 1<<31-1 {
		t.Errorf("RSeq values sent: got %v, want two, counting up by one from 1..2^31-1", rs)
	}
}

// TestSIPpPrackPhoneCalls: our phone calls SIPp (prack-uas.xml), which
// answers with a reliable 183 and SDP. Dial with early media returns on
// it; SIPp gets our PRACK (RAck: 1 1 INVITE, in the early dialog) and
// answers 200 and then 200 to the INVITE; the call turns active; our BYE
// ends it.
func TestSIPpPrackPhoneCalls(t *testing.T) {
	stf := filepath.Join(t.TempDir(), "stat.csv")
	p, sport := startSIPp(t, "prack-uas", "-trace_stat", "-stf", stf, "-fd", "1")
	p.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(sport) })
	ph := listeningPhone(t, "caller", freePort(t), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := ph.Dial(ctx, "sip:sipp@127.0.0.1:"+strconv.Itoa(sport), xphone.WithEarlyMedia())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if got := c.State(); got != xphone.StateEarlyMedia && got != xphone.StateActive {
		t.Errorf("state after Dial: got %v, want %v (or %v)", got, xphone.StateEarlyMedia, xphone.StateActive)
	}
	eventually(t, 10*time.Second, "call active", func() error {
		if s := c.State(); s != xphone.StateActive {
			return errors.New("state " + s.String())
		}
		return nil
	})
	if err := c.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
	checkSIPp(t, p, stf, 1, -1)
}

//go:build interop

package interop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// TestFaultPeerVanishes: our phone calls a SIPp UAS that echoes RTP; once
// echoed audio arrives, SIPp is killed with SIGKILL (no BYE, no more
// RTP). The call must end by itself with EndMediaTimeout after
// MediaTimeout (2 s), and free what it held: the goroutine count drops
// back to what it was before the call, and the call's RTP port (the only
// pair the configured range allows) is free for the next call.
func TestFaultPeerVanishes(t *testing.T) {
	const mediaTimeout = 2 * time.Second
	s, sport := startSIPp(t, "uas-answer-hangup", "-rtp_echo", "-d", "60000")
	s.waitUntil(t, 10*time.Second, "bound to its SIP port", func() error { return udpBound(sport) })

	before := runtime.NumGoroutine()
	rtpPort := freePortRange(t, 2)
	p := listeningPhone(t, "xphone", freePort(t), func(c *xphone.Config) {
		c.MediaTimeout = mediaTimeout
		c.RTPPortMin, c.RTPPortMax = rtpPort, rtpPort+1
	})
	baseline := runtime.NumGoroutine()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := p.Dial(ctx, fmt.Sprintf("sip:service@127.0.0.1:%d", sport))
	if err != nil {
		t.Fatalf("Dial SIPp: %v", err)
	}
	ended := make(chan xphone.EndReason, 1)
	c.OnEnded(func(r xphone.EndReason) { ended <- r })
	go toneTo(c, 1000)
	// Media flows: the echo comes back.
	eventually(t, 5*time.Second, "echoed RTP received", func() error {
		if st := c.Stats(); st.PacketsReceived < 25 {
			return fmt.Errorf("got %d packets received, want 25", st.PacketsReceived)
		}
		return nil
	})
	during := runtime.NumGoroutine()

	if err := syscall.Kill(-s.pid(), syscall.SIGKILL); err != nil {
		t.Fatalf("kill SIPp: %v", err)
	}
	killed := time.Now()
	<-s.exited
	var r xphone.EndReason
	select {
	case r = <-ended:
	case <-time.After(mediaTimeout + 10*time.Second):
		t.Fatalf("call still %v %v after the peer vanished (MediaTimeout %v)", c.State(), time.Since(killed), mediaTimeout)
	}
	took := time.Since(killed)
	st := c.Stats()
	t.Logf("call ended (%v) %v after SIGKILL of SIPp; received %d packets before; goroutines: %d before the call, %d during",
		r, took.Round(time.Millisecond), st.PacketsReceived, baseline, during)
	if r != xphone.EndMediaTimeout {
		t.Errorf("end reason: got %v, want %v", r, xphone.EndMediaTimeout)
	}
	var cr xphone.EndReason
	if cause := context.Cause(c.Context()); !errors.As(cause, &cr) || cr != xphone.EndMediaTimeout {
		t.Errorf("context cause: got %v, want %v", cause, xphone.EndMediaTimeout)
	}
	// Not before the timeout (the last packet left SIPp at most 20 ms
	// before the kill); the upper bound is loose for a loaded machine.
	if took < mediaTimeout-100*time.Millisecond {
		t.Errorf("ended %v after the peer vanished, before MediaTimeout %v", took, mediaTimeout)
	}
	if len(p.Calls()) != 0 {
		t.Errorf("Calls after the end: got %d, want 0", len(p.Calls()))
	}
	// The media goroutines are gone. What may remain is the BYE sent
	// when the timeout hung up: it goes unanswered to a dead peer and its
	// transaction lives until Timer F (64*T1 = 32 s, RFC 3261 §17.1.2.2).
	eventually(t, 5*time.Second, "goroutines back to the count before the call (besides the BYE in flight)", func() error {
		n, bye, stacks := goroutinesBut("ua.(*Call).hangup")
		if n > baseline {
			return fmt.Errorf("got %d goroutines (and %d hanging up), want at most %d:\n%s", n, bye, baseline, stacks)
		}
		return nil
	})
	// The RTP pair is free: bind it ourselves, then let a new call take it.
	for _, port := range []int{rtpPort, rtpPort + 1} {
		u, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))))
		if err != nil {
			t.Fatalf("RTP port %d still held after the call: %v", port, err)
		}
		u.Close()
	}
	s2, sport2 := startSIPp(t, "uas-answer-hangup", "-rtp_echo", "-d", "500")
	s2.waitUntil(t, 10*time.Second, "bound to its SIP port", func() error { return udpBound(sport2) })
	c2, err := p.Dial(ctx, fmt.Sprintf("sip:service@127.0.0.1:%d", sport2))
	if err != nil {
		t.Fatalf("second Dial on the same RTP range: %v", err)
	}
	<-c2.Context().Done()
	if err := s2.wait(t, 10*time.Second); err != nil {
		t.Errorf("second SIPp: got exit %v, want 0", err)
	}
	// Disconnect stops everything the phone started, the BYE to the
	// vanished peer included.
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	dstart := time.Now()
	if err := p.Disconnect(dctx); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
	t.Logf("Disconnect took %v", time.Since(dstart).Round(time.Millisecond))
	eventually(t, 5*time.Second, "goroutines back to the count before the phone", func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("got %d goroutines, want at most %d", n, before)
		}
		return nil
	})
}

// goroutinesBut counts the goroutines whose stack does not contain
// skip, and those whose stack does; stacks is the dump, for the failure
// message.
func goroutinesBut(skip string) (n, skipped int, stacks string) {
	buf := make([]byte, 1<<20)
	stacks = string(buf[:runtime.Stack(buf, true)])
	for _, g := range strings.Split(stacks, "\n\n") {
		if strings.Contains(g, skip) {
			skipped++
		} else if strings.HasPrefix(g, "goroutine ") {
			n++
		}
	}
	return n, skipped, stacks
}

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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// sigRelay is a UDP relay that carries SIP between phone A (which uses it
// as its outbound proxy) and phone B: requests go to B, responses to A. Switched to outage it drops everything, both ways.
type sigRelay struct {
	pc   *net.UDPConn
	a, b *net.UDPAddr
	down atomic.Bool

	mu        sync.Mutex
	dropped   map[string]int // first word of the start line (method, or "SIP/2.0 <code>")
	forwarded map[string]int
	upAt      time.Time // when the last outage ended
	afterUp   map[string]int
}

func startSigRelay(t *testing.T, a, b *net.UDPAddr) *sigRelay {
	t.Helper()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &sigRelay{pc: pc, a: a, b: b, dropped: map[string]int{}, forwarded: map[string]int{}, afterUp: map[string]int{}}
	var wg sync.WaitGroup
	wg.Go(r.run)
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	return r
}

func (r *sigRelay) addr() string { return r.pc.LocalAddr().String() }

func (r *sigRelay) run() {
	buf := make([]byte, 65535)
	for {
		n, _, err := r.pc.ReadFromUDP(buf)
		if err != nil {
			return
		}
		kind := startLineKind(buf[:n])
		r.mu.Lock()
		if r.down.Load() {
			r.dropped[kind]++
			r.mu.Unlock()
			continue
		}
		r.forwarded[kind]++
		if !r.upAt.IsZero() {
			r.afterUp[kind]++
		}
		r.mu.Unlock()
		// Only A sends requests here (B sends its own to A's Contact);
		// the responses are B's. Sockets a phone sends from need not be
		// the one it listens on, so route by content, not by source.
		dst := r.b
		if strings.HasPrefix(kind, "SIP/2.0 ") {
			dst = r.a
		}

		r.pc.WriteToUDP(buf[:n], dst)
	}
}

// outage drops everything until up is called.
func (r *sigRelay) outage() {
	r.mu.Lock()
	r.down.Store(true)
	r.upAt = time.Time{}
	clear(r.dropped)
	clear(r.afterUp)
	r.mu.Unlock()
}

func (r *sigRelay) up() {
	r.mu.Lock()
	r.down.Store(false)
	r.upAt = time.Now()
	r.mu.Unlock()
}

// counts returns copies of what was dropped in the last outage and
// forwarded since it ended.
func (r *sigRelay) counts() (dropped, afterUp map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	dropped, afterUp = map[string]int{}, map[string]int{}
	for k, v := range r.dropped {
		dropped[k] = v
	}
	for k, v := range r.afterUp {
		afterUp[k] = v
	}
	return dropped, afterUp
}

// startLineKind names a SIP message by its method, or "SIP/2.0 <code>"
// for a response; keepalives and junk are "other".
func startLineKind(b []byte) string {
	line, _, _ := strings.Cut(string(b[:min(len(b), 64)]), "\r\n")
	f := strings.Fields(line)
	switch {
	case len(f) >= 2 && f[0] == "SIP/2.0":
		return "SIP/2.0 " + f[1]
	case len(f) == 3 && f[2] == "SIP/2.0":
		return f[0]
	}
	return "other"
}

// listeningPhone starts a Phone without registration on a fixed loopback
// SIP port with RTP on loopback; extra adjusts the Config.
func listeningPhone(t *testing.T, user string, port int, extra func(*xphone.Config)) xphone.Phone {
	t.Helper()
	cfg := xphone.Config{Username: user, ListenAddr: fmt.Sprintf("127.0.0.1:%d", port), MediaTimeout: -1,
		RTPAddress: netip.MustParseAddr("127.0.0.1"), NATKeepaliveInterval: -1}
	if extra != nil {
		extra(&cfg)
	}
	p, err := xphone.New(cfg)
	if err != nil {
		t.Fatalf("New %s: %v", user, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Connect(ctx); err != nil {
		t.Fatalf("Connect %s: %v", user, err)
	}
	t.Cleanup(func() { p.Disconnect(context.Background()) })
	return p
}

// TestFaultSignalingOutage: phone A sends all its SIP through a relay to
// phone B (the relay is A's outbound proxy; RTP goes direct). During an
// established call the relay drops every SIP packet for 3 s while A puts
// B on hold (re-INVITE) and, in a second outage, while A hangs up (BYE).
// RFC 3261 §17.1.1.2 and §17.1.2.2 (Timer A and E: 0.5, 1, 2 s, ...)
// retransmit the request; the first retransmission after the path
// returns carries the transaction through: B goes on hold, and B's call
// ends with remote hangup, each after the outage, with the dropped copies
// counted by the relay.
func TestFaultSignalingOutage(t *testing.T) {
	t.Logf("peer: xphone (%s) on both ends, %s", runtime.Version(), "UDP relay in the test")
	pa, pb := freePort(t), freePort(t)
	relay := startSigRelay(t,
		&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: pa},
		&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: pb})
	b := listeningPhone(t, "b", pb, nil)
	a := listeningPhone(t, "a", pa, func(c *xphone.Config) { c.OutboundProxy = relay.addr(); c.RegisterExpiry = -1 })
	incoming := make(chan xphone.Call, 1)
	b.OnIncoming(func(c xphone.Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
		incoming <- c
	})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	ca, err := a.Dial(ctx, fmt.Sprintf("sip:b@127.0.0.1:%d", pb))
	if err != nil {
		d, _ := relay.counts()
		t.Fatalf("Dial: %v (relay dropped %v)", err, d)
	}
	var cb xphone.Call
	select {
	case cb = <-incoming:
	case <-ctx.Done():
		t.Fatal("no incoming call at B")
	}
	bStates := make(chan xphone.CallState, 16)
	cb.OnState(func(s xphone.CallState) { bStates <- s })

	const outage = 3 * time.Second
	// waitState returns when B's call reaches want.
	waitState := func(want xphone.CallState) time.Time {
		t.Helper()
		for {
			select {
			case s := <-bStates:
				if s == want {
					return time.Now()
				}
			case <-ctx.Done():
				t.Fatalf("B's call did not reach %v (state %v)", want, cb.State())
			}
		}
	}

	eventually(t, 5*time.Second, "the ACK of the INVITE through the relay", func() error {
		relay.mu.Lock()
		defer relay.mu.Unlock()
		if relay.forwarded["ACK"] < 1 {
			return fmt.Errorf("forwarded: %v", relay.forwarded)
		}
		return nil
	})

	// 1. re-INVITE (hold) during the outage.
	relay.outage()
	start := time.Now()
	holdErr := make(chan error, 1)
	go func() { holdErr <- ca.Hold(ctx) }()
	upTimer := time.AfterFunc(outage, relay.up)
	defer upTimer.Stop()
	held := waitState(xphone.StateOnHold)
	if err := <-holdErr; err != nil {
		t.Fatalf("Hold across the outage: %v", err)
	}
	// The ACK follows B's 200 through the relay.
	eventually(t, 5*time.Second, "the ACK of the re-INVITE through the relay", func() error {
		if _, after := relay.counts(); after["ACK"] < 1 {
			return fmt.Errorf("forwarded after the outage: %v", after)
		}
		return nil
	})
	dropped, after := relay.counts()
	t.Logf("hold: B on hold %v after the re-INVITE (outage %v); dropped %v, forwarded after the outage %v",
		held.Sub(start).Round(time.Millisecond), outage, dropped, after)
	if held.Sub(start) < outage {
		t.Errorf("B went on hold %v after the re-INVITE, during the %v outage", held.Sub(start), outage)
	}
	// Timer A: sent at 0, 0.5, 1.5 s within a 3 s outage.
	if dropped["INVITE"] < 3 {
		t.Errorf("got %d INVITEs dropped in the outage, want at least 3 (Timer A retransmissions)", dropped["INVITE"])
	}
	if after["INVITE"] < 1 || after["ACK"] < 1 {
		t.Errorf("forwarded after the outage: got %v, want an INVITE and an ACK", after)
	}
	if got, want := ca.State(), xphone.StateOnHold; got != want {
		t.Errorf("A's state after Hold: got %v, want %v", got, want)
	}
	if err := ca.Resume(ctx); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	waitState(xphone.StateActive)
	eventually(t, 5*time.Second, "the ACK of the resume through the relay", func() error {
		if _, after := relay.counts(); after["ACK"] < 2 {
			return fmt.Errorf("forwarded since the outage: %v", after)
		}
		return nil
	})

	// 2. BYE during the outage.
	relay.outage()
	start = time.Now()
	endErr := make(chan error, 1)
	go func() { endErr <- ca.End(ctx) }()
	upTimer = time.AfterFunc(outage, relay.up)
	defer upTimer.Stop()
	var ended time.Time
	select {
	case <-cb.Context().Done():
		ended = time.Now()
	case <-ctx.Done():
		t.Fatal("B's call did not end: the BYE never arrived")
	}
	if err := <-endErr; err != nil {
		t.Errorf("End: %v", err)
	}
	var r xphone.EndReason
	if cause := context.Cause(cb.Context()); !errors.As(cause, &r) || r != xphone.EndRemoteHangup {
		t.Errorf("B's end reason: got %v, want %v", cause, xphone.EndRemoteHangup)
	}
	// B's 200 to the BYE goes back through the relay (rport): wait for it.
	eventually(t, 5*time.Second, "B's 200 to the BYE through the relay", func() error {
		if _, after := relay.counts(); after["SIP/2.0 200"] < 1 {
			return fmt.Errorf("forwarded after the outage: %v", after)
		}
		return nil
	})
	dropped, after = relay.counts()
	t.Logf("bye: B's call ended %v after the BYE (outage %v); dropped %v, forwarded after the outage %v",
		ended.Sub(start).Round(time.Millisecond), outage, dropped, after)
	if ended.Sub(start) < outage {
		t.Errorf("B's call ended %v after the BYE, during the %v outage", ended.Sub(start), outage)
	}
	// Timer E: sent at 0, 0.5, 1.5 s within a 3 s outage.
	if dropped["BYE"] < 3 {
		t.Errorf("got %d BYEs dropped in the outage, want at least 3 (Timer E retransmissions)", dropped["BYE"])
	}
	if after["BYE"] < 1 {
		t.Errorf("forwarded after the outage: got %v, want the BYE", after)
	}
}

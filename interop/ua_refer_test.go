//go:build interop

package interop

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/audiotest"
)

// referPhone is a connected phone listening on addr (not registering)
// that accepts calls onto the returned channel when accept is set.
func referPhone(t *testing.T, user string, accept bool) (p xphone.Phone, addr string, calls chan xphone.Call) {
	t.Helper()
	port := freePort(t)
	p, addr = listeningPhone(t, user, port, nil), fmt.Sprintf("127.0.0.1:%d", port)
	calls = make(chan xphone.Call, 1)
	if accept {
		p.OnIncoming(func(c xphone.Call) {
			if err := c.Accept(context.Background()); err != nil {
				t.Errorf("Accept: %v", err)
			}
			calls <- c
		})
	}
	return p, addr, calls
}

func referRecv(t *testing.T, ch chan xphone.Call, who string) xphone.Call {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(20 * time.Second):
		t.Fatalf("%s got no call", who)
	}
	return nil
}

// TestUAReferTransfersBaresip: our phone A calls baresip and transfers it
// (REFER) to our phone C. baresip calls C (we hear its 440 Hz there),
// reports 200 by NOTIFY, and A's BlindTransfer returns nil with the call
// ended as EndTransferred.
func TestUAReferTransfersBaresip(t *testing.T) {
	b := startBaresip(t, baresipOptions{user: "1001", codecs: "PCMU", toneHz: 440})
	a, _, _ := referPhone(t, "alice", false)
	_, cAddr, atC := referPhone(t, "carol", true)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	ca, err := a.Dial(ctx, fmt.Sprintf("sip:1001@127.0.0.1:%d", b.sipPort))
	if err != nil {
		t.Fatalf("Dial baresip: %v", err)
	}
	ended := make(chan xphone.EndReason, 1)
	ca.OnEnded(func(r xphone.EndReason) { ended <- r })
	target := "sip:carol@" + cAddr
	if err := ca.BlindTransfer(ctx, target); err != nil {
		t.Fatalf("BlindTransfer: %v", err)
	}
	select {
	case r := <-ended:
		if r != xphone.EndTransferred {
			t.Errorf("A's end reason: got %v, want %v", r, xphone.EndTransferred)
		}
	case <-ctx.Done():
		t.Fatal("A's call did not end")
	}
	cc := referRecv(t, atC, "C")
	hearTone(t, cc, 440) // C hears baresip
	if err := cc.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
}

// TestUAReferBaresipTransfersUs: baresip calls our phone B and transfers
// it (its "transfer" command) to our phone C: B accepts the REFER, calls
// C, and its call with baresip ends as EndTransferred; B and C hear each
// other's tones.
func TestUAReferBaresipTransfersUs(t *testing.T) {
	b := startBaresip(t, baresipOptions{user: "1001", codecs: "PCMU", toneHz: 440})
	pb, bAddr, atB := referPhone(t, "bob", true)
	_, cAddr, atC := referPhone(t, "carol", true)
	ctl := dialBaresipCtl(t, b)
	ctl.command(t, "dial", "sip:bob@"+bAddr)
	cb := referRecv(t, atB, "B")
	ctl.waitEvent(t, "CALL_ESTABLISHED", 10*time.Second)
	ctl.command(t, "transfer", "sip:carol@"+cAddr)
	cc := referRecv(t, atC, "C")
	select {
	case <-cb.Context().Done():
	case <-time.After(20 * time.Second):
		t.Fatal("B's call with baresip did not end")
	}
	if cause := context.Cause(cb.Context()); !errors.Is(cause, xphone.EndTransferred) {
		t.Errorf("B's old call: got %v, want %v", cause, xphone.EndTransferred)
	}
	calls := pb.Calls()
	if len(calls) != 1 || calls[0].CallID() != cc.CallID() {
		t.Fatalf("B's calls: got %d, want its call to C", len(calls))
	}
	bc := calls[0]
	go toneTo(bc, 1000)
	heard := hear(t, cc, 100)
	if err := audiotest.CheckTone(heard[160*25:], 8000, 1000, 10); err != nil {
		t.Errorf("C heard B: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bc.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
}

// TestUADTMFToBaresip: our phone calls baresip and sends "19*#" in each
// DTMF mode: SIP INFO (application/dtmf-relay) and RFC 4733 events.
// baresip reports each digit as a CALL_DTMF_START event; every event up to
// CALL_CLOSED is counted, so a digit seen twice fails as surely as a
// missing one.
func TestUADTMFToBaresip(t *testing.T) {
	for _, mode := range []xphone.DTMFMode{xphone.DTMFInfo, xphone.DTMFRFC4733} {
		t.Run(mode.String(), func(t *testing.T) {
			b := startBaresip(t, baresipOptions{user: "1001", codecs: "PCMU", toneHz: 440})
			p, err := xphone.New(xphone.Config{Username: "alice", ListenAddr: "127.0.0.1:0", MediaTimeout: -1,
				RTPAddress: netip.MustParseAddr("127.0.0.1"), DTMFMode: mode})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := p.Connect(ctx); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			t.Cleanup(func() { p.Disconnect(context.Background()) })
			ctl := dialBaresipCtl(t, b)
			c, err := p.Dial(ctx, fmt.Sprintf("sip:1001@127.0.0.1:%d", b.sipPort))
			if err != nil {
				t.Fatalf("Dial baresip: %v", err)
			}
			ctl.waitEvent(t, "CALL_ESTABLISHED", 10*time.Second)
			if err := c.SendDTMF(ctx, "19*#"); err != nil {
				t.Fatalf("SendDTMF: %v", err)
			}
			var got string
			for len(got) < 4 {
				ev := ctl.waitEvent(t, "CALL_DTMF_START", 10*time.Second)
				d, _ := ev["param"].(string)
				got += d
			}
			// Let late repeats or end packets arrive, then hang up and
			// count any digit baresip reports before the call closes.
			hear(t, c, 25)
			if err := c.End(ctx); err != nil {
				t.Errorf("End: %v", err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for closed := false; !closed; {
				var ev map[string]any
				if len(ctl.pending) > 0 {
					ev, ctl.pending = ctl.pending[0], ctl.pending[1:]
				} else if ev, err = ctl.next(deadline); err != nil {
					t.Fatalf("waiting for CALL_CLOSED: %v", err)
				}
				switch ev["type"] {
				case "CALL_DTMF_START":
					d, _ := ev["param"].(string)
					got += d
				case "CALL_CLOSED":
					closed = true
				}
			}
			if got != "19*#" {
				t.Errorf("baresip got digits %q, want %q", got, "19*#")
			}
		})
	}
}

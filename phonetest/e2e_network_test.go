package phonetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/sipmsg"
)

// The PBX loses one message of a call; the phones' retransmissions (RFC
// 3261 §17.1.1.2, §17.1.2.2, §13.3.1.4) recover and the call completes.
// A lost 180 is not sent again (provisional responses are unreliable
// without RFC 3262): the call completes without it.
func TestE2ERetransmission(t *testing.T) {
	tests := []struct {
		name     string
		match    func(MessageEvent) bool
		early    bool // set the rule before the phones register
		once     bool // the message is not retransmitted
		afterEnd bool // the message belongs to the hang-up
	}{
		{name: "REGISTER-lost", match: IsRequest("REGISTER", false), early: true},
		{name: "INVITE-lost", match: IsRequest("INVITE", false)},
		{name: "180-to-caller-lost", match: IsResponse(180, "INVITE", true), once: true},
		{name: "200-to-caller-lost", match: IsResponse(200, "INVITE", true)},
		// The first ACK is for the 407: the PBX sends the 407 again.
		{name: "ACK-of-407-lost", match: IsRequest("ACK", false)},
		// The ACK for the 2xx carries the route set: the callee sends
		// the 2xx again and the caller ACKs it again.
		{name: "ACK-of-200-lost", match: func(e MessageEvent) bool {
			return IsRequest("ACK", false)(e) && e.Msg.Has("Route")
		}},
		{name: "BYE-lost", match: IsRequest("BYE", false), afterEnd: true},
		{name: "200-to-BYE-lost", match: IsResponse(200, "BYE", true), afterEnd: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pbx := startE2E(t, PBXConfig{})
			if tt.early {
				pbx.Drop(1, tt.match)
			}
			alice, bob := e2ePhone(t, e2eConfig(pbx, "alice")), e2ePhone(t, e2eConfig(pbx, "bob"))
			if !tt.early {
				pbx.Drop(1, tt.match)
			}
			in := listen(bob, func(c xphone.Call) {
				if err := c.Accept(context.Background()); err != nil {
					t.Errorf("Accept: %v", err)
				}
			})
			c, err := dial(t, alice, "bob")
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			callee := in.next(t)
			sendTone(t, c, 800)
			hearTone(t, "callee", callee, 800)
			ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
			defer cancel()
			dropped := func(e MessageEvent) bool { return tt.match(e) && e.Dropped }
			// resent waits until the lost message was sent again and got
			// through: the same transaction (Call-ID, CSeq) as the one lost.
			resent := func() {
				t.Helper()
				lost, err := pbx.WaitMessage(ctx, dropped)
				if err != nil {
					t.Fatalf("nothing dropped: %v", err)
				}
				again := func(e MessageEvent) bool {
					return tt.match(e) && !e.Dropped && e.Msg.Get("CSeq") == lost.Msg.Get("CSeq") &&
						e.Msg.CallID() == lost.Msg.CallID()
				}
				if _, err := pbx.WaitMessage(ctx, again); err != nil {
					t.Fatalf("no retransmission of %v (%s) got through: %v", Summary(lost.Msg), lost.Msg.Get("CSeq"), err)
				}
			}
			if !tt.once && !tt.afterEnd {
				resent()
			}
			if err := c.End(ctx); err != nil {
				t.Fatalf("End: %v", err)
			}
			callee.waitEnded(t, "callee", xphone.EndRemoteHangup)
			if tt.afterEnd {
				resent()
			}
			if got := pbx.Count(dropped); got != 1 {
				t.Errorf("dropped: got %d, want 1", got)
			}
		})
	}
}

// Scripted delays at the PBX: the caller is rung (180) while the PBX holds
// the INVITE, then the callee answers; a callee that never answers runs
// into the caller's dial timeout, and the PBX relays the CANCEL.
func TestE2EDelayAndNoAnswer(t *testing.T) {
	pbx := startE2E(t, PBXConfig{Script: func(user string, req *sipmsg.Message) *Answer {
		switch req.Get("Subject") {
		case "delay":
			return &Answer{Code: 180, Delay: 200 * time.Millisecond}
		case "silent":
			return &Answer{Drop: true}
		}
		return nil
	}})
	alice, bob := e2ePhone(t, e2eConfig(pbx, "alice")), e2ePhone(t, e2eConfig(pbx, "bob"))
	in := listen(bob, func(c xphone.Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
	})

	t.Run("delay", func(t *testing.T) {
		c, err := dial(t, alice, "bob", xphone.WithHeader("Subject", "delay"))
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		callee := in.next(t)
		evs := pbx.Messages()
		ringing := indexOf(evs, IsResponse(180, "INVITE", true))
		forwarded := indexOf(evs, IsRequest("INVITE", true))
		if ringing < 0 || forwarded < 0 || ringing > forwarded {
			t.Errorf("180 sent at %d, INVITE forwarded at %d: want the 180 first", ringing, forwarded)
		}
		ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
		defer cancel()
		if err := callee.End(ctx); err != nil {
			t.Fatalf("End: %v", err)
		}
		c.waitEnded(t, "caller", xphone.EndRemoteHangup)
	})
	t.Run("no-answer", func(t *testing.T) {
		c, err := dial(t, alice, "bob", xphone.WithHeader("Subject", "silent"), xphone.WithTimeout(300*time.Millisecond))
		if c != nil || !errors.Is(err, xphone.ErrDialTimeout) {
			t.Fatalf("Dial: got %v, want ErrDialTimeout", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
		defer cancel()
		if _, err := pbx.WaitMessage(ctx, IsRequest("CANCEL", false)); err != nil {
			t.Errorf("the PBX got no CANCEL: %v", err)
		}
	})
}

package xphone

import (
	"context"
	"errors"
	"testing"
	"time"
)

// callPair dials b from a through the facade and returns both calls once
// b answered.
func callPair(t *testing.T, a, b Phone) (ca, cb Call) {
	t.Helper()
	got := make(chan Call, 1)
	b.OnIncoming(func(c Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
		got <- c
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca, err := a.Dial(ctx, phoneURI(b))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	select {
	case cb = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no incoming call")
	}
	return ca, cb
}

// TestPhoneBlindTransfer: through the facade, A transfers B to C: A's call
// ends with EndTransferred and B ends up in a call with C; a busy target
// makes BlindTransfer fail with ErrTransferFailed (and ErrBusy from the
// status) while the call stays active.
func TestPhoneBlindTransfer(t *testing.T) {
	for _, tc := range []struct {
		name string
		busy bool
	}{{"completed", false}, {"target-busy", true}} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, c := listeningPhone(t), listeningPhone(t), listeningPhone(t)
			ca, cb := callPair(t, a, b)
			ended := make(chan EndReason, 1)
			ca.OnEnded(func(r EndReason) { ended <- r })
			atC := make(chan Call, 1)
			c.OnIncoming(func(cc Call) {
				if tc.busy {
					cc.Reject(context.Background(), 486, "")
					return
				}
				if err := cc.Accept(context.Background()); err != nil {
					t.Errorf("Accept: %v", err)
				}
				atC <- cc
			})
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			err := ca.BlindTransfer(ctx, phoneURI(c))
			if tc.busy {
				if !errors.Is(err, ErrTransferFailed) || !errors.Is(err, ErrBusy) {
					t.Fatalf("BlindTransfer: got %v, want ErrTransferFailed and ErrBusy", err)
				}
				for _, call := range []Call{ca, cb} {
					if got, want := call.State(), StateActive; got != want {
						t.Errorf("state after failed transfer: got %v, want %v", got, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("BlindTransfer: got %v, want nil", err)
			}
			select {
			case r := <-ended:
				if r != EndTransferred {
					t.Errorf("A's end reason: got %v, want %v", r, EndTransferred)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("A's call did not end")
			}
			var cc Call
			select {
			case cc = <-atC:
			case <-time.After(10 * time.Second):
				t.Fatal("C got no call")
			}
			<-cb.Context().Done()
			if got := context.Cause(cb.Context()); !errors.Is(got, EndTransferred) {
				t.Errorf("B's old call cause: got %v, want %v", got, EndTransferred)
			}
			calls := b.Calls()
			if len(calls) != 1 || calls[0].CallID() != cc.CallID() || calls[0].Direction() != Outbound {
				t.Fatalf("B's calls: got %d, want one outbound call to C", len(calls))
			}
			if err := calls[0].End(ctx); err != nil {
				t.Errorf("End: %v", err)
			}
			<-cc.Context().Done()
		})
	}
}

// TestPhoneDTMFInfo: with DTMFMode DTMFInfo on both phones, digits travel
// by SIP INFO and arrive once each through OnDTMF.
func TestPhoneDTMFInfo(t *testing.T) {
	info := func(c *Config) { c.DTMFMode = DTMFInfo }
	a, b := phoneWith(t, info), phoneWith(t, info)
	ca, cb := callPair(t, a, b)
	got := make(chan rune, 8)
	cb.OnDTMF(func(r rune) { got <- r })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ca.SendDTMF(ctx, "9*0"); err != nil {
		t.Fatalf("SendDTMF: %v", err)
	}
	var s []rune
	for len(s) < 3 {
		select {
		case r := <-got:
			s = append(s, r)
		case <-ctx.Done():
			t.Fatalf("digits: got %q, want %q", string(s), "9*0")
		}
	}
	if string(s) != "9*0" {
		t.Errorf("digits: got %q, want %q", string(s), "9*0")
	}
	if st := cb.(*call).c.Media().Stats(); st.DTMFReceived != 0 {
		t.Errorf("digits by RFC 4733: got %d, want 0", st.DTMFReceived)
	}
	ca.End(ctx)
}

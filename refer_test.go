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
// status) while the call stays active. Both sides' OnTransfer see C's URI,
// 100 first and the outcome (200 or 486) last; B's events are Referred.
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
			aEvents, bEvents := make(chan TransferEvent, 8), make(chan TransferEvent, 8)
			ca.OnTransfer(func(e TransferEvent) { aEvents <- e })
			cb.OnTransfer(func(e TransferEvent) { bEvents <- e })
			// checkEvents reads one side's events up to the final one.
			checkEvents := func(who string, events chan TransferEvent, referred bool, final int) {
				t.Helper()
				var codes []int
				for {
					select {
					case e := <-events:
						if e.Target != phoneURI(c) || e.Referred != referred {
							t.Errorf("%s's event: got %+v, want target %s, referred %v", who, e, phoneURI(c), referred)
						}
						codes = append(codes, e.Code)
						if !e.Final() {
							continue
						}
					case <-time.After(10 * time.Second):
						t.Fatalf("%s's transfer events: got %v, want up to %d", who, codes, final)
					}
					break
				}
				if codes[0] != 100 || codes[len(codes)-1] != final {
					t.Errorf("%s's transfer events: got %v, want 100 first and %d last", who, codes, final)
				}
			}
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
				checkEvents("A", aEvents, false, 486)
				checkEvents("B", bEvents, true, 486)
				return
			}
			if err != nil {
				t.Fatalf("BlindTransfer: got %v, want nil", err)
			}
			checkEvents("A", aEvents, false, 200)
			checkEvents("B", bEvents, true, 200)
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
	a, b := listeningPhone(t, info), listeningPhone(t, info)
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

// TestPhoneDTMFModePerCall: phones configured for RFC 4733 send a call's
// digits by SIP INFO when the call says so: an outbound call through
// WithDTMFMode, an inbound one through SetDTMFMode. The digits arrive
// through OnDTMF with no telephone-event seen; the control case without
// the per-call mode sends them as telephone-events.
func TestPhoneDTMFModePerCall(t *testing.T) {
	for _, tc := range []struct {
		name     string
		dialOpts []DialOption
		setMode  DTMFMode // on B's inbound call, which then sends
		byInfo   bool
	}{
		{"dial-option", []DialOption{WithDTMFMode(DTMFInfo)}, 0, true},
		{"inbound-set", nil, DTMFInfo, true},
		{"config-default", nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := listeningPhone(t), listeningPhone(t)
			got := make(chan Call, 1)
			b.OnIncoming(func(c Call) {
				if err := c.Accept(context.Background()); err != nil {
					t.Errorf("Accept: %v", err)
				}
				got <- c
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ca, err := a.Dial(ctx, phoneURI(b), tc.dialOpts...)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer ca.End(context.Background())
			var cb Call
			select {
			case cb = <-got:
			case <-ctx.Done():
				t.Fatal("no incoming call")
			}
			from, to := ca, cb
			if tc.setMode != 0 {
				if err := cb.SetDTMFMode(tc.setMode); err != nil {
					t.Fatalf("SetDTMFMode: %v", err)
				}
				from, to = cb, ca
			}
			digits := make(chan rune, 8)
			to.OnDTMF(func(r rune) { digits <- r })
			if err := from.SendDTMF(ctx, "42"); err != nil {
				t.Fatalf("SendDTMF: %v", err)
			}
			var s []rune
			for len(s) < 2 {
				select {
				case r := <-digits:
					s = append(s, r)
				case <-ctx.Done():
					t.Fatalf("digits: got %q, want %q", string(s), "42")
				}
			}
			if string(s) != "42" {
				t.Errorf("digits: got %q, want %q", string(s), "42")
			}
			events := to.(*call).c.Media().Stats().DTMFReceived
			if got := events == 0; got != tc.byInfo {
				t.Errorf("digits by SIP INFO only: got %v (%d telephone-events), want %v", got, events, tc.byInfo)
			}
		})
	}
}

// TestSetDTMFModeErrors: an unknown mode is a configuration error, and an
// ended call refuses a new mode.
func TestSetDTMFModeErrors(t *testing.T) {
	a, b := listeningPhone(t), listeningPhone(t)
	ca, _ := callPair(t, a, b)
	if err := ca.SetDTMFMode(DTMFBoth + 1); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("SetDTMFMode(unknown): got %v, want %v", err, ErrInvalidConfig)
	}
	if err := ca.End(context.Background()); err != nil {
		t.Fatalf("End: %v", err)
	}
	if err := ca.SetDTMFMode(DTMFInfo); !errors.Is(err, ErrInvalidState) {
		t.Errorf("SetDTMFMode after End: got %v, want %v", err, ErrInvalidState)
	}
	if _, err := NewDialOptions(WithDTMFMode(DTMFBoth + 1)); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("WithDTMFMode(unknown): got %v, want %v", err, ErrInvalidConfig)
	}
}

// TestPhoneAttendedTransferChecks: the consult call must be another
// answered call of the same phone; anything else is ErrInvalidState and
// leaves the call up.
func TestPhoneAttendedTransferChecks(t *testing.T) {
	a, b, c := listeningPhone(t), listeningPhone(t), listeningPhone(t)
	ca, cb := callPair(t, a, b)
	_, cc := callPair(t, c, b) // a call of another phone (b's side of c's call)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, consult := range map[string]Call{"itself": ca, "other phone": cb, "other phone's call": cc, "nil": nil} {
		if err := ca.AttendedTransfer(ctx, consult); !errors.Is(err, ErrInvalidState) {
			t.Errorf("AttendedTransfer with %s: got %v, want ErrInvalidState", name, err)
		}
	}
	if got := ca.State(); got != StateActive {
		t.Errorf("state: got %v, want %v", got, StateActive)
	}
}

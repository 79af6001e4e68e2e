package phonetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/xphone-go/xphone"
)

// transferLog collects a call's OnTransfer events as "target referred code".
func transferLog(c *MockCall) *[]string {
	var log []string
	c.OnTransfer(func(e xphone.TransferEvent) {
		log = append(log, fmt.Sprintf("%s %v %d", e.Target, e.Referred, e.Code))
	})
	return &log
}

// TestMockTransferEvents: BlindTransfer reports 100 and the outcome to
// OnTransfer (200 and EndTransferred, or the status of the scripted
// error with the call kept); SimulateTransfer delivers a peer's REFER as
// the real call would, ending the call on a referred 2xx, and refuses
// events in states a transfer cannot happen in.
func TestMockTransferEvents(t *testing.T) {
	for _, tc := range []struct {
		name      string
		run       func(c *MockCall) error
		want      string
		wantState xphone.CallState
	}{
		{"blind-transfer", func(c *MockCall) error { return c.BlindTransfer(bg, "sip:c@x") },
			"[sip:c@x false 100 sip:c@x false 200]", xphone.StateEnded},
		{"blind-transfer-busy", func(c *MockCall) error {
			c.SetTransferError(fmt.Errorf("%w: %w", xphone.ErrTransferFailed, &xphone.StatusError{Code: 486}))
			if err := c.BlindTransfer(bg, "sip:c@x"); !errors.Is(err, xphone.ErrTransferFailed) {
				return fmt.Errorf("BlindTransfer: got %v, want ErrTransferFailed", err)
			}
			return nil
		}, "[sip:c@x false 100 sip:c@x false 486]", xphone.StateActive},
		{"referred-answered", func(c *MockCall) error {
			if err := c.SimulateTransfer(xphone.TransferEvent{Target: "sip:d@x", Referred: true, Code: 100}); err != nil {
				return err
			}
			return c.SimulateTransfer(xphone.TransferEvent{Target: "sip:d@x", Referred: true, Code: 200})
		}, "[sip:d@x true 100 sip:d@x true 200]", xphone.StateEnded},
		{"referred-failed", func(c *MockCall) error {
			return c.SimulateTransfer(xphone.TransferEvent{Target: "sip:d@x", Referred: true, Code: 486})
		}, "[sip:d@x true 486]", xphone.StateActive},
		{"ours-scripted", func(c *MockCall) error {
			return c.SimulateTransfer(xphone.TransferEvent{Target: "sip:e@x", Code: 180})
		}, "[sip:e@x false 180]", xphone.StateActive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := callIn(t, xphone.Inbound, xphone.StateActive)
			log := transferLog(c)
			if err := tc.run(c); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(*log); got != tc.want {
				t.Errorf("events: got %s, want %s", got, tc.want)
			}
			if got := c.State(); got != tc.wantState {
				t.Errorf("state: got %v, want %v", got, tc.wantState)
			}
			if tc.wantState == xphone.StateEnded && c.EndReason() != xphone.EndTransferred {
				t.Errorf("end reason: got %v, want %v", c.EndReason(), xphone.EndTransferred)
			}
		})
	}
	ringing := NewMockCall()
	if err := ringing.SimulateTransfer(xphone.TransferEvent{Code: 100}); err == nil {
		t.Error("SimulateTransfer on a ringing call: got nil, want an error")
	}
	active := callIn(t, xphone.Inbound, xphone.StateActive)
	if err := active.SimulateTransfer(xphone.TransferEvent{Code: 99}); err == nil {
		t.Error("SimulateTransfer with status 99: got nil, want an error")
	}
}

// TestMockDTMFMode: WithDTMFMode reaches the dialed call, SetDTMFMode
// changes it, an unknown mode and an ended call are refused.
func TestMockDTMFMode(t *testing.T) {
	p := NewMockPhone()
	_ = p.Connect(bg)
	defer p.Disconnect(bg)
	call, err := p.Dial(bg, "1001", xphone.WithDTMFMode(xphone.DTMFInfo))
	if err != nil {
		t.Fatal(err)
	}
	c := call.(*MockCall)
	if got, want := c.DTMFMode(), xphone.DTMFInfo; got != want {
		t.Errorf("mode after WithDTMFMode: got %v, want %v", got, want)
	}
	if err := c.SetDTMFMode(xphone.DTMFBoth); err != nil {
		t.Fatal(err)
	}
	if got, want := c.DTMFMode(), xphone.DTMFBoth; got != want {
		t.Errorf("mode after SetDTMFMode: got %v, want %v", got, want)
	}
	if err := c.SetDTMFMode(xphone.DTMFBoth + 1); !errors.Is(err, xphone.ErrInvalidConfig) {
		t.Errorf("unknown mode: got %v, want %v", err, xphone.ErrInvalidConfig)
	}
	if err := c.End(bg); err != nil {
		t.Fatal(err)
	}
	if err := c.SetDTMFMode(xphone.DTMFInfo); !errors.Is(err, xphone.ErrInvalidState) {
		t.Errorf("after End: got %v, want %v", err, xphone.ErrInvalidState)
	}
}

// TestMockAttendedTransfer: AttendedTransfer records the consult call and
// its remote URI as the target, reports 100 and 200, and ends both calls
// as transferred; with a scripted error both stay up; a consult call that
// is not answered, or the call itself, is refused. SimulateReplaced hands
// the new call to OnReplaced and ends the call as replaced.
func TestMockAttendedTransfer(t *testing.T) {
	c := callIn(t, xphone.Inbound, xphone.StateActive)
	consult := callIn(t, xphone.Outbound, xphone.StateActive)
	log := transferLog(c)
	if err := c.AttendedTransfer(bg, c); !errors.Is(err, xphone.ErrInvalidState) {
		t.Errorf("AttendedTransfer to itself: got %v, want ErrInvalidState", err)
	}
	if err := c.AttendedTransfer(bg, NewMockCall()); !errors.Is(err, xphone.ErrInvalidState) {
		t.Errorf("AttendedTransfer to a ringing call: got %v, want ErrInvalidState", err)
	}
	c.SetTransferError(fmt.Errorf("%w: %w", xphone.ErrTransferFailed, &xphone.StatusError{Code: 603}))
	if err := c.AttendedTransfer(bg, consult); !errors.Is(err, xphone.ErrTransferFailed) {
		t.Errorf("AttendedTransfer scripted to fail: got %v, want ErrTransferFailed", err)
	}
	if c.State() != xphone.StateActive || consult.State() != xphone.StateActive {
		t.Errorf("after a failed transfer: got %v and %v, want both active", c.State(), consult.State())
	}
	c.SetTransferError(nil)
	if err := c.AttendedTransfer(bg, consult); err != nil {
		t.Fatalf("AttendedTransfer: %v", err)
	}
	target := consult.RemoteURI()
	want := fmt.Sprint([]string{target + " false 100", target + " false 603", target + " false 100", target + " false 200"})
	if got := fmt.Sprint(*log); got != want {
		t.Errorf("events: got %s, want %s", got, want)
	}
	if c.TransferConsult() != consult || c.TransferTarget() != target {
		t.Errorf("recorded: got %v %q, want the consult call and %q", c.TransferConsult(), c.TransferTarget(), target)
	}
	for name, m := range map[string]*MockCall{"call": c, "consult": consult} {
		if m.EndReason() != xphone.EndTransferred {
			t.Errorf("%s end reason: got %v, want %v", name, m.EndReason(), xphone.EndTransferred)
		}
	}

	old := callIn(t, xphone.Inbound, xphone.StateActive)
	var got xphone.Call
	old.OnReplaced(func(n xphone.Call) { got = n })
	n := callIn(t, xphone.Inbound, xphone.StateActive)
	if err := old.SimulateReplaced(n); err != nil {
		t.Fatalf("SimulateReplaced: %v", err)
	}
	if got != n || old.EndReason() != xphone.EndReplaced {
		t.Errorf("SimulateReplaced: OnReplaced got %v, reason %v; want the new call and %v", got, old.EndReason(), xphone.EndReplaced)
	}
	if err := old.SimulateReplaced(n); err == nil {
		t.Error("SimulateReplaced on an ended call: got nil, want an error")
	}
}

package phonetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/rtp"
)

var bg = context.Background()

// callIn returns a call of direction d driven to state s through the mock's
// own transitions.
func callIn(t *testing.T, d xphone.Direction, s xphone.CallState) *MockCall {
	t.Helper()
	var c *MockCall
	var path []func() error
	if d == xphone.Inbound {
		c = NewMockCall()
		switch s {
		case xphone.StateEarlyMedia:
			path = []func() error{func() error { return c.Progress(bg) }}
		case xphone.StateActive:
			path = []func() error{func() error { return c.Accept(bg) }}
		case xphone.StateOnHold:
			path = []func() error{func() error { return c.Accept(bg) }, func() error { return c.Hold(bg) }}
		case xphone.StateEnded:
			path = []func() error{func() error { return c.End(bg) }}
		}
	} else {
		c = newMockCall(&dispatcher{}, xphone.Outbound, xphone.StateDialing)
		switch s {
		case xphone.StateRemoteRinging:
			path = []func() error{c.SimulateRinging}
		case xphone.StateEarlyMedia:
			path = []func() error{c.SimulateEarlyMedia}
		case xphone.StateActive:
			path = []func() error{c.SimulateAnswer}
		case xphone.StateOnHold:
			path = []func() error{c.SimulateAnswer, c.SimulateHold}
		case xphone.StateEnded:
			path = []func() error{func() error { return c.End(bg) }}
		}
	}
	for _, step := range path {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if c.State() != s {
		t.Fatalf("setup: got state %v, want %v", c.State(), s)
	}
	t.Cleanup(func() { _ = c.End(bg) })
	return c
}

func TestOperationsFollowCheckOp(t *testing.T) {
	ops := []struct {
		op xphone.Op
		do func(*MockCall) error
		// to is the state after success; 0 with end set means Ended.
		to     xphone.CallState
		reason func(xphone.Direction, xphone.CallState) xphone.EndReason
	}{
		{xphone.OpAccept, func(c *MockCall) error { return c.Accept(bg) }, xphone.StateActive, nil},
		{xphone.OpReject, func(c *MockCall) error { return c.Reject(bg, 486, "Busy Here") }, xphone.StateEnded, fixed(xphone.EndRejected)},
		{xphone.OpProgress, func(c *MockCall) error { return c.Progress(bg) }, xphone.StateEarlyMedia, nil},
		{xphone.OpEnd, func(c *MockCall) error { return c.End(bg) }, xphone.StateEnded, endReason},
		{xphone.OpHold, func(c *MockCall) error { return c.Hold(bg) }, xphone.StateOnHold, nil},
		{xphone.OpResume, func(c *MockCall) error { return c.Resume(bg) }, xphone.StateActive, nil},
		{xphone.OpSendDTMF, func(c *MockCall) error { return c.SendDTMF(bg, "12#") }, 0, nil},
		{xphone.OpBlindTransfer, func(c *MockCall) error { return c.BlindTransfer(bg, "sip:200@pbx") }, xphone.StateEnded, fixed(xphone.EndTransferred)},
		{xphone.OpMute, (*MockCall).Mute, 0, nil},
		{xphone.OpUnmute, (*MockCall).Unmute, 0, nil},
	}
	states := map[xphone.Direction][]xphone.CallState{
		xphone.Inbound:  {xphone.StateRinging, xphone.StateEarlyMedia, xphone.StateActive, xphone.StateOnHold, xphone.StateEnded},
		xphone.Outbound: {xphone.StateDialing, xphone.StateRemoteRinging, xphone.StateEarlyMedia, xphone.StateActive, xphone.StateOnHold, xphone.StateEnded},
	}
	for _, o := range ops {
		for _, d := range []xphone.Direction{xphone.Inbound, xphone.Outbound} {
			for _, s := range states[d] {
				t.Run(fmt.Sprintf("%v/%v/%v", o.op, d, s), func(t *testing.T) {
					c := callIn(t, d, s)
					var seen []xphone.CallState
					c.OnState(func(st xphone.CallState) { seen = append(seen, st) })
					err := o.do(c)
					want := xphone.CheckOp(o.op, d, s)
					if want != nil {
						if err == nil || err.Error() != want.Error() || !errors.Is(err, xphone.ErrInvalidState) {
							t.Fatalf("got %v, want %v", err, want)
						}
						if c.State() != s || len(seen) != 0 {
							t.Errorf("refused op changed state: got %v (callbacks %v), want %v", c.State(), seen, s)
						}
						return
					}
					if err != nil {
						t.Fatalf("got %v, want nil", err)
					}
					to := o.to
					if to == 0 {
						to = s
					}
					if got := c.State(); got != to {
						t.Errorf("got state %v, want %v", got, to)
					}
					if to != s && !slices.Equal(seen, []xphone.CallState{to}) {
						t.Errorf("got callbacks %v, want [%v]", seen, to)
					}
					if to == xphone.StateEnded {
						var r xphone.EndReason
						if !errors.As(context.Cause(c.Context()), &r) || r != o.reason(d, s) {
							t.Errorf("got end reason %v, want %v", r, o.reason(d, s))
						}
					}
				})
			}
		}
	}
}

func fixed(r xphone.EndReason) func(xphone.Direction, xphone.CallState) xphone.EndReason {
	return func(xphone.Direction, xphone.CallState) xphone.EndReason { return r }
}

func endReason(d xphone.Direction, s xphone.CallState) xphone.EndReason {
	switch {
	case s == xphone.StateActive || s == xphone.StateOnHold:
		return xphone.EndLocalHangup
	case d == xphone.Outbound:
		return xphone.EndCancelled
	}
	return xphone.EndRejected
}

func TestArgumentErrors(t *testing.T) {
	c := callIn(t, xphone.Inbound, xphone.StateRinging)
	if err := c.Reject(bg, 200, ""); err == nil {
		t.Error("Reject(200): got nil, want an error")
	}
	if err := c.Reject(bg, 0, ""); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.RejectedWith(); code != 603 {
		t.Errorf("got code %d, want 603", code)
	}
	a := callIn(t, xphone.Inbound, xphone.StateActive)
	if err := a.SendDTMF(bg, "1x"); !errors.Is(err, xphone.ErrInvalidDTMF) {
		t.Errorf("got %v, want ErrInvalidDTMF", err)
	}
	if err := a.BlindTransfer(bg, ""); !errors.Is(err, xphone.ErrInvalidTarget) {
		t.Errorf("got %v, want ErrInvalidTarget", err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := a.Hold(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	failed := errors.New("NOTIFY 503")
	a.SetTransferError(fmt.Errorf("%w: %w", xphone.ErrTransferFailed, failed))
	if err := a.BlindTransfer(bg, "sip:300@pbx"); !errors.Is(err, xphone.ErrTransferFailed) {
		t.Errorf("got %v, want ErrTransferFailed", err)
	}
	if a.State() != xphone.StateActive || a.TransferTarget() != "sip:300@pbx" {
		t.Errorf("after failed transfer: got %v %q, want Active and the target", a.State(), a.TransferTarget())
	}
}

func TestEndClosesReadersOnce(t *testing.T) {
	c := callIn(t, xphone.Inbound, xphone.StateActive)
	c.InjectPCM([]int16{1})
	c.InjectRTP(&rtp.Packet{Payload: []byte{9}})
	var ended []xphone.EndReason
	c.OnEnded(func(r xphone.EndReason) { ended = append(ended, r) })
	if err := c.SimulateRemoteHangup(); err != nil {
		t.Fatal(err)
	}
	// Every way to end it again is refused, and closes nothing twice.
	if err := c.End(bg); !errors.Is(err, xphone.ErrInvalidState) {
		t.Errorf("End after end: got %v, want ErrInvalidState", err)
	}
	if err := c.SimulateEnd(xphone.EndError); err == nil {
		t.Error("SimulateEnd after end: got nil, want an error")
	}
	c.InjectPCM([]int16{2}) // ignored, must not panic
	if f, ok := <-c.PCMReader(); !ok || f[0] != 1 {
		t.Errorf("got %v %v, want the frame queued before the end", f, ok)
	}
	if _, ok := <-c.PCMReader(); ok {
		t.Error("PCMReader: got a value, want closed")
	}
	for _, ch := range []<-chan *rtp.Packet{c.RTPReader(), c.RTPRawReader()} {
		if p := <-ch; p == nil || p.Payload[0] != 9 {
			t.Errorf("got %v, want the packet", p)
		}
		if _, ok := <-ch; ok {
			t.Error("RTP reader: got a value, want closed")
		}
	}
	if !slices.Equal(ended, []xphone.EndReason{xphone.EndRemoteHangup}) {
		t.Errorf("OnEnded: got %v, want [remote hangup]", ended)
	}
}

func TestInjectDropsOldest(t *testing.T) {
	c := callIn(t, xphone.Inbound, xphone.StateActive)
	for i := range xphone.ChannelDepth + 3 {
		c.InjectPCM([]int16{int16(i)})
	}
	if got := c.Stats().InboundDropped; got != 3 {
		t.Errorf("got %d dropped, want 3", got)
	}
	if f := <-c.PCMReader(); f[0] != 3 {
		t.Errorf("got first frame %d, want 3", f[0])
	}
}

func TestWriters(t *testing.T) {
	c := callIn(t, xphone.Inbound, xphone.StateActive)
	w, p, r := c.PCMWriter(), c.PacedPCMWriter(), c.RTPWriter()
	w <- []int16{1}
	w <- []int16{2}
	close(w) // ends this writer only
	p <- []int16{3, 4, 5}
	r <- &rtp.Packet{Payload: []byte{1}}
	if got := c.SentPCM(); len(got) != 3 {
		t.Errorf("got %v, want 3 slices", got)
	}
	if got := c.SentRTP(); len(got) != 1 {
		t.Errorf("got %v, want 1 packet", got)
	}
	p <- []int16{6}
	if err := c.End(bg); err != nil {
		t.Fatal(err)
	}
	if got := c.SentPCM(); len(got) != 4 || got[3][0] != 6 {
		t.Errorf("got %v, want the slice sent before End last", got)
	}
	select {
	case p <- []int16{7}: // buffered, never read
	default:
		t.Error("send after end: blocked, want buffered")
	}
}

func TestCallbacksRunWithoutLocks(t *testing.T) {
	c := callIn(t, xphone.Inbound, xphone.StateRinging)
	var order []string
	c.OnState(func(s xphone.CallState) {
		order = append(order, s.String())
		if s == xphone.StateActive {
			// Calls back into the call from a callback: would deadlock if a
			// lock were held, and its events must come after this one.
			_ = c.Muted()
			if err := c.End(bg); err != nil {
				t.Errorf("End in callback: %v", err)
			}
			order = append(order, "after End")
		}
	})
	c.OnEnded(func(r xphone.EndReason) { order = append(order, r.String()) })
	c.OnDTMF(func(r rune) { order = append(order, string(r)) })
	if err := c.Accept(bg); err != nil {
		t.Fatal(err)
	}
	want := []string{"Active", "after End", "Ended", "local hangup"}
	if !slices.Equal(order, want) {
		t.Errorf("got %v, want %v", order, want)
	}
}

func TestSimulations(t *testing.T) {
	tests := []struct {
		name  string
		d     xphone.Direction
		from  xphone.CallState
		sim   func(*MockCall) error
		to    xphone.CallState // 0: refused
		event string
	}{
		{"dtmf", xphone.Inbound, xphone.StateActive, func(c *MockCall) error { return c.SimulateDTMF("1a#") }, xphone.StateActive, "1A#"},
		{"dtmf early", xphone.Outbound, xphone.StateEarlyMedia, func(c *MockCall) error { return c.SimulateDTMF("9") }, xphone.StateEarlyMedia, "9"},
		{"dtmf ringing", xphone.Inbound, xphone.StateRinging, func(c *MockCall) error { return c.SimulateDTMF("9") }, 0, ""},
		{"dtmf invalid", xphone.Inbound, xphone.StateActive, func(c *MockCall) error { return c.SimulateDTMF("x") }, 0, ""},
		{"hold", xphone.Inbound, xphone.StateActive, (*MockCall).SimulateHold, xphone.StateOnHold, ""},
		{"hold twice", xphone.Inbound, xphone.StateOnHold, (*MockCall).SimulateHold, 0, ""},
		{"resume", xphone.Outbound, xphone.StateOnHold, (*MockCall).SimulateResume, xphone.StateActive, ""},
		{"resume active", xphone.Outbound, xphone.StateActive, (*MockCall).SimulateResume, 0, ""},
		{"cancel", xphone.Inbound, xphone.StateRinging, (*MockCall).SimulateCancel, xphone.StateEnded, "cancelled"},
		{"cancel outbound", xphone.Outbound, xphone.StateDialing, (*MockCall).SimulateCancel, 0, ""},
		{"hangup", xphone.Inbound, xphone.StateOnHold, (*MockCall).SimulateRemoteHangup, xphone.StateEnded, "remote hangup"},
		{"hangup ringing", xphone.Inbound, xphone.StateRinging, (*MockCall).SimulateRemoteHangup, 0, ""},
		{"answer inbound", xphone.Inbound, xphone.StateRinging, (*MockCall).SimulateAnswer, 0, ""},
		{"ringing", xphone.Outbound, xphone.StateDialing, (*MockCall).SimulateRinging, xphone.StateRemoteRinging, ""},
		{"media timeout", xphone.Outbound, xphone.StateActive, func(c *MockCall) error { return c.SimulateEnd(xphone.EndMediaTimeout) }, xphone.StateEnded, "media timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := callIn(t, tt.d, tt.from)
			var events string
			c.OnDTMF(func(r rune) { events += string(r) })
			c.OnEnded(func(r xphone.EndReason) { events += r.String() })
			err := tt.sim(c)
			if tt.to == 0 {
				if err == nil || c.State() != tt.from {
					t.Errorf("got %v in state %v, want an error and state %v", err, c.State(), tt.from)
				}
				return
			}
			if err != nil || c.State() != tt.to || events != tt.event {
				t.Errorf("got %v, state %v, events %q, want nil, %v, %q", err, c.State(), events, tt.to, tt.event)
			}
		})
	}
}

func TestWaitState(t *testing.T) {
	c := callIn(t, xphone.Inbound, xphone.StateRinging)
	go func() { _ = c.Accept(bg) }()
	if err := c.WaitState(bg, xphone.StateActive); err != nil {
		t.Fatal(err)
	}
	if err := c.SimulateRemoteHangup(); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitState(bg, xphone.StateOnHold); err == nil {
		t.Error("got nil after the call ended, want an error")
	}
}

func TestSettersAndGetters(t *testing.T) {
	c := NewMockCall()
	c.SetFrom("sip:a@x")
	c.SetTo("sip:b@x")
	c.SetRemoteURI("sip:a@192.0.2.1")
	c.SetCallID("abc")
	c.SetCodec(xphone.CodecG722)
	c.SetHeader("x-account", "1", "2")
	c.SetStats(xphone.CallStats{PacketsSent: 10})
	got := fmt.Sprintln(c.From(), c.To(), c.RemoteURI(), c.CallID(), c.Codec(), c.Header("X-Account"), c.Header("missing"), c.Stats().PacketsSent, c.Stats().Codec, c.Direction())
	want := "sip:a@x sip:b@x sip:a@192.0.2.1 abc G722 [1 2] [] 10 G722 inbound\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_ = c.End(bg)
}

// TestSimulateRemoteHangupWith: the peer's reasons reach the context
// cause beside EndRemoteHangup; refused on a call not answered, where they
// are not kept for a later end.
func TestSimulateRemoteHangupWith(t *testing.T) {
	why := xphone.PeerReasons{{Protocol: "Q.850", Cause: 17, Text: "User busy"}}
	ringing := callIn(t, xphone.Inbound, xphone.StateRinging)
	if err := ringing.SimulateRemoteHangupWith(why); err == nil {
		t.Error("on a ringing call: got nil, want an error")
	}
	if err := ringing.SimulateCancel(); err != nil {
		t.Fatal(err)
	}
	if cause := context.Cause(ringing.Context()); cause != xphone.EndCancelled {
		t.Errorf("cancelled after a refused hang-up: got cause %v, want EndCancelled alone", cause)
	}
	c := callIn(t, xphone.Inbound, xphone.StateActive)
	if err := c.SimulateRemoteHangupWith(why); err != nil {
		t.Fatal(err)
	}
	var got xphone.PeerReasons
	cause := context.Cause(c.Context())
	if !errors.Is(cause, xphone.EndRemoteHangup) || !errors.As(cause, &got) || got.Cause("Q.850") != 17 {
		t.Errorf("cause: got %v, want EndRemoteHangup with Q.850 cause 17", cause)
	}
}

package xphone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xphone-go/xphone/internal/ua"
	"github.com/xphone-go/xphone/rtp"
)

// call adapts *ua.Call to Call. One exists per ua.Call (made by the
// NewCall hook), so Calls() and callbacks hand out the same value.
type call struct {
	c *ua.Call
	p *phone
}

func wrap(c *ua.Call) *call { return c.App().(*call) }

func (c *call) ID() string     { return c.c.ID() }
func (c *call) CallID() string { return c.c.CallID() }
func (c *call) Direction() Direction {
	if c.c.Outbound() {
		return Outbound
	}
	return Inbound
}
func (c *call) From() string                { return c.c.From() }
func (c *call) To() string                  { return c.c.To() }
func (c *call) RemoteURI() string           { return c.c.RemoteURI() }
func (c *call) RemoteParty() Party          { return party(c.c.RemoteParty()) }
func (c *call) Header(name string) []string { return c.c.Header(name) }
func (c *call) State() CallState            { return callState(c.c.State()) }
func (c *call) Codec() Codec                { return Codec(c.c.Codec()) }

func (c *call) check(op Op) error { return CheckOp(op, c.Direction(), c.State()) }

// opErr turns ua.ErrInvalidState (a race with a state change) into the
// package's *StateError, and other errors with convertErr.
func (c *call) opErr(op Op, err error) error {
	if errors.Is(err, ua.ErrInvalidState) {
		return &StateError{Op: op, Direction: c.Direction(), State: c.State()}
	}
	return convertErr(err)
}

func (c *call) Accept(ctx context.Context) error {
	if err := c.check(OpAccept); err != nil {
		return err
	}
	return c.opErr(OpAccept, c.c.Accept(ctx))
}

func (c *call) Reject(ctx context.Context, code int, reason string) error {
	if err := c.check(OpReject); err != nil {
		return err
	}
	if code != 0 && (code < 400 || code > 699) {
		return fmt.Errorf("%w: reject code %d is not 400-699", ErrInvalidConfig, code)
	}
	return c.opErr(OpReject, c.c.Reject(ctx, code, reason))
}

func (c *call) Progress(ctx context.Context) error {
	if err := c.check(OpProgress); err != nil {
		return err
	}
	return c.opErr(OpProgress, c.c.Progress(ctx))
}

func (c *call) End(ctx context.Context) error {
	if err := c.check(OpEnd); err != nil {
		return err
	}
	return c.opErr(OpEnd, c.c.End(ctx))
}

func (c *call) Hold(ctx context.Context) error {
	if err := c.check(OpHold); err != nil {
		return err
	}
	return c.opErr(OpHold, c.c.Hold(ctx))
}

func (c *call) Resume(ctx context.Context) error {
	if err := c.check(OpResume); err != nil {
		return err
	}
	return c.opErr(OpResume, c.c.Resume(ctx))
}

func (c *call) Mute() error {
	if err := c.check(OpMute); err != nil {
		return err
	}
	c.c.Mute(true)
	return nil
}

func (c *call) Unmute() error {
	if err := c.check(OpUnmute); err != nil {
		return err
	}
	c.c.Mute(false)
	return nil
}

func (c *call) Muted() bool { return c.c.Media().Muted() }

// SendDTMF sends digits per the call's DTMF mode: RFC 4733 telephone-events
// (it returns when the last digit's end packets are sent) or SIP INFO
// (DTMFInfo, or DTMFBoth when the peer did not accept telephone-event: one
// INFO per digit, returning when the last was answered).
func (c *call) SendDTMF(ctx context.Context, digits string) error {
	if err := ValidateDTMF(digits); err != nil {
		return err
	}
	if err := c.check(OpSendDTMF); err != nil {
		return err
	}
	return c.opErr(OpSendDTMF, c.c.SendDigits(ctx, digits))
}

// BlindTransfer sends REFER and waits for the transferee's final NOTIFY
// (see ua.Call.BlindTransfer); failures wrap ErrTransferFailed and, when a
// status says why, a *StatusError.
func (c *call) BlindTransfer(ctx context.Context, target string) error {
	if err := c.check(OpBlindTransfer); err != nil {
		return err
	}
	return c.transferErr(OpBlindTransfer, c.c.BlindTransfer(ctx, target))
}

// transferErr converts the error of a transfer.
func (c *call) transferErr(op Op, err error) error {
	if err == nil || !errors.Is(err, ua.ErrTransferFailed) {
		return c.opErr(op, err)
	}
	var se *ua.StatusError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: %w", ErrTransferFailed, &StatusError{Code: se.Code, Reason: se.Reason})
	}
	return fmt.Errorf("%w: %s", ErrTransferFailed, strings.TrimPrefix(err.Error(), ua.ErrTransferFailed.Error()+": "))
}

// AttendedTransfer sends REFER with Replaces naming consult's dialog (see
// ua.Call.AttendedTransfer); failures are reported as BlindTransfer's.
func (c *call) AttendedTransfer(ctx context.Context, consult Call) error {
	if err := c.check(OpAttendedTransfer); err != nil {
		return err
	}
	other, ok := consult.(*call)
	if !ok || other.p != c.p || other == c {
		return fmt.Errorf("%w: consult must be another call of this phone", ErrInvalidState)
	}
	if err := other.check(OpAttendedTransfer); err != nil {
		return err
	}
	return c.transferErr(OpAttendedTransfer, c.c.AttendedTransfer(ctx, other.c))
}

func (c *call) OnReplaced(f func(Call)) {
	if f == nil {
		c.c.OnReplaced(nil)
		return
	}
	c.c.OnReplaced(func(n *ua.Call) { f(wrap(n)) })
}

func (c *call) OnState(f func(CallState)) {
	if f == nil {
		c.c.OnState(nil)
		return
	}
	c.c.OnState(func(s ua.State) { f(callState(s)) })
}

func (c *call) OnEnded(f func(EndReason)) {
	if f == nil {
		c.c.OnEnded(nil)
		return
	}
	c.c.OnEnded(func(r ua.EndReason) { f(endReason(r)) })
}

func (c *call) OnDTMF(f func(rune)) { c.c.OnDTMF(f) }

func (c *call) SetDTMFMode(m DTMFMode) error {
	if m > DTMFBoth {
		return fmt.Errorf("%w: unknown DTMF mode %d", ErrInvalidConfig, m)
	}
	if c.State() == StateEnded {
		return &StateError{Op: OpSendDTMF, Direction: c.Direction(), State: StateEnded}
	}
	if m == 0 {
		m = c.p.cfg.DTMFMode
	}
	c.c.SetDTMFMode(uaDTMFMode(m))
	return nil
}

func (c *call) OnTransfer(f func(TransferEvent)) {
	if f == nil {
		c.c.OnTransferProgress(nil)
		return
	}
	c.c.OnTransferProgress(func(e ua.TransferEvent) {
		f(TransferEvent{Target: e.Target, Referred: e.Referred, Code: e.Code, Reason: e.Reason})
	})
}

func (c *call) Context() context.Context { return c.c.Context() }

func (c *call) Stats() CallStats {
	s := c.c.Media().Stats()
	return CallStats{
		Codec:             Codec(s.Codec),
		PacketsSent:       s.PacketsSent,
		BytesSent:         s.BytesSent,
		PacketsReceived:   s.PacketsReceived,
		BytesReceived:     s.BytesReceived,
		PacketsLost:       s.Lost,
		PacketsLate:       s.Late,
		FramesConcealed:   s.Concealed,
		Jitter:            s.Jitter,
		RTT:               s.RTT,
		RemotePacketsLost: s.RemoteLost,
		RemoteJitter:      s.RemoteJitter,
		InboundDropped:    s.DroppedInbound,
		OutboundDropped:   s.DroppedOutbound,
		DTMFDropped:       c.c.DTMFDropped(),
		SRTP:              c.c.Media().Config().SRTPSend != nil,
	}
}

func (c *call) PCMReader() <-chan []int16        { return c.c.Media().PCMReader() }
func (c *call) PCMWriter() chan<- []int16        { return c.c.Media().PCMWriter() }
func (c *call) PacedPCMWriter() chan<- []int16   { return c.c.Media().PacedPCMWriter() }
func (c *call) ClearOutput() time.Duration       { return c.c.Media().ClearOutput() }
func (c *call) RTPReader() <-chan *rtp.Packet    { return c.c.Media().RTPReader() }
func (c *call) RTPRawReader() <-chan *rtp.Packet { return c.c.Media().RTPRawReader() }
func (c *call) RTPWriter() chan<- *rtp.Packet    { return c.c.Media().RTPWriter() }

// callState converts a ua.State; the two enumerations are kept apart so
// neither package's numbering constrains the other.
func callState(s ua.State) CallState {
	switch s {
	case ua.StateIdle:
		return StateIdle
	case ua.StateRinging:
		return StateRinging
	case ua.StateDialing:
		return StateDialing
	case ua.StateRemoteRinging:
		return StateRemoteRinging
	case ua.StateEarlyMedia:
		return StateEarlyMedia
	case ua.StateActive:
		return StateActive
	case ua.StateOnHold:
		return StateOnHold
	}
	return StateEnded
}

// uaDTMFMode converts a DTMFMode (already defaulted).
func uaDTMFMode(m DTMFMode) ua.DTMFMode {
	switch m {
	case DTMFInfo:
		return ua.DTMFInfo
	case DTMFBoth:
		return ua.DTMFBoth
	}
	return ua.DTMFRFC4733
}

// endReason converts a ua.EndReason.
func endReason(r ua.EndReason) EndReason {
	switch r {
	case ua.EndLocalHangup:
		return EndLocalHangup
	case ua.EndRemoteHangup:
		return EndRemoteHangup
	case ua.EndRejected:
		return EndRejected
	case ua.EndBusy:
		return EndBusy
	case ua.EndCancelled:
		return EndCancelled
	case ua.EndTimeout:
		return EndTimeout
	case ua.EndMediaTimeout:
		return EndMediaTimeout
	case ua.EndTransferred:
		return EndTransferred
	case ua.EndReplaced:
		return EndReplaced
	}
	return EndError
}

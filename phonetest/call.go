package phonetest

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/rtp"
)

var _ xphone.Call = (*MockCall)(nil)

var callCount atomic.Uint64

// MockCall is a scripted xphone.Call with no network. It follows the real
// call's rules: operations are checked with xphone.CheckOp and refused with
// the same *xphone.StateError, states move only along xphone.CanTransition,
// reader channels are closed exactly once when the call ends, writer
// channels are never closed by the call, and the Context's cause is the
// EndReason.
//
// Callbacks are delivered on the goroutine whose action caused them, before
// that action returns (a Simulate method, an operation such as Accept),
// unless another delivery is in progress: then that one delivers them, in
// order. They are never called with a lock held.
//
// From the first call of PCMWriter, PacedPCMWriter or RTPWriter until the
// call ends, one goroutine records what the application writes; end every
// call a test creates (End, a Simulate... that ends it, or
// MockPhone.Disconnect) so it exits.
//
// All methods are safe for concurrent use.
type MockCall struct {
	events *dispatcher
	id     string
	ctx    context.Context
	cancel context.CancelCauseFunc

	pcmIn         chan []int16
	rtpIn, rtpRaw chan *rtp.Packet
	pcmOut, paced chan []int16
	rtpOut        chan *rtp.Packet

	mu          sync.Mutex
	dir         xphone.Direction
	callID      string
	from, to    string
	remoteURI   string
	party       *xphone.Party // SetRemoteParty
	headers     textproto.MIMEHeader
	state       xphone.CallState
	changed     chan struct{} // closed and replaced on every state change
	reason      xphone.EndReason
	why         xphone.PeerReasons // the peer's reasons for the end, SimulateRemoteHangupWith
	codec       xphone.Codec
	muted       bool
	cleared     int // ClearOutput calls
	stats       xphone.CallStats
	dropped     uint64
	onState     func(xphone.CallState)
	onEnded     func(xphone.EndReason)
	onDTMF      func(rune)
	onTransfer  func(xphone.TransferEvent)
	onReplaced  func(xphone.Call)
	consult     *MockCall
	dtmfMode    xphone.DTMFMode
	sentDTMF    []string
	transfer    string
	transferErr error
	rejectCode  int
	rejectText  string
	sentPCM     [][]int16
	sentRTP     []*rtp.Packet
	pumpStarted bool
	pumpDone    chan struct{}
	flush       chan chan struct{}
}

// NewMockCall returns an inbound call in xphone.StateRinging, From
// "sip:caller@phonetest.invalid", To "sip:callee@phonetest.invalid", codec
// PCMU. The setters change these before the test starts.
func NewMockCall() *MockCall {
	return newMockCall(&dispatcher{}, xphone.Inbound, xphone.StateRinging)
}

func newMockCall(events *dispatcher, dir xphone.Direction, state xphone.CallState) *MockCall {
	n := strconv.FormatUint(callCount.Add(1), 10)
	ctx, cancel := context.WithCancelCause(context.Background())
	return &MockCall{
		events:    events,
		id:        "mock-" + n,
		ctx:       ctx,
		cancel:    cancel,
		pcmIn:     make(chan []int16, xphone.ChannelDepth),
		rtpIn:     make(chan *rtp.Packet, xphone.ChannelDepth),
		rtpRaw:    make(chan *rtp.Packet, xphone.ChannelDepth),
		pcmOut:    make(chan []int16, xphone.ChannelDepth),
		paced:     make(chan []int16, xphone.ChannelDepth),
		rtpOut:    make(chan *rtp.Packet, xphone.ChannelDepth),
		dir:       dir,
		callID:    n + "@phonetest.invalid",
		from:      "sip:caller@phonetest.invalid",
		to:        "sip:callee@phonetest.invalid",
		remoteURI: "sip:caller@phonetest.invalid",
		headers:   textproto.MIMEHeader{},
		state:     state,
		changed:   make(chan struct{}),
		codec:     xphone.CodecPCMU,
		pumpDone:  make(chan struct{}),
		flush:     make(chan chan struct{}),
	}
}

// Setters for the scenario. They do not fire callbacks.

// SetFrom sets the From URI.
func (c *MockCall) SetFrom(uri string) { c.mu.Lock(); c.from = uri; c.mu.Unlock() }

// SetTo sets the To URI.
func (c *MockCall) SetTo(uri string) { c.mu.Lock(); c.to = uri; c.mu.Unlock() }

// SetRemoteParty sets what RemoteParty returns; until it is called,
// RemoteParty names the From URI of an inbound call, the To URI of an
// outbound one.
func (c *MockCall) SetRemoteParty(p xphone.Party) { c.mu.Lock(); c.party = &p; c.mu.Unlock() }

// SetRemoteURI sets the remote target URI.
func (c *MockCall) SetRemoteURI(uri string) { c.mu.Lock(); c.remoteURI = uri; c.mu.Unlock() }

// SetCallID sets the SIP Call-ID.
func (c *MockCall) SetCallID(id string) { c.mu.Lock(); c.callID = id; c.mu.Unlock() }

// SetCodec sets the codec reported by Codec and Stats.
func (c *MockCall) SetCodec(codec xphone.Codec) { c.mu.Lock(); c.codec = codec; c.mu.Unlock() }

// SetHeader sets the values Header returns for name (case ignored).
func (c *MockCall) SetHeader(name string, values ...string) {
	c.mu.Lock()
	c.headers[textproto.CanonicalMIMEHeaderKey(name)] = slices.Clone(values)
	c.mu.Unlock()
}

// SetStats sets the counters Stats returns. Codec, if empty, is filled
// from Codec(); InboundDropped adds the drops InjectPCM and InjectRTP
// counted.
func (c *MockCall) SetStats(s xphone.CallStats) { c.mu.Lock(); c.stats = s; c.mu.Unlock() }

// SetTransferError makes the next BlindTransfer calls return err, leaving
// the call up, as a failed transfer does; nil restores success.
func (c *MockCall) SetTransferError(err error) { c.mu.Lock(); c.transferErr = err; c.mu.Unlock() }

// Getters of xphone.Call.

// ID returns "mock-N".
func (c *MockCall) ID() string { return c.id }

// CallID returns the SIP Call-ID.
func (c *MockCall) CallID() string { c.mu.Lock(); defer c.mu.Unlock(); return c.callID }

// Direction returns who placed the call.
func (c *MockCall) Direction() xphone.Direction { return c.dir }

// From returns the From URI.
func (c *MockCall) From() string { c.mu.Lock(); defer c.mu.Unlock(); return c.from }

// To returns the To URI.
func (c *MockCall) To() string { c.mu.Lock(); defer c.mu.Unlock(); return c.to }

// RemoteParty returns the party SetRemoteParty set, or one named by the
// From URI (inbound) or the To URI (outbound).
func (c *MockCall) RemoteParty() xphone.Party {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.party != nil {
		return *c.party
	}
	uri := c.from
	if c.dir == xphone.Outbound {
		uri = c.to
	}
	return xphone.Party{URI: uri}
}

// RemoteURI returns the remote target URI.
func (c *MockCall) RemoteURI() string { c.mu.Lock(); defer c.mu.Unlock(); return c.remoteURI }

// Header returns the values set with SetHeader, or nil.
func (c *MockCall) Header(name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.headers[textproto.CanonicalMIMEHeaderKey(name)])
}

// State returns the current state.
func (c *MockCall) State() xphone.CallState { c.mu.Lock(); defer c.mu.Unlock(); return c.state }

// Codec returns the codec set with SetCodec (PCMU by default).
func (c *MockCall) Codec() xphone.Codec { c.mu.Lock(); defer c.mu.Unlock(); return c.codec }

// Muted reports whether Mute was called more recently than Unmute.
func (c *MockCall) Muted() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.muted }

// Context is done when the call ends; its cause is the EndReason.
func (c *MockCall) Context() context.Context { return c.ctx }

// Stats returns the counters set with SetStats, completed as SetStats says.
func (c *MockCall) Stats() xphone.CallStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	if s.Codec == "" {
		s.Codec = c.codec
	}
	s.InboundDropped += c.dropped
	return s
}

// Callback setters of xphone.Call.

// OnState sets the state callback.
func (c *MockCall) OnState(f func(xphone.CallState)) { c.mu.Lock(); c.onState = f; c.mu.Unlock() }

// OnEnded sets the end callback.
func (c *MockCall) OnEnded(f func(xphone.EndReason)) { c.mu.Lock(); c.onEnded = f; c.mu.Unlock() }

// OnDTMF sets the DTMF callback.
func (c *MockCall) OnDTMF(f func(rune)) { c.mu.Lock(); c.onDTMF = f; c.mu.Unlock() }

// OnTransfer sets the transfer callback, fed by BlindTransfer and
// SimulateTransfer.
func (c *MockCall) OnTransfer(f func(xphone.TransferEvent)) {
	c.mu.Lock()
	c.onTransfer = f
	c.mu.Unlock()
}

// SetDTMFMode records the mode (0 means the phone's default); DTMFMode
// returns it. It fails like the real call: ErrInvalidConfig for an unknown
// mode, a *xphone.StateError once the call ended.
func (c *MockCall) SetDTMFMode(m xphone.DTMFMode) error {
	if m > xphone.DTMFBoth {
		return fmt.Errorf("%w: unknown DTMF mode %d", xphone.ErrInvalidConfig, m)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == xphone.StateEnded {
		return &xphone.StateError{Op: xphone.OpSendDTMF, Direction: c.dir, State: c.state}
	}
	c.dtmfMode = m
	return nil
}

// DTMFMode returns the mode SetDTMFMode or xphone.WithDTMFMode set, 0 if
// none.
func (c *MockCall) DTMFMode() xphone.DTMFMode { c.mu.Lock(); defer c.mu.Unlock(); return c.dtmfMode }

// transition moves the call to state to, queueing the callbacks; with
// StateEnded it records reason, cancels the context and closes the reader
// channels. It reports false if CanTransition forbids the move. c.mu must
// be held; the caller runs c.events afterwards, without it.
func (c *MockCall) transition(to xphone.CallState, reason xphone.EndReason) bool {
	if !xphone.CanTransition(c.state, to) {
		return false
	}
	c.state = to
	close(c.changed)
	c.changed = make(chan struct{})
	if f := c.onState; f != nil {
		c.events.push(func() { f(to) })
	}
	if to == xphone.StateEnded {
		c.reason = reason
		cause := error(reason)
		if c.why != nil {
			cause = fmt.Errorf("%w: %w", reason, c.why)
		}
		c.cancel(cause)
		close(c.pcmIn)
		close(c.rtpIn)
		close(c.rtpRaw)
		if f := c.onEnded; f != nil {
			c.events.push(func() { f(reason) })
		}
	}
	return true
}

// do checks op against the call's state and, if allowed, moves the call to
// state to (when to is not the current state) and delivers the callbacks.
func (c *MockCall) do(ctx context.Context, op xphone.Op, to xphone.CallState, reason xphone.EndReason) error {
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	c.mu.Lock()
	if err := xphone.CheckOp(op, c.dir, c.state); err != nil {
		c.mu.Unlock()
		return err
	}
	c.transition(to, reason)
	c.mu.Unlock()
	c.events.run()
	return nil
}

// Operations of xphone.Call.

// Accept moves an inbound call to StateActive.
func (c *MockCall) Accept(ctx context.Context) error {
	return c.do(ctx, xphone.OpAccept, xphone.StateActive, 0)
}

// Progress moves an inbound call to StateEarlyMedia.
func (c *MockCall) Progress(ctx context.Context) error {
	return c.do(ctx, xphone.OpProgress, xphone.StateEarlyMedia, 0)
}

// Reject ends an inbound call with EndRejected; RejectedWith reports the
// code and reason.
func (c *MockCall) Reject(ctx context.Context, code int, reason string) error {
	if code == 0 {
		code = 603
	}
	if code < 400 || code > 699 {
		return fmt.Errorf("xphone: reject code %d outside 400-699", code)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if err := xphone.CheckOp(xphone.OpReject, c.dir, c.state); err != nil {
		c.mu.Unlock()
		return err
	}
	c.rejectCode, c.rejectText = code, reason
	c.transition(xphone.StateEnded, xphone.EndRejected)
	c.mu.Unlock()
	c.events.run()
	return nil
}

// End ends the call with the reason xphone.Call.End documents for its
// state.
func (c *MockCall) End(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if err := xphone.CheckOp(xphone.OpEnd, c.dir, c.state); err != nil {
		c.mu.Unlock()
		return err
	}
	reason := xphone.EndLocalHangup
	switch c.state {
	case xphone.StateDialing, xphone.StateRemoteRinging:
		reason = xphone.EndCancelled
	case xphone.StateRinging:
		reason = xphone.EndRejected
		c.rejectCode = 603
	case xphone.StateEarlyMedia:
		if c.dir == xphone.Outbound {
			reason = xphone.EndCancelled
		} else {
			reason = xphone.EndRejected
			c.rejectCode = 603
		}
	}
	c.transition(xphone.StateEnded, reason)
	c.mu.Unlock()
	c.events.run()
	return nil
}

// Hold moves the call to StateOnHold.
func (c *MockCall) Hold(ctx context.Context) error {
	return c.do(ctx, xphone.OpHold, xphone.StateOnHold, 0)
}

// Resume moves the call back to StateActive.
func (c *MockCall) Resume(ctx context.Context) error {
	return c.do(ctx, xphone.OpResume, xphone.StateActive, 0)
}

// Mute marks the call muted.
func (c *MockCall) Mute() error { return c.setMuted(xphone.OpMute, true) }

// Unmute marks the call not muted.
func (c *MockCall) Unmute() error { return c.setMuted(xphone.OpUnmute, false) }

func (c *MockCall) setMuted(op xphone.Op, muted bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := xphone.CheckOp(op, c.dir, c.state); err != nil {
		return err
	}
	c.muted = muted
	return nil
}

// SendDTMF records digits; SentDTMF returns them.
func (c *MockCall) SendDTMF(ctx context.Context, digits string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := xphone.CheckOp(xphone.OpSendDTMF, c.dir, c.state); err != nil {
		return err
	}
	if err := xphone.ValidateDTMF(digits); err != nil {
		return err
	}
	c.sentDTMF = append(c.sentDTMF, digits)
	return nil
}

// BlindTransfer records target; TransferTarget returns it. Unless
// SetTransferError set an error, OnTransfer gets 100 Trying and 200 OK
// and the call then ends with EndTransferred. With an error, OnTransfer
// gets 100 Trying and, when the error holds a *xphone.StatusError, that
// status; the call stays up.
func (c *MockCall) BlindTransfer(ctx context.Context, target string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if err := xphone.CheckOp(xphone.OpBlindTransfer, c.dir, c.state); err != nil {
		c.mu.Unlock()
		return err
	}
	if err := checkTarget(target); err != nil {
		c.mu.Unlock()
		return err
	}
	c.transfer = target
	return c.transferLocked(target)
}

// transferLocked plays a transfer to target as the real call reports it:
// 100 Trying, then the scripted error's status (the call stays up) or 200
// OK and EndTransferred. c.mu is held; it is released.
func (c *MockCall) transferLocked(target string) error {
	c.pushTransfer(xphone.TransferEvent{Target: target, Code: 100, Reason: "Trying"})
	if err := c.transferErr; err != nil {
		var se *xphone.StatusError
		if errors.As(err, &se) {
			c.pushTransfer(xphone.TransferEvent{Target: target, Code: se.Code, Reason: se.Reason})
		}
		c.mu.Unlock()
		c.events.run()
		return err
	}
	c.pushTransfer(xphone.TransferEvent{Target: target, Code: 200, Reason: "OK"})
	c.transition(xphone.StateEnded, xphone.EndTransferred)
	c.mu.Unlock()
	c.events.run()
	return nil
}

// AttendedTransfer records consult, which must be another answered
// MockCall; TransferConsult returns it and TransferTarget its RemoteURI.
// It then behaves as BlindTransfer to that target, and on success consult
// ends with EndTransferred too.
func (c *MockCall) AttendedTransfer(ctx context.Context, consult xphone.Call) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	other, ok := consult.(*MockCall)
	if !ok || other == c {
		return fmt.Errorf("%w: consult must be another call of this phone", xphone.ErrInvalidState)
	}
	other.mu.Lock()
	err := xphone.CheckOp(xphone.OpAttendedTransfer, other.dir, other.state)
	target := other.remoteURI
	other.mu.Unlock()
	if err != nil {
		return err
	}
	c.mu.Lock()
	if err := xphone.CheckOp(xphone.OpAttendedTransfer, c.dir, c.state); err != nil {
		c.mu.Unlock()
		return err
	}
	c.transfer, c.consult = target, other
	if err := c.transferLocked(target); err != nil {
		return err
	}
	other.mu.Lock()
	other.transition(xphone.StateEnded, xphone.EndTransferred)
	other.mu.Unlock()
	other.events.run()
	return nil
}

// OnReplaced sets the callback SimulateReplaced feeds.
func (c *MockCall) OnReplaced(f func(xphone.Call)) { c.mu.Lock(); c.onReplaced = f; c.mu.Unlock() }

// SimulateReplaced plays an INVITE with Replaces taking the call over, as
// at the end of an attended transfer to us: OnReplaced gets n (the new
// call, which the test scripts, typically answered already), then the
// call ends with EndReplaced. The call must be in StateActive or
// StateOnHold.
func (c *MockCall) SimulateReplaced(n *MockCall) error {
	c.mu.Lock()
	if c.state != xphone.StateActive && c.state != xphone.StateOnHold {
		st := c.state
		c.mu.Unlock()
		return fmt.Errorf("phonetest: cannot simulate Replaces on a call in state %s", st)
	}
	if f := c.onReplaced; f != nil && n != nil {
		c.events.push(func() { f(n) })
	}
	c.transition(xphone.StateEnded, xphone.EndReplaced)
	c.mu.Unlock()
	c.events.run()
	return nil
}

// pushTransfer queues e for OnTransfer; c.mu is held.
func (c *MockCall) pushTransfer(e xphone.TransferEvent) {
	if f := c.onTransfer; f != nil {
		c.events.push(func() { f(e) })
	}
}

// SimulateTransfer reports e to OnTransfer as the real call would: set
// e.Referred to play a peer's REFER asking us to transfer to e.Target (the
// events of the call we place: 100, then its final status), or leave it
// false to script the statuses of a transfer of ours. A Referred event
// with a 2xx Code then ends the call with EndTransferred. The call must be
// in StateActive or StateOnHold.
func (c *MockCall) SimulateTransfer(e xphone.TransferEvent) error {
	if e.Code < 100 || e.Code > 699 {
		return fmt.Errorf("phonetest: transfer status %d is not 100-699", e.Code)
	}
	c.mu.Lock()
	if c.state != xphone.StateActive && c.state != xphone.StateOnHold {
		st := c.state
		c.mu.Unlock()
		return fmt.Errorf("phonetest: cannot simulate a transfer on a call in state %s", st)
	}
	c.pushTransfer(e)
	if e.Referred && e.Code >= 200 && e.Code < 300 {
		c.transition(xphone.StateEnded, xphone.EndTransferred)
	}
	c.mu.Unlock()
	c.events.run()
	return nil
}

// checkTarget refuses what no implementation could dial.
func checkTarget(target string) error {
	if target == "" || strings.ContainsAny(target, " \t\r\n<>\"") {
		return fmt.Errorf("%w: %q", xphone.ErrInvalidTarget, target)
	}
	return nil
}

// Simulations of what the peer does. Each returns an error, and changes
// nothing, if the call's state does not allow the event.

func (c *MockCall) simulate(what string, to xphone.CallState, reason xphone.EndReason, allowed func(xphone.CallState) bool) error {
	c.mu.Lock()
	if (allowed != nil && !allowed(c.state)) || !xphone.CanTransition(c.state, to) {
		st := c.state
		c.mu.Unlock()
		return fmt.Errorf("phonetest: cannot simulate %s on an %s call in state %s", what, c.dir, st)
	}
	c.transition(to, reason)
	c.mu.Unlock()
	c.events.run()
	return nil
}

func (c *MockCall) outbound(xphone.CallState) bool { return c.dir == xphone.Outbound }

// SimulateRinging reports 180 Ringing on an outbound call
// (StateRemoteRinging).
func (c *MockCall) SimulateRinging() error {
	return c.simulate("ringing", xphone.StateRemoteRinging, 0, c.outbound)
}

// SimulateEarlyMedia reports 183 Session Progress with SDP on an outbound
// call (StateEarlyMedia).
func (c *MockCall) SimulateEarlyMedia() error {
	return c.simulate("early media", xphone.StateEarlyMedia, 0, c.outbound)
}

// SimulateAnswer reports the callee's 200 OK on an outbound call
// (StateActive).
func (c *MockCall) SimulateAnswer() error {
	return c.simulate("answer", xphone.StateActive, 0, c.outbound)
}

// SimulateRemoteHangup ends an answered call with EndRemoteHangup, as a BYE
// from the peer does.
func (c *MockCall) SimulateRemoteHangup() error {
	return c.simulate("remote hangup", xphone.StateEnded, xphone.EndRemoteHangup, func(s xphone.CallState) bool {
		return s == xphone.StateActive || s == xphone.StateOnHold
	})
}

// SimulateRemoteHangupWith is SimulateRemoteHangup with the reasons the
// peer's BYE gave (RFC 3326): the call's context cause wraps them beside
// EndRemoteHangup, as a real call's does.
func (c *MockCall) SimulateRemoteHangupWith(why xphone.PeerReasons) error {
	c.mu.Lock()
	c.why = why
	c.mu.Unlock()
	err := c.SimulateRemoteHangup()
	if err != nil {
		c.mu.Lock()
		c.why = nil
		c.mu.Unlock()
	}
	return err
}

// SimulateCancel ends an unanswered inbound call with EndCancelled, as the
// caller's CANCEL (or its BYE before the answer) does.
func (c *MockCall) SimulateCancel() error {
	return c.simulate("cancel", xphone.StateEnded, xphone.EndCancelled, func(s xphone.CallState) bool {
		return c.dir == xphone.Inbound && (s == xphone.StateRinging || s == xphone.StateEarlyMedia)
	})
}

// SimulateEnd ends the call with any reason: EndBusy, EndTimeout,
// EndMediaTimeout, EndError and so on.
func (c *MockCall) SimulateEnd(reason xphone.EndReason) error {
	if reason == 0 {
		return errors.New("phonetest: SimulateEnd needs a reason")
	}
	return c.simulate("end", xphone.StateEnded, reason, nil)
}

// SimulateHold reports that the peer put the call on hold (StateOnHold).
func (c *MockCall) SimulateHold() error {
	return c.simulate("hold", xphone.StateOnHold, 0, nil)
}

// SimulateResume reports that the peer took the call off hold
// (StateActive).
func (c *MockCall) SimulateResume() error {
	return c.simulate("resume", xphone.StateActive, 0, func(s xphone.CallState) bool { return s == xphone.StateOnHold })
}

// SimulateDTMF delivers each digit to the OnDTMF callback, in upper case,
// as the real call reports RFC 4733 events. The call must be in
// StateEarlyMedia, StateActive or StateOnHold.
func (c *MockCall) SimulateDTMF(digits string) error {
	if err := xphone.ValidateDTMF(digits); err != nil {
		return err
	}
	c.mu.Lock()
	switch c.state {
	case xphone.StateEarlyMedia, xphone.StateActive, xphone.StateOnHold:
	default:
		st := c.state
		c.mu.Unlock()
		return fmt.Errorf("phonetest: cannot simulate DTMF on a call in state %s", st)
	}
	if f := c.onDTMF; f != nil {
		for _, r := range digits {
			ev, _ := rtp.DTMFEvent(r)
			d, _ := rtp.DTMFRune(ev)
			c.events.push(func() { f(d) })
		}
	}
	c.mu.Unlock()
	c.events.run()
	return nil
}

// InjectPCM delivers frame on PCMReader as received audio. When the channel
// is full the oldest frame is dropped and counted in
// Stats().InboundDropped, as the real call does. After the call ended it
// does nothing. The frame is handed over: do not modify it afterwards.
func (c *MockCall) InjectPCM(frame []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != xphone.StateEnded {
		c.dropped += deliver(c.pcmIn, frame)
	}
}

// InjectRTP delivers p on RTPRawReader and a clone on RTPReader, with the
// overflow rule of InjectPCM. After the call ended it does nothing.
func (c *MockCall) InjectRTP(p *rtp.Packet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == xphone.StateEnded {
		return
	}
	c.dropped += deliver(c.rtpRaw, p)
	c.dropped += deliver(c.rtpIn, p.Clone())
}

// deliver sends v on ch without blocking, dropping the oldest entry when
// ch is full, and returns the number dropped. The caller holds the lock
// that guards ch against closing.
func deliver[T any](ch chan T, v T) uint64 {
	var dropped uint64
	for {
		select {
		case ch <- v:
			return dropped
		default:
		}
		select {
		case <-ch:
			dropped++
		default:
		}
	}
}

// WaitState blocks until the call is in state s and returns nil, or
// returns an error if the call ends in another state or ctx ends first.
// It lets a test wait for application code running on another goroutine.
func (c *MockCall) WaitState(ctx context.Context, s xphone.CallState) error {
	for {
		c.mu.Lock()
		st, ch := c.state, c.changed
		c.mu.Unlock()
		switch {
		case st == s:
			return nil
		case st == xphone.StateEnded:
			return fmt.Errorf("phonetest: call ended (%s) while waiting for state %s", c.EndReason(), s)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("phonetest: waiting for state %s in state %s: %w", s, st, context.Cause(ctx))
		}
	}
}

// Inspectors.

// EndReason returns why the call ended, or 0 while it has not.
func (c *MockCall) EndReason() xphone.EndReason { c.mu.Lock(); defer c.mu.Unlock(); return c.reason }

// SentDTMF returns the digit strings given to SendDTMF, one per call.
func (c *MockCall) SentDTMF() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sentDTMF)
}

// TransferTarget returns the target of the last BlindTransfer, or "".
func (c *MockCall) TransferTarget() string { c.mu.Lock(); defer c.mu.Unlock(); return c.transfer }

// TransferConsult returns the consult call of the last AttendedTransfer,
// nil if none.
func (c *MockCall) TransferConsult() *MockCall { c.mu.Lock(); defer c.mu.Unlock(); return c.consult }

// RejectedWith returns the status code and reason the call was refused
// with by Reject or End (0 and "" if it was not).
func (c *MockCall) RejectedWith() (code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rejectCode, c.rejectText
}

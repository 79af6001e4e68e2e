package phonetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/xphone-go/xphone"
)

var _ xphone.Phone = (*MockPhone)(nil)

// MockPhone is a scripted xphone.Phone with no network. Connect succeeds
// at once (or returns the error set with SetConnectError), Dial creates a
// MockCall and runs the handler set with SetDialHandler, and the
// Simulate... methods play the server's part.
//
// Callbacks of the phone and of its calls share one queue and follow the
// rules of MockCall: delivered before the causing action returns, in
// order, one at a time, never with a lock held. A handler that blocks
// (waiting for DTMF, say) therefore blocks the action that caused it: run
// long call flows on their own goroutine, as with a real Phone.
//
// All methods are safe for concurrent use.
type MockPhone struct {
	events dispatcher

	mu             sync.Mutex
	state          xphone.PhoneState
	calls          []*MockCall
	dialed         []string
	lastOpts       xphone.DialOptions
	connectErr     error
	dialHandler    func(*MockCall) error
	onIncoming     func(xphone.Call)
	onRegistered   func()
	onUnregistered func()
	onError        func(error)
	onVoicemail    func(xphone.VoicemailStatus)
	onMessage      func(xphone.Message)
	sentMessages   []SentMessage
	messageErr     error
	watches        []*mockWatch
	presence       *xphone.Presence
}

// mockWatch is one Watch or WatchPresence of a MockPhone.
type mockWatch struct {
	target   string
	f        func(xphone.LineStatus)
	presence func(xphone.Presence)
}

// SentMessage is a message given to MockPhone.SendMessage.
type SentMessage struct {
	Target      string
	ContentType string
	Body        []byte
}

// NewMockPhone returns a disconnected MockPhone.
func NewMockPhone() *MockPhone { return &MockPhone{} }

// connectedLocked reports whether the phone is connected (registering or
// registered); p.mu is held.
func (p *MockPhone) connectedLocked() bool {
	return p.state != xphone.PhoneDisconnected && p.state != xphone.PhoneConnecting
}

// SetConnectError makes Connect return err (nil restores success).
func (p *MockPhone) SetConnectError(err error) { p.mu.Lock(); p.connectErr = err; p.mu.Unlock() }

// SetDialHandler sets the script of outbound calls. Dial creates the call
// in StateDialing, with To set to the target, and calls h with it; h may
// call its Simulate... methods and SetHeader and friends. If h returns an
// error, Dial ends the call (with the EndReason of a *xphone.StatusError,
// EndTimeout for xphone.ErrDialTimeout, else EndError) and returns the
// error. If h returns nil, Dial returns the call once it is active (it
// answers the call if h did not), or in StateEarlyMedia with
// xphone.WithEarlyMedia; if h ended the call, Dial returns its EndReason
// as the error.
//
// Without a handler every call rings and is answered. h runs on the
// goroutine that called Dial, with no lock held.
func (p *MockPhone) SetDialHandler(h func(*MockCall) error) {
	p.mu.Lock()
	p.dialHandler = h
	p.mu.Unlock()
}

// Connect registers at once: the state becomes xphone.PhoneRegistered and
// OnRegistered runs. It returns ErrAlreadyConnected on a connected phone,
// or the error of SetConnectError, leaving the phone disconnected.
func (p *MockPhone) Connect(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	switch {
	case p.state != xphone.PhoneDisconnected:
		p.mu.Unlock()
		return xphone.ErrAlreadyConnected
	case p.connectErr != nil:
		err := p.connectErr
		p.mu.Unlock()
		return err
	}
	p.state = xphone.PhoneRegistered
	p.events.push(p.onRegistered)
	p.mu.Unlock()
	p.events.run()
	return nil
}

// Disconnect ends every live call with EndLocalHangup, runs OnUnregistered
// if the phone was registered and leaves it disconnected. It returns
// ErrNotConnected on a disconnected phone.
func (p *MockPhone) Disconnect(ctx context.Context) error {
	p.mu.Lock()
	if p.state == xphone.PhoneDisconnected {
		p.mu.Unlock()
		return xphone.ErrNotConnected
	}
	wasRegistered := p.state == xphone.PhoneRegistered
	p.state = xphone.PhoneDisconnected
	calls := slices.Clone(p.calls)
	onUnregistered := p.onUnregistered
	p.mu.Unlock()
	for _, c := range calls {
		c.mu.Lock()
		c.transition(xphone.StateEnded, xphone.EndLocalHangup)
		c.mu.Unlock()
	}
	if wasRegistered {
		p.events.push(onUnregistered)
	}
	p.events.run()
	return nil
}

// Dial records target and options (Dialed, LastDialOptions) and runs the
// dial handler; see SetDialHandler. Besides the handler's errors it returns
// ErrNotConnected, ErrInvalidTarget for an empty target or one with spaces,
// the error of xphone.NewDialOptions, and for a context already done an
// error wrapping ErrCancelled and the context's error.
func (p *MockPhone) Dial(ctx context.Context, target string, opts ...xphone.DialOption) (xphone.Call, error) {
	o, err := xphone.NewDialOptions(opts...)
	if err != nil {
		return nil, err
	}
	if err := checkTarget(target); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", xphone.ErrCancelled, err)
	}
	p.mu.Lock()
	if !p.connectedLocked() {
		p.mu.Unlock()
		return nil, xphone.ErrNotConnected
	}
	p.dialed = append(p.dialed, target)
	p.lastOpts = o
	c := newMockCall(&p.events, xphone.Outbound, xphone.StateDialing)
	c.to, c.remoteURI = target, target
	c.from = "sip:mock@phonetest.invalid"
	if len(o.Codecs) > 0 {
		c.codec = o.Codecs[0]
	}
	c.dtmfMode = o.DTMFMode
	p.calls = append(p.calls, c)
	h := p.dialHandler
	p.mu.Unlock()

	if h == nil {
		h = func(c *MockCall) error { return c.SimulateRinging() }
	}
	if err := h(c); err != nil {
		reason := xphone.EndError
		var se *xphone.StatusError
		switch {
		case errors.As(err, &se):
			reason = se.EndReason()
		case errors.Is(err, xphone.ErrDialTimeout):
			reason = xphone.EndTimeout
		}
		c.mu.Lock()
		c.transition(xphone.StateEnded, reason)
		c.mu.Unlock()
		c.events.run()
		return nil, err
	}
	switch st := c.State(); {
	case st == xphone.StateActive:
	case st == xphone.StateEarlyMedia && o.EarlyMedia:
	case st == xphone.StateEnded:
		return nil, c.EndReason()
	default:
		if err := c.SimulateAnswer(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// SimulateIncoming creates an inbound call from the given URI in
// StateRinging and hands it to the OnIncoming handler before returning it.
// Without a handler the call is refused with 480, as a real phone does.
func (p *MockPhone) SimulateIncoming(from string) *MockCall {
	c := newMockCall(&p.events, xphone.Inbound, xphone.StateRinging)
	c.from, c.remoteURI = from, from
	c.to = "sip:mock@phonetest.invalid"
	p.mu.Lock()
	p.calls = append(p.calls, c)
	h := p.onIncoming
	p.mu.Unlock()
	if h == nil {
		c.mu.Lock()
		c.rejectCode, c.rejectText = 480, "Temporarily Unavailable"
		c.transition(xphone.StateEnded, xphone.EndRejected)
		c.mu.Unlock()
	} else {
		p.events.push(func() { h(c) })
	}
	p.events.run()
	return c
}

// SimulateRegistered reports a successful registration: the state becomes
// PhoneRegistered and, if it was not already, OnRegistered runs.
func (p *MockPhone) SimulateRegistered() {
	p.mu.Lock()
	if p.state != xphone.PhoneRegistered {
		p.state = xphone.PhoneRegistered
		p.events.push(p.onRegistered)
	}
	p.mu.Unlock()
	p.events.run()
}

// SimulateUnregistered reports a lost registration: the state becomes
// PhoneUnregistered, OnUnregistered runs if the phone was registered, and
// OnError runs with err if err is not nil (typically a
// *xphone.RegistrationError).
func (p *MockPhone) SimulateUnregistered(err error) {
	p.mu.Lock()
	if p.state == xphone.PhoneRegistered {
		p.events.push(p.onUnregistered)
	}
	p.state = xphone.PhoneUnregistered
	if err != nil && p.onError != nil {
		f := p.onError
		p.events.push(func() { f(err) })
	}
	p.mu.Unlock()
	p.events.run()
}

// SimulateError delivers err to the OnError callback.
func (p *MockPhone) SimulateError(err error) {
	p.mu.Lock()
	if f := p.onError; f != nil {
		p.events.push(func() { f(err) })
	}
	p.mu.Unlock()
	p.events.run()
}

// SimulateVoicemail delivers st to the OnVoicemail callback, as a
// message-summary NOTIFY from the server would.
func (p *MockPhone) SimulateVoicemail(st xphone.VoicemailStatus) {
	p.mu.Lock()
	if f := p.onVoicemail; f != nil {
		p.events.push(func() { f(st) })
	}
	p.mu.Unlock()
	p.events.run()
}

// SendMessage records the message (SentMessages returns them) and returns
// the error SetMessageError set, nil by default. Like the real phone it
// needs a connected phone and a target that can be dialed.
func (p *MockPhone) SendMessage(ctx context.Context, target, contentType string, body []byte) error {
	if err := checkTarget(target); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.connectedLocked() {
		return xphone.ErrNotConnected
	}
	if contentType == "" {
		contentType = "text/plain;charset=UTF-8"
	}
	p.sentMessages = append(p.sentMessages, SentMessage{Target: target, ContentType: contentType, Body: slices.Clone(body)})
	return p.messageErr
}

// SetMessageError makes the next SendMessage calls return err (nil
// restores success); the messages are still recorded.
func (p *MockPhone) SetMessageError(err error) { p.mu.Lock(); p.messageErr = err; p.mu.Unlock() }

// SentMessages returns the messages given to SendMessage, oldest first.
func (p *MockPhone) SentMessages() []SentMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.sentMessages)
}

// SimulateMessage delivers m to the OnMessage callback, as a MESSAGE
// received would.
func (p *MockPhone) SimulateMessage(m xphone.Message) {
	p.mu.Lock()
	if f := p.onMessage; f != nil {
		p.events.push(func() { f(m) })
	}
	p.mu.Unlock()
	p.events.run()
}

// Watch records the watch of target (Watched lists them) until stop;
// SimulateLine feeds f. Like the real phone it needs a connected phone.
func (p *MockPhone) Watch(target string, f func(xphone.LineStatus)) (func(context.Context), error) {
	return p.addWatch(&mockWatch{target: target, f: f})
}

// WatchPresence records the watch of target's presence (Watched lists it)
// until stop; SimulatePresence feeds f.
func (p *MockPhone) WatchPresence(target string, f func(xphone.Presence)) (func(context.Context), error) {
	return p.addWatch(&mockWatch{target: target, presence: f})
}

func (p *MockPhone) addWatch(w *mockWatch) (func(context.Context), error) {
	if err := checkTarget(w.target); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.connectedLocked() {
		return nil, xphone.ErrNotConnected
	}
	p.watches = append(p.watches, w)
	return func(context.Context) {
		p.mu.Lock()
		p.watches = slices.DeleteFunc(p.watches, func(x *mockWatch) bool { return x == w })
		p.mu.Unlock()
	}, nil
}

// Watched returns the targets of the watches not stopped, oldest first.
func (p *MockPhone) Watched() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.watches))
	for _, w := range p.watches {
		out = append(out, w.target)
	}
	return out
}

// SimulateLine reports st to every watch of st.Target, as a NOTIFY of
// the line's dialog state would.
func (p *MockPhone) SimulateLine(st xphone.LineStatus) {
	p.notifyWatches(st.Target, func(w *mockWatch) func() {
		if f := w.f; f != nil {
			return func() { f(st) }
		}
		return nil
	})
}

// SimulatePresence reports pr to every WatchPresence of pr.Target, as a
// presence NOTIFY would.
func (p *MockPhone) SimulatePresence(pr xphone.Presence) {
	p.notifyWatches(pr.Target, func(w *mockWatch) func() {
		if f := w.presence; f != nil {
			return func() { f(pr) }
		}
		return nil
	})
}

// notifyWatches delivers to each watch of target the callback call makes
// for it (nil: none), in order, after p.mu is released.
func (p *MockPhone) notifyWatches(target string, call func(*mockWatch) func()) {
	p.mu.Lock()
	for _, w := range p.watches {
		if w.target != target {
			continue
		}
		if f := call(w); f != nil {
			p.events.push(f)
		}
	}
	p.mu.Unlock()
	p.events.run()
}

// SetPresence records the presence published (Presence returns it); like
// the real phone it needs a connected phone.
func (p *MockPhone) SetPresence(ctx context.Context, online bool, note string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.connectedLocked() {
		return xphone.ErrNotConnected
	}
	p.presence = &xphone.Presence{Online: online, Note: note}
	return nil
}

// Presence returns what SetPresence published last, nil if nothing.
func (p *MockPhone) Presence() *xphone.Presence {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.presence == nil {
		return nil
	}
	pr := *p.presence
	return &pr
}

// OnMessage sets the instant message callback.
func (p *MockPhone) OnMessage(f func(xphone.Message)) { p.mu.Lock(); p.onMessage = f; p.mu.Unlock() }

// OnVoicemail sets the voicemail callback.
func (p *MockPhone) OnVoicemail(f func(xphone.VoicemailStatus)) {
	p.mu.Lock()
	p.onVoicemail = f
	p.mu.Unlock()
}

// OnIncoming sets the incoming call handler.
func (p *MockPhone) OnIncoming(f func(xphone.Call)) { p.mu.Lock(); p.onIncoming = f; p.mu.Unlock() }

// OnRegistered sets the registration callback.
func (p *MockPhone) OnRegistered(f func()) { p.mu.Lock(); p.onRegistered = f; p.mu.Unlock() }

// OnUnregistered sets the lost-registration callback.
func (p *MockPhone) OnUnregistered(f func()) { p.mu.Lock(); p.onUnregistered = f; p.mu.Unlock() }

// OnError sets the error callback.
func (p *MockPhone) OnError(f func(error)) { p.mu.Lock(); p.onError = f; p.mu.Unlock() }

// Calls returns the calls that have not ended, oldest first.
func (p *MockPhone) Calls() []xphone.Call {
	p.mu.Lock()
	all := slices.Clone(p.calls)
	p.mu.Unlock()
	var live []xphone.Call
	for _, c := range all {
		if c.State() != xphone.StateEnded {
			live = append(live, c)
		}
	}
	return live
}

// State returns the registration state.
func (p *MockPhone) State() xphone.PhoneState { p.mu.Lock(); defer p.mu.Unlock(); return p.state }

// LastCall returns the most recent call, inbound or outbound, or nil.
func (p *MockPhone) LastCall() *MockCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.calls) == 0 {
		return nil
	}
	return p.calls[len(p.calls)-1]
}

// Dialed returns every target given to Dial on a connected phone, in order.
func (p *MockPhone) Dialed() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.dialed)
}

// LastDialOptions returns the options of the last Dial.
func (p *MockPhone) LastDialOptions() xphone.DialOptions {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.lastOpts
	o.Headers = slices.Clone(o.Headers)
	o.Codecs = slices.Clone(o.Codecs)
	return o
}

package xphone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/xphone-go/xphone/internal/dialoginfo"
	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/internal/pidf"
	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/internal/ua"
	"github.com/xphone-go/xphone/jitter"
	"github.com/xphone-go/xphone/sipmsg"
)

// New returns a Phone for cfg, after Config.Validate. It does no network
// I/O: Connect opens the transport and registers. The Phone keeps a copy of
// cfg with the defaults applied.
func New(cfg Config) (Phone, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := cfg.withDefaults()
	proto, err := transport.ParseProtocol(d.Transport)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	p := &phone{cfg: d}
	codecs := make([]string, len(d.Codecs))
	for i, c := range d.Codecs {
		codecs[i] = string(c)
	}
	uc := ua.Config{
		Username: d.Username, Password: d.Password, AuthUsername: d.AuthUsername,
		Host: d.Host, Port: d.Port, Resolver: d.Resolver, Transport: proto, TLSConfig: d.TLSConfig,
		DisplayName: d.DisplayName, OutboundProxy: d.OutboundProxy, UserAgent: d.UserAgent,
		RegisterExpiry: d.RegisterExpiry, RegisterRetry: d.RegisterRetry,
		KeepaliveInterval: d.NATKeepaliveInterval,
		ListenAddr:        d.ListenAddr, STUNServer: d.STUNServer,
		Media: media.Options{
			Address: d.RTPAddress, PortMin: d.RTPPortMin, PortMax: d.RTPPortMax,
			MediaTimeout: d.MediaTimeout, HoldTimeout: holdTimeout(d.MediaTimeout), Latch: true,
			Jitter:      jitter.Config{MinDelay: d.JitterMin, MaxDelay: d.JitterMax},
			MuteMode:    muteMode(d.MuteSendsNothing),
			PCMRate:     d.PCMRate,
			TrimBacklog: d.TrimWriteBacklog,
		},
		Codecs:              codecs,
		SRTP:                sdpSRTP(d.SRTP),
		SRTPProfiles:        d.SRTPSuites,
		RefuseSDESOverPlain: d.RefuseSDESOverPlain,
		NoContactRewrite:    d.NoContactRewrite,
		MaxUDPRequest:       d.MaxUDPRequest,
		NoTelephoneEvent:    d.DTMFMode == DTMFInfo,
		DTMFMode:            uaDTMFMode(d.DTMFMode),
		SessionTimer:        d.SessionTimer,
		Rel100:              ua.Rel100Mode(d.Rel100),
		RefuseReplaces:      d.RefuseReplaces,
		MaxCalls:            d.MaxCalls,
		Logger:              d.Logger,
		EndCause:            endCause,
		NewCall:             func(c *ua.Call) { c.SetApp(&call{c: c, p: p}) },
		OnIncoming: func(c *ua.Call) {
			if f := p.handlers().incoming; f != nil {
				f(wrap(c))
			} else {
				c.Reject(context.Background(), 480, "") //nolint:errcheck // nobody takes calls
			}
		},
		OnRegistered: func() {
			if f := p.handlers().registered; f != nil {
				f()
			}
		},
		OnUnregistered: func() {
			if f := p.handlers().unregistered; f != nil {
				f()
			}
		},
		OnError: func(err error) {
			if f := p.handlers().err; f != nil {
				f(convertErr(err))
			}
		},
		MWI:    d.MWI,
		MWIURI: d.MWIURI,
		OnVoicemail: func(s mwi.Summary) {
			if f := p.handlers().voicemail; f != nil {
				f(voicemailStatus(s))
			}
		},
		TakesMessages: func() bool { return p.handlers().message != nil },
		OnMessage: func(m ua.Message) {
			if f := p.handlers().message; f != nil {
				f(Message{From: m.From, To: m.To, ContentType: m.ContentType, Body: m.Body})
			}
		},
	}
	if d.RegisterExpiry < 0 || d.Host == "" {
		uc.RegisterExpiry = -1
	}
	p.ua = ua.New(uc)
	return p, nil
}

// holdTimeout is the media timeout while a call is on hold, when only
// RTCP (or nothing, from some peers) flows: four times MediaTimeout (2 min
// by default), so a held call whose peer vanished still ends.
func holdTimeout(mt time.Duration) time.Duration {
	if mt <= 0 {
		return 0
	}
	return 4 * mt
}

func muteMode(nothing bool) media.MuteMode {
	if nothing {
		return media.MuteNothing
	}
	return media.MuteSilence
}

func sdpSRTP(m SRTPMode) sdp.SRTPMode {
	switch m {
	case SRTPOptional:
		return sdp.SRTPOptional
	case SRTPMandatory:
		return sdp.SRTPMandatory
	}
	return sdp.SRTPOff
}

// phone adapts *ua.UA to Phone.
type phone struct {
	cfg Config
	ua  *ua.UA

	mu         sync.Mutex
	state      PhoneState
	incoming   func(Call)
	registered func()
	unreg      func()
	errf       func(error)
	voicemail  func(VoicemailStatus)
	message    func(Message)
}

type phoneHandlers struct {
	incoming     func(Call)
	registered   func()
	unregistered func()
	err          func(error)
	voicemail    func(VoicemailStatus)
	message      func(Message)
}

func (p *phone) handlers() phoneHandlers {
	p.mu.Lock()
	defer p.mu.Unlock()
	return phoneHandlers{p.incoming, p.registered, p.unreg, p.errf, p.voicemail, p.message}
}

func (p *phone) Connect(ctx context.Context) error {
	p.mu.Lock()
	if p.state != PhoneDisconnected {
		p.mu.Unlock()
		return ErrAlreadyConnected
	}
	p.state = PhoneConnecting
	p.mu.Unlock()
	err := p.ua.Connect(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil:
		p.state = PhoneDisconnected
		return convertErr(err)
	case p.ua.Registering():
		p.state = PhoneRegistered
	default:
		p.state = PhoneListening
	}
	return nil
}

func (p *phone) Disconnect(ctx context.Context) error {
	err := p.ua.Disconnect(ctx)
	if errors.Is(err, ua.ErrNotConnected) {
		return ErrNotConnected
	}
	p.mu.Lock()
	p.state = PhoneDisconnected
	p.mu.Unlock()
	return convertErr(err)
}

func (p *phone) Dial(ctx context.Context, target string, opts ...DialOption) (Call, error) {
	o, err := NewDialOptions(opts...)
	if err != nil {
		return nil, err
	}
	uo := ua.DialOptions{
		Timeout: o.Timeout, EarlyMedia: o.EarlyMedia,
		CallerID: o.CallerID, DisplayName: o.DisplayName,
	}
	for _, h := range o.Headers {
		uo.Headers = append(uo.Headers, [2]string{h.Name, h.Value})
	}
	if o.Pickup != (RingingCall{}) {
		uo.Headers = append(uo.Headers, [2]string{"Replaces", o.Pickup.replaces()}, [2]string{"Require", "replaces"})
	}
	for _, c := range o.Codecs {
		uo.Codecs = append(uo.Codecs, string(c))
	}
	if o.SRTP != 0 {
		uo.SRTP, uo.SRTPSet = sdpSRTP(o.SRTP), true
	}
	c, err := p.ua.Dial(ctx, target, uo)
	if err != nil {
		return nil, convertErr(err)
	}
	if o.DTMFMode != 0 {
		// Before the caller has the call, so before any digit is sent.
		c.SetDTMFMode(uaDTMFMode(o.DTMFMode))
	}
	return wrap(c), nil
}

func (p *phone) OnIncoming(f func(Call)) { p.mu.Lock(); p.incoming = f; p.mu.Unlock() }
func (p *phone) OnRegistered(f func())   { p.mu.Lock(); p.registered = f; p.mu.Unlock() }
func (p *phone) OnUnregistered(f func()) { p.mu.Lock(); p.unreg = f; p.mu.Unlock() }
func (p *phone) OnError(f func(error))   { p.mu.Lock(); p.errf = f; p.mu.Unlock() }
func (p *phone) Watch(target string, f func(LineStatus)) (func(context.Context), error) {
	w, err := p.ua.Watch(target, func(info dialoginfo.Info) { f(lineStatus(target, info)) })
	if err != nil {
		return nil, convertErr(err)
	}
	return w.Stop, nil
}

func (p *phone) WatchPresence(target string, f func(Presence)) (func(context.Context), error) {
	w, err := p.ua.WatchPresence(target, func(pr pidf.Presence) {
		f(Presence{Target: target, Online: pr.Open(), Note: pr.Note()})
	})
	if err != nil {
		return nil, convertErr(err)
	}
	return w.Stop, nil
}

func (p *phone) SetPresence(ctx context.Context, online bool, note string) error {
	entity := sipmsg.URI{Scheme: "sip", User: p.cfg.Username, Host: p.cfg.Host}
	t := pidf.Tuple{ID: "xphone", Open: online}
	if note != "" {
		t.Notes = []string{note}
	}
	err := p.ua.Publish(ctx, pidf.Presence{Entity: entity.String(), Tuples: []pidf.Tuple{t}})
	if errors.Is(err, ua.ErrPublishRefused) {
		var se *ua.StatusError
		if errors.As(err, &se) {
			return publicStatus(se)
		}
	}
	return convertErr(err)
}

func (p *phone) OnMessage(f func(Message)) { p.mu.Lock(); p.message = f; p.mu.Unlock() }

func (p *phone) SendMessage(ctx context.Context, target, contentType string, body []byte) error {
	return convertErr(p.ua.SendMessage(ctx, target, contentType, body))
}

func (p *phone) OnVoicemail(f func(VoicemailStatus)) {
	p.mu.Lock()
	p.voicemail = f
	p.mu.Unlock()
}

func (p *phone) Calls() []Call {
	cs := p.ua.Calls()
	out := make([]Call, 0, len(cs))
	for _, c := range cs {
		out = append(out, wrap(c))
	}
	return out
}

func (p *phone) State() PhoneState {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == PhoneRegistered && !p.ua.Registered() {
		return PhoneUnregistered
	}
	if p.state == PhoneUnregistered && p.ua.Registered() {
		return PhoneRegistered
	}
	return p.state
}

// endCause is the cause of a call's context: the EndReason, joined with
// the error behind EndError.
func endCause(r ua.EndReason, err error) error {
	reason := endReason(r)
	var why ua.PeerReasons
	var se *ua.StatusError
	switch {
	case err != nil && reason == EndError:
		return fmt.Errorf("%w: %w", reason, convertErr(err))
	case errors.As(err, &why):
		return fmt.Errorf("%w: %w", reason, peerReasons(why))
	case errors.As(err, &se) && len(se.Reasons) > 0: // a final response's (busy, rejected)
		return fmt.Errorf("%w: %w", reason, peerReasons(se.Reasons))
	}
	return reason
}

// publicStatus converts the UA's StatusError.
func publicStatus(se *ua.StatusError) *StatusError {
	return &StatusError{Code: se.Code, Reason: se.Reason, PeerReasons: peerReasons(se.Reasons), RetryAfter: se.RetryAfter}
}

// convertErr maps internal/ua errors to the package's errors.
func convertErr(err error) error {
	if err == nil {
		return nil
	}
	var se *ua.StatusError
	for _, m := range []struct{ from, to error }{{ua.ErrMWIRefused, ErrMWIFailed}, {ua.ErrWatchRefused, ErrWatchFailed}} {
		if !errors.Is(err, m.from) {
			continue
		}
		if errors.As(err, &se) {
			return fmt.Errorf("%w: %w", m.to, publicStatus(se))
		}
		return fmt.Errorf("%w: %s", m.to, strings.TrimPrefix(err.Error(), m.from.Error()+"\n"))
	}
	if errors.As(err, &se) {
		return publicStatus(se)
	}
	var re *ua.RegistrationError
	if errors.As(err, &re) {
		if re.Code != 0 {
			return &RegistrationError{Code: re.Code, Reason: re.Reason, RetryAfter: re.RetryAfter}
		}
		return &RegistrationError{Err: re.Err}
	}
	for _, m := range []struct{ from, to error }{
		{ua.ErrNotConnected, ErrNotConnected},
		{ua.ErrAlreadyConnected, ErrAlreadyConnected},
		{ua.ErrInvalidTarget, ErrInvalidTarget},
		{ua.ErrDialTimeout, ErrDialTimeout},
		{ua.ErrCancelled, ErrCancelled},
		{media.ErrNoRTPPort, ErrNoRTPPort},
		{ua.ErrMaxCalls, ErrMaxCalls},
		{sdp.ErrNotAcceptable, ErrNotAcceptable},
		{ua.ErrAuthFailed, ErrAuthFailed},
		{ua.ErrMessageTooLarge, ErrMessageTooLarge},
	} {
		if errors.Is(err, m.from) {
			msg := strings.TrimPrefix(err.Error(), "ua: ")
			if msg == strings.TrimPrefix(m.from.Error(), "ua: ") {
				return m.to
			}
			return fmt.Errorf("%w: %w", m.to, err)
		}
	}
	return err
}

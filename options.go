package xphone

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DialOption sets one per-call knob of Phone.Dial.
type DialOption func(*DialOptions)

// DialOptions are the per-call settings of Dial, built from DialOption
// values with NewDialOptions. Applications pass the With... options;
// Phone implementations (the real one, phonetest.MockPhone) read the
// resulting struct.
type DialOptions struct {
	// EarlyMedia makes Dial return as soon as early media starts (183
	// Session Progress with SDP, state StateEarlyMedia) instead of waiting
	// for the answer; the call reaches StateActive later or ends, as
	// OnState and OnEnded report.
	EarlyMedia bool
	// Timeout bounds the wait for an answer; when it passes the call is
	// cancelled and Dial returns an error wrapping ErrDialTimeout. Zero
	// means no bound besides Dial's context.
	Timeout time.Duration
	// Headers are extra headers for the INVITE, in order.
	Headers []Header
	// Codecs, if not empty, replaces Config.Codecs for this call.
	Codecs []Codec
	// SRTP, if not zero, replaces Config.SRTP for this call.
	SRTP SRTPMode
	// CallerID, if set, is the user part of our From URI for this call
	// (the number a trunk presents), instead of Config.Username.
	CallerID string
	// DisplayName, if set, replaces Config.DisplayName for this call.
	DisplayName string
	// DTMFMode, if not zero, replaces Config.DTMFMode for sending digits
	// on this call (see Call.SetDTMFMode).
	DTMFMode DTMFMode
	// Pickup, if its CallID is set, makes the call take over that call
	// ringing on a watched line (call pickup, RFC 3891 §3): the INVITE
	// carries Replaces naming its dialog, with early-only (refused with
	// 486 if it was answered meanwhile), and Require: replaces. Dial the
	// ringing call's caller (LineStatus.Caller), or the line.
	Pickup RingingCall
}

// Header is one SIP header field: a name and its value.
type Header struct {
	Name, Value string
}

// WithEarlyMedia makes Dial return when early media starts. See
// DialOptions.EarlyMedia.
func WithEarlyMedia() DialOption { return func(o *DialOptions) { o.EarlyMedia = true } }

// WithTimeout bounds the wait for an answer. See DialOptions.Timeout.
func WithTimeout(d time.Duration) DialOption { return func(o *DialOptions) { o.Timeout = d } }

// WithHeader adds a header to the INVITE; it may be given more than once.
// Headers the stack manages (Via, From, To, Call-ID, CSeq, Contact,
// Max-Forwards, Content-Length, Content-Type, Route, Record-Route) are
// refused by NewDialOptions.
func WithHeader(name, value string) DialOption {
	return func(o *DialOptions) { o.Headers = append(o.Headers, Header{Name: name, Value: value}) }
}

// WithCodecs replaces Config.Codecs for this call, most preferred first.
func WithCodecs(codecs ...Codec) DialOption {
	return func(o *DialOptions) { o.Codecs = slices.Clone(codecs) }
}

// WithSRTP replaces Config.SRTP for this call.
func WithSRTP(mode SRTPMode) DialOption { return func(o *DialOptions) { o.SRTP = mode } }

// WithDTMFMode sets how this call sends digits, in place of
// Config.DTMFMode. See Call.SetDTMFMode for what it does not change.
func WithDTMFMode(m DTMFMode) DialOption { return func(o *DialOptions) { o.DTMFMode = m } }

// WithCallerID sets the user part of our From URI (and the display name,
// if name is not empty) for this call.
func WithCallerID(number, name string) DialOption {
	return func(o *DialOptions) {
		o.CallerID = number
		if name != "" {
			o.DisplayName = name
		}
	}
}

// WithPickup takes over a call ringing on a watched line. See
// DialOptions.Pickup.
func WithPickup(r RingingCall) DialOption { return func(o *DialOptions) { o.Pickup = r } }

// managedHeaders are the headers a user may not set with WithHeader, in
// lower case, with their compact forms (RFC 3261 §7.3.3).
var managedHeaders = []string{
	"via", "v", "from", "f", "to", "t", "call-id", "i", "cseq", "contact", "m",
	"max-forwards", "content-length", "l", "content-type", "c", "route", "record-route",
}

// NewDialOptions applies opts in order to a zero DialOptions and checks
// the result. The error wraps ErrInvalidConfig. Phone implementations call
// it at the start of Dial.
func NewDialOptions(opts ...DialOption) (DialOptions, error) {
	var o DialOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: dial option: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if o.Timeout < 0 {
		bad("negative timeout %v", o.Timeout)
	}
	for _, h := range o.Headers {
		switch {
		case !validToken(h.Name):
			bad("bad header name %q", h.Name)
		case slices.Contains(managedHeaders, strings.ToLower(h.Name)):
			bad("header %s is set by the stack", h.Name)
		case strings.ContainsAny(h.Value, "\r\n\x00"):
			bad("header %s value contains a line break or NUL", h.Name)
		}
	}
	if p := o.Pickup; p != (RingingCall{}) {
		for _, v := range []string{p.CallID, p.LocalTag, p.RemoteTag} {
			if v == "" || strings.ContainsAny(v, " \t\r\n\x00;,") {
				bad("pickup of an incompletely or wrongly named call %+v", p)
				break
			}
		}
	}
	for i, c := range o.Codecs {
		if c.SampleRate() == 0 {
			bad("unknown codec %q", c)
		} else if slices.Contains(o.Codecs[:i], c) {
			bad("codec %s listed twice", c)
		}
	}
	if o.SRTP > SRTPMandatory {
		bad("unknown SRTP mode %d", o.SRTP)
	}
	if o.DTMFMode > DTMFBoth {
		bad("unknown DTMF mode %d", o.DTMFMode)
	}
	if strings.ContainsAny(o.CallerID, "\r\n\x00@<>\" ") || strings.ContainsAny(o.DisplayName, "\r\n\x00") {
		bad("caller ID contains characters not allowed in a From header")
	}
	return o, errors.Join(errs...)
}

// validToken reports whether s is a non-empty RFC 3261 §25.1 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

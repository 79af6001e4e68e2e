package xphone

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/xphone-go/xphone/transaction"
)

// Sentinel errors, one per failure an application acts on. Errors returned
// by Phone and Call wrap them (or, for *StatusError and *RegistrationError,
// report them through errors.Is), so test with errors.Is, never with ==.
var (
	// ErrInvalidConfig is wrapped by every error of Config.Validate.
	ErrInvalidConfig = errors.New("xphone: invalid config")
	// ErrNotConnected means the Phone is not connected: Connect has not
	// succeeded yet, or Disconnect was called.
	ErrNotConnected = errors.New("xphone: not connected")
	// ErrAlreadyConnected is returned by Connect on a connected Phone.
	ErrAlreadyConnected = errors.New("xphone: already connected")
	// ErrRegistrationFailed is reported by every *RegistrationError.
	ErrRegistrationFailed = errors.New("xphone: registration failed")
	// ErrAuthFailed means the server refused our credentials: a final
	// 401, 403 or 407 after the digest retry (RFC 3261 §22).
	ErrAuthFailed = errors.New("xphone: authentication failed")
	// ErrInvalidState means a call operation is not allowed in the call's
	// current state (see CheckOp). The error is a *StateError.
	ErrInvalidState = errors.New("xphone: invalid call state")
	// ErrInvalidTarget means Dial or BlindTransfer got a target that is
	// neither a SIP/SIPS/tel URI nor a user part (number or extension).
	ErrInvalidTarget = errors.New("xphone: invalid target")
	// ErrInvalidDTMF means SendDTMF got a character other than 0-9, *, #
	// and A-D (RFC 4733 §3.2).
	ErrInvalidDTMF = errors.New("xphone: invalid DTMF digit")
	// ErrDialTimeout means the callee did not answer in time: the dial
	// timeout passed, or the far end answered 408 Request Timeout.
	ErrDialTimeout = errors.New("xphone: dial timed out")
	// ErrBusy means the callee is busy (486 Busy Here, 600 Busy Everywhere).
	ErrBusy = errors.New("xphone: busy")
	// ErrDeclined means the callee declined the call (603 Decline).
	ErrDeclined = errors.New("xphone: declined")
	// ErrNotFound means the target does not exist (404 Not Found, 604
	// Does Not Exist Anywhere).
	ErrNotFound = errors.New("xphone: not found")
	// ErrUnavailable means the callee cannot be reached now (480
	// Temporarily Unavailable, 503 Service Unavailable): try later.
	ErrUnavailable = errors.New("xphone: temporarily unavailable")
	// ErrNotAcceptable means no common codec or media security could be
	// agreed (488 Not Acceptable Here, 606 Not Acceptable).
	ErrNotAcceptable = errors.New("xphone: media not acceptable")
	// ErrCancelled means the call was cancelled before it was answered:
	// Dial's context ended, or the far end answered 487 Request
	// Terminated.
	ErrCancelled = errors.New("xphone: cancelled")
	// ErrNoRTPPort means no RTP port of the configured range was free.
	ErrNoRTPPort = errors.New("xphone: no free RTP port")
	// ErrMaxCalls means Config.MaxCalls calls are up already.
	ErrMaxCalls = errors.New("xphone: too many calls")
	// ErrTransferFailed means the transfer target did not take the call
	// (RFC 3515 NOTIFY with a non-2xx status, or REFER refused). The call
	// stays up.
	ErrTransferFailed = errors.New("xphone: transfer failed")
	// ErrMWIFailed means the voicemail subscription of Config.MWI was
	// refused or ended by the server (reported through OnError, with a
	// *StatusError when a response said why); it is tried again with
	// backoff unless the server ended it for good.
	ErrMWIFailed = errors.New("xphone: voicemail subscription failed")
	// ErrWatchFailed means the subscription of a Phone.Watch or
	// WatchPresence was refused
	// or ended by the server (reported through OnError, with a
	// *StatusError when a response said why).
	ErrWatchFailed = errors.New("xphone: line watch failed")
	// ErrMessageTooLarge means a SendMessage request would exceed the
	// 1300 bytes RFC 3428 §4 allows on UDP; use TCP or TLS for more.
	ErrMessageTooLarge = errors.New("xphone: message too large for UDP")
)

// StatusError is a final SIP response of class 3xx–6xx that ended an
// operation, such as Dial or BlindTransfer. errors.Is maps its code to the
// sentinel an application branches on:
//
//	486, 600      ErrBusy
//	603           ErrDeclined
//	404, 604      ErrNotFound
//	401, 403, 407 ErrAuthFailed
//	408           ErrDialTimeout
//	480, 503      ErrUnavailable
//	487           ErrCancelled
//	488, 606      ErrNotAcceptable
//
// Use errors.As to read the code and reason phrase.
type StatusError struct {
	// Code is the SIP status code (RFC 3261 §21).
	Code int
	// Reason is the reason phrase as the peer sent it; it may be empty.
	Reason string
	// PeerReasons are the response's Reason headers (RFC 3326, RFC 6432),
	// such as the Q.850 cause a carrier gives with a 480 or 486; nil
	// without.
	PeerReasons PeerReasons
	// RetryAfter is how long the peer said it would stay unavailable
	// (Retry-After, RFC 3261 §20.33, with a 503, 486, 480 or 600); 0
	// when it did not say. A dialer waits that long before trying again.
	RetryAfter time.Duration
}

// Error returns "xphone: 486 Busy Here".
func (e *StatusError) Error() string {
	if e.Reason == "" {
		return "xphone: SIP status " + strconv.Itoa(e.Code)
	}
	return "xphone: " + strconv.Itoa(e.Code) + " " + e.Reason
}

// Is reports whether target is the sentinel that e's code maps to.
func (e *StatusError) Is(target error) bool {
	s := statusSentinel(e.Code)
	return s != nil && s == target
}

// EndReason returns how a call ends when it is refused with e's code:
// EndBusy for 486 and 600, EndTimeout for 408, EndCancelled for 487 and
// EndRejected otherwise.
func (e *StatusError) EndReason() EndReason {
	switch e.Code {
	case 486, 600:
		return EndBusy
	case 408:
		return EndTimeout
	case 487:
		return EndCancelled
	}
	return EndRejected
}

func statusSentinel(code int) error {
	switch code {
	case 486, 600:
		return ErrBusy
	case 603:
		return ErrDeclined
	case 404, 604:
		return ErrNotFound
	case 401, 403, 407:
		return ErrAuthFailed
	case 408:
		return ErrDialTimeout
	case 480, 503:
		return ErrUnavailable
	case 487:
		return ErrCancelled
	case 488, 606:
		return ErrNotAcceptable
	}
	return nil
}

// RegistrationError says why registration failed: a final SIP response
// (Code and Reason set) or a transport failure or timeout (Err set). It
// matches ErrRegistrationFailed with errors.Is, the sentinel of its code as
// a *StatusError does (403 → ErrAuthFailed), and Err.
//
// Connect returns one when the first registration fails; OnError receives
// one each time a refresh fails.
type RegistrationError struct {
	// Code and Reason are the registrar's final response, or zero and
	// empty when no response arrived.
	Code   int
	Reason string
	// Err is the underlying cause when no usable response arrived
	// (a transport error, context.DeadlineExceeded, ...), else nil.
	Err error
	// RetryAfter is the registrar's Retry-After (with a 503), 0 without
	// one: the phone waits at least that long, up to five minutes,
	// before it tries again.
	RetryAfter time.Duration
}

// Error returns "xphone: registration failed: 403 Forbidden",
// "xphone: registration failed: no answer from the registrar: <cause>"
// when it timed out, or "xphone: registration failed: <cause>".
func (e *RegistrationError) Error() string {
	msg := ErrRegistrationFailed.Error()
	if e.Code != 0 {
		msg += ": " + strconv.Itoa(e.Code)
		if e.Reason != "" {
			msg += " " + e.Reason
		}
	} else if errors.Is(e.Err, context.DeadlineExceeded) || errors.Is(e.Err, transaction.ErrTimeout) {
		msg += ": no answer from the registrar"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrRegistrationFailed, the response as a *StatusError
// when there was one, and Err when set.
func (e *RegistrationError) Unwrap() []error {
	errs := []error{ErrRegistrationFailed}
	if e.Code != 0 {
		errs = append(errs, &StatusError{Code: e.Code, Reason: e.Reason})
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// StateError is the error of a call operation that the call's state does
// not allow. It matches ErrInvalidState with errors.Is. Phone and Call
// implementations build it with CheckOp, so the real call and
// phonetest.MockCall refuse the same operations with the same error.
type StateError struct {
	// Op is the refused operation.
	Op Op
	// Direction and State describe the call when it was refused.
	Direction Direction
	State     CallState
}

// Error returns, for example,
// "xphone: Hold not allowed on an inbound call in state Ringing".
func (e *StateError) Error() string {
	return fmt.Sprintf("xphone: %s not allowed on an %s call in state %s", e.Op, e.Direction, e.State)
}

// Is reports whether target is ErrInvalidState.
func (e *StateError) Is(target error) bool { return target == ErrInvalidState }

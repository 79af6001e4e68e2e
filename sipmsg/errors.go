package sipmsg

import (
	"errors"
	"strconv"
)

// Sentinel errors that callers branch on. A [*ParseError] wraps one of them
// when it applies, so errors.Is(err, ErrUnsupportedVersion) works on the
// error returned by [Parse].
var (
	// ErrUnsupportedVersion: the start line names a SIP version other than
	// SIP/2.0; a server answers 505 Version Not Supported (RFC 3261 §21.5.6).
	ErrUnsupportedVersion = errors.New("sipmsg: unsupported SIP version")
	// ErrTooLarge: the input exceeds a [Parser] or [Reader] limit.
	ErrTooLarge = errors.New("sipmsg: message too large")
	// ErrMissingHeader: a typed accessor found no header of that name.
	ErrMissingHeader = errors.New("sipmsg: missing header")
)

// ParseError reports where and why input could not be parsed. Offset counts
// bytes from the start of the input given to the parser (for header values,
// from the start of the value). Quote holds at most 80 bytes of the input
// around the problem.
type ParseError struct {
	Offset int    // byte offset of the problem
	Reason string // lower-case description of what is wrong
	Quote  string // at most 80 bytes of the offending input
	Err    error  // optional sentinel this error wraps, such as ErrTooLarge
}

// Error implements error.
func (e *ParseError) Error() string {
	return "sipmsg: " + e.Reason + " at offset " + strconv.Itoa(e.Offset) + ": " + strconv.Quote(e.Quote)
}

// Unwrap returns the wrapped sentinel, if any.
func (e *ParseError) Unwrap() error { return e.Err }

const maxQuote = 80

// newError builds a ParseError quoting up to maxQuote bytes of in starting at off.
func newError[T string | []byte](in T, off int, reason string) *ParseError {
	if off < 0 {
		off = 0
	}
	if off > len(in) {
		off = len(in)
	}
	end := off + maxQuote
	if end > len(in) {
		end = len(in)
	}
	return &ParseError{Offset: off, Reason: reason, Quote: string(in[off:end])}
}

func wrapError[T string | []byte](in T, off int, reason string, err error) *ParseError {
	e := newError(in, off, reason)
	e.Err = err
	return e
}

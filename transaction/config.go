package transaction

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// RFC 3261 §17.1.1.1 and Table 4: the defaults of a zero [Config].
const (
	DefaultT1 = 500 * time.Millisecond // round-trip time estimate
	DefaultT2 = 4 * time.Second        // longest retransmit interval for non-INVITE requests and INVITE responses
	DefaultT4 = 5 * time.Second        // longest time a message stays in the network
)

const (
	// tryingDelay is how long an INVITE server transaction waits for the TU
	// before it sends 100 Trying itself (RFC 3261 §17.2.1).
	tryingDelay = 200 * time.Millisecond
	// timerD is Timer D on unreliable transports: "at least 32 seconds"
	// (RFC 3261 §17.1.1.2, Table 4).
	timerD = 32 * time.Second
	// responseBuffer is the capacity of ClientTx.Responses.
	responseBuffer = 8
)

// Errors a TU branches on. Errors returned by the package wrap one of them,
// so errors.Is tells the kinds apart.
var (
	// ErrTimeout: no final response before Timer B (INVITE) or Timer F
	// (non-INVITE) fired, or, on the server side, no ACK before Timer H
	// (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1).
	ErrTimeout = errors.New("transaction: timed out")
	// ErrTransport: the transport could not send a message of the
	// transaction (RFC 3261 §17.1.4, §17.2.4). The error wraps the
	// transport's cause as well.
	ErrTransport = errors.New("transaction: transport failure")
	// ErrCanceled: the transaction was cancelled: the context given to
	// [Layer.Request] ended (the error wraps the context's cause as well),
	// the peer sent CANCEL to a server transaction (RFC 3261 §9.2), or the
	// layer was closed.
	ErrCanceled = errors.New("transaction: canceled")
)

var (
	errFinalSent   = errors.New("transaction: final response already sent")
	errFinalRecv   = errors.New("transaction: final response already received")
	errLayerClosed = fmt.Errorf("%w: layer closed", ErrCanceled)
)

// CancelError is what TU.HandleServerError gets when a CANCEL ended an
// INVITE server transaction: it wraps ErrCanceled and carries the CANCEL,
// whose Reason header (RFC 3326) may say why the caller gave up.
type CancelError struct {
	Cancel *sipmsg.Message
}

// Error returns "transaction: canceled by CANCEL".
func (e *CancelError) Error() string { return ErrCanceled.Error() + " by CANCEL" }

// Unwrap returns ErrCanceled.
func (e *CancelError) Unwrap() error { return ErrCanceled }

// Config holds the settings of a [Layer]. The zero value uses the defaults
// of RFC 3261. A Config must not be modified after it is passed to [New].
type Config struct {
	// T1, T2 and T4 are the timer values of RFC 3261 §17.1.1.1; zero
	// means DefaultT1, DefaultT2 and DefaultT4. Timers B, F, H, J, L and M
	// are 64*T1.
	T1, T2, T4 time.Duration
	// Clock supplies time and timers; nil means the time package.
	Clock Clock
	// MaxServerTransactions bounds the server transactions alive at once;
	// a new request beyond it is answered 503 Service Unavailable without
	// creating a transaction (RFC 3261 §21.5.4). Zero means no bound.
	MaxServerTransactions int
	// MaxUDPRequest is the size in bytes above which a request that a
	// client transaction would send over UDP goes over TCP to the same
	// address and port instead, its top Via changed to TCP (RFC 3261
	// §18.1.1); a server that does not take the connection within 2*T1
	// gets it over UDP after all, and further such requests over UDP for
	// ten minutes. Zero means DefaultMaxUDPRequest; negative never
	// switches. ACKs (Layer.Send) and responses are never switched.
	MaxUDPRequest int
	// Logger receives debug records about dropped messages; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Clock is the source of time and timers of a [Layer]. Its methods must be
// safe for concurrent use.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d, like time.AfterFunc.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer made by a [Clock]; *time.Timer implements it.
type Timer interface {
	Stop() bool
	Reset(d time.Duration) bool
}

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// TU is the transaction user: the UA core or proxy above the layer
// (RFC 3261 §17). The layer calls its methods from the transport's reading
// goroutines and from timer goroutines, never while it holds a lock, so
// they may call back into the layer (for example ServerTx.Respond from
// HandleRequest). They must not block for long.
type TU interface {
	// HandleRequest receives a request that created a new server
	// transaction: any method but ACK and CANCEL. The TU answers with
	// tx.Respond, now or later; an INVITE that is not answered within
	// 200 ms gets 100 Trying from the layer.
	HandleRequest(tx *ServerTx)
	// HandleOutside receives what belongs to no transaction: ACKs for 2xx
	// responses (RFC 3261 §13.3.1.4, RFC 6026 §7.1) and 2xx responses to an
	// INVITE that match no client transaction (§13.2.2.4: another fork, or
	// a retransmission after Timer M).
	HandleOutside(in transport.Inbound)
	// HandleServerError reports that a server transaction will not
	// complete normally: ErrCanceled when a CANCEL arrived for an
	// INVITE that had no final response (the layer has already sent 200 to
	// the CANCEL and 487 to the INVITE, RFC 3261 §9.2); ErrTimeout when
	// Timer H fired (the peer never acknowledged a non-2xx final response);
	// ErrTransport when a retransmission the layer made could not be sent.
	// Errors of the TU's own ServerTx.Respond calls are returned there and
	// not reported again here.
	HandleServerError(tx *ServerTx, err error)
}

// slot is one timer of a transaction. due is when it should act; a
// callback that runs when due is zero or in the future is stale (it raced
// with Stop or Reset) and does nothing.
type slot struct {
	t   Timer
	due time.Time
}

func (l *Layer) arm(s *slot, d time.Duration, f func()) {
	s.due = l.clock.Now().Add(d)
	if s.t == nil {
		s.t = l.clock.AfterFunc(d, f)
	} else {
		s.t.Reset(d)
	}
}

func (s *slot) stop() {
	s.due = time.Time{}
	if s.t != nil {
		s.t.Stop()
	}
}

// fire reports whether a timer callback is the live one, and disarms it.
func (l *Layer) fire(s *slot) bool {
	if s.due.IsZero() || l.clock.Now().Before(s.due) {
		return false
	}
	s.due = time.Time{}
	return true
}

func transportError(err error) error {
	return fmt.Errorf("%w: %w", ErrTransport, err)
}

func canceledError(ctx context.Context) error {
	return fmt.Errorf("%w: %w", ErrCanceled, context.Cause(ctx))
}

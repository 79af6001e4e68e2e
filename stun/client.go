package stun

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Defaults of the retransmission schedule over UDP (RFC 8489 §6.2.1).
const (
	DefaultRTO = 500 * time.Millisecond // initial retransmission timeout
	DefaultRc  = 7                      // transmissions in all
	DefaultRm  = 16                     // final wait, in multiples of the initial RTO
)

// ErrTimeout reports that a transaction got no response after all its
// transmissions and the final wait (RFC 8489 §6.2.1).
var ErrTimeout = errors.New("stun: transaction timed out")

// ResponseError is a STUN error response (RFC 8489 §6.3.4), with the code
// and reason of its ERROR-CODE attribute (§14.8).
type ResponseError struct {
	Code   int
	Reason string
}

// Error returns e.g. "stun: error response 400 Bad Request".
func (e *ResponseError) Error() string {
	return fmt.Sprintf("stun: error response %d %s", e.Code, e.Reason)
}

// ClientConfig configures Bind. The zero value, like a nil *ClientConfig,
// uses the RFC 8489 defaults. Do not modify a ClientConfig while a Bind
// using it runs.
type ClientConfig struct {
	// RTO is the initial retransmission timeout; it doubles after each
	// retransmission (RFC 8489 §6.2.1). Zero means DefaultRTO.
	RTO time.Duration
	// Rc is the number of transmissions of the request. Zero means
	// DefaultRc.
	Rc int
	// Rm is how long to wait after the last transmission, in multiples of
	// the initial RTO. Zero means DefaultRm.
	Rm int
	// Software, if not empty, is sent in a SOFTWARE attribute
	// (RFC 8489 §14.14).
	Software string
	// Unhandled, if not nil, is called with every packet Bind reads that is
	// not the response it waits for (RTP, DTLS, other STUN transactions). b
	// is valid only during the call. Without it such packets are dropped.
	Unhandled func(b []byte, from net.Addr)
	// Rand is the source of transaction IDs. Nil means crypto/rand.
	Rand io.Reader
}

func (c *ClientConfig) withDefaults() ClientConfig {
	var v ClientConfig
	if c != nil {
		v = *c
	}
	if v.RTO <= 0 {
		v.RTO = DefaultRTO
	}
	if v.Rc <= 0 {
		v.Rc = DefaultRc
	}
	if v.Rm <= 0 {
		v.Rm = DefaultRm
	}
	if v.Rand == nil {
		v.Rand = rand.Reader
	}
	return v
}

// wait returns how long to wait for a response after the nth transmission
// (n from 1): the RTO, doubled after each transmission, and Rm times the
// initial RTO after the last (RFC 8489 §6.2.1). With the defaults the
// requests go out at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s, and the
// transaction fails at 39.5 s.
func (c *ClientConfig) wait(n int) time.Duration {
	if n >= c.Rc {
		return time.Duration(c.Rm) * c.RTO
	}
	return c.RTO << (n - 1)
}

// connectedConn is a PacketConn that may be connected to one peer, as a
// *net.UDPConn from net.DialUDP is.
type connectedConn interface {
	RemoteAddr() net.Addr
	Write(b []byte) (int, error)
}

// aLongTimeAgo is a read deadline in the past, to unblock a read at once.
var aLongTimeAgo = time.Unix(1, 0)

// Bind sends a Binding request to server over conn and returns the
// reflexive transport address from the success response's
// XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS from an older server), RFC 8489 §6,
// §7.
//
// Over UDP the request is retransmitted on the schedule of RFC 8489 §6.2.1:
// Rc transmissions with the RTO doubling after each, then a final wait of Rm
// times the initial RTO, after which Bind returns an error wrapping
// ErrTimeout. It blocks until a response, that timeout, a send or receive
// error, or the end of ctx (the error then wraps context.Cause(ctx)). An
// error response yields a *ResponseError.
//
// conn may be unconnected (net.ListenPacket) or connected to server
// (net.DialUDP); on a connected socket an ICMP port unreachable from the
// server ends Bind with a "connection refused" error. Bind reads from conn
// and uses its read deadline, which it clears before returning: nothing
// else may read from conn meanwhile. Packets that are not
// the awaited response (RTP on a shared socket, stray STUN) are passed to
// cfg.Unhandled or dropped. Responses are matched by transaction ID.
// Concurrent Binds on different conns are safe.
func Bind(ctx context.Context, conn net.PacketConn, server net.Addr, cfg *ClientConfig) (netip.AddrPort, error) {
	c := cfg.withDefaults()
	var id TransactionID
	if _, err := io.ReadFull(c.Rand, id[:]); err != nil {
		return netip.AddrPort{}, fmt.Errorf("stun: transaction ID: %w", err)
	}
	var b Builder
	b.Reset(make([]byte, 0, 64+len(c.Software)), BindingRequest, id)
	if c.Software != "" {
		b.AddString(AttrSoftware, c.Software)
	}
	// FINGERPRINT helps a peer that multiplexes STUN with other protocols
	// (RFC 8489 §7).
	b.AddFingerprint()
	req, err := b.Build()
	if err != nil {
		return netip.AddrPort{}, err
	}

	// The context ends the wait by moving the read deadline into the past.
	// mu orders that against Bind's own deadline updates, and done keeps a
	// late callback from touching conn after Bind returned.
	var mu sync.Mutex
	done := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			_ = conn.SetReadDeadline(aLongTimeAgo)
		}
	})
	defer func() {
		stop()
		mu.Lock()
		done = true
		_ = conn.SetReadDeadline(time.Time{})
		mu.Unlock()
	}()
	setDeadline := func(t time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return conn.SetReadDeadline(t)
	}
	ctxErr := func() error {
		return fmt.Errorf("stun: binding request to %v: %w", server, context.Cause(ctx))
	}

	// A connected socket (net.DialUDP) refuses WriteTo; it also reports an
	// ICMP port unreachable as a read error, which ends Bind at once.
	send := func() error { _, err := conn.WriteTo(req, server); return err }
	if cc, ok := conn.(connectedConn); ok && cc.RemoteAddr() != nil {
		send = func() error { _, err := cc.Write(req); return err }
	}

	buf := make([]byte, 1500)
	var m Message
	for n := 1; ; n++ {
		if ctx.Err() != nil {
			return netip.AddrPort{}, ctxErr()
		}
		if err := send(); err != nil {
			return netip.AddrPort{}, fmt.Errorf("stun: sending binding request to %v: %w", server, err)
		}
		deadline := time.Now().Add(c.wait(n))
		if err := setDeadline(deadline); err != nil {
			if ctx.Err() != nil {
				return netip.AddrPort{}, ctxErr()
			}
			return netip.AddrPort{}, fmt.Errorf("stun: %w", err)
		}
		for {
			nr, from, err := conn.ReadFrom(buf)
			if err != nil {
				if ctx.Err() != nil {
					return netip.AddrPort{}, ctxErr()
				}
				if errors.Is(err, os.ErrDeadlineExceeded) {
					break // retransmit or give up
				}
				return netip.AddrPort{}, fmt.Errorf("stun: waiting for binding response from %v: %w", server, err)
			}
			pkt := buf[:nr]
			if Classify(pkt) != KindSTUN || m.Decode(pkt) != nil || m.TransactionID != id ||
				m.Type.Method() != MethodBinding || m.Type.Class() < ClassSuccess ||
				(m.Has(AttrFingerprint) && m.CheckFingerprint() != nil) {
				if c.Unhandled != nil {
					c.Unhandled(pkt, from)
				}
				continue
			}
			return bindResult(&m)
		}
		if n >= c.Rc {
			return netip.AddrPort{}, fmt.Errorf("%w: no response from %v after %d transmissions", ErrTimeout, server, n)
		}
	}
}

// bindResult turns a Binding response matching our transaction into Bind's
// result (RFC 8489 §6.3.3, §6.3.4).
func bindResult(m *Message) (netip.AddrPort, error) {
	var unknown [8]AttrType
	if u := m.UnknownRequired(unknown[:0]); len(u) > 0 {
		return netip.AddrPort{}, fmt.Errorf("stun: response has unknown comprehension-required attributes %v", u)
	}
	if m.Type.Class() == ClassError {
		code, reason, err := m.ErrorCode()
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("stun: error response without a valid ERROR-CODE: %w", err)
		}
		return netip.AddrPort{}, &ResponseError{Code: code, Reason: string(reason)}
	}
	ap, err := m.XORMappedAddress()
	if errors.Is(err, ErrNoAttribute) {
		ap, err = m.MappedAddress()
	}
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("stun: binding response: %w", err)
	}
	return ap, nil
}

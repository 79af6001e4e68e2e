package transport

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/xphone-go/xphone/sipmsg"
)

// Protocol names a SIP transport (RFC 3261 §18).
type Protocol uint8

// The transports xphone speaks.
const (
	UDP Protocol = iota + 1
	TCP
	TLS
)

// String returns the name as it appears in a Via header: "UDP", "TCP", "TLS".
func (p Protocol) String() string {
	switch p {
	case UDP:
		return "UDP"
	case TCP:
		return "TCP"
	case TLS:
		return "TLS"
	}
	return "unknown"
}

// Reliable reports whether the transport delivers in order without loss, which
// switches off the retransmission timers of RFC 3261 §17 (A, E, G) and shortens
// the wait timers (D, I, J, K) to zero.
func (p Protocol) Reliable() bool { return p == TCP || p == TLS }

// ErrUnknownProtocol is returned by ParseProtocol for names other than udp,
// tcp and tls.
var ErrUnknownProtocol = errors.New("transport: unknown protocol")

// ParseProtocol parses "udp", "tcp" or "tls" in any case.
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToUpper(s) {
	case "UDP":
		return UDP, nil
	case "TCP":
		return TCP, nil
	case "TLS":
		return TLS, nil
	}
	return 0, ErrUnknownProtocol
}

// Addr is the far end of a message: where it came from or where it goes.
type Addr struct {
	Protocol Protocol
	AddrPort netip.AddrPort
	// ConnID names the stream connection a message arrived on (0 for UDP and
	// for "any connection to AddrPort"). Responses and in-dialog requests on
	// TCP and TLS go back over that connection when it is still open.
	ConnID uint64
	// ServerName is the name a TLS connection that has to be dialed verifies
	// the peer's certificate against; empty means the address.
	ServerName string
}

// Inbound is one message received by a transport.
type Inbound struct {
	Msg    *sipmsg.Message
	Source Addr
	// Local is the local address the message arrived on.
	Local netip.AddrPort
}

// Handler receives inbound messages. It is called from the transport's
// reading goroutines and must not block for long.
type Handler func(in Inbound)

// Sender sends SIP messages. Send serializes msg and writes it to dst; on TCP
// and TLS it reuses an open connection to dst (ConnID first) or dials one.
// It blocks until the message is written or ctx ends.
type Sender interface {
	Send(ctx context.Context, msg *sipmsg.Message, dst Addr) error
}

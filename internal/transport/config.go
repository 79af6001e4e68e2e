package transport

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// Defaults for the zero values of [Config].
const (
	DefaultIdleTimeout      = 5 * time.Minute
	DefaultReadTimeout      = 10 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	DefaultDialTimeout      = 10 * time.Second
	DefaultKeepaliveTimeout = 10 * time.Second // RFC 5626 §4.4.1
	// DefaultUDPReadBuffer is the socket receive buffer asked for each
	// UDP listener (SO_RCVBUF): about 2 s of INVITEs at 4,000 calls/s, so
	// that a burst or a GC pause does not overflow the kernel's default
	// (about 208 KB on Linux) and turn into retransmissions.
	DefaultUDPReadBuffer = 2 << 20
	// DefaultMaxConns bounds the stream connections open at once.
	DefaultMaxConns = 1024
)

// Errors a caller or an [Config.OnConnClosed] hook branches on.
var (
	// ErrClosed: the Manager is closed.
	ErrClosed = errors.New("transport: closed")
	// ErrNoListener: no listener of the protocol (and address family)
	// the destination needs.
	ErrNoListener = errors.New("transport: no listener for protocol")
	// ErrNoConnection: Keepalive found no open stream connection to the
	// destination.
	ErrNoConnection = errors.New("transport: no connection to destination")
	// ErrIdle: a stream connection carried nothing for the idle timeout
	// and was closed.
	ErrIdle = errors.New("transport: connection idle")
	// ErrReadTimeout: a peer began a message (or a TLS handshake) and did
	// not finish it within the read timeout.
	ErrReadTimeout = errors.New("transport: read timeout")
	// ErrKeepaliveTimeout: a CRLFCRLF ping got no CRLF pong within the
	// keepalive timeout (RFC 5626 §4.4.1); the flow has failed.
	ErrKeepaliveTimeout = errors.New("transport: keepalive timeout")
)

// Config configures a [Manager]. The zero value works for UDP and TCP; TLS
// needs TLSConfig. A Config must not be modified after it is passed to New.
type Config struct {
	// Handler receives every inbound message that passed the checks of
	// RFC 3261 §18 (requests with received/rport filled, responses whose
	// top Via is ours). It is called on the transport's reading goroutines:
	// one per UDP reader and one per stream connection, so calls may be
	// concurrent. It must not block for long. The Message is owned by the
	// handler. A nil Handler drops everything.
	Handler Handler

	// Logger receives debug logs; nil means slog.Default().
	Logger *slog.Logger

	// TLSConfig is used for TLS listeners (it must hold Certificates or
	// GetCertificate) and for TLS connections this side dials. Dialed
	// connections verify the server certificate against RootCAs, or the
	// system pool when RootCAs is nil, and the name in Addr.ServerName
	// (the IP address when empty). Its InsecureSkipVerify field is
	// ignored: see InsecureSkipTLSVerifyForLabsOnly.
	TLSConfig *tls.Config

	// InsecureSkipTLSVerifyForLabsOnly switches off the verification of
	// server certificates on TLS connections this side dials. Anyone on the
	// path can then read and change the signaling, SRTP keys included.
	// Only for lab setups with throw-away certificates.
	InsecureSkipTLSVerifyForLabsOnly bool

	// Parser bounds inbound messages (size, header count, line length).
	// The size limit is also the largest datagram accepted.
	Parser sipmsg.Parser

	// IdleTimeout closes a stream connection that has carried nothing in
	// either direction for this long. 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// ReadTimeout bounds the time from the first byte of a message (or the
	// start of a TLS handshake) on a stream to its last byte, so that a
	// peer that trickles bytes cannot hold a connection. 0 means
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// WriteTimeout bounds one write on a stream connection when the
	// context has no earlier deadline. 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// DialTimeout bounds connecting (and the TLS handshake) when the
	// context has no earlier deadline. 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// KeepaliveTimeout is how long a ping sent by Keepalive on a stream
	// waits for its pong before the connection is declared dead
	// (RFC 5626 §4.4.1: 10 s). 0 means DefaultKeepaliveTimeout.
	KeepaliveTimeout time.Duration

	// MaxConns bounds the stream connections open at once, accepted and
	// dialed: a connection accepted past it is closed at once (counted
	// in Stats.ConnsRefused), so that peers opening connections cannot
	// grow the Manager's goroutines and buffers without limit. Dialed
	// ones are never refused. 0 means DefaultMaxConns; negative, none.
	MaxConns int

	// UDPReaders is the number of goroutines reading each UDP socket.
	// 0 means 1. More than one lets parsing and handling of one datagram
	// overlap the read of the next; the Handler then sees datagrams from
	// one peer in an order that may differ from the arrival order, as UDP
	// allows (RFC 3261 §18 does not promise order).
	UDPReaders int

	// UDPReadBuffer is the receive buffer (SO_RCVBUF) asked for each UDP
	// socket, in bytes. 0 means DefaultUDPReadBuffer; a negative value
	// keeps the system default. The kernel may grant less (on Linux, at
	// most net.core.rmem_max): Listen then logs the size it got at Info
	// level.
	UDPReadBuffer int

	// OwnsSentBy reports whether the sent-by host and port of the top Via
	// of a received response is this side's (RFC 3261 §18.1.2); responses
	// for which it returns false are dropped. nil accepts a port of one of
	// the listeners together with that listener's IP address (any address
	// when it is bound to an unspecified address). Set it when Via carries
	// a name or a public address learned by other means.
	OwnsSentBy func(host string, port int) bool

	// OnConnClosed, when set, is called once for every stream connection
	// that closes for a reason other than Manager.Close, with the reason:
	// ErrIdle, ErrReadTimeout, ErrKeepaliveTimeout, io.EOF (the peer closed
	// it), a framing error from sipmsg, or a read or write error. It runs
	// on the connection's reading goroutine after the connection is gone
	// and must not block for long.
	OnConnClosed func(remote Addr, err error)

	// OnUnreachable, when set, is called for each ICMP error (port, host
	// or network unreachable, ...) that answers a datagram sent from a UDP
	// listener, with where the datagram went, as much of it as the ICMP
	// message quoted (valid during the call only) and the error (RFC 3261
	// §18.4). It runs on the listener's reading goroutines and must not
	// block for long. Only on Linux; elsewhere, and without it, ICMP
	// errors go unseen.
	OnUnreachable func(dst Addr, quoted []byte, err error)

	// icmpLooks and icmpWindow, when set, replace icmpLooks and
	// icmpWindow (Linux): tests lower the one and widen the other.
	icmpLooks  int
	icmpWindow time.Duration
	// onICMPPause, when set, is called when a reader pauses the queue of
	// ICMP errors (tests).
	onICMPPause func()

	// udpWake, when set, replaces udpWake (Linux) for this Manager's UDP
	// listeners: tests shorten it to see an idle reader.
	udpWake time.Duration

	// onUDPBatch, when set, is called on a UDP reader's goroutine each time
	// it changes the number of datagrams one read takes (Linux; tests).
	onUDPBatch func(n int)
}

func (c *Config) idleTimeout() time.Duration  { return orDefault(c.IdleTimeout, DefaultIdleTimeout) }
func (c *Config) readTimeout() time.Duration  { return orDefault(c.ReadTimeout, DefaultReadTimeout) }
func (c *Config) writeTimeout() time.Duration { return orDefault(c.WriteTimeout, DefaultWriteTimeout) }
func (c *Config) dialTimeout() time.Duration  { return orDefault(c.DialTimeout, DefaultDialTimeout) }
func (c *Config) keepaliveTimeout() time.Duration {
	return orDefault(c.KeepaliveTimeout, DefaultKeepaliveTimeout)
}

func orDefault[T int | time.Duration](d, def T) T {
	if d <= 0 {
		return def
	}
	return d
}

func (c *Config) maxConns() int {
	if c.MaxConns == 0 {
		return DefaultMaxConns
	}
	return c.MaxConns
}

func (c *Config) maxMessageSize() int {
	if c.Parser.MaxMessageSize > 0 {
		return c.Parser.MaxMessageSize
	}
	return sipmsg.DefaultMaxMessageSize
}

// Stats are the Manager's counters since New.
type Stats struct {
	// Received counts messages handed to the Handler.
	Received uint64
	// Dropped counts inbound messages not handed to the Handler: the
	// ones counted below and responses that failed validation or whose
	// top Via is not ours (RFC 3261 §18.1.2).
	Dropped uint64
	// Oversize counts datagrams larger than the size limit.
	Oversize uint64
	// ParseErrors counts datagrams and stream messages that did not parse.
	ParseErrors uint64
	// BadRequests counts requests answered with 400 because a header was
	// invalid (RFC 3261 §8.2, §21.4.1).
	BadRequests uint64
	// PingsAnswered counts CRLFCRLF pings answered with a CRLF pong.
	PingsAnswered uint64
	// ConnsOpened and ConnsClosed count stream connections, accepted and
	// dialed.
	ConnsOpened, ConnsClosed uint64
	// ConnsRefused counts connections accepted past MaxConns and closed.
	ConnsRefused uint64
}

type counters struct {
	received, dropped, oversize, parseErrors, badRequests, pings, opened, closed, refused atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Received:      c.received.Load(),
		Dropped:       c.dropped.Load(),
		Oversize:      c.oversize.Load(),
		ParseErrors:   c.parseErrors.Load(),
		BadRequests:   c.badRequests.Load(),
		PingsAnswered: c.pings.Load(),
		ConnsOpened:   c.opened.Load(),
		ConnsClosed:   c.closed.Load(),
		ConnsRefused:  c.refused.Load(),
	}
}

// defaultPort is the port a Via sent-by without one implies (RFC 3261 §18.2.2, §19.1.2).
func defaultPort(p Protocol) uint16 {
	if p == TLS {
		return 5061
	}
	return 5060
}

// unmap returns ap with an IPv4-mapped IPv6 address turned into IPv4, as a
// dual-stack socket reports IPv4 peers.
func unmap(ap netip.AddrPort) netip.AddrPort {
	if ap.Addr().Is4In6() {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return ap
}

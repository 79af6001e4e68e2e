package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// Manager owns a UA's SIP sockets: one listener per transport (and address
// family), the stream connections accepted or dialed, and the goroutines
// that read them. It implements [Sender].
//
// A Manager is safe for concurrent use. Its goroutines: UDPReaders per UDP
// listener, one accept loop per TCP or TLS listener and one reader per
// stream connection; Close stops and waits for all of them.
type Manager struct {
	cfg       Config
	log       *slog.Logger
	clientTLS *tls.Config // verification settings for dialed TLS connections
	stats     counters
	nextID    atomic.Uint64
	listeners atomic.Pointer[[]*listener] // copy on write
	bufs      sync.Pool                   // *[]byte for serializing outbound messages

	// ctx ends when Close begins; dials and TLS handshakes watch it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	shut     atomic.Bool // set when Close begins, read without the lock
	mu       sync.Mutex
	closed   bool
	conns    map[uint64]*conn
	byRemote map[remoteKey]*conn
	dialing  map[remoteKey]*dialCall
}

var _ Sender = (*Manager)(nil)

type listener struct {
	proto Protocol
	local netip.AddrPort
	udp   udpSocket    // UDP
	ln    net.Listener // TCP, TLS
}

type remoteKey struct {
	proto Protocol
	addr  netip.AddrPort
}

type dialCall struct {
	done chan struct{}
	c    *conn
	err  error
}

// New returns a Manager with no listeners. It starts no goroutines.
func New(cfg Config) *Manager {
	m := &Manager{
		cfg:      cfg,
		log:      cfg.Logger,
		conns:    make(map[uint64]*conn),
		byRemote: make(map[remoteKey]*conn),
		dialing:  make(map[remoteKey]*dialCall),
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if cfg.TLSConfig != nil {
		m.clientTLS = cfg.TLSConfig.Clone()
	} else {
		m.clientTLS = &tls.Config{}
	}
	m.clientTLS.InsecureSkipVerify = cfg.InsecureSkipTLSVerifyForLabsOnly
	if m.clientTLS.MinVersion == 0 {
		m.clientTLS.MinVersion = tls.VersionTLS12
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.bufs.New = func() any { b := make([]byte, 0, 2048); return &b }
	empty := []*listener{}
	m.listeners.Store(&empty)
	return m
}

// Listen opens a listening socket for proto on addr ("127.0.0.1:5060",
// "[::1]:0", ":5061") and starts reading it. A port of 0 picks a free port;
// LocalAddr reports it. A TLS listener needs Config.TLSConfig with a
// certificate. Listen may be called once per protocol and address family;
// sends pick the first listener of the protocol whose family fits the
// destination (one bound to "::" serves both). ctx bounds only the opening.
func (m *Manager) Listen(ctx context.Context, proto Protocol, addr string) error {
	var lc net.ListenConfig
	l := &listener{proto: proto}
	switch proto {
	case UDP:
		u, err := listenUDP(ctx, addr, m.cfg.udpWake)
		if err != nil {
			return fmt.Errorf("transport: listen udp %s: %w", addr, err)
		}
		if err := m.reportUnreachable(u); err != nil {
			u.Close()
			return fmt.Errorf("transport: listen udp %s: ICMP errors: %w", addr, err)
		}
		l.udp = u
		l.local = unmap(u.LocalAddr())
		m.setReadBuffer(l)
	case TCP, TLS:
		if proto == TLS && (m.cfg.TLSConfig == nil || (len(m.cfg.TLSConfig.Certificates) == 0 &&
			m.cfg.TLSConfig.GetCertificate == nil && m.cfg.TLSConfig.GetConfigForClient == nil)) {
			return errors.New("transport: listen tls: Config.TLSConfig has no certificate")
		}
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("transport: listen %s %s: %w", proto, addr, err)
		}
		l.ln = ln
		l.local = unmap(ln.Addr().(*net.TCPAddr).AddrPort())
	default:
		return ErrUnknownProtocol
	}

	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		l.close()
		return ErrClosed
	}
	old := *m.listeners.Load()
	ls := make([]*listener, len(old), len(old)+1)
	copy(ls, old)
	ls = append(ls, l)
	m.listeners.Store(&ls)
	if proto == UDP {
		n := max(m.cfg.UDPReaders, 1)
		for range n {
			m.wg.Go(func() { m.readUDP(l) })
		}
	} else {
		m.wg.Go(func() { m.accept(l) })
	}
	m.mu.Unlock()
	m.log.Debug("transport: listening", "proto", proto, "addr", l.local)
	return nil
}

// close stops l: its readers return, sends fail. A UDP socket stays open
// until release, when its readers are gone.
func (l *listener) close() error {
	if l.udp != nil {
		l.udp.Shutdown()
		return nil
	}
	return l.ln.Close()
}

// release closes what close left open.
func (l *listener) release() error {
	if l.udp != nil {
		return l.udp.Close()
	}
	return nil
}

// LocalAddr returns the bound address of the first listener of proto, for
// Via sent-by and Contact, or the zero AddrPort when there is none. A
// listener bound to an unspecified address (":5060") reports it as such:
// the layer above then puts its advertised address in Via and Contact.
func (m *Manager) LocalAddr(proto Protocol) netip.AddrPort {
	for _, l := range *m.listeners.Load() {
		if l.proto == proto {
			return l.local
		}
	}
	return netip.AddrPort{}
}

// Via returns the Via a client transport puts on a request it sends over
// proto (RFC 3261 §8.1.1.7, §18.1.1): sent-by is the bound address and port
// of the listener of proto, and the rport flag asks the server to report
// the source port it saw (RFC 3581 §3). Without a listener of proto it
// names the first listener of any protocol, and without any listener the
// reserved name "invalid.invalid" (RFC 6761): responses then only come back
// over a stream connection. branch should start with the magic cookie
// "z9hG4bK". The result's strings are new; it is safe to keep.
func (m *Manager) Via(proto Protocol, branch string) sipmsg.Via {
	v := sipmsg.Via{
		Transport: proto.String(),
		Host:      "invalid.invalid",
		Params:    sipmsg.Params("branch=" + branch + ";rport"),
	}
	la := m.LocalAddr(proto)
	if !la.IsValid() {
		if ls := *m.listeners.Load(); len(ls) > 0 {
			la = ls[0].local
		}
	}
	if la.IsValid() {
		v.Host = la.Addr().WithZone("").String()
		v.Port = int(la.Port())
	}
	return v
}

// Stats returns a snapshot of the counters. It is safe for concurrent use.
func (m *Manager) Stats() Stats { return m.stats.snapshot() }

// Close closes the listeners and every connection and returns when every
// goroutine the Manager started has exited. Sends after Close fail with
// ErrClosed. OnConnClosed is not called for connections Close ends.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.shut.Store(true)
	conns := make([]*conn, 0, len(m.conns))
	for _, c := range m.conns {
		conns = append(conns, c)
	}
	m.mu.Unlock()
	m.cancel()
	var errs []error
	for _, l := range *m.listeners.Load() {
		if err := l.close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, c := range conns {
		c.closeWith(ErrClosed)
	}
	m.wg.Wait()
	for _, l := range *m.listeners.Load() {
		if err := l.release(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) isClosed() bool { return m.shut.Load() }

// Send serializes msg and writes it to dst. It is safe for concurrent use
// and blocks until the message is written, a stream connection is dialed,
// or ctx ends (a write already under way is bounded by ctx's deadline or
// WriteTimeout, not by cancellation).
//
// For a request, dst is the next hop. On TCP and TLS it goes over the
// connection dst.ConnID names when that is still open, else over an open
// connection to dst.AddrPort, else over a new one (from an ephemeral local
// port; the Via carries the listening port).
//
// For a response, dst is the Source of the request it answers, and Send
// routes it as RFC 3261 §18.2.2 and RFC 3581 §4 say from the response's top
// Via: on streams over the request's connection while it is open, else to
// the received address (or sent-by host) and sent-by port; on UDP to the
// received address and the rport port when rport has a value, else the
// sent-by port. A sent-by that is a name is not resolved here (RFC 3263):
// dst.AddrPort is used instead. maddr is not honored.
func (m *Manager) Send(ctx context.Context, msg *sipmsg.Message, dst Addr) error {
	if m.shut.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !msg.IsRequest() {
		dst = responseTarget(msg, dst)
	}
	bp := m.bufs.Get().(*[]byte)
	b := msg.AppendTo((*bp)[:0])
	err := m.write(ctx, b, dst)
	if m.log.Enabled(m.ctx, slog.LevelDebug) {
		// The whole message, so that --log debug shows the SIP exchange.
		m.log.Debug("sip: sent", "proto", dst.Protocol, "to", dst.AddrPort, "err", err, "msg", string(b))
	}
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		m.bufs.Put(bp)
	}
	return err
}

func (m *Manager) write(ctx context.Context, b []byte, dst Addr) error {
	switch dst.Protocol {
	case UDP:
		return m.sendUDP(b, dst.AddrPort)
	case TCP, TLS:
		for try := 0; ; try++ {
			c, err := m.streamConn(ctx, dst)
			if err != nil {
				return err
			}
			// A connection that closed before the write began is
			// forgotten and replaced (RFC 3261 §18.2.2: a response whose
			// connection is gone goes over a new one).
			if err := c.write(b, m.writeDeadline(ctx)); err != errConnGone || try == 2 {
				return err
			}
			if m.forget(c) {
				return ErrClosed
			}
		}
	}
	return ErrUnknownProtocol
}

func (m *Manager) writeDeadline(ctx context.Context) time.Time {
	d := time.Now().Add(m.cfg.writeTimeout())
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	return d
}

// Keepalive sends one keepalive to dst: a double CRLF datagram on UDP, a
// CRLFCRLF ping on an open TCP or TLS connection (RFC 5626 §4.4.1). On a
// stream, a ping not answered by a pong within KeepaliveTimeout closes the
// connection and reports ErrKeepaliveTimeout to OnConnClosed; Keepalive
// itself does not wait for the pong. It returns ErrNoConnection when no
// stream connection to dst is open (it never dials). Safe for concurrent use.
// The layer above calls it on its own schedule (RFC 5626 §4.4.1 suggests
// 95–120 s for streams, less for UDP behind NAT).
func (m *Manager) Keepalive(ctx context.Context, dst Addr) error {
	if m.shut.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	switch dst.Protocol {
	case UDP:
		return m.sendUDP(crlfcrlf, dst.AddrPort)
	case TCP, TLS:
		c := m.openConn(dst)
		if c == nil {
			if m.isClosed() {
				return ErrClosed
			}
			return ErrNoConnection
		}
		if err := c.ping(m.writeDeadline(ctx)); err != errConnGone {
			return err
		}
		return ErrNoConnection
	}
	return ErrUnknownProtocol
}

var (
	crlfcrlf = []byte("\r\n\r\n")
	crlf     = []byte("\r\n")
)

// responseTarget applies RFC 3261 §18.2.2 and RFC 3581 §4 to a response
// for a request that came from src.
func responseTarget(resp *sipmsg.Message, src Addr) Addr {
	v, err := resp.Via()
	if err != nil {
		return src
	}
	p := src.Protocol
	if p == 0 {
		if p, err = ParseProtocol(v.Transport); err != nil {
			return src
		}
	}
	ip, err := netip.ParseAddr(v.Received())
	if err != nil {
		if ip, err = netip.ParseAddr(v.Host); err != nil {
			return src // a name: resolving it (RFC 3263) is not this layer's job
		}
	}
	port := uint16(v.Port)
	if port == 0 {
		port = defaultPort(p)
	}
	if rp, ok := v.RPort(); ok && rp > 0 && p == UDP {
		port = uint16(rp)
	}
	return Addr{Protocol: p, AddrPort: netip.AddrPortFrom(ip.Unmap(), port), ConnID: src.ConnID, ServerName: src.ServerName}
}

package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// conn is one TCP or TLS connection, accepted or dialed. Its reader
// goroutine (run) owns reading, and reports the close; writers serialize on
// wmu.
type conn struct {
	m      *Manager
	id     uint64
	proto  Protocol
	nc     net.Conn // *net.TCPConn or *tls.Conn
	remote netip.AddrPort
	local  netip.AddrPort
	server *tls.Conn // an accepted TLS connection whose handshake run does

	wmu       sync.Mutex
	lastWrite atomic.Int64 // unix nanoseconds of the last successful write

	// dmu guards the read deadline against Keepalive setting an earlier one.
	dmu          sync.Mutex
	readDeadline time.Time
	pingDeadline time.Time // zero when no ping waits for its pong

	// Owned by the reader goroutine.
	lastRead time.Time // last bytes received
	msgStart time.Time // first bytes of the message being read; zero between messages

	closeOnce sync.Once
	reason    error
	dead      atomic.Bool // set by closeWith, before the close
}

// errConnGone: a write found its connection already closed; the Manager
// forgets it and tries another.
var errConnGone = errors.New("transport: connection closed")

func (c *conn) addr() Addr { return Addr{Protocol: c.proto, AddrPort: c.remote, ConnID: c.id} }

// closeWith closes the connection once, remembering the first reason.
func (c *conn) closeWith(err error) {
	c.closeOnce.Do(func() {
		c.dead.Store(true)
		c.reason = err
		c.nc.Close()
	})
}

// accept is a stream listener's accept loop.
func (m *Manager) accept(l *listener) {
	var serverTLS *tls.Config
	if l.proto == TLS {
		serverTLS = m.cfg.TLSConfig
	}
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// Out of file descriptors and the like: wait a little so the
			// loop does not spin, as net/http does.
			m.log.Warn("transport: accept", "local", l.local, "err", err)
			select {
			case <-m.ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		if m.atConnLimit() {
			m.stats.refused.Add(1)
			nc.Close()
			if m.log.Enabled(m.ctx, slog.LevelDebug) {
				m.log.Debug("transport: connection refused: MaxConns open", "proto", l.proto, "remote", nc.RemoteAddr())
			}
			continue
		}
		var tc *tls.Conn
		if serverTLS != nil {
			tc = tls.Server(nc, serverTLS)
			nc = tc
		}
		m.addConn(nc, l.proto, tc)
	}
}

// atConnLimit reports whether MaxConns stream connections are open.
func (m *Manager) atConnLimit() bool {
	limit := m.cfg.maxConns()
	if limit < 0 {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.conns) >= limit
}

// addConn registers a connection and starts its reader.
func (m *Manager) addConn(nc net.Conn, proto Protocol, server *tls.Conn) (*conn, error) {
	c := &conn{
		m:      m,
		id:     m.nextID.Add(1),
		proto:  proto,
		nc:     nc,
		remote: unmap(nc.RemoteAddr().(*net.TCPAddr).AddrPort()),
		local:  unmap(nc.LocalAddr().(*net.TCPAddr).AddrPort()),
		server: server,
	}
	c.lastRead = time.Now()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		nc.Close()
		return nil, ErrClosed
	}
	m.conns[c.id] = c
	m.byRemote[remoteKey{proto, c.remote}] = c
	m.stats.opened.Add(1)
	m.wg.Go(c.run)
	m.mu.Unlock()
	if m.log.Enabled(m.ctx, slog.LevelDebug) {
		m.log.Debug("transport: connection open", "proto", proto, "remote", c.remote, "id", c.id)
	}
	return c, nil
}

// forget removes c from the maps and reports whether the Manager is closing.
func (m *Manager) forget(c *conn) (closing bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.conns, c.id)
	key := remoteKey{c.proto, c.remote}
	if m.byRemote[key] == c {
		delete(m.byRemote, key)
	}
	return m.closed
}

// openConn returns an open connection for dst: the one dst.ConnID names,
// else the newest to dst.AddrPort; nil when there is none.
func (m *Manager) openConn(dst Addr) *conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if dst.ConnID != 0 {
		if c := m.conns[dst.ConnID]; c != nil && c.proto == dst.Protocol {
			return c
		}
	}
	return m.byRemote[remoteKey{dst.Protocol, dst.AddrPort}]
}

// streamConn returns an open connection for dst or dials one. Concurrent
// sends to one destination share a single dial.
func (m *Manager) streamConn(ctx context.Context, dst Addr) (*conn, error) {
	key := remoteKey{dst.Protocol, dst.AddrPort}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	if dst.ConnID != 0 {
		if c := m.conns[dst.ConnID]; c != nil && c.proto == dst.Protocol {
			m.mu.Unlock()
			return c, nil
		}
	}
	if c := m.byRemote[key]; c != nil {
		m.mu.Unlock()
		return c, nil
	}
	if d := m.dialing[key]; d != nil {
		m.mu.Unlock()
		select {
		case <-d.done:
			return d.c, d.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	d := &dialCall{done: make(chan struct{})}
	m.dialing[key] = d
	m.mu.Unlock()

	d.c, d.err = m.dial(ctx, dst)
	m.mu.Lock()
	delete(m.dialing, key)
	m.mu.Unlock()
	close(d.done)
	return d.c, d.err
}

// dial connects to dst, with a TLS handshake for TLS, bounded by ctx,
// DialTimeout and Close.
func (m *Manager) dial(ctx context.Context, dst Addr) (*conn, error) {
	if !dst.AddrPort.IsValid() {
		return nil, errors.New("transport: invalid destination address")
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.dialTimeout())
	defer cancel()
	stop := context.AfterFunc(m.ctx, cancel)
	defer stop()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", dst.AddrPort.String())
	if err != nil {
		return nil, m.dialError(err)
	}
	if dst.Protocol == TLS {
		cfg := m.clientTLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = dst.ServerName
			if cfg.ServerName == "" {
				cfg.ServerName = dst.AddrPort.Addr().WithZone("").String()
			}
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, m.dialError(err)
		}
		nc = tc
	}
	return m.addConn(nc, dst.Protocol, nil)
}

func (m *Manager) dialError(err error) error {
	if m.ctx.Err() != nil {
		return ErrClosed
	}
	return err
}

// write writes one whole message or keepalive; a failed write closes the
// connection.
func (c *conn) write(b []byte, deadline time.Time) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.dead.Load() {
		return errConnGone
	}
	c.nc.SetWriteDeadline(deadline)
	if _, err := c.nc.Write(b); err != nil {
		c.closeWith(err)
		if c.reason == ErrClosed {
			return ErrClosed
		}
		return err
	}
	c.lastWrite.Store(time.Now().UnixNano())
	return nil
}

// ping sends a CRLFCRLF ping and arms the pong deadline (RFC 5626 §4.4.1).
func (c *conn) ping(writeDeadline time.Time) error {
	c.dmu.Lock()
	if c.pingDeadline.IsZero() {
		c.pingDeadline = time.Now().Add(c.m.cfg.keepaliveTimeout())
		if c.pingDeadline.Before(c.readDeadline) {
			c.readDeadline = c.pingDeadline
			c.nc.SetReadDeadline(c.pingDeadline)
		}
	}
	c.dmu.Unlock()
	return c.write(crlfcrlf, writeDeadline)
}

// run is the connection's reader goroutine.
func (c *conn) run() {
	m := c.m
	var err error
	if c.server != nil {
		// The handshake of an accepted TLS connection runs here, not in the
		// accept loop, under the read timeout.
		c.nc.SetDeadline(time.Now().Add(m.cfg.readTimeout()))
		err = c.server.HandshakeContext(m.ctx)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = ErrReadTimeout
		}
		c.nc.SetWriteDeadline(time.Time{})
		c.server = nil
	}
	if err == nil {
		err = c.readLoop()
	}
	c.closeWith(err)

	closing := m.forget(c)
	m.stats.closed.Add(1)
	reason := c.reason
	if m.log.Enabled(m.ctx, slog.LevelDebug) {
		m.log.Debug("transport: connection closed", "proto", c.proto, "remote", c.remote, "id", c.id, "reason", reason)
	}
	if f := m.cfg.OnConnClosed; f != nil && !closing && reason != ErrClosed {
		f(c.addr(), reason)
	}
}

func (c *conn) readLoop() error {
	m := c.m
	r := sipmsg.NewReader(c, &m.cfg.Parser)
	src := c.addr()
	for {
		msg, ka, err := r.Read()
		c.msgStart = time.Time{}
		if err != nil {
			var pe *sipmsg.ParseError
			if errors.As(err, &pe) && !errors.Is(err, sipmsg.ErrFraming) && !errors.Is(err, sipmsg.ErrTooLarge) {
				// One unparsable message whose length was known: the
				// stream is still framed, so drop it and go on.
				m.stats.parseErrors.Add(1)
				m.stats.dropped.Add(1)
				continue
			}
			if errors.As(err, &pe) {
				m.stats.parseErrors.Add(1)
			}
			return err
		}
		switch ka {
		case sipmsg.Ping:
			// RFC 5626 §4.4.1: answer a CRLFCRLF ping with a CRLF pong.
			m.stats.pings.Add(1)
			if err := c.write(crlf, time.Now().Add(m.cfg.writeTimeout())); err != nil {
				return err
			}
		case sipmsg.Pong:
			c.dmu.Lock()
			c.pingDeadline = time.Time{}
			c.dmu.Unlock()
		default:
			m.receive(msg, src, c.local)
		}
	}
}

// Read implements io.Reader for the sipmsg.Reader, enforcing the idle,
// read and keepalive timeouts with the connection's read deadline. Between
// messages the deadline is the idle timeout after the last traffic in
// either direction; inside a message it is the read timeout after the
// message's first bytes; an unanswered ping brings it forward.
func (c *conn) Read(p []byte) (int, error) {
	idle := c.m.cfg.idleTimeout()
	readTimeout := c.m.cfg.readTimeout()
	for {
		var dl time.Time
		if c.msgStart.IsZero() {
			dl = c.lastRead
			if w := time.Unix(0, c.lastWrite.Load()); w.After(dl) {
				dl = w
			}
			dl = dl.Add(idle)
		} else {
			dl = c.msgStart.Add(readTimeout)
		}
		c.dmu.Lock()
		if !c.pingDeadline.IsZero() && c.pingDeadline.Before(dl) {
			dl = c.pingDeadline
		}
		if !dl.Equal(c.readDeadline) {
			c.readDeadline = dl
			c.nc.SetReadDeadline(dl)
		}
		c.dmu.Unlock()

		n, err := c.nc.Read(p)
		if n > 0 {
			c.lastRead = time.Now()
			if c.msgStart.IsZero() {
				c.msgStart = c.lastRead
			}
			return n, err
		}
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		// A deadline passed: find out which, or loop when it has moved on
		// (traffic written meanwhile, a pong).
		now := time.Now()
		c.dmu.Lock()
		pd := c.pingDeadline
		c.dmu.Unlock()
		switch {
		case !pd.IsZero() && !now.Before(pd):
			return 0, ErrKeepaliveTimeout
		case !c.msgStart.IsZero() && !now.Before(c.msgStart.Add(readTimeout)):
			return 0, ErrReadTimeout
		case c.msgStart.IsZero() && !now.Before(c.lastRead.Add(idle)) &&
			!now.Before(time.Unix(0, c.lastWrite.Load()).Add(idle)):
			return 0, ErrIdle
		}
		c.dmu.Lock()
		c.readDeadline = time.Time{} // force setting it again
		c.dmu.Unlock()
	}
}

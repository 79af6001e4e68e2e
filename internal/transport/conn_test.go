package transport

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

func dialRaw(t *testing.T, dst Addr) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", dst.AddrPort.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readUntilEOF reads c until the other side closes it.
func readUntilEOF(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Errorf("got %v, want the connection closed by the peer", err)
	}
}

func TestIdleTimeoutClosesAndReports(t *testing.T) {
	for _, proto := range []Protocol{TCP, TLS} {
		t.Run(proto.String(), func(t *testing.T) {
			cfg := Config{TLSConfig: tlsConfig(t, true)}
			b := newEndpoint(t, proto, "127.0.0.1", cfg)
			cfg.IdleTimeout = 50 * time.Millisecond
			a := newEndpoint(t, proto, "127.0.0.1", cfg)
			if err := a.Send(context.Background(), newRequest(a.Manager, proto), b.addr(proto)); err != nil {
				t.Fatal(err)
			}
			b.recv(t)
			got := a.connClosed(t)
			if !errors.Is(got.err, ErrIdle) {
				t.Errorf("reason: got %v, want %v", got.err, ErrIdle)
			}
			if got.remote.AddrPort != b.LocalAddr(proto) || got.remote.ConnID == 0 {
				t.Errorf("remote: got %+v, want %v with a ConnID", got.remote, b.LocalAddr(proto))
			}
			if got := b.connClosed(t); !errors.Is(got.err, io.EOF) {
				t.Errorf("far side reason: got %v, want %v", got.err, io.EOF)
			}
			// The next send dials a new connection.
			if err := a.Send(context.Background(), newRequest(a.Manager, proto), b.addr(proto)); err != nil {
				t.Fatal(err)
			}
			b.recv(t)
			if got, want := a.Stats().ConnsOpened, uint64(2); got != want {
				t.Errorf("connections opened: got %v, want %v", got, want)
			}
		})
	}
}

// TestTricklingPeerCutOff: a peer that sends a byte every few milliseconds
// never finishes its message and is cut off by the read timeout.
func TestTricklingPeerCutOff(t *testing.T) {
	b := newEndpoint(t, TCP, "127.0.0.1", Config{ReadTimeout: 100 * time.Millisecond, IdleTimeout: time.Hour})
	c := dialRaw(t, b.addr(TCP))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		msg := []byte("OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK")
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := c.Write([]byte{msg[i%len(msg)]}); err != nil {
				return
			}
		}
	}()
	got := b.connClosed(t)
	close(stop)
	<-done
	if !errors.Is(got.err, ErrReadTimeout) {
		t.Errorf("reason: got %v, want %v", got.err, ErrReadTimeout)
	}
}

// TestTLSHandshakeTimeout: a client that opens a TCP connection to a TLS
// listener and never says hello is cut off.
func TestTLSHandshakeTimeout(t *testing.T) {
	b := newEndpoint(t, TLS, "127.0.0.1", Config{TLSConfig: tlsConfig(t, true), ReadTimeout: 50 * time.Millisecond})
	c := dialRaw(t, b.addr(TLS))
	if got := b.connClosed(t); !errors.Is(got.err, ErrReadTimeout) {
		t.Errorf("reason: got %v, want %v", got.err, ErrReadTimeout)
	}
	readUntilEOF(t, c)
}

// TestMalformedStreamClosesOnlyThatConnection: bytes without framing close
// their connection; another connection to the same listener goes on.
func TestMalformedStreamClosesOnlyThatConnection(t *testing.T) {
	b := newEndpoint(t, TCP, "127.0.0.1", Config{})
	good := dialRaw(t, b.addr(TCP))
	bad := dialRaw(t, b.addr(TCP))
	if _, err := bad.Write([]byte("NONSENSE\r\nNo-Length: here\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	got := b.connClosed(t)
	if !errors.Is(got.err, sipmsg.ErrFraming) {
		t.Errorf("reason: got %v, want %v", got.err, sipmsg.ErrFraming)
	}
	if got.remote.AddrPort != localPort(bad) {
		t.Errorf("closed: got %v, want %v", got.remote.AddrPort, localPort(bad))
	}
	readUntilEOF(t, bad)

	a := New(Config{Logger: quietLog})
	defer a.Close()
	req := newRequest(a, TCP) // Via "invalid.invalid": fine for a request
	if _, err := good.Write([]byte(req.String())); err != nil {
		t.Fatal(err)
	}
	in := b.recv(t)
	if got, want := in.Source.AddrPort, localPort(good); got != want {
		t.Errorf("source: got %v, want %v", got, want)
	}
	// The 400 path on a stream: answered over the same connection.
	if _, err := good.Write([]byte("OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	good.SetReadDeadline(time.Now().Add(wait))
	resp, _, err := sipmsg.NewReader(good, nil).Read()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.StatusCode, 400; got != want {
		t.Errorf("status: got %v, want %v", got, want)
	}
	if got, want := resp.Reason, "Missing Call-ID header"; got != want {
		t.Errorf("reason: got %v, want %v", got, want)
	}
}

// TestPingAnsweredWithPong: RFC 5626 §4.4.1.
func TestPingAnsweredWithPong(t *testing.T) {
	for _, proto := range []Protocol{TCP, TLS} {
		t.Run(proto.String(), func(t *testing.T) {
			cfg := Config{TLSConfig: tlsConfig(t, true)}
			b := newEndpoint(t, proto, "127.0.0.1", cfg)
			c := dialRaw(t, b.addr(proto))
			var rw io.ReadWriter = c
			if proto == TLS {
				rw = tlsClient(t, c)
			}
			for range 2 {
				if _, err := rw.Write([]byte("\r\n\r\n")); err != nil {
					t.Fatal(err)
				}
				c.SetReadDeadline(time.Now().Add(wait))
				got := make([]byte, 2)
				if _, err := io.ReadFull(rw, got); err != nil {
					t.Fatal(err)
				}
				if string(got) != "\r\n" {
					t.Errorf("got %q, want %q", got, "\r\n")
				}
			}
			if got, want := b.Stats().PingsAnswered, uint64(2); got != want {
				t.Errorf("pings answered: got %v, want %v", got, want)
			}
		})
	}
}

// TestDeadConnectionDetected: a peer that never answers a ping is declared
// dead after KeepaliveTimeout and reported.
func TestDeadConnectionDetected(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	a := newEndpoint(t, TCP, "127.0.0.1", Config{KeepaliveTimeout: 50 * time.Millisecond})
	dst := Addr{Protocol: TCP, AddrPort: ln.Addr().(*net.TCPAddr).AddrPort()}
	if err := a.Keepalive(context.Background(), dst); !errors.Is(err, ErrNoConnection) {
		t.Errorf("keepalive without a connection: got %v, want %v", err, ErrNoConnection)
	}
	if err := a.Send(context.Background(), newRequest(a.Manager, TCP), dst); err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	defer peer.Close()
	if err := a.Keepalive(context.Background(), dst); err != nil {
		t.Fatal(err)
	}
	got := a.connClosed(t)
	if !errors.Is(got.err, ErrKeepaliveTimeout) {
		t.Errorf("reason: got %v, want %v", got.err, ErrKeepaliveTimeout)
	}
	// The silent peer saw the request and the ping.
	peer.SetReadDeadline(time.Now().Add(wait))
	br := bufio.NewReader(peer)
	m, _, err := sipmsg.NewReader(br, nil).Read()
	if err != nil || m.Method != "OPTIONS" {
		t.Errorf("peer read: got %v %v, want OPTIONS", m, err)
	}
}

// TestKeepaliveAnswered: a ping to a Manager gets its pong and the
// connection stays up.
func TestKeepaliveAnswered(t *testing.T) {
	b := newEndpoint(t, TCP, "127.0.0.1", Config{})
	a := newEndpoint(t, TCP, "127.0.0.1", Config{})
	dst := b.addr(TCP)
	if err := a.Send(context.Background(), newRequest(a.Manager, TCP), dst); err != nil {
		t.Fatal(err)
	}
	b.recv(t)
	if err := a.Keepalive(context.Background(), dst); err != nil {
		t.Fatal(err)
	}
	// A request after the ping arrives after the pong went back.
	if err := a.Send(context.Background(), newRequest(a.Manager, TCP), dst); err != nil {
		t.Fatal(err)
	}
	b.recv(t)
	if got, want := b.Stats().PingsAnswered, uint64(1); got != want {
		t.Errorf("pings answered: got %v, want %v", got, want)
	}
}

func TestUDPKeepalive(t *testing.T) {
	a := newEndpoint(t, UDP, "127.0.0.1", Config{})
	peer := rawUDP(t, "127.0.0.1")
	if err := a.Keepalive(context.Background(), Addr{Protocol: UDP, AddrPort: localPort(peer)}); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 16)
	n, from, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(buf[:n]), "\r\n\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := from, a.LocalAddr(UDP); got != want {
		t.Errorf("from: got %v, want %v", got, want)
	}
	// A keepalive datagram sent to a Manager is ignored, not counted.
	if _, err := peer.WriteToUDPAddrPort([]byte("\r\n\r\n"), a.LocalAddr(UDP)); err != nil {
		t.Fatal(err)
	}
	req := newRequest(a.Manager, UDP)
	if _, err := peer.WriteToUDPAddrPort([]byte(req.String()), a.LocalAddr(UDP)); err != nil {
		t.Fatal(err)
	}
	a.recv(t)
	if got := a.Stats(); got.Dropped != 0 || got.ParseErrors != 0 {
		t.Errorf("stats: got %+v, want nothing dropped", got)
	}
}

// TestMaxConns: a connection accepted while MaxConns are open is closed at
// once and counted; those open go on carrying messages, and once one of
// them closes a new connection is taken again.
func TestMaxConns(t *testing.T) {
	b := newEndpoint(t, TCP, "127.0.0.1", Config{MaxConns: 2})
	a := New(Config{Logger: quietLog})
	defer a.Close()
	send := func(c net.Conn) {
		t.Helper()
		if _, err := c.Write([]byte(newRequest(a, TCP).String())); err != nil {
			t.Fatal(err)
		}
		if in := b.recv(t); in.Source.AddrPort != localPort(c) {
			t.Errorf("source: got %v, want %v", in.Source.AddrPort, localPort(c))
		}
	}
	first, second := dialRaw(t, b.addr(TCP)), dialRaw(t, b.addr(TCP))
	send(first) // both are registered once a message of each came through
	send(second)
	readUntilEOF(t, dialRaw(t, b.addr(TCP)))
	if got := b.Stats().ConnsRefused; got != 1 {
		t.Errorf("ConnsRefused: got %d, want 1", got)
	}
	send(first)
	first.Close()
	b.connClosed(t)
	send(dialRaw(t, b.addr(TCP)))
}

package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"testing"

	"github.com/xphone-go/xphone/internal/leakcheck"
	"github.com/xphone-go/xphone/sipmsg"
)

// TestRequestResponse sends a request from a to b and the response back,
// over every transport and address family, then a second request over the
// same connection and an in-dialog request from b back to a over the
// connection the first one came in on.
func TestRequestResponse(t *testing.T) {
	for _, proto := range []Protocol{UDP, TCP, TLS} {
		for _, host := range hosts() {
			t.Run(proto.String()+"/"+host, func(t *testing.T) {
				var cfg Config
				if proto == TLS {
					cfg.TLSConfig = tlsConfig(t, true)
				}
				a := newEndpoint(t, proto, host, cfg)
				b := newEndpoint(t, proto, host, cfg)
				ctx := context.Background()

				req := newRequest(a.Manager, proto)
				if err := a.Send(ctx, req, b.addr(proto)); err != nil {
					t.Fatal(err)
				}
				in := b.recv(t)
				if got, want := in.Msg.CallID(), req.CallID(); got != want {
					t.Errorf("Call-ID: got %v, want %v", got, want)
				}
				if got, want := in.Source.Protocol, proto; got != want {
					t.Errorf("source protocol: got %v, want %v", got, want)
				}
				if got, want := in.Local, b.LocalAddr(proto); proto == UDP && got != want {
					t.Errorf("local: got %v, want %v", got, want)
				}
				v, err := in.Msg.Via()
				if err != nil {
					t.Fatal(err)
				}
				if got, want := v.Received(), netip.MustParseAddr(host).String(); got != want {
					t.Errorf("received: got %v, want %v", got, want)
				}
				if got, _ := v.RPort(); got != int(in.Source.AddrPort.Port()) {
					t.Errorf("rport: got %v, want %v", got, in.Source.AddrPort.Port())
				}

				resp := sipmsg.NewResponse(in.Msg, 200, "")
				if err := b.Send(ctx, resp, in.Source); err != nil {
					t.Fatal(err)
				}
				back := a.recv(t)
				if got, want := back.Msg.StatusCode, 200; got != want {
					t.Errorf("status: got %v, want %v", got, want)
				}

				// Second request: same connection on streams.
				if err := a.Send(ctx, newRequest(a.Manager, proto), b.addr(proto)); err != nil {
					t.Fatal(err)
				}
				in2 := b.recv(t)
				if proto.Reliable() {
					if got, want := in2.Source.ConnID, in.Source.ConnID; got != want {
						t.Errorf("second request ConnID: got %v, want %v", got, want)
					}
					if got, want := back.Source.ConnID, uint64(0); got == want {
						t.Errorf("response ConnID: got %v, want non-zero", got)
					}
				}

				// In-dialog request from b to a over the connection the
				// dialog came in on (a listens elsewhere, but the
				// connection a dialed carries it).
				if err := b.Send(ctx, newRequest(b.Manager, proto), in.Source); err != nil {
					t.Fatal(err)
				}
				in3 := a.recv(t)
				if proto.Reliable() && in3.Source.ConnID != back.Source.ConnID {
					t.Errorf("in-dialog request ConnID: got %v, want %v", in3.Source.ConnID, back.Source.ConnID)
				}
				if proto.Reliable() {
					for _, e := range []*endpoint{a, b} {
						if got, want := e.Stats().ConnsOpened, uint64(1); got != want {
							t.Errorf("connections opened: got %v, want %v", got, want)
						}
					}
				}
				if got, want := b.Stats().Received, uint64(2); got != want {
					t.Errorf("b received: got %v, want %v", got, want)
				}
			})
		}
	}
}

// TestTLSVerification dials a TLS listener with and without the CA that
// signed its certificate.
func TestTLSVerification(t *testing.T) {
	server := newEndpoint(t, TLS, "127.0.0.1", Config{TLSConfig: tlsConfig(t, true)})
	tests := []struct {
		name       string
		cfg        Config
		serverName string
		ok         bool
	}{
		{"system pool only", Config{TLSConfig: tlsConfig(t, false)}, "", false},
		{"nil config", Config{}, "", false},
		{"test CA", Config{TLSConfig: tlsConfig(t, true)}, "", true},
		{"test CA, server name", Config{TLSConfig: tlsConfig(t, true)}, "sip.test", true},
		{"test CA, wrong name", Config{TLSConfig: tlsConfig(t, true)}, "other.test", false},
		{"insecure for labs", Config{InsecureSkipTLSVerifyForLabsOnly: true}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proto := TLS
			if tt.cfg.TLSConfig == nil {
				proto = UDP // no certificate to listen with; dialing needs none
			}
			client := newEndpoint(t, proto, "127.0.0.1", tt.cfg)
			dst := server.addr(TLS)
			dst.ServerName = tt.serverName
			err := client.Send(context.Background(), newRequest(client.Manager, TLS), dst)
			if tt.ok {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				server.recv(t)
				return
			}
			var verr *tls.CertificateVerificationError
			if !errors.As(err, &verr) {
				t.Fatalf("got %v, want a certificate verification error", err)
			}
		})
	}
}

func TestListenTLSWithoutCertificate(t *testing.T) {
	m := New(Config{Logger: quietLog})
	defer m.Close()
	if err := m.Listen(context.Background(), TLS, "127.0.0.1:0"); err == nil {
		t.Errorf("got nil, want an error")
	}
}

func TestViaUsesBoundPort(t *testing.T) {
	e := newEndpoint(t, UDP, "127.0.0.1", Config{})
	v := e.Via(UDP, "z9hG4bKx")
	la := e.LocalAddr(UDP)
	if got, want := v.String(), "SIP/2.0/UDP 127.0.0.1:"+strconv.Itoa(int(la.Port()))+";branch=z9hG4bKx;rport"; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSendAfterClose(t *testing.T) {
	a := newEndpoint(t, UDP, "127.0.0.1", Config{})
	b := newEndpoint(t, TCP, "127.0.0.1", Config{})
	if err := a.Listen(context.Background(), TCP, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(context.Background(), newRequest(a.Manager, TCP), b.addr(TCP)); err != nil {
		t.Fatal(err)
	}
	b.recv(t)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for _, proto := range []Protocol{UDP, TCP} {
		if err := a.Send(context.Background(), newRequest(a.Manager, proto), b.addr(proto)); !errors.Is(err, ErrClosed) {
			t.Errorf("%v: got %v, want %v", proto, err, ErrClosed)
		}
	}
	// b hears that a's connection went away.
	if got := b.connClosed(t); got.err == nil {
		t.Errorf("got nil reason, want one")
	}
}

// TestCloseStopsEverything closes Managers with listeners of every kind and
// connections accepted and dialed open, and checks that no goroutine
// survives and that no OnConnClosed is reported for them.
func TestCloseStopsEverything(t *testing.T) {
	leakcheck.Check(t)
	cfg := Config{TLSConfig: tlsConfig(t, true)}
	a := newEndpoint(t, 0, "", cfg)
	b := newEndpoint(t, 0, "", cfg)
	for _, e := range []*endpoint{a, b} {
		for _, proto := range []Protocol{UDP, TCP, TLS} {
			if err := e.Listen(context.Background(), proto, "127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, proto := range []Protocol{UDP, TCP, TLS} {
		if err := a.Send(context.Background(), newRequest(a.Manager, proto), b.addr(proto)); err != nil {
			t.Fatal(err)
		}
		b.recv(t)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	select {
	case c := <-a.closed:
		t.Errorf("reported %+v for a connection Close ended", c)
	default:
	}
}

// TestClosedConnectionReplaced: a send to a connection that the far side
// has closed, named by its ConnID, goes over a new connection.
func TestClosedConnectionReplaced(t *testing.T) {
	a := newEndpoint(t, TCP, "127.0.0.1", Config{})
	b := newEndpoint(t, TCP, "127.0.0.1", Config{})
	if err := a.Send(context.Background(), newRequest(a.Manager, TCP), b.addr(TCP)); err != nil {
		t.Fatal(err)
	}
	in := b.recv(t)
	c := b.openConn(in.Source)
	c.closeWith(errors.New("test"))
	// a's reader sees the close; b still has the address of a's listener.
	if got := a.connClosed(t); !errors.Is(got.err, io.EOF) {
		t.Errorf("reason: got %v, want %v", got.err, io.EOF)
	}
	dst := Addr{Protocol: TCP, AddrPort: a.LocalAddr(TCP), ConnID: in.Source.ConnID}
	if err := b.Send(context.Background(), newRequest(b.Manager, TCP), dst); err != nil {
		t.Fatal(err)
	}
	a.recv(t)
	if got, want := b.Stats().ConnsOpened, uint64(2); got != want {
		t.Errorf("b connections opened: got %v, want %v", got, want)
	}
}

// TestDualStackUDP: a listener bound to "::" hears IPv4 peers as IPv4 (not
// IPv4-mapped IPv6) and answers them.
func TestDualStackUDP(t *testing.T) {
	if len(hosts()) < 2 {
		t.Skip("no IPv6 loopback on this machine")
	}
	a := newEndpoint(t, UDP, "127.0.0.1", Config{})
	b := newEndpoint(t, UDP, "::", Config{})
	dst := Addr{Protocol: UDP, AddrPort: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), b.LocalAddr(UDP).Port())}
	if err := a.Send(context.Background(), newRequest(a.Manager, UDP), dst); err != nil {
		t.Fatal(err)
	}
	in := b.recv(t)
	if got, want := in.Source.AddrPort, a.LocalAddr(UDP); got != want {
		t.Errorf("source: got %v, want %v", got, want)
	}
	if err := b.Send(context.Background(), sipmsg.NewResponse(in.Msg, 200, ""), in.Source); err != nil {
		t.Fatal(err)
	}
	if got := a.recv(t); got.Msg.StatusCode != 200 {
		t.Errorf("status: got %v, want 200", got.Msg.StatusCode)
	}
}

// TestConcurrentSendsShareOneDial: sends racing to a new destination open
// one connection between them.
func TestConcurrentSendsShareOneDial(t *testing.T) {
	cfg := Config{TLSConfig: tlsConfig(t, true)}
	a := newEndpoint(t, TLS, "127.0.0.1", cfg)
	b := newEndpoint(t, TLS, "127.0.0.1", cfg)
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() { errs <- a.Send(context.Background(), newRequest(a.Manager, TLS), b.addr(TLS)) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		b.recv(t)
	}
	if got, want := a.Stats().ConnsOpened, uint64(1); got != want {
		t.Errorf("connections opened: got %v, want %v", got, want)
	}
}

package transport

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// wait bounds every wait for an event; nothing is asserted about time.
const wait = 10 * time.Second

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// endpoint is a Manager under test with channels for what it hears.
type endpoint struct {
	*Manager
	in     chan Inbound
	closed chan closedConn
}

type closedConn struct {
	remote Addr
	err    error
}

// newEndpoint starts a Manager listening on host for proto with cfg,
// recording inbound messages and closed connections.
func newEndpoint(t testing.TB, proto Protocol, host string, cfg Config) *endpoint {
	t.Helper()
	e := &endpoint{in: make(chan Inbound, 64), closed: make(chan closedConn, 16)}
	if cfg.Handler == nil {
		cfg.Handler = func(in Inbound) { e.in <- in }
	}
	if cfg.OnConnClosed == nil {
		cfg.OnConnClosed = func(a Addr, err error) { e.closed <- closedConn{a, err} }
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLog
	}
	e.Manager = New(cfg)
	if proto != 0 {
		if err := e.Listen(context.Background(), proto, net.JoinHostPort(host, "0")); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func (e *endpoint) addr(proto Protocol) Addr {
	return Addr{Protocol: proto, AddrPort: e.LocalAddr(proto)}
}

func (e *endpoint) recv(t testing.TB) Inbound {
	t.Helper()
	select {
	case in := <-e.in:
		return in
	case <-time.After(wait):
		t.Fatal("no message received")
		return Inbound{}
	}
}

func (e *endpoint) connClosed(t testing.TB) closedConn {
	t.Helper()
	select {
	case c := <-e.closed:
		return c
	case <-time.After(wait):
		t.Fatal("no connection closed")
		return closedConn{}
	}
}

var branchSeq atomic.Uint64

// newRequest builds a valid OPTIONS from m over proto.
func newRequest(m *Manager, proto Protocol) *sipmsg.Message {
	uri, _ := sipmsg.ParseURI("sip:bob@example.com")
	req := sipmsg.NewRequest("OPTIONS", uri)
	req.PrependVia(m.Via(proto, "z9hG4bK"+strconv.FormatUint(branchSeq.Add(1), 10)))
	req.Add("Max-Forwards", "70")
	req.Add("From", "<sip:alice@example.com>;tag=a1")
	req.Add("To", "<sip:bob@example.com>")
	req.Add("Call-ID", "call-"+strconv.FormatUint(branchSeq.Add(1), 10))
	req.Add("CSeq", "1 OPTIONS")
	req.SetContentLength()
	return req
}

var (
	ipv6Once sync.Once
	ipv6OK   bool
)

// hosts returns the loopback hosts to test: 127.0.0.1, and ::1 when the
// machine has it (checked once).
func hosts() []string {
	ipv6Once.Do(func() {
		c, err := net.ListenPacket("udp", "[::1]:0")
		if err == nil {
			c.Close()
			ipv6OK = true
		}
	})
	if ipv6OK {
		return []string{"127.0.0.1", "::1"}
	}
	return []string{"127.0.0.1"}
}

// testPKI is a CA and a server certificate for 127.0.0.1, ::1 and
// "sip.test", generated once.
type testPKI struct {
	roots *x509.CertPool
	cert  tls.Certificate
}

var (
	pkiOnce sync.Once
	pki     testPKI
	pkiErr  error
)

func getPKI(t testing.TB) testPKI {
	t.Helper()
	pkiOnce.Do(func() { pki, pkiErr = makePKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pki
}

func makePKI() (testPKI, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return testPKI{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "xphone test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return testPKI{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return testPKI{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return testPKI{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "sip.test"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     []string{"sip.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return testPKI{}, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return testPKI{
		roots: roots,
		cert:  tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
	}, nil
}

// tlsConfig returns a config with the test certificate that trusts the test
// CA when trust is set (and only the system pool otherwise).
func tlsConfig(t testing.TB, trust bool) *tls.Config {
	p := getPKI(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{p.cert}}
	if trust {
		cfg.RootCAs = p.roots
	}
	return cfg
}

// rawUDP is a plain UDP socket playing a peer.
func rawUDP(t testing.TB, host string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(host), 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func localPort(c net.Conn) netip.AddrPort {
	switch a := c.LocalAddr().(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

// readDatagram reads one datagram, with a deadline, and parses it.
func readDatagram(t testing.TB, c *net.UDPConn) *sipmsg.Message {
	t.Helper()
	buf := make([]byte, 65536)
	c.SetReadDeadline(time.Now().Add(wait))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sipmsg.Parse(buf[:n])
	if err != nil {
		t.Fatalf("parse %q: %v", buf[:n], err)
	}
	return m
}

// tlsClient runs a TLS client handshake over c trusting the test CA.
func tlsClient(t testing.TB, c net.Conn) *tls.Conn {
	t.Helper()
	tc := tls.Client(c, &tls.Config{RootCAs: getPKI(t).roots, ServerName: "127.0.0.1"})
	c.SetDeadline(time.Now().Add(wait))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Time{})
	return tc
}

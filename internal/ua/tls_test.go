package ua

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
)

// testTLS returns a TLS config holding a certificate for 127.0.0.1 signed by
// a CA made for the test, and trusting only that CA.
func testTLS(t *testing.T) *tls.Config {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "xphone test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}},
		RootCAs:      pool,
		MinVersion:   tls.VersionTLS12,
	}
}

func TestTLSCallSIPSReusesConnection(t *testing.T) {
	cfg := testTLS(t)
	incoming := make(chan *Call, 1)
	b := newPhone(t, transport.TLS, func(c *Config) {
		c.TLSConfig = cfg.Clone()
		c.OnIncoming = acceptInto(t, incoming)
	})
	a := newPhone(t, transport.TLS, func(c *Config) { c.TLSConfig = cfg.Clone() })
	host, port := b.LocalAddr()
	ca, cb := dialAccepted(t, a, b, incoming, transport.TLS, fmt.Sprintf("sips:callee@%s:%d", host, port))
	checkAudio(t, ca, cb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// In-dialog requests both ways: a re-INVITE from the caller, a BYE
	// from the callee.
	if err := ca.Hold(ctx); err != nil {
		t.Fatalf("Hold: %v", err)
	}
	endBoth(t, cb, ca)
	for _, tc := range []struct {
		name string
		u    *UA
	}{{"caller", a}, {"callee", b}} {
		_, tm := tc.u.layer()
		if got, want := tm.Stats().ConnsOpened, uint64(1); got != want {
			t.Errorf("%s: TLS connections opened: got %d, want %d", tc.name, got, want)
		}
	}
	ca.mu.Lock()
	contact := ca.dlg.LocalContact.URI
	ca.mu.Unlock()
	if got, want := contact.Scheme, "sips"; got != want {
		t.Errorf("caller Contact scheme: got %q, want %q", got, want)
	}
}

func TestTLSRefusesUntrustedPeer(t *testing.T) {
	incoming := make(chan *Call, 1)
	b := newPhone(t, transport.TLS, func(c *Config) {
		c.TLSConfig = testTLS(t)
		c.OnIncoming = acceptInto(t, incoming)
	})
	a := newPhone(t, transport.TLS, func(c *Config) { c.TLSConfig = testTLS(t) }) // another CA
	host, port := b.LocalAddr()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.Dial(ctx, fmt.Sprintf("sips:callee@%s:%d", host, port), DialOptions{}); err == nil {
		t.Fatal("Dial to a peer with an untrusted certificate: got nil error, want one")
	}
}

// TestTLSRegisterRefreshUnregister: over TLS (a CA made in the test) the UA
// registers a sips: Contact at a sips: Request-URI with digest, refreshes
// over the same connection with the same Call-ID and a higher CSeq, and
// Disconnect removes the binding.
func TestTLSRegisterRefreshUnregister(t *testing.T) {
	cfg := testTLS(t)
	f := startFakeTLS(t, transport.TLS, "127.0.0.1:0", 60, cfg.Clone())
	events := make(chan string, 16)
	g := newGate()
	u := fakeUA(f, events, func(c *Config) {
		c.TLSConfig = cfg.Clone()
		c.schedule = g.schedule
	})
	t.Cleanup(func() {
		g.stop()
		if u.Connected() {
			u.Disconnect(context.Background())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	waitEvent(t, events, "registered")
	authorized := func() seenRegister {
		t.Helper()
		for {
			r := f.nextRegister(t)
			if r.msg.Get("Authorization") != "" {
				return r
			}
		}
	}
	first := authorized()
	host, port := u.LocalAddr()
	want := fmt.Sprintf("sips:alice@%s:%d", host, port)
	c, _ := first.msg.Contact()
	if got := first.msg.RequestURI.Scheme; got != "sips" {
		t.Errorf("Request-URI scheme: got %q, want %q", got, "sips")
	}
	if got := c.URI.String(); got != want {
		t.Errorf("Contact: got %s, want %s", got, want)
	}
	if got := f.bindingURIs(); len(got) != 1 || got[0] != want {
		t.Fatalf("bindings: got %v, want [%s]", got, want)
	}
	g.refresh()
	second := authorized()
	cs1, _ := first.msg.CSeq()
	cs2, _ := second.msg.CSeq()
	if second.msg.CallID() != first.msg.CallID() || cs2.Seq <= cs1.Seq {
		t.Errorf("refresh: got Call-ID %s CSeq %d, want Call-ID %s and CSeq above %d",
			second.msg.CallID(), cs2.Seq, first.msg.CallID(), cs1.Seq)
	}
	if second.from != first.from {
		t.Errorf("refresh came from %s, want the first connection's %s", second.from, first.from)
	}
	_, tm := u.layer()
	if got, want := tm.Stats().ConnsOpened, uint64(1); got != want {
		t.Errorf("TLS connections opened: got %d, want %d", got, want)
	}
	g.stop()
	if err := u.Disconnect(ctx); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	waitEvent(t, events, "unregistered")
	if got := f.bindingURIs(); len(got) != 0 {
		t.Errorf("bindings after Disconnect: got %v, want none", got)
	}
}

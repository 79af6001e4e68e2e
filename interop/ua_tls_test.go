//go:build interop

package interop

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/audiotest"
)

//go:embed testdata/kamailio-tls.cfg.tmpl
var kamailioTLSCfg string

// testPKI is a CA made for one test, valid for an hour.
type testPKI struct {
	ca    *x509.Certificate
	key   *ecdsa.PrivateKey
	caPEM []byte
	pool  *x509.CertPool // trusts ca only
	next  int64          // serial of the next certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "xphone interop CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &testPKI{ca: ca, key: key, pool: pool, next: 2,
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf issues a server-and-client certificate for 127.0.0.1 (IP SAN) and
// returns it as PEM (certificate, PKCS #8 key) and as a tls.Certificate.
func (p *testPKI) leaf(t *testing.T, cn string) (certPEM, keyPEM []byte, cert tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.next), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	p.next++
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM, cert
}

// startKamailioTLS starts Kamailio with a TLS listener whose certificate
// (for 127.0.0.1) pki issued.
func startKamailioTLS(t *testing.T, pki *testPKI) *kamailio {
	t.Helper()
	return startKamailioWith(t, kamailioOptions{tls: func(dir string) {
		certPEM, keyPEM, _ := pki.leaf(t, "kamailio")
		writeFile(t, filepath.Join(dir, "kamailio-cert.pem"), string(certPEM))
		writeFile(t, filepath.Join(dir, "kamailio-key.pem"), string(keyPEM))
		writeFile(t, filepath.Join(dir, "ca.pem"), string(pki.caPEM))
		writeFile(t, filepath.Join(dir, "tls.cfg"), expand(t, kamailioTLSCfg, map[string]string{"WORKDIR": dir}))
	}})
}

// tlsPhone returns a phone registered with k over TLS as user. With a
// certificate in tc it also listens for TLS on listen (Kamailio connects
// there to deliver calls); without one it only dials out.
func tlsPhone(t *testing.T, k *kamailio, user, listen string, tc *tls.Config, errs chan<- error) xphone.Phone {
	t.Helper()
	return registeredPhone(t, k, user, errs, func(c *xphone.Config) {
		c.Port, c.Transport, c.TLSConfig, c.ListenAddr = k.tlsPort, "tls", tc, listen
	})
}

// TestUAKamailioTLS: Kamailio listens for TLS with a certificate for
// 127.0.0.1 from a CA made by the test; our phones trust only that CA.
// 1001 (a TLS client without certificate) registers with digest auth and
// its binding in usrloc is a sips: Contact on Kamailio's TLS socket; 1002 registers the
// same way but holds a certificate and listens for TLS, so Kamailio can
// open a connection to its Contact. 1001 calls 1002 through Kamailio:
// the INVITE reaches 1002 over TLS, tones pass both ways, and after the
// call Disconnect removes 1001's binding.
func TestUAKamailioTLS(t *testing.T) {
	pki := newTestPKI(t)
	k := startKamailioTLS(t, pki)
	errs := make(chan error, 8)
	socket := fmt.Sprintf("tls:127.0.0.1:%d", k.tlsPort)

	a := tlsPhone(t, k, "1001", "", &tls.Config{RootCAs: pki.pool}, errs)
	eventually(t, 5*time.Second, "1001's binding over TLS in usrloc", func() error {
		if err := k.registered(t, "1001", "Address: sips:1001@127.0.0.1:"); err != nil {
			return err
		}
		return k.registered(t, "1001", socket)
	})

	_, _, cert := pki.leaf(t, "1002")
	b := tlsPhone(t, k, "1002", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		&tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{cert}}, errs)
	eventually(t, 5*time.Second, "1002's binding over TLS in usrloc", func() error { return k.registered(t, "1002", socket) })
	incoming := make(chan xphone.Call, 1)
	b.OnIncoming(func(c xphone.Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
		incoming <- c
	})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ca, err := a.Dial(ctx, "1002")
	if err != nil {
		t.Fatalf("Dial 1002 over TLS: %v", err)
	}
	var cb xphone.Call
	select {
	case cb = <-incoming:
	case <-ctx.Done():
		t.Fatal("the call did not reach 1002")
	}
	if via := cb.Header("Via"); len(via) == 0 || !strings.HasPrefix(via[0], "SIP/2.0/TLS ") {
		t.Errorf("INVITE at 1002: got top Via %q, want Kamailio's SIP/2.0/TLS", via)
	}
	go toneTo(ca, 440)
	go toneTo(cb, 1000)
	hearTone(t, cb, 440)  // 1002 hears 1001
	hearTone(t, ca, 1000) // 1001 hears 1002
	if err := ca.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	select {
	case <-cb.Context().Done():
	case <-ctx.Done():
		t.Fatal("1002's call did not end on the BYE")
	}

	if err := a.Disconnect(ctx); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	eventually(t, 5*time.Second, "1001's binding removed", func() error {
		if k.registered(t, "1001", socket) == nil {
			return errStillRegistered
		}
		return nil
	})
	select {
	case err := <-errs:
		t.Errorf("phone error: %v", err)
	default:
	}
}

// TestUAKamailioTLSBaresip: baresip registers with Kamailio over TLS (its
// sip_cafile is the test's CA) and listens for TLS with a certificate
// from that CA; our phone, registered over TLS too, calls it through
// Kamailio, which opens TLS to baresip's Contact. Tones pass both ways.
func TestUAKamailioTLSBaresip(t *testing.T) {
	pki := newTestPKI(t)
	k := startKamailioTLS(t, pki)
	errs := make(chan error, 8)
	dir := t.TempDir()
	certPEM, keyPEM, _ := pki.leaf(t, "baresip")
	certFile, caFile := filepath.Join(dir, "baresip.pem"), filepath.Join(dir, "ca.pem")
	writeFile(t, certFile, string(certPEM)+string(keyPEM))
	writeFile(t, caFile, string(pki.caPEM))
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", k.tlsPort)
	b := startBaresip(t, baresipOptions{user: "1001", registrar: tlsAddr, transport: "tls",
		codecs: "PCMU", toneHz: 440, sipCert: certFile, caFile: caFile})
	socket := fmt.Sprintf("tls:127.0.0.1:%d", k.tlsPort)
	eventually(t, 10*time.Second, "baresip's binding over TLS in usrloc", func() error {
		if err := k.registered(t, "1001", fmt.Sprintf("127.0.0.1:%d;transport=tls", b.sipPort+1)); err != nil {
			return err // its Contact: the TLS listener, on the SIP port + 1
		}
		return k.registered(t, "1001", socket)
	})

	p := tlsPhone(t, k, "1002", "", &tls.Config{RootCAs: pki.pool}, errs)
	ctl := dialBaresipCtl(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := p.Dial(ctx, "1001")
	if err != nil {
		t.Fatalf("Dial baresip over TLS: %v", err)
	}
	ctl.waitEvent(t, "CALL_ESTABLISHED", 10*time.Second)
	go toneTo(c, 1000)
	hearTone(t, c, 440) // we hear baresip
	hear(t, c, 100)     // two more seconds of our tone into baresip's recording
	if err := c.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	ctl.waitEvent(t, "CALL_CLOSED", 10*time.Second)
	s, _, _ := b.decodedRecording(t, 1500*time.Millisecond)
	if err := audiotest.CheckTone(s[4000:len(s)-1600], 8000, 1000, 10); err != nil {
		t.Errorf("baresip heard: %v", err)
	}
	select {
	case err := <-errs:
		t.Errorf("phone error: %v", err)
	default:
	}
}

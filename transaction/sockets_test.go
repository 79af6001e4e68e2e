package transaction

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
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// This file runs the layer over real sockets: a transport.Manager per side
// on loopback, UDP, TCP and TLS, IPv4 and IPv6.

// sockWait bounds every wait for an event on real sockets; nothing is
// asserted about time.
const sockWait = 10 * time.Second

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// sockUA is a minimal UA core for the socket tests: it answers OPTIONS,
// INVITE (180, then 200 with a Contact) and BYE with 200, and reports the
// ACKs for its 2xx responses on acks.
type sockUA struct {
	contact string
	tag     string
	acks    chan *sipmsg.Message

	mu      sync.Mutex
	methods []string
}

func (u *sockUA) HandleRequest(tx *ServerTx) {
	req := tx.Request()
	u.mu.Lock()
	u.methods = append(u.methods, req.Method)
	contact := u.contact
	u.mu.Unlock()
	if req.Method == "INVITE" {
		r := sipmsg.NewResponse(req, 180, "")
		_ = r.SetToTag(u.tag)
		_ = tx.Respond(r)
	}
	r := sipmsg.NewResponse(req, 200, "")
	_ = r.SetToTag(u.tag)
	if req.Method == "INVITE" {
		r.Add("Contact", contact)
	}
	_ = tx.Respond(r)
}

func (u *sockUA) HandleOutside(in transport.Inbound) {
	if in.Msg.IsRequest() && in.Msg.Method == "ACK" {
		select {
		case u.acks <- in.Msg:
		default:
		}
	}
}

func (u *sockUA) HandleServerError(*ServerTx, error) {}

// sockNode is one SIP element on real sockets: a Manager listening on one
// transport and a Layer above it.
type sockNode struct {
	m     *transport.Manager
	l     *Layer
	ua    *sockUA
	proto transport.Protocol
}

// newSockNode listens on host (port 0) for proto; tlsConf is needed for
// TLS. T1 is short so that every wait timer ends within a second and the
// test can watch the layer empty itself.
func newSockNode(t testing.TB, proto transport.Protocol, host string, tlsConf *tls.Config) *sockNode {
	t.Helper()
	n := &sockNode{ua: &sockUA{tag: "uas1", acks: make(chan *sipmsg.Message, 4)}, proto: proto}
	var l *Layer
	n.m = transport.New(transport.Config{
		Handler:   func(in transport.Inbound) { l.HandleInbound(in) },
		Logger:    quiet,
		TLSConfig: tlsConf,
	})
	l = New(n.m, n.ua, Config{T1: 10 * time.Millisecond, T4: 50 * time.Millisecond, Logger: quiet})
	n.l = l
	if err := n.m.Listen(context.Background(), proto, net.JoinHostPort(host, "0")); err != nil {
		_ = n.m.Close()
		t.Fatalf("listen %v on %s: %v", proto, host, err)
	}
	local := n.m.LocalAddr(proto)
	n.ua.mu.Lock() // the handler may already run: the kernel is no happens-before edge for -race
	n.ua.contact = "<" + sipURI("uas", local, proto).String() + ">"
	n.ua.mu.Unlock()
	t.Cleanup(func() {
		_ = n.l.Close()
		_ = n.m.Close()
	})
	return n
}

func (n *sockNode) addr() transport.Addr {
	return transport.Addr{Protocol: n.proto, AddrPort: n.m.LocalAddr(n.proto)}
}

func sipURI(user string, ap netip.AddrPort, proto transport.Protocol) sipmsg.URI {
	u := sipmsg.URI{Scheme: "sip", User: user, Host: ap.Addr().String(), Port: int(ap.Port())}
	if proto != transport.UDP {
		u.Params = sipmsg.Params("transport=" + proto.String())
	}
	return u
}

// dialog is what a UAC keeps of a call: enough to build the ACK and BYE.
type dialog struct {
	callID, fromTag string
	seq             int
}

// newRequest builds an out-of-dialog or in-dialog request from n to dst
// (RFC 3261 §8.1.1) with a fresh branch in a Via naming n's listener.
func (n *sockNode) newRequest(method string, dst transport.Addr, d *dialog, toTag string) *sipmsg.Message {
	uri := sipURI("uas", dst.AddrPort, dst.Protocol)
	req := sipmsg.NewRequest(method, uri)
	req.PrependVia(n.m.Via(n.proto, n.l.NewBranch()))
	req.Add("Max-Forwards", "70")
	from := "<" + sipURI("uac", n.m.LocalAddr(n.proto), n.proto).String() + ">;tag=" + d.fromTag
	to := "<" + uri.String() + ">"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	req.Add("From", from)
	req.Add("To", to)
	req.Add("Call-ID", d.callID)
	req.Add("CSeq", strconv.Itoa(d.seq)+" "+method)
	req.Add("Contact", "<"+sipURI("uac", n.m.LocalAddr(n.proto), n.proto).String()+">")
	req.SetContentLength()
	return req
}

// finalResponse reads tx's responses up to the final one and returns it
// with the provisional codes seen before it.
func finalResponse(t testing.TB, tx *ClientTx) (*sipmsg.Message, []int) {
	t.Helper()
	var prov []int
	deadline := time.After(sockWait)
	for {
		select {
		case r, ok := <-tx.Responses():
			if !ok {
				t.Fatalf("%s: responses closed without a final one: %v", tx.Request().Method, tx.Err())
			}
			if r.StatusCode >= 200 {
				return r, prov
			}
			prov = append(prov, r.StatusCode)
		case <-deadline:
			t.Fatalf("%s: no final response within %v", tx.Request().Method, sockWait)
		}
	}
}

// selfSigned returns a TLS config holding a fresh self-signed ECDSA
// certificate for 127.0.0.1 and ::1 and trusting only that certificate.
func selfSigned(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "xphone transaction test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		RootCAs:      pool,
		MinVersion:   tls.VersionTLS12,
	}
}

// loopbackHosts returns the loopback addresses to test on; IPv6 only when
// the host has ::1 (a container may not).
func loopbackHosts(t *testing.T) []string {
	hosts := []string{"127.0.0.1"}
	if c, err := net.ListenPacket("udp6", "[::1]:0"); err == nil {
		c.Close()
		hosts = append(hosts, "::1")
	} else {
		t.Logf("no IPv6 loopback here (%v): testing IPv4 only", err)
	}
	return hosts
}

// TestSockets runs OPTIONS and a whole call (INVITE, 180, 200, ACK, BYE,
// 200) between two layers over real loopback sockets on every transport
// and address family, then waits for both layers to end every transaction.
func TestSockets(t *testing.T) {
	tlsConf := selfSigned(t)
	for _, host := range loopbackHosts(t) {
		for _, proto := range []transport.Protocol{transport.UDP, transport.TCP, transport.TLS} {
			t.Run(proto.String()+"/"+host, func(t *testing.T) {
				t.Parallel()
				uas := newSockNode(t, proto, host, tlsConf)
				uac := newSockNode(t, proto, host, tlsConf)
				dst := uas.addr()
				ctx := context.Background()

				// OPTIONS (RFC 3261 §11).
				d := &dialog{callID: uac.l.NewTag() + "@test", fromTag: uac.l.NewTag(), seq: 1}
				tx, err := uac.l.Request(ctx, uac.newRequest("OPTIONS", dst, d, ""), dst)
				if err != nil {
					t.Fatal(err)
				}
				if r, _ := finalResponse(t, tx); r.StatusCode != 200 {
					t.Fatalf("OPTIONS: got %d, want 200", r.StatusCode)
				}

				// INVITE → 180 → 200, ACK for the 2xx (§13.2.2.4).
				d = &dialog{callID: uac.l.NewTag() + "@test", fromTag: uac.l.NewTag(), seq: 1}
				tx, err = uac.l.Request(ctx, uac.newRequest("INVITE", dst, d, ""), dst)
				if err != nil {
					t.Fatal(err)
				}
				r, prov := finalResponse(t, tx)
				if r.StatusCode != 200 {
					t.Fatalf("INVITE: got %d, want 200", r.StatusCode)
				}
				if len(prov) == 0 || prov[len(prov)-1] != 180 {
					t.Errorf("INVITE provisional responses: got %v, want ending in 180", prov)
				}
				to, err := r.To()
				if err != nil || to.Tag() != "uas1" {
					t.Fatalf("200 To: got %q (%v), want tag uas1", r.Get("To"), err)
				}
				// In-dialog requests go over the connection the dialog came
				// in on (ConnID 0 for UDP).
				ack := uac.newRequest("ACK", dst, d, to.Tag())
				if err := uac.l.Send(ctx, ack, dst); err != nil {
					t.Fatal(err)
				}
				select {
				case a := <-uas.ua.acks:
					if a.CallID() != d.callID {
						t.Errorf("ACK Call-ID: got %q, want %q", a.CallID(), d.callID)
					}
				case <-time.After(sockWait):
					t.Fatal("UAS got no ACK")
				}

				// BYE → 200.
				d.seq++
				tx, err = uac.l.Request(ctx, uac.newRequest("BYE", dst, d, to.Tag()), dst)
				if err != nil {
					t.Fatal(err)
				}
				if r, _ := finalResponse(t, tx); r.StatusCode != 200 {
					t.Fatalf("BYE: got %d, want 200", r.StatusCode)
				}

				uas.ua.mu.Lock()
				got := uas.ua.methods
				uas.ua.mu.Unlock()
				if g := joinMethods(got); g != "OPTIONS,INVITE,BYE" {
					t.Errorf("UAS requests: got %s, want OPTIONS,INVITE,BYE", g)
				}
				// Timers K, J, L, M end every transaction (T1 = 10 ms).
				waitEmpty(t, uac.l)
				waitEmpty(t, uas.l)
			})
		}
	}
}

func joinMethods(ms []string) string {
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += ","
		}
		s += m
	}
	return s
}

// waitEmpty polls until l holds no transaction or sockWait passes.
func waitEmpty(t testing.TB, l *Layer) {
	t.Helper()
	deadline := time.Now().Add(sockWait)
	for {
		c, s := l.counts()
		if c == 0 && s == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("live transactions after %v: got %d client, %d server, want 0, 0", sockWait, c, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

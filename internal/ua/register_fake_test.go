package ua

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// fakeRegistrar is an in-test registrar on loopback UDP or TCP at a fixed
// address, so that a test can stop it and start a new one on the same port
// (a restart that loses every binding and every nonce). It challenges with
// digest, records each REGISTER with the connection it came on, counts
// double-CRLF keepalives, and answers pings with pongs when pong is set.
type fakeRegistrar struct {
	proto transport.Protocol
	addr  string
	srv   digest.Server
	grant int
	pong  bool
	// tls, when set, serves the stream listener over TLS.
	tls *tls.Config
	// nat, when set, is the source address the registrar reports in the
	// received and rport parameters of each answer's Via (RFC 3581 §4), as
	// if the UA sat behind a NAT.
	nat string
	// script, when set, may answer the nth authorized REGISTER (from 1)
	// in its place: nil means accept it; errDrop means do not answer.
	script func(n int, req *sipmsg.Message) *sipmsg.Message

	regs  chan seenRegister
	pings chan string // the remote address of each keepalive

	mu         sync.Mutex
	authorized int
	answered   map[string]*sipmsg.Message // by branch; nil when dropped
	bindings   map[string]string          // Contact URI → remote address
	conns      map[net.Conn]bool
	pc         *net.UDPConn
	ln         net.Listener
	wg         sync.WaitGroup
}

type seenRegister struct {
	msg  *sipmsg.Message
	from string // remote address: a new one on TCP means a new connection
}

// hangUp, returned by a script, leaves the REGISTER unanswered and closes
// its TCP connection.
var hangUp = sipmsg.NewResponse(sipmsg.NewRequest("REGISTER", sipmsg.URI{Scheme: "sip", Host: "x"}), 500, "hang up")

// drop, returned by a script, leaves the REGISTER unanswered.
var drop = sipmsg.NewResponse(sipmsg.NewRequest("REGISTER", sipmsg.URI{Scheme: "sip", Host: "x"}), 500, "drop")

func startFake(t *testing.T, proto transport.Protocol, addr string, grant int) *fakeRegistrar {
	t.Helper()
	return startFakeTLS(t, proto, addr, grant, nil)
}

// startFakeTLS is startFake with TLS over the stream listener when tlsConf
// is set.
func startFakeTLS(t *testing.T, proto transport.Protocol, addr string, grant int, tlsConf *tls.Config) *fakeRegistrar {
	t.Helper()
	f := &fakeRegistrar{
		tls:   tlsConf,
		proto: proto, addr: addr, grant: grant, pong: true,
		srv:      digest.Server{Realm: "test", Algorithms: []digest.Algorithm{digest.MD5}},
		regs:     make(chan seenRegister, 256),
		pings:    make(chan string, 256),
		bindings: map[string]string{},
		answered: map[string]*sipmsg.Message{},
		conns:    map[net.Conn]bool{},
	}
	f.start(t)
	t.Cleanup(f.stop)
	return f
}

func (f *fakeRegistrar) start(t *testing.T) {
	t.Helper()
	if f.proto == transport.UDP {
		ua, _ := net.ResolveUDPAddr("udp", f.addr)
		pc, err := net.ListenUDP("udp", ua)
		if err != nil {
			t.Fatal(err)
		}
		f.pc = pc
		f.addr = pc.LocalAddr().String()
		f.wg.Add(1)
		go f.serveUDP()
		return
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	if f.tls != nil {
		ln = tls.NewListener(ln, f.tls)
	}
	f.ln = ln
	f.addr = ln.Addr().String()
	f.wg.Add(1)
	go f.accept()
}

// restart stops the registrar and starts a new one on the same address:
// bindings, nonces and connections are gone.
func (f *fakeRegistrar) restart(t *testing.T) {
	t.Helper()
	f.stop()
	f.mu.Lock()
	f.bindings = map[string]string{}
	f.srv = digest.Server{Realm: "test", Algorithms: []digest.Algorithm{digest.MD5}}
	f.mu.Unlock()
	f.start(t)
}

// stop closes the socket and every connection and waits for its goroutines.
func (f *fakeRegistrar) stop() {
	f.mu.Lock()
	if f.pc != nil {
		f.pc.Close()
	}
	if f.ln != nil {
		f.ln.Close()
	}
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
	f.mu.Lock()
	f.pc, f.ln = nil, nil
	f.mu.Unlock()
}

func (f *fakeRegistrar) port() int {
	_, p, _ := net.SplitHostPort(f.addr)
	n, _ := strconv.Atoi(p)
	return n
}

func (f *fakeRegistrar) serveUDP() {
	defer f.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := f.pc.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if string(buf[:n]) == "\r\n\r\n" {
			f.pings <- from.String()
			continue
		}
		if resp := f.handle(buf[:n], from.String()); resp != nil && resp != hangUp {
			f.pc.WriteToUDP([]byte(resp.String()), from)
		}
	}
}

func (f *fakeRegistrar) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns[c] = true
		f.mu.Unlock()
		f.wg.Add(1)
		go f.serveConn(c)
	}
}

// closeConns closes every TCP connection, as a registrar that drops its
// flows does; the listener stays.
func (f *fakeRegistrar) closeConns() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.Close()
	}
}

// serveConn reads SIP over one TCP connection (RFC 3261 §18.3: messages
// framed by Content-Length) and CRLFCRLF pings between them (RFC 5626
// §4.4.1).
func (f *fakeRegistrar) serveConn(c net.Conn) {
	defer f.wg.Done()
	defer func() {
		f.mu.Lock()
		delete(f.conns, c)
		f.mu.Unlock()
		c.Close()
	}()
	r := bufio.NewReader(c)
	from := c.RemoteAddr().String()
	empty := 0
	for {
		var head strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if head.Len() == 0 && line == "\r\n" {
				if empty++; empty == 2 {
					empty = 0
					f.pings <- from
					f.mu.Lock()
					pong := f.pong
					f.mu.Unlock()
					if pong {
						c.Write([]byte("\r\n"))
					}
				}
				continue
			}
			empty = 0
			head.WriteString(line)
			if line == "\r\n" {
				break
			}
		}
		msg := head.String()
		n := 0
		for _, l := range strings.Split(msg, "\r\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && (strings.EqualFold(k, "Content-Length") || k == "l") {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if resp := f.handle(append([]byte(msg), body...), from); resp == hangUp {
			return
		} else if resp != nil {
			c.Write([]byte(resp.String()))
		}
	}
}

// handle answers one REGISTER: 401 without valid credentials, then the
// script's answer or 200 with the binding and the granted expiry.
func (f *fakeRegistrar) handle(b []byte, from string) *sipmsg.Message {
	req, err := sipmsg.Parse(b)
	if err != nil || !req.IsRequest() || req.Method != "REGISTER" {
		return nil
	}
	via, _ := req.Via()
	f.mu.Lock()
	defer f.mu.Unlock()
	if resp, ok := f.answered[via.Branch()]; ok {
		return resp // a retransmission: the same answer again, or none
	}
	select {
	case f.regs <- seenRegister{msg: req.Clone(), from: from}:
	default:
	}
	resp := f.answer(req, from)
	if resp != nil && resp != hangUp && resp != drop && f.nat != "" {
		host, port, _ := net.SplitHostPort(f.nat)
		v, _ := resp.Via()
		v.Params = v.Params.Set("received", host).Set("rport", port)
		resp.SetVia(v) //nolint:errcheck // the Via came from a parsed request
	}
	f.answered[via.Branch()] = resp
	return resp
}

// answer is handle for a new request; f.mu is held.
func (f *fakeRegistrar) answer(req *sipmsg.Message, from string) *sipmsg.Message {
	challenge := func(stale bool) *sipmsg.Message {
		resp := sipmsg.NewResponse(req, 401, "")
		resp.SetToTag("reg")
		for _, c := range f.srv.Challenges(stale) {
			resp.Add("WWW-Authenticate", c.String())
		}
		return resp
	}
	cr, err := digest.ParseCredentials(req.Get("Authorization"))
	if err != nil {
		return challenge(false)
	}
	if err := f.srv.Verify(&cr, digest.Request{Method: "REGISTER", URI: req.RequestURI.String()}, "alice", "secret"); err != nil {
		return challenge(errors.Is(err, digest.ErrStale))
	}
	exp, _ := req.Expires()
	if exp != 0 && f.script != nil {
		f.authorized++
		if resp := f.script(f.authorized, req); resp == drop {
			return nil
		} else if resp == hangUp {
			return hangUp
		} else if resp != nil {
			return resp
		}
	}
	contact, _ := req.Contact()
	resp := sipmsg.NewResponse(req, 200, "")
	resp.SetToTag("reg")
	if exp == 0 {
		delete(f.bindings, contact.URI.String())
		return resp
	}
	f.bindings[contact.URI.String()] = from
	contact.Params = contact.Params.Set("expires", strconv.Itoa(f.grant))
	resp.Add("Contact", contact.String())
	return resp
}

// setScript sets script (see the field).
func (f *fakeRegistrar) setScript(s func(n int, req *sipmsg.Message) *sipmsg.Message) {
	f.mu.Lock()
	f.script = s
	f.mu.Unlock()
}

// bound returns the number of bindings held.
func (f *fakeRegistrar) bound() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bindings)
}

// nextRegister waits for the next REGISTER.
func (f *fakeRegistrar) nextRegister(t *testing.T) seenRegister {
	t.Helper()
	select {
	case s := <-f.regs:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no REGISTER arrived")
		return seenRegister{}
	}
}

// nextPing waits for the next keepalive.
func (f *fakeRegistrar) nextPing(t *testing.T) string {
	t.Helper()
	select {
	case from := <-f.pings:
		return from
	case <-time.After(10 * time.Second):
		t.Fatal("no keepalive arrived")
		return ""
	}
}

// waitEvent waits for the next UA event and checks it.
func waitEvent(t *testing.T, events <-chan string, want string) {
	t.Helper()
	select {
	case got := <-events:
		if !strings.HasPrefix(got, want) {
			t.Fatalf("event: got %q, want %q", got, want)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no event, want %q", want)
	}
}

// fakeUA returns a UA registering with f as alice with a fast T1 and
// every callback sent to events.
func fakeUA(f *fakeRegistrar, events chan string, change func(*Config)) *UA {
	cfg := Config{
		Username: "alice", AuthUsername: "alice", Password: "secret",
		Host: "127.0.0.1", Port: f.port(), Transport: f.proto, ListenAddr: "127.0.0.1:0",
		RegisterExpiry: time.Minute, RegisterRetry: 100 * time.Millisecond, T1: 10 * time.Millisecond,
		OnRegistered:   func() { events <- "registered" },
		OnUnregistered: func() { events <- "unregistered" },
		OnError:        func(err error) { events <- "error: " + err.Error() },
	}
	if change != nil {
		change(&cfg)
	}
	return New(cfg)
}

// gate is a registration schedule (Config.schedule) under the test's
// control: the loop waits for refresh before each registration; after stop
// it waits an hour. Call stop before Disconnect.
type gate struct {
	ch   chan struct{}
	once sync.Once
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) schedule(time.Duration) time.Duration {
	if _, ok := <-g.ch; !ok {
		return time.Hour
	}
	return 0
}

func (g *gate) refresh() { g.ch <- struct{}{} }
func (g *gate) stop()    { g.once.Do(func() { close(g.ch) }) }

// bindingURIs returns the Contact URIs the registrar holds.
func (f *fakeRegistrar) bindingURIs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.bindings {
		out = append(out, k)
	}
	return out
}

// TestContactRewrite: a registrar whose answers show another source address
// in Via received/rport (we are behind a NAT) gets a second binding at that
// address, the old one removed, and INVITEs carry it in Contact; refreshes
// keep it, Disconnect removes it. With NoContactRewrite, or when the
// registrar saw our own address, the local Contact stays.
func TestContactRewrite(t *testing.T) {
	const public = "192.0.2.7:40123"
	for _, tc := range []struct {
		name    string
		nat     bool
		off     bool
		rewrite bool
	}{
		{"behind-nat", true, false, true},
		{"behind-nat-rewrite-off", true, true, false},
		{"no-nat", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, transport.UDP, "127.0.0.1:0", 60)
			if tc.nat {
				f.mu.Lock()
				f.nat = public
				f.mu.Unlock()
			}
			events := make(chan string, 16)
			g := newGate()
			u := fakeUA(f, events, func(c *Config) {
				c.NoContactRewrite = tc.off
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
			host, port := u.LocalAddr()
			want := fmt.Sprintf("sip:alice@%s:%d", host, port)
			if tc.rewrite {
				want = "sip:alice@" + public
			}
			if got := f.bindingURIs(); len(got) != 1 || got[0] != want {
				t.Fatalf("bindings: got %v, want [%s]", got, want)
			}
			if got := u.contact("alice", transport.UDP).URI.String(); got != want {
				t.Errorf("Contact for INVITEs: got %s, want %s", got, want)
			}
			// An INVITE to a peer carries the same Contact.
			invites := make(chan string, 1)
			callee := newListener(t, transport.UDP, func(c *Call) {
				invites <- c.Header("Contact")[0]
				c.Reject(context.Background(), 486, "") //nolint:errcheck // the test reads the INVITE only
			})
			if _, err := u.Dial(ctx, sipAddr(callee, transport.UDP), DialOptions{}); err == nil {
				t.Error("Dial: got nil error, want 486")
			}
			select {
			case c := <-invites:
				if got, err := sipmsg.ParseAddress(c); err != nil || got.URI.String() != want {
					t.Errorf("INVITE Contact: got %s, want %s", c, want)
				}
			case <-ctx.Done():
				t.Fatal("no INVITE arrived")
			}
			// A refresh registers the same Contact again.
			for len(f.regs) > 0 {
				<-f.regs
			}
			g.refresh()
			for {
				r := f.nextRegister(t)
				if r.msg.Get("Authorization") == "" {
					continue // the challenged first try
				}
				c, _ := r.msg.Contact()
				if got := c.URI.String(); got != want {
					t.Errorf("refresh Contact: got %s, want %s", got, want)
				}
				break
			}
			g.stop()
			if err := u.Disconnect(ctx); err != nil {
				t.Fatalf("Disconnect: %v", err)
			}
			if got := f.bindingURIs(); len(got) != 0 {
				t.Errorf("bindings after Disconnect: got %v, want none", got)
			}
		})
	}
}

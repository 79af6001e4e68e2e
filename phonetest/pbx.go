package phonetest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/internal/dialoginfo"
	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// Defaults of a zero PBXConfig.
const (
	DefaultPBXRealm       = "xphone"
	DefaultMinExpires     = 60 * time.Second   // RFC 3261 §10.3 step 7: Min-Expires
	DefaultMaxExpires     = 3600 * time.Second // longest binding granted
	DefaultRegisterExpiry = 3600 * time.Second // when the REGISTER names none (§10.3 step 7)
	DefaultMaxRecorded    = 10000              // messages PBX.Messages keeps
)

// PBXConfig configures a PBX. The zero value works: a PBX on 127.0.0.1 with
// random ports, realm DefaultPBXRealm and no users. A PBXConfig must not be
// modified after it is passed to NewPBX.
type PBXConfig struct {
	// Addr is the address the PBX listens on, for UDP and TCP alike
	// ("127.0.0.1:5060"). Empty means "127.0.0.1:0": a random port, the
	// same for both transports.
	Addr string
	// Realm is the digest realm of the challenges (RFC 3261 §22).
	// Empty means DefaultPBXRealm.
	Realm string
	// Users maps user names to passwords; AddUser adds more later.
	Users map[string]string
	// DisableAuth switches digest authentication off: every REGISTER and
	// every request is accepted without a challenge.
	DisableAuth bool
	// NonceLifetime is how long a nonce is accepted before answers with it
	// are refused as stale (401/407 with stale=true). 0 means the digest
	// package's default (5 minutes).
	NonceLifetime time.Duration
	// MinExpires, MaxExpires and DefaultExpires govern registrations
	// (RFC 3261 §10.3): shorter non-zero intervals get 423 with
	// Min-Expires, longer ones are cut to MaxExpires, and a REGISTER that
	// names no interval gets DefaultExpires. 0 means DefaultMinExpires,
	// DefaultMaxExpires and DefaultRegisterExpiry. They are counted in
	// whole seconds.
	MinExpires, MaxExpires, DefaultExpires time.Duration
	// Now is the clock of registrations and nonces; nil means time.Now.
	// Tests move it forward to expire bindings and nonces.
	Now func() time.Time
	// Script, when set, is consulted for each out-of-dialog request to a
	// local user, after authentication and before the location lookup,
	// to script behaviours: busy (486), reject (603), redirect (302 with
	// Contact), no answer (Drop), delayed answer (Delay, with or without
	// a provisional Code such as 180). A nil Answer lets the PBX route the
	// request as usual. It runs on the PBX's goroutines, possibly
	// concurrently, and must not block.
	Script func(user string, req *sipmsg.Message) *Answer
	// OnMessage, when set, is called for every SIP message the PBX
	// receives or sends (or drops, see PBX.Drop), in order, never
	// concurrently. It runs on the PBX's goroutines and must not call the
	// PBX's methods or block for long.
	OnMessage func(MessageEvent)
	// MaxRecorded bounds the messages PBX.Messages keeps: the oldest are
	// forgotten beyond it. 0 means DefaultMaxRecorded; negative turns the
	// recorder off.
	MaxRecorded int
	// Trace, when set, gets one line per message (MessageEvent.String):
	// a compact SIP ladder. Writes are never concurrent.
	Trace io.Writer
	// Logger receives debug logs of the PBX's transport and transaction
	// layers; nil means a logger that discards.
	Logger *slog.Logger
	// TLSConfig, when it holds a certificate, makes the PBX listen for
	// SIP over TLS too, on a port of its own (TLSAddr), so phones with
	// Transport "tls" can register (sips: URIs, RFC 3261 §26.2.2). The PBX
	// keeps the pointer: do not modify it afterwards.
	TLSConfig *tls.Config
}

// Answer is what PBXConfig.Script tells the PBX to do with a request
// instead of forwarding it at once.
//
// With a final Code (200–699) the PBX answers the request itself, after
// Delay. With a provisional Code (101–199) or none, it forwards the request
// as usual after Delay, having sent that provisional response at once: an
// Answer{Code: 180, Delay: time.Second} rings the caller for a second
// before the callee sees the call. An INVITE waiting out its Delay has had
// 100 Trying; a CANCEL during the wait ends it with 487 and nothing is
// forwarded.
type Answer struct {
	// Code and Reason are the response the PBX sends; Reason "" means the
	// default phrase.
	Code   int
	Reason string
	// Delay is how long the PBX holds the request before answering Code
	// or forwarding it. It is measured with the wall clock, not
	// PBXConfig.Now.
	Delay time.Duration
	// Contact is added to the response as a Contact header: the target of
	// a 3xx redirect.
	Contact string
	// Drop makes the PBX neither forward nor answer the request (an
	// INVITE still gets 100 Trying): the caller sees no answer.
	Drop bool
}

// PBX is an in-process SIP registrar and proxy with digest authentication,
// listening on real loopback sockets (UDP and TCP on one port), in the
// manner of net/http/httptest.Server: start it with NewPBX or StartPBX,
// point phones at URI, and Close it.
//
// As a registrar (RFC 3261 §10.3) it keeps bindings per user with expiry
// and answers REGISTER with the current Contacts. As a proxy (RFC 3261 §16)
// it routes requests for sip:user@pbx to the user's most recent binding
// (404 for unknown users, 480 when not registered), decrements Max-Forwards
// (483 at zero), Record-Routes dialog-creating requests with ;lr so that
// in-dialog requests pass through it, relays responses and CANCELs, and
// forwards ACKs for 2xx statelessly. REGISTER is challenged with 401 and
// out-of-dialog requests from local users with 407 (RFC 3261 §22); a stale
// nonce gets a new challenge with stale=true and a wrong password 403.
// OPTIONS addressed to the PBX itself is answered 200.
//
// Its methods are safe for concurrent use. Goroutines: those of its
// transport (one UDP reader, one TCP accept loop, one reader per TCP
// connection) and one per forwarded transaction or request held by a
// Script's Delay; Close stops them all.
type PBX struct {
	cfg    PBXConfig
	tm     *transport.Manager
	layer  *transaction.Layer
	auth   *digest.Server
	addr   netip.AddrPort
	tlsAdr netip.AddrPort // zero without PBXConfig.TLSConfig
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sender traceSender

	traceMu  sync.Mutex
	recorded []MessageEvent // guarded by traceMu
	drops    []*dropRule    // guarded by traceMu
	msgSeen  chan struct{}  // closed and replaced when a message is recorded; guarded by traceMu
	dropping atomic.Bool    // len(drops) > 0

	mu        sync.Mutex
	closed    bool
	users     map[string]string
	bindings  map[string][]Binding
	changed   chan struct{} // closed and replaced when any binding changes
	pending   map[*transaction.ServerTx]context.CancelFunc
	boxes     map[string]mwi.Counts                   // voicemail boxes by user (pbx_events.go)
	lines     map[string]map[string]dialoginfo.Dialog // the calls of each user by Call-ID
	watches   map[string]*eventWatch                  // subscriptions served, by Call-ID
	published map[string]published                    // presence publications by user (pbx_publish.go)
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// NewPBX starts a PBX listening on cfg.Addr (UDP and TCP on the same port).
// It returns once the sockets are open.
func NewPBX(cfg PBXConfig) (*PBX, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultPBXRealm
	}
	if cfg.MinExpires <= 0 {
		cfg.MinExpires = DefaultMinExpires
	}
	if cfg.MaxExpires <= 0 {
		cfg.MaxExpires = DefaultMaxExpires
	}
	if cfg.DefaultExpires <= 0 {
		cfg.DefaultExpires = DefaultRegisterExpiry
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	if cfg.MaxRecorded == 0 {
		cfg.MaxRecorded = DefaultMaxRecorded
	}
	ap, err := netip.ParseAddrPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("phonetest: pbx address: %w", err)
	}
	p := &PBX{
		cfg:      cfg,
		users:    make(map[string]string),
		bindings: make(map[string][]Binding),
		changed:  make(chan struct{}),
		msgSeen:  make(chan struct{}),
		pending:  make(map[*transaction.ServerTx]context.CancelFunc),
		auth: &digest.Server{
			Realm:         cfg.Realm,
			NonceLifetime: cfg.NonceLifetime,
			Now:           cfg.Now,
		},
	}
	for u, pw := range cfg.Users {
		p.users[u] = pw
	}
	p.sender = traceSender{p}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.layer = transaction.New(p.sender, core{p}, transaction.Config{Logger: cfg.Logger})
	// UDP and TCP share one port so that one URI names the PBX. With a
	// random port, TCP may find it taken: try again with a new pair.
	for try := 0; ; try++ {
		err = p.listen(ap)
		if err == nil || ap.Port() != 0 || try == 20 {
			break
		}
	}
	if err != nil {
		p.cancel()
		return nil, err
	}
	return p, nil
}

func (p *PBX) listen(ap netip.AddrPort) error {
	// The handler waits until the PBX is set up (or this attempt failed):
	// closing ready orders the writes below before every read on the
	// transport's goroutines.
	ready := make(chan struct{})
	ok := false
	handler := func(in transport.Inbound) {
		<-ready
		if ok {
			p.receive(in)
		}
	}
	tm := transport.New(transport.Config{Handler: handler, Logger: p.cfg.Logger, TLSConfig: p.cfg.TLSConfig})
	fail := func(err error) error {
		close(ready)
		_ = tm.Close()
		return fmt.Errorf("phonetest: pbx: %w", err)
	}
	ctx := context.Background()
	if err := tm.Listen(ctx, transport.UDP, ap.String()); err != nil {
		return fail(err)
	}
	bound := tm.LocalAddr(transport.UDP)
	if err := tm.Listen(ctx, transport.TCP, bound.String()); err != nil {
		return fail(err)
	}
	if p.cfg.TLSConfig != nil {
		tlsAt := netip.AddrPortFrom(bound.Addr(), 0)
		if err := tm.Listen(ctx, transport.TLS, tlsAt.String()); err != nil {
			return fail(err)
		}
		p.tlsAdr = tm.LocalAddr(transport.TLS)
	}
	p.tm, p.addr, ok = tm, bound, true
	close(ready)
	return nil
}

// StartPBX starts a PBX for a test and closes it when the test ends.
// It fails the test if the PBX cannot start.
func StartPBX(tb testing.TB, cfg PBXConfig) *PBX {
	tb.Helper()
	p, err := NewPBX(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}

// Close stops the PBX: pending INVITEs are cancelled, the sockets closed,
// and Close returns when every goroutine the PBX started has exited.
// Calling it again does nothing.
func (p *PBX) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	_ = p.layer.Close()
	err := p.tm.Close()
	p.wg.Wait()
	return err
}

// Addr returns the address the PBX listens on, for UDP and TCP.
func (p *PBX) Addr() netip.AddrPort { return p.addr }

// TLSAddr returns the address the PBX takes TLS on, or the zero AddrPort
// without PBXConfig.TLSConfig.
func (p *PBX) TLSAddr() netip.AddrPort { return p.tlsAdr }

// URI returns the PBX's SIP URI, "sip:127.0.0.1:PORT": the registrar's
// Request-URI and the domain of its users.
func (p *PBX) URI() string { return "sip:" + p.addr.String() }

// UserURI returns the address of record of user at the PBX,
// "sip:user@127.0.0.1:PORT".
func (p *PBX) UserURI(user string) string { return "sip:" + user + "@" + p.addr.String() }

// Realm returns the digest realm of the PBX's challenges.
func (p *PBX) Realm() string { return p.cfg.Realm }

// AddUser adds a user or changes its password.
func (p *PBX) AddUser(name, password string) {
	p.mu.Lock()
	p.users[name] = password
	p.mu.Unlock()
}

func (p *PBX) password(user string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pw, ok := p.users[user]
	return pw, ok
}

// spawn runs f on a goroutine the PBX owns, unless the PBX is closed.
func (p *PBX) spawn(f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.wg.Go(f)
	return true
}

// core is the PBX's transaction user; it keeps the TU methods off the PBX's
// exported method set.
type core struct{ p *PBX }

func (c core) HandleRequest(tx *transaction.ServerTx) { c.p.handleRequest(tx) }
func (c core) HandleOutside(in transport.Inbound)     { c.p.handleOutside(in) }

// HandleServerError stops forwarding for a server transaction that ended:
// a CANCEL (RFC 3261 §16.10: the layer already answered 200 and 487),
// Timer H or a transport failure. Ending the forward's context makes the
// transaction layer CANCEL the INVITE downstream.
func (c core) HandleServerError(tx *transaction.ServerTx, _ error) {
	c.p.mu.Lock()
	cancel := c.p.pending[tx]
	c.p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// receive is the transport's handler: trace, then the transaction layer,
// unless a Drop rule loses the message.
func (p *PBX) receive(in transport.Inbound) {
	if p.observe(false, in.Source, in.Msg) {
		return
	}
	p.layer.HandleInbound(in)
}

// traceSender sends through the transport and traces what it sends; a
// message a Drop rule loses is reported sent and never leaves.
type traceSender struct{ p *PBX }

func (s traceSender) Send(ctx context.Context, m *sipmsg.Message, dst transport.Addr) error {
	if s.p.observe(true, dst, m) {
		return nil
	}
	return s.p.tm.Send(ctx, m, dst)
}

// MessageEvent is one SIP message the PBX received or sent, as reported to
// PBXConfig.OnMessage.
type MessageEvent struct {
	// Sent is true for a message the PBX sent, false for one it received.
	Sent bool
	// Transport is "UDP", "TCP" or "TLS".
	Transport string
	// Local is the PBX's address, Remote the peer's ("127.0.0.1:5060").
	// For a response sent, Remote is where the request came from.
	Local, Remote string
	// Msg is a copy of the message, shared by OnMessage, Messages and
	// the Drop matchers: read it, do not modify it.
	Msg *sipmsg.Message
	// Dropped is true for a message a Drop rule lost: a received message
	// the PBX ignored, or one it was to send and did not.
	Dropped bool
}

// String returns one line of a SIP ladder:
//
//	PBX <- 127.0.0.1:40000 UDP  INVITE sip:bob@127.0.0.1:5060
//	PBX -> 127.0.0.1:40000 UDP  180 Ringing (INVITE)
func (e MessageEvent) String() string {
	arrow := "<-"
	if e.Sent {
		arrow = "->"
	}
	lost := ""
	if e.Dropped {
		lost = " [dropped]"
	}
	return fmt.Sprintf("PBX %s %-21s %s  %s%s", arrow, e.Remote, e.Transport, Summary(e.Msg), lost)
}

// Summary returns a one-line summary of a SIP message: "INVITE <Request-URI>"
// for a request, "<code> <reason> (<CSeq method>)" for a response.
func Summary(m *sipmsg.Message) string {
	if m.IsRequest() {
		return m.Method + " " + m.RequestURI.String()
	}
	method := ""
	if cs, err := m.CSeq(); err == nil {
		method = " (" + cs.Method + ")"
	}
	return strconv.Itoa(m.StatusCode) + " " + m.Reason + method
}

// respond answers tx with code; extra, when set, adds header fields.
// Responses above 100 get a To tag (RFC 3261 §8.2.6.2).
func (p *PBX) respond(tx *transaction.ServerTx, code int, reason string, extra func(*sipmsg.Message)) {
	r := sipmsg.NewResponse(tx.Request(), code, reason)
	if code > 100 {
		_ = r.SetToTag(p.layer.NewTag())
	}
	if extra != nil {
		extra(r)
	}
	_ = tx.Respond(r)
}

// authenticate checks the request's digest credentials for the PBX's realm
// (RFC 3261 §22.2 for a registrar, §22.3 for a proxy) and answers tx itself
// when they are missing or not accepted: a challenge (401 or 407, with
// stale=true for an expired nonce), 403 for a wrong password or unknown
// user, 400 for malformed credentials. It returns the authenticated user.
func (p *PBX) authenticate(tx *transaction.ServerTx, proxy bool) (string, bool) {
	req := tx.Request()
	hdr, chalHdr, code := "Authorization", "WWW-Authenticate", 401
	if proxy {
		hdr, chalHdr, code = "Proxy-Authorization", "Proxy-Authenticate", 407
	}
	var cr *digest.Credentials
	for _, v := range req.Values(hdr) {
		c, err := digest.ParseCredentials(v)
		if err != nil {
			p.respond(tx, 400, "Malformed Credentials", nil)
			return "", false
		}
		if c.Realm == p.cfg.Realm {
			cr = &c
			break
		}
	}
	challenge := func(stale bool) {
		p.respond(tx, code, "", func(r *sipmsg.Message) {
			for _, ch := range p.auth.Challenges(stale) {
				r.Add(chalHdr, ch.String())
			}
		})
	}
	if cr == nil {
		challenge(false)
		return "", false
	}
	pw, ok := p.password(cr.Username)
	if !ok {
		p.respond(tx, 403, "", nil)
		return "", false
	}
	dr := digest.Request{Method: req.Method, URI: cr.URI, Body: req.Body}
	if cr.URI != req.RequestURI.String() {
		// RFC 3261 §22.4: the digest-uri is the Request-URI. Compare as
		// URIs, since the two may be spelled differently.
		u, err := sipmsg.ParseURI(cr.URI)
		if err != nil || !u.Equal(req.RequestURI) {
			p.respond(tx, 400, "Digest URI Mismatch", nil)
			return "", false
		}
	}
	err := p.auth.Verify(cr, dr, cr.Username, pw)
	switch {
	case err == nil:
		return cr.Username, true
	case errors.Is(err, digest.ErrStale):
		challenge(true)
	case errors.Is(err, digest.ErrBadResponse):
		p.respond(tx, 403, "", nil)
	default: // a nonce not ours, a replay, an algorithm not offered
		challenge(false)
	}
	return "", false
}

// isOurs reports whether u names the PBX: its address and port (or its
// TLS port), or its address with no port, the domain its users' addresses
// of record name (they have Config.Host without Config.Port in From).
func (p *PBX) isOurs(u sipmsg.URI) bool {
	if !u.IsSIP() {
		return false
	}
	ip, err := netip.ParseAddr(u.Host)
	if err != nil || ip != p.addr.Addr() {
		return false
	}
	return u.Port == 0 || u.Port == int(p.addr.Port()) || (p.tlsAdr.IsValid() && u.Port == int(p.tlsAdr.Port()))
}

// recordRoute is the Record-Route value naming the PBX for proto
// (RFC 3261 §16.6 step 4, loose routing with lr).
func (p *PBX) recordRoute(proto transport.Protocol) string {
	if proto == transport.TCP {
		return "<sip:" + p.addr.String() + ";transport=tcp;lr>"
	}
	return "<sip:" + p.addr.String() + ";lr>"
}

func unescapeUser(u sipmsg.URI) string { return sipmsg.Unescape(u.User) }

func isDialogCreating(method string) bool {
	switch strings.ToUpper(method) {
	case "INVITE", "SUBSCRIBE", "REFER":
		return true
	}
	return false
}

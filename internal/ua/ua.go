package ua

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/srtp"
	"github.com/xphone-go/xphone/stun"
	"github.com/xphone-go/xphone/transaction"
)

// Errors callers branch on.
var (
	// ErrNotConnected: the UA is not connected.
	ErrNotConnected = errors.New("ua: not connected")
	// ErrAlreadyConnected: Connect on a connected UA.
	ErrAlreadyConnected = errors.New("ua: already connected")
	// ErrInvalidTarget: Dial got a target it cannot turn into a URI.
	ErrInvalidTarget = errors.New("ua: invalid target")
	// ErrMaxCalls: Dial with Config.MaxCalls calls up already.
	ErrMaxCalls = errors.New("ua: too many calls")
	// ErrDialTimeout: the dial timeout passed before an answer.
	ErrDialTimeout = errors.New("ua: dial timed out")
	// ErrCancelled: the dial was cancelled (context or End).
	ErrCancelled = errors.New("ua: cancelled")
	// ErrInvalidState: the operation does not fit the call's state.
	ErrInvalidState = errors.New("ua: invalid call state")
	// ErrNotSupported: the operation is not implemented yet.
	ErrNotSupported = errors.New("ua: not supported yet")
	// ErrAuthFailed: the server refused our credentials (a non-stale
	// challenge to a request that carried them).
	ErrAuthFailed = errors.New("ua: authentication failed")
)

// StatusError is a final SIP response that ended a request: the root package
// maps it to xphone.StatusError.
type StatusError struct {
	Code   int
	Reason string
	// Reasons are the response's Reason headers (RFC 3326, RFC 6432:
	// carriers give Q.850 causes in final responses), if any.
	Reasons PeerReasons
	// RetryAfter is the response's Retry-After (RFC 3261 §20.33), 0
	// without one.
	RetryAfter time.Duration
}

// statusError describes a final response that failed a request.
func statusError(resp *sipmsg.Message) *StatusError {
	se := &StatusError{Code: resp.StatusCode, Reason: resp.Reason}
	if why, ok := peerReasons(resp).(PeerReasons); ok {
		se.Reasons = why
	}
	if d, err := resp.RetryAfter(); err == nil {
		se.RetryAfter = d
	}
	return se
}

func (e *StatusError) Error() string { return "ua: " + strconv.Itoa(e.Code) + " " + e.Reason }

// RegistrationError says why a registration failed: a final response (Code
// set) or a transport failure or timeout (Err set).
type RegistrationError struct {
	Code   int
	Reason string
	Err    error
	// RetryAfter is the response's Retry-After, 0 without one; the
	// next attempt waits at least that long (up to the backoff's cap).
	RetryAfter time.Duration
}

func (e *RegistrationError) Error() string {
	if e.Code != 0 {
		return "ua: registration failed: " + strconv.Itoa(e.Code) + " " + e.Reason
	}
	return "ua: registration failed: " + e.Err.Error()
}

// Unwrap returns Err.
func (e *RegistrationError) Unwrap() error { return e.Err }

// Config configures a UA. Every value must already carry its default (the
// root package's Config.withDefaults does that); the callbacks may be nil.
type Config struct {
	Username, Password, AuthUsername string
	// Host and Port are the registrar and default domain; Host may be
	// empty when ListenAddr is set.
	Host string
	// Port 0 means: from Host's DNS SRV records, else the transport's
	// default (RFC 3263).
	Port int
	// Resolver looks up SIP hosts (SRV, A, AAAA) and media hosts; nil
	// means net.DefaultResolver.
	Resolver *net.Resolver
	// Transport is the protocol towards Host and for Dial targets that do
	// not name one.
	Transport transport.Protocol
	// TLSConfig is used to dial TLS and, when it holds a certificate, to
	// listen for it.
	TLSConfig   *tls.Config
	DisplayName string
	// OutboundProxy ("host", "host:port" or a SIP URI) receives every
	// out-of-dialog request, as a preloaded Route with lr.
	OutboundProxy string
	UserAgent     string
	// RegisterExpiry is asked for in Expires; negative disables
	// registration. RegisterRetry is the first retry delay.
	RegisterExpiry, RegisterRetry time.Duration
	// KeepaliveInterval is the NAT keepalive period; <= 0 disables it.
	// KeepaliveTimeout is how long a ping on TCP or TLS waits for its pong
	// before the connection counts as dead; 0 means 10 s.
	KeepaliveInterval, KeepaliveTimeout time.Duration
	// ListenAddr is the local SIP address; "" means an ephemeral port.
	ListenAddr string
	// STUNServer ("host:port") is asked for our public address at Connect.
	STUNServer string
	// Media is the template of every call's media options; OnDTMF and
	// OnMediaTimeout are set per call.
	Media media.Options
	// Codecs are the SDP codec names, most preferred first.
	Codecs           []string
	SRTP             sdp.SRTPMode
	NoTelephoneEvent bool
	// SRTPProfiles are the SDES suites offered and accepted, most
	// preferred first; nil means sdp's default (AES-CM-128 with
	// HMAC-SHA1-80, then -32).
	SRTPProfiles []srtp.Profile
	// RefuseSDESOverPlain refuses SRTP keys (SDES, RFC 4568) on signaling
	// that is not TLS: Dial with mandatory SRTP fails with an error
	// wrapping sdp.ErrNotAcceptable, optional SRTP offers plain RTP, and a
	// peer's RTP/SAVP offer gets 488. Without it such calls work and log a
	// warning once per call.
	RefuseSDESOverPlain bool
	// DTMFMode is how calls send digits (SIP INFO only also leaves
	// telephone-event out of SDP); Call.SetDTMFMode changes one call.
	// DTMFWindow is how long a digit received one way suppresses the same
	// digit the other way: 0 means DefaultDTMFWindow, negative never.
	DTMFMode   DTMFMode
	DTMFWindow time.Duration
	// RefuseTransfer answers every REFER 603 Decline.
	RefuseTransfer bool
	// NoContactRewrite keeps our Contact at the local address even when
	// the registrar's answer over UDP shows, in the received and rport
	// parameters of our Via (RFC 3581 §4), that we are behind a NAT. By
	// default the binding is moved to that public address (register.go).
	NoContactRewrite bool
	// MaxUDPRequest is transaction.Config.MaxUDPRequest: the size above
	// which a request for UDP goes over TCP (RFC 3261 §18.1.1).
	MaxUDPRequest int
	// SessionTimer is the session interval asked for in INVITEs and
	// offered to callers (RFC 4028), rounded down to seconds and at least
	// 90 s; <= 0 disables session timers: none asked for, and callers'
	// requests for one are ignored.
	SessionTimer time.Duration
	// Rel100 is how reliable provisional responses (RFC 3262, PRACK) are
	// used; the zero value offers and honours them.
	Rel100 Rel100Mode
	// MaxCalls bounds the calls up at once, 0 meaning no bound besides
	// the RTP ports: an INVITE beyond it is answered 486 Busy Here and
	// Dial fails with ErrMaxCalls. A call that takes another's place (an
	// INVITE with Replaces, the call a transfer we accepted makes) is
	// not refused.
	MaxCalls int
	// RefuseReplaces turns RFC 3891 off: Supported no longer lists
	// replaces, an INVITE that requires it gets 420, and one that only
	// carries Replaces is a new call like any other.
	RefuseReplaces bool
	// T1 and T4 are the transaction layer's T1 and T4 (RFC 3261
	// §17.1.1.1); 0 means 500 ms and 5 s.
	T1, T4 time.Duration
	Logger *slog.Logger

	// EndCause turns an end reason (and the error behind EndError) into the
	// cause of the call's context. nil uses the EndReason itself.
	EndCause func(r EndReason, err error) error
	// NewCall is called synchronously when a Call object is created, before
	// any of its events, so the caller can attach its own wrapper.
	NewCall func(*Call)
	// OnIncoming receives each inbound call in StateRinging; nil refuses
	// inbound calls with 480.
	OnIncoming     func(*Call)
	OnRegistered   func()
	OnUnregistered func()
	OnError        func(error)
	// OnTransfer is called when a REFER we accepted led to an answered
	// call: old is the call that was transferred (it then ends with
	// EndTransferred), new the call to the Refer-To target, which Calls
	// also lists. It runs on the UA's callback goroutine.
	OnTransfer func(old, new *Call)
	// MWI subscribes to the message-summary event package (RFC 3842) of
	// MWIURI, or of our address of record when it is "", from Connect to
	// Disconnect (mwi.go). OnVoicemail gets every summary NOTIFYed, in
	// the subscription or unsolicited; it runs on the UA's callback
	// goroutine.
	MWI         bool
	MWIURI      string
	OnVoicemail func(mwi.Summary)
	// OnMessage takes instant messages (RFC 3428 MESSAGE, in or out of a
	// call's dialog), answered 200; nil refuses them with 405. It runs on
	// the UA's callback goroutine.
	OnMessage func(Message)
	// TakesMessages, when set, says whether messages are taken now (a
	// handler may come and go after New); nil means OnMessage != nil.
	TakesMessages func() bool

	// schedule, set by tests only, sees each delay the registration loop
	// computed and returns the one to wait instead.
	schedule func(time.Duration) time.Duration
	// Session-timer knobs for tests: timerUnit is the wall time of one
	// session-timer second (0: a second), minSE replaces the 90 s Min-SE,
	// noRefresh negotiates timers but never sends the refresh.
	timerUnit time.Duration
	minSE     uint32
	noRefresh bool
	// timerArmed sees every (re)arming of a call's session timer.
	timerArmed func(*Call, dialog.SessionTimer)
	// stunTimeout replaces the 3 s bound of the STUN query at Connect.
	stunTimeout time.Duration
}

// UA is a SIP user agent. Its methods are safe for concurrent use.
type UA struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	connected bool
	tm        *transport.Manager
	tl        *transaction.Layer
	advHost   string // host in Via and Contact
	advPort   int
	server    transport.Addr // registrar (or outbound proxy); zero without Host
	located   serverSet      // the SRV records server was found through
	// serviceRoute is the Service-Route of the last 2xx to REGISTER
	// (RFC 3608): preloaded, after any outbound proxy, on INVITEs.
	serviceRoute []sipmsg.URI
	digest       *digest.Client // counts each nonce's uses across requests (auth.go)

	challenges challengeCache // last INVITE challenge per server (auth.go)
	calls      map[string]*Call
	order      []*Call
	nextID     uint64
	reg        *registration
	subs       []*subscription // subscribe.go; never changed in place (read outside mu)
	pub        *publication    // our presence (publish.go); nil until Publish
	stop       context.CancelFunc
	life       context.Context // canceled by stop: work that must end with Disconnect
	loopDone   chan struct{}
	mediaAddr  netip.Addr // address in SDP
	natHost    string     // public Contact host and port over UDP, learned
	natPort    int        // from the registrar's Via (register.go); "" none

	tasks     tracker
	events    serial
	voicemail coalescer // OnVoicemail's reports
	late      lateCalls // cancelled INVITEs a 2xx may still answer
	endedSubs endedSubs // subscriptions removed, whose final NOTIFY may come

	testAcked      func(*Call, context.Context) // tests: runs after the 2xx was ACKed, just before StateActive
	testAnswered   func(*Call)                  // tests: runs after Accept sent the 2xx, before StateActive
	testRemoved    func()                       // tests: runs in Disconnect once subscriptions, publication and registration are removed
	testPutOff     func()                       // tests: an UPDATE or re-INVITE waits for Accept to finish
	testAcking     func(*Call)                  // tests: runs as an ACK of a 2xx is about to go out
	testInviteDone func(*Call)                  // tests: runs when the goroutine of an outbound INVITE returns
	testAnswering  func(*Call)                  // tests: runs once answerOffer (or an offer for a re-INVITE) holds the answering flag
}

// New returns a UA for cfg. It does no I/O.
func New(cfg Config) *UA {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Transport == 0 {
		cfg.Transport = transport.UDP
	}
	u := &UA{cfg: cfg, log: cfg.Logger, calls: map[string]*Call{},
		digest: &digest.Client{Username: cfg.AuthUsername, Password: cfg.Password}}
	u.events.t = &u.tasks
	return u
}

// Connected reports whether Connect succeeded and Disconnect was not called.
func (u *UA) Connected() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.connected
}

// Registering reports whether the UA registers (Host set, expiry not
// negative).
func (u *UA) Registering() bool { return u.cfg.Host != "" && u.cfg.RegisterExpiry >= 0 }

// LocalAddr returns the advertised SIP address (host and port in Contact).
func (u *UA) LocalAddr() (string, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.advHost, u.advPort
}

// Connect opens the transport, learns the address to advertise (STUN when
// configured), and registers when configured, waiting for the first
// answer. On error everything it opened is closed again.
func (u *UA) Connect(ctx context.Context) error {
	u.mu.Lock()
	if u.connected || u.tm != nil {
		u.mu.Unlock()
		return ErrAlreadyConnected
	}
	var tl *transaction.Layer
	tm := transport.New(transport.Config{
		Handler:      func(in transport.Inbound) { u.inbound(in) },
		Logger:       u.log,
		TLSConfig:    u.cfg.TLSConfig,
		OwnsSentBy:   u.ownsSentBy,
		OnConnClosed: u.onConnClosed,
		// An ICMP error ends the transaction it answers at once (RFC 3261
		// §18.4): a registrar or server that is not there fails fast, and
		// the next SRV target is tried; a caller gone before our answer
		// or its ACK ends the call.
		OnUnreachable: func(dst transport.Addr, quoted []byte, err error) {
			tl.Unreachable(dst, quoted, err)
			if q, ok := transaction.ParseQuote(quoted); ok && q.Status/100 == 2 && q.Method == "INVITE" {
				u.answerUnreachable(dst, q, err)
			}
		},

		KeepaliveTimeout: u.cfg.KeepaliveTimeout,
	})
	tl = transaction.New(tm, u, transaction.Config{T1: u.cfg.T1, T4: u.cfg.T4, MaxUDPRequest: u.cfg.MaxUDPRequest, Logger: u.log})
	u.tm, u.tl = tm, tl
	u.mu.Unlock()

	fail := func(err error) error {
		tl.Close()
		tm.Close()
		u.mu.Lock()
		u.tm, u.tl = nil, nil
		u.mu.Unlock()
		u.tasks.wait()
		return err
	}
	if err := u.listen(ctx, tm); err != nil {
		return fail(err)
	}
	if err := u.learnAddress(ctx, tm); err != nil {
		return fail(err)
	}
	loopCtx, stop := context.WithCancel(context.Background())
	u.mu.Lock()
	u.stop, u.life = stop, loopCtx
	u.mu.Unlock()
	var reg *registration
	if u.Registering() {
		reg = newRegistration(u)
		u.mu.Lock()
		u.reg = reg
		u.mu.Unlock()
		err := reg.register(ctx, u.cfg.RegisterExpiry)
		// Each other SRV target once (RFC 3263 §4.3).
		for tried := 1; err != nil && failoverable(err) && tried < len(u.located.srvs) && u.failover(ctx); tried++ {
			err = reg.register(ctx, u.cfg.RegisterExpiry)
		}
		if err != nil {
			stop()
			return fail(err)
		}
	}
	u.mu.Lock()
	u.connected = true
	u.loopDone = make(chan struct{})
	done := u.loopDone
	u.mu.Unlock()
	if reg != nil {
		reg.connected()
	}
	go func() {
		defer close(done)
		u.background(loopCtx)
	}()
	if u.cfg.MWI && u.cfg.Host != "" {
		u.subscribeMWI()
	}
	return nil
}

// lifeContext returns a context that Disconnect cancels, for work on the
// UA's own goroutines (lookups, ACKs and BYEs that no caller waits for).
func (u *UA) lifeContext() context.Context {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.life == nil {
		return context.Background()
	}
	return u.life
}

// Disconnect ends every call, removes its subscriptions (waiting, up to
// 2*T1 and within ctx, for their final NOTIFYs) and publication,
// unregisters, closes the transport and waits for every goroutine the UA
// started.
func (u *UA) Disconnect(ctx context.Context) error {
	u.mu.Lock()
	if !u.connected {
		u.mu.Unlock()
		return ErrNotConnected
	}
	u.connected = false
	calls := append([]*Call(nil), u.order...)
	stop, done := u.stop, u.loopDone
	u.mu.Unlock()

	// Hang up every call at once: each End waits for its BYE's answer
	// (until ctx ends, at most 64*T1), so one silent peer must not hold
	// up the others.
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() { c.End(ctx) }) //nolint:errcheck // best effort: the call ends locally anyway
	}
	wg.Wait()
	stop()
	<-done
	u.unsubscribeAll(ctx)
	finals, finalBy := u.endedSubs.settled(), time.Now().Add(2*u.t1())
	u.mu.Lock()
	pub := u.pub
	u.pub = nil
	u.mu.Unlock()
	if pub != nil {
		<-pub.done
		pub.unpublish(ctx)
	}
	u.mu.Lock()
	reg := u.reg
	u.reg = nil
	u.mu.Unlock()
	if reg != nil {
		reg.unregister(ctx)
	}
	if u.testRemoved != nil {
		u.testRemoved()
	}
	// The notifiers' final NOTIFYs (RFC 6665 §4.1.2.3) are answered: wait
	// for them, up to 2*T1 after the removals (a NOTIFY lost once comes
	// again after T1).
	wait := time.NewTimer(time.Until(finalBy))
	select {
	case <-finals:
	case <-wait.C:
	case <-ctx.Done():
	}
	wait.Stop()
	u.mu.Lock()
	tm, tl := u.tm, u.tl
	u.tm, u.tl = nil, nil
	u.mu.Unlock()
	tl.Close()
	tm.Close()
	for _, c := range calls {
		c.closeMedia()
	}
	u.late.clear()
	u.tasks.wait()
	return nil
}

func (u *UA) listen(ctx context.Context, tm *transport.Manager) error {
	addr := u.cfg.ListenAddr
	if addr == "" {
		addr = ":0"
	}
	proto := u.cfg.Transport
	if proto == transport.TLS && !hasCert(u.cfg.TLSConfig) {
		// A TLS client without a certificate dials out only; the UDP
		// listener gives Via a port.
		proto = transport.UDP
	}
	if err := tm.Listen(ctx, proto, addr); err != nil {
		return err
	}
	if proto == transport.UDP && u.cfg.ListenAddr != "" {
		// Take INVITEs over TCP on the same port too, when it is free.
		port := tm.LocalAddr(transport.UDP).Port()
		host, _, _ := net.SplitHostPort(addr)
		_ = tm.Listen(ctx, transport.TCP, net.JoinHostPort(host, strconv.Itoa(int(port))))
	}
	return nil
}

func hasCert(c *tls.Config) bool {
	return c != nil && (len(c.Certificates) > 0 || c.GetCertificate != nil || c.GetConfigForClient != nil)
}

// learnAddress fills advHost/advPort, the registrar address and the media
// address: the listener's address when specified, else the local address the
// kernel would use towards the registrar (a connected UDP socket sends
// nothing), else 127.0.0.1; STUN's answer replaces the host when configured.
func (u *UA) learnAddress(ctx context.Context, tm *transport.Manager) error {
	var local netip.AddrPort
	for _, p := range []transport.Protocol{u.cfg.Transport, transport.UDP, transport.TCP, transport.TLS} {
		if a := tm.LocalAddr(p); a.IsValid() {
			local = a
			break
		}
	}
	var server transport.Addr
	if u.cfg.Host != "" || u.cfg.OutboundProxy != "" {
		host, port := u.cfg.Host, u.cfg.Port
		if u.cfg.OutboundProxy != "" {
			uri, err := proxyURI(u.cfg.OutboundProxy)
			if err != nil {
				return err
			}
			host, port = uri.Host, uri.Port
		}
		ap, set, err := u.locate(ctx, host, port, u.cfg.Transport)
		if err != nil {
			return err
		}
		server = transport.Addr{Protocol: u.cfg.Transport, AddrPort: ap, ServerName: host}
		u.mu.Lock()
		u.located = set
		u.mu.Unlock()
	}
	ip := local.Addr()
	if ip.IsUnspecified() {
		ip = netip.Addr{}
		if server.AddrPort.IsValid() {
			if c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server.AddrPort)); err == nil {
				ip = c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
				c.Close()
			}
		}
		if !ip.IsValid() {
			ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
	}
	mediaIP := ip
	if a := u.cfg.Media.Address; a.IsValid() && !a.IsUnspecified() {
		mediaIP = a
	}
	if u.cfg.STUNServer != "" {
		if pub, ok := u.stunAddress(ctx); ok {
			ip = pub
			mediaIP = pub
		}
	}
	u.mu.Lock()
	u.advHost = ip.String()
	u.advPort = int(local.Port())
	u.server = server
	u.mediaAddr = mediaIP
	u.mu.Unlock()
	return nil
}

// stunAddress asks the STUN server for our reflexive address from a socket
// of its own (RFC 8489 §6): only the address is used, assuming a NAT that
// maps every local port of this host to the same public address.
func (u *UA) stunAddress(ctx context.Context) (netip.Addr, bool) {
	wait := 3 * time.Second
	if u.cfg.stunTimeout > 0 {
		wait = u.cfg.stunTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	raddr, err := net.ResolveUDPAddr("udp", u.cfg.STUNServer)
	if err != nil {
		u.log.Warn("ua: STUN server", "err", err)
		return netip.Addr{}, false
	}
	pc, err := net.ListenUDP("udp", nil)
	if err != nil {
		return netip.Addr{}, false
	}
	defer pc.Close()
	ap, err := stun.Bind(ctx, pc, raddr, nil)
	if err != nil {
		u.log.Warn("ua: STUN binding failed; using the local address", "err", err)
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// ownsSentBy accepts responses whose Via names our advertised address or a
// listener's port (RFC 3261 §18.1.2).
func (u *UA) ownsSentBy(host string, port int) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return port == u.advPort
}

// onConnClosed re-registers when the connection to the registrar dies.
func (u *UA) onConnClosed(remote transport.Addr, err error) {
	var reg *registration // a transport goroutine: Disconnect may clear u.reg
	u.mu.Lock()
	if u.connected && remote.AddrPort == u.server.AddrPort {
		reg = u.reg
	}
	u.mu.Unlock()
	if reg != nil {
		u.log.Debug("ua: registrar connection closed", "err", err)
		reg.abort()
		select {
		case reg.kick <- struct{}{}:
		default:
		}
	}
}

// emit queues f on the UA's dispatcher.
func (u *UA) emit(f func()) {
	if f != nil {
		u.events.do(f)
	}
}

func (u *UA) emitError(err error) {
	if f := u.cfg.OnError; f != nil {
		u.events.do(func() { f(err) })
	}
}

func (u *UA) layer() (*transaction.Layer, *transport.Manager) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.tl, u.tm
}

// via returns a Via for proto with our advertised sent-by.
func (u *UA) via(tm *transport.Manager, tl *transaction.Layer, proto transport.Protocol) sipmsg.Via {
	v := tm.Via(proto, tl.NewBranch())
	u.mu.Lock()
	v.Host, v.Port = u.advHost, u.advPort
	u.mu.Unlock()
	return v
}

// contact returns our Contact for proto.
func (u *UA) contact(user string, proto transport.Protocol) sipmsg.Address {
	u.mu.Lock()
	uri := sipmsg.URI{Scheme: "sip", User: user, Host: u.advHost, Port: u.advPort}
	if proto == transport.UDP && u.natHost != "" {
		uri.Host, uri.Port = u.natHost, u.natPort // contact rewrite, register.go
	}
	u.mu.Unlock()
	if proto != transport.UDP {
		uri.Params = sipmsg.Params("transport=" + lowerProto(proto))
	}
	if proto == transport.TLS {
		uri.Scheme = "sips"
		uri.Params = ""
	}
	return sipmsg.Address{URI: uri, Bracketed: true}
}

func lowerProto(p transport.Protocol) string {
	switch p {
	case transport.TCP:
		return "tcp"
	case transport.TLS:
		return "tls"
	}
	return "udp"
}

func defaultPort(p transport.Protocol) int {
	if p == transport.TLS {
		return 5061
	}
	return 5060
}

// Calls returns the calls that have not ended, oldest first.
func (u *UA) Calls() []*Call {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*Call(nil), u.order...)
}

// errDuplicateCall is addCall's answer for a Call-ID in use.
var errDuplicateCall = errors.New("ua: duplicate Call-ID")

// addCall lists c in the UA, unless its Call-ID is taken
// (errDuplicateCall) or c counts towards Config.MaxCalls and that many
// are up (ErrMaxCalls).
func (u *UA) addCall(c *Call) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, dup := u.calls[c.callID]; dup {
		return errDuplicateCall
	}
	if c.counted && u.fullLocked() {
		return ErrMaxCalls
	}
	u.nextID++
	c.id = strconv.FormatUint(u.nextID, 10)
	u.calls[c.callID] = c
	u.order = append(u.order, c)
	return nil
}

// full reports whether Config.MaxCalls calls are up.
func (u *UA) full() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.fullLocked()
}

func (u *UA) fullLocked() bool { return u.cfg.MaxCalls > 0 && len(u.calls) >= u.cfg.MaxCalls }

func (u *UA) removeCall(c *Call) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.calls[c.callID] == c {
		delete(u.calls, c.callID)
	}
	for i, o := range u.order {
		if o == c {
			u.order = append(u.order[:i], u.order[i+1:]...)
			break
		}
	}
}

func (u *UA) findCall(callID string) *Call {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls[callID]
}

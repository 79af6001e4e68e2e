package ua

import (
	"context"
	crand "crypto/rand"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

const (
	maxRegisterAttempts = 6               // challenges and 423s answered per registration
	maxRegisterBackoff  = 5 * time.Minute // cap of the retry delay
	minRefresh          = time.Second
)

// registration is one binding of our Contact at the registrar (RFC 3261
// §10): one Call-ID and a rising CSeq for its whole life (§10.2.4).
type registration struct {
	u      *UA
	auth   digest.Client
	kick   chan struct{}
	callID string
	tag    string

	mu         sync.Mutex
	cseq       uint32
	expiry     time.Duration // asked for; raised by 423 (§10.2.8)
	granted    time.Duration
	registered bool // the registrar holds the binding
	reported   bool // OnRegistered fired last (not OnUnregistered)
	failures   int
	retryAfter time.Duration           // the last failure's Retry-After (RFC 3261 §20.33)
	lastErr    string                  // the last failure reported through OnError
	abortFn    context.CancelCauseFunc // ends the refresh under way
}

// errConnClosed ends a refresh whose connection to the registrar closed:
// on TCP and TLS no answer can come any more, so waiting for Timer F
// (64*T1) would only delay the re-registration.
var errConnClosed = errors.New("ua: connection to the registrar closed")

// abort ends the refresh under way, if any, because its connection closed.
func (r *registration) abort() {
	r.mu.Lock()
	f := r.abortFn
	r.mu.Unlock()
	if f != nil {
		f(errConnClosed)
	}
}

func newRegistration(u *UA) *registration {
	return &registration{
		u:      u,
		auth:   digest.Client{Username: u.cfg.AuthUsername, Password: u.cfg.Password},
		kick:   make(chan struct{}, 1),
		callID: u.tlNewTag() + "@xphone",
		tag:    u.tlNewTag(),
		expiry: u.cfg.RegisterExpiry,
	}
}

// tlNewTag returns a fresh tag (RFC 3261 §19.3) from the transaction
// layer, or a random one once Disconnect has let the layer go (a request
// still being handled then is answered, if at all, with that).
func (u *UA) tlNewTag() string {
	if tl, _ := u.layer(); tl != nil {
		return tl.NewTag()
	}
	return crand.Text()
}

// Registered reports whether the registrar holds our binding.
func (u *UA) Registered() bool {
	u.mu.Lock()
	r := u.reg
	u.mu.Unlock()
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.registered
}

// delay returns when the background loop should register next: at half
// the granted expiry while registered, else after the backoff delay.
func (r *registration) delay() time.Duration {
	r.mu.Lock()
	var d time.Duration
	if r.registered {
		d = max(r.granted/2, minRefresh)
	} else {
		// Not before the registrar said it would be back (a 503's
		// Retry-After), within the backoff's own bound.
		d = max(backoff(r.u.cfg.RegisterRetry, r.failures, rand.Int64N), min(r.retryAfter, maxRegisterBackoff))
	}
	r.mu.Unlock()
	if f := r.u.cfg.schedule; f != nil {
		d = f(d)
	}
	return d
}

// backoff returns the delay before the next attempt after failures failed
// ones in a row (at least 1): base (2 s when not positive) doubled for each
// failure after the first, capped at maxRegisterBackoff, then moved by a
// jitter of up to ±20% so that phones that lost the same registrar spread
// out. jitter(n) returns a number in [0, n), like rand.Int64N.
func backoff(base time.Duration, failures int, jitter func(n int64) int64) time.Duration {
	d := base
	if d <= 0 {
		d = 2 * time.Second
	}
	for i := 1; i < failures && d < maxRegisterBackoff; i++ {
		d *= 2
	}
	d = min(d, maxRegisterBackoff)
	j := d / 5
	return d - j + time.Duration(jitter(int64(2*j)+1))
}

// refresh re-registers from the background loop and reports transitions:
// OnRegistered when the binding comes back, OnUnregistered when it is lost,
// OnError once per distinct failure (not once per retry).
func (r *registration) refresh(ctx context.Context) {
	err, aborted := r.try(ctx)
	if err != nil && aborted && ctx.Err() == nil {
		// A connection to the registrar closed while the REGISTER was
		// under way: perhaps the one it used (then no answer can come),
		// perhaps the dead one it replaced, whose closing was reported
		// only now. Either way a new attempt goes over a live connection
		// at once (RFC 5626 §4.4.1); only its failure counts.
		err, _ = r.try(ctx)
	}
	if ctx.Err() != nil {
		return // Disconnect is under way
	}
	r.mu.Lock()
	if err == nil {
		r.failures = 0
		r.lastErr = ""
		now := !r.reported
		r.reported = true
		r.mu.Unlock()
		if now {
			r.u.emit(r.u.cfg.OnRegistered)
		}
		return
	}
	r.registered = false
	r.u.setServiceRoute(nil)
	r.failures++
	r.retryAfter = 0
	var re *RegistrationError
	if errors.As(err, &re) {
		r.retryAfter = re.RetryAfter
	}
	report := err.Error() != r.lastErr
	r.lastErr = err.Error()
	was := r.reported
	r.reported = false
	r.mu.Unlock()
	if failoverable(err) {
		r.u.failover(ctx) // the next attempt goes to the next SRV target
	}
	if was {
		r.u.emit(r.u.cfg.OnUnregistered)
	}
	if report {
		r.u.emitError(err)
	}
}

// try makes one REGISTER transaction (with its challenges) that abort can
// end, and reports whether abort did.
func (r *registration) try(ctx context.Context) (err error, aborted bool) {
	r.mu.Lock()
	expiry := r.expiry
	actx, cancel := context.WithCancelCause(ctx)
	r.abortFn = cancel
	r.mu.Unlock()
	err = r.register(actx, expiry)
	r.mu.Lock()
	r.abortFn = nil
	r.mu.Unlock()
	aborted = errors.Is(context.Cause(actx), errConnClosed)
	cancel(nil)
	return err, aborted
}

// lost marks the binding as gone (its connection died) and reports whether
// it was registered until now.
func (r *registration) lost() bool {
	r.u.setServiceRoute(nil)
	r.mu.Lock()
	r.registered = false
	was := r.reported
	r.reported = false
	r.mu.Unlock()
	if was {
		r.u.emit(r.u.cfg.OnUnregistered)
	}
	return was
}

// connected records the first registration, done by Connect, and fires
// OnRegistered.
func (r *registration) connected() {
	r.mu.Lock()
	r.reported = true
	r.mu.Unlock()
	r.u.emit(r.u.cfg.OnRegistered)
}

// unregister removes the binding (Expires 0, RFC 3261 §10.2.2), best
// effort: a dead registrar must not fail Disconnect. OnUnregistered fires
// only when the binding was held.
func (r *registration) unregister(ctx context.Context) {
	if err := r.register(ctx, 0); err != nil {
		r.u.log.Debug("ua: unregister", "err", err)
	}
	r.u.mu.Lock()
	r.u.natHost, r.u.natPort = "", 0 // a later Connect learns it again
	r.u.mu.Unlock()
	r.lost()
}

// register sends REGISTER for expires (0 removes the binding) and answers
// digest challenges (401 and 407, RFC 3261 §22) and 423 Interval Too Brief
// (§10.2.8) until a final outcome. A stale challenge is answered again; a
// fresh challenge to credentials we sent means a bad password, reported
// once as a *RegistrationError with the challenge's code. A 2xx that
// shows we are behind a NAT moves the binding (rewriteContact).
func (r *registration) register(ctx context.Context, expires time.Duration) error {
	contact := r.u.contact(r.u.cfg.Username, r.u.cfg.Transport)
	resp, secs, err := r.send(ctx, expires, contact)
	if err != nil {
		return err
	}
	granted := grantedExpiry(resp, contact.URI, time.Duration(secs)*time.Second)
	if expires > 0 && granted <= 0 {
		// A 2xx whose bindings give ours no time (expires=0, or Expires:
		// 0) did not register us (RFC 3261 §10.2.4): taken as registered,
		// it would be refreshed every second for ever.
		r.mu.Lock()
		r.registered = false
		r.mu.Unlock()
		return &RegistrationError{Err: errZeroGrant}
	}
	r.mu.Lock()
	if expires == 0 {
		r.registered = false
	} else {
		r.registered = true
		r.granted = granted
	}
	r.mu.Unlock()
	if expires == 0 {
		resp = nil
	}
	r.u.setServiceRoute(resp)
	if expires > 0 {
		r.rewriteContact(ctx, resp, contact, time.Duration(secs)*time.Second)
	}
	return nil
}

// send sends REGISTER for contact with expires (0 removes the binding) and
// answers digest challenges and 423 until a final outcome; it returns the
// 2xx and the expiry it asked for last, in seconds.
func (r *registration) send(ctx context.Context, expires time.Duration, contact sipmsg.Address) (*sipmsg.Message, uint32, error) {
	tl, tm := r.u.layer()
	if tl == nil {
		return nil, 0, &RegistrationError{Err: ErrNotConnected}
	}
	r.u.mu.Lock()
	dst := r.u.server
	r.u.mu.Unlock()
	proto := r.u.cfg.Transport
	ruri := sipmsg.URI{Scheme: "sip", Host: r.u.cfg.Host}
	if r.u.cfg.Port != defaultPort(proto) {
		ruri.Port = r.u.cfg.Port
	}
	if proto == transport.TLS {
		ruri.Scheme = "sips"
	}
	aor := r.u.aor(ruri.Scheme)
	sent := map[string]digest.Credentials{}   // by realm
	toAnswer := map[string]digest.Challenge{} // header name + " " + realm → the last challenge
	secs := uint32(expires / time.Second)
	if expires > 0 && secs == 0 {
		secs = 1
	}
	for range maxRegisterAttempts {
		r.mu.Lock()
		r.cseq++
		seq := r.cseq
		r.mu.Unlock()
		req := sipmsg.NewRequest("REGISTER", ruri)
		req.PrependVia(r.u.via(tm, tl, proto))
		from := aor
		from.Params = from.Params.Set("tag", r.tag)
		req.Add("From", from.String())
		req.Add("To", aor.String())
		req.Add("Call-ID", r.callID)
		req.Add("CSeq", strconv.FormatUint(uint64(seq), 10)+" REGISTER")
		req.Add("Max-Forwards", "70")
		r.u.addRoute(req, false)
		req.Add("Contact", contact.String())
		req.Add("Expires", strconv.FormatUint(uint64(secs), 10))
		req.Add("Allow", r.u.allow())
		req.Add("User-Agent", r.u.cfg.UserAgent)
		for k, chal := range toAnswer {
			// Each request answers the challenge anew, so the nonce count
			// rises (RFC 7616 §3.4) and a 423 retry is not a replay.
			cr, err := r.auth.Authorize(&chal, digest.Request{Method: "REGISTER", URI: ruri.String()})
			if err != nil {
				return nil, 0, &RegistrationError{Err: err}
			}
			sent[chal.Realm] = cr
			req.Add(k[:len(k)-len(realmOf(k))-1], cr.String())
		}
		req.SetContentLength()

		resp, err := finalResponse(ctx, tl, req, dst)
		if err != nil {
			return nil, 0, &RegistrationError{Err: err}
		}
		switch code := resp.StatusCode; {
		case code >= 200 && code < 300:
			return resp, secs, nil
		case code == 401 || code == 407:
			hdr, out := "WWW-Authenticate", "Authorization"
			if code == 407 {
				hdr, out = "Proxy-Authenticate", "Proxy-Authorization"
			}
			var chals []digest.Challenge
			for _, v := range resp.Values(hdr) {
				if c, err := digest.ParseChallenge(v); err == nil {
					chals = append(chals, c)
				}
			}
			i := digest.Strongest(chals)
			if i < 0 {
				return nil, 0, &RegistrationError{Code: code, Reason: resp.Reason, Err: ErrAuthFailed}
			}
			chal := chals[i]
			if prev, ok := sent[chal.Realm]; ok && chal.Rejects(&prev) {
				return nil, 0, &RegistrationError{Code: code, Reason: resp.Reason, Err: ErrAuthFailed}
			}
			if !chal.Supported() {
				return nil, 0, &RegistrationError{Code: code, Reason: resp.Reason, Err: ErrAuthFailed}
			}
			toAnswer[out+" "+chal.Realm] = chal
		case code == 423:
			minExp, err := resp.MinExpires()
			if err != nil || minExp <= secs {
				return nil, 0, &RegistrationError{Code: code, Reason: resp.Reason}
			}
			secs = minExp
			r.mu.Lock()
			r.expiry = time.Duration(minExp) * time.Second
			r.mu.Unlock()
		default:
			re := &RegistrationError{Code: code, Reason: resp.Reason}
			re.RetryAfter, _ = resp.RetryAfter()
			return nil, 0, re
		}
	}
	return nil, 0, &RegistrationError{Err: errors.New("ua: too many challenges")}
}

// realmOf returns the realm part of an auths key "Header realm".
func realmOf(k string) string {
	for i := 0; i < len(k); i++ {
		if k[i] == ' ' {
			return k[i+1:]
		}
	}
	return ""
}

// errZeroGrant is a registrar's 2xx that gave our binding 0 s.
var errZeroGrant = errors.New("ua: the registrar's 2xx gave our binding 0 s")

// grantedExpiry reads the expiry the registrar granted our binding (RFC 3261
// §10.2.4): the expires parameter of the Contact equal to ours, else the
// Expires header, else what we asked for.
func grantedExpiry(resp *sipmsg.Message, ours sipmsg.URI, asked time.Duration) time.Duration {
	if cs, err := resp.Contacts(); err == nil {
		for _, c := range cs {
			if !c.URI.Equal(ours) && !(c.URI.Host == ours.Host && c.URI.Port == ours.Port && c.URI.User == ours.User) {
				continue
			}
			if v, ok := c.Params.Get("expires"); ok {
				if n, err := strconv.ParseUint(v, 10, 32); err == nil {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if n, err := resp.Expires(); err == nil {
		return time.Duration(n) * time.Second
	}
	return asked
}

// rewriteContact moves our binding to the public address the registrar saw
// (contact rewrite), when the top Via of its 2xx resp says, in received and
// rport (RFC 3581 §4, RFC 3261 §18.2.1), that our UDP requests arrive from
// another address than the one in contact: we are behind a NAT, and
// requests sent to contact would not reach us. It registers a Contact with
// that address (which later INVITEs use too, see UA.contact), then removes
// the old binding (Expires 0, RFC 3261 §10.2.2). Over TCP and TLS the
// registrar reaches us over the connection we opened, so nothing changes;
// Config.NoContactRewrite turns it off. If the new binding fails, the old
// one stays in use.
func (r *registration) rewriteContact(ctx context.Context, resp *sipmsg.Message, contact sipmsg.Address, expires time.Duration) {
	u := r.u
	if u.cfg.NoContactRewrite || u.cfg.Transport != transport.UDP {
		return
	}
	host, port, ok := viaSource(resp)
	if !ok || (equalHost(host, contact.URI.Host) && port == contact.URI.Port) {
		return
	}
	u.mu.Lock()
	oldHost, oldPort := u.natHost, u.natPort
	u.natHost, u.natPort = host, port
	u.mu.Unlock()
	moved := u.contact(u.cfg.Username, transport.UDP)
	u.log.Debug("ua: behind NAT: rewriting Contact", "from", contact.URI.String(), "to", moved.URI.String())
	resp2, secs, err := r.send(ctx, expires, moved)
	if err != nil {
		u.mu.Lock()
		u.natHost, u.natPort = oldHost, oldPort
		u.mu.Unlock()
		u.log.Warn("ua: registering the rewritten Contact failed; keeping the local one", "err", err)
		return
	}
	r.mu.Lock()
	r.granted = grantedExpiry(resp2, moved.URI, time.Duration(secs)*time.Second)
	r.mu.Unlock()
	u.setServiceRoute(resp2)
	if _, _, err := r.send(ctx, 0, contact); err != nil {
		u.log.Debug("ua: removing the old binding", "err", err)
	}
}

// viaSource returns the address the server saw our request come from: the
// received and rport parameters of the response's top Via, falling back to
// its sent-by for whichever is absent (RFC 3581 §4). ok is false without a
// Via or when neither parameter is present.
func viaSource(resp *sipmsg.Message) (host string, port int, ok bool) {
	v, err := resp.Via()
	if err != nil {
		return "", 0, false
	}
	rport, _ := v.RPort()
	received := v.Received()
	if received == "" && rport == 0 {
		return "", 0, false
	}
	host, port = v.Host, v.Port
	if received != "" {
		host = received
	}
	if rport > 0 {
		port = rport
	}
	if port == 0 {
		port = defaultPort(transport.UDP)
	}
	return host, port, true
}

package ua

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// DialOptions are the per-call settings of Dial.
type DialOptions struct {
	// Timeout bounds the wait for an answer; 0 means none.
	Timeout time.Duration
	// EarlyMedia makes Dial return when 183 with SDP started media.
	EarlyMedia bool
	// Headers are added to the INVITE: name, value pairs.
	Headers [][2]string
	// Codecs, if set, replace Config.Codecs; SRTP, if SRTPSet, replaces
	// Config.SRTP.
	Codecs  []string
	SRTP    sdp.SRTPMode
	SRTPSet bool
	// CallerID and DisplayName replace the user part and display name of
	// From when set.
	CallerID, DisplayName string

	transfer bool // the call of a transfer we accepted: Config.MaxCalls does not apply
}

const (
	maxAuthRetries = 3
	// maxFailovers bounds the other servers an INVITE tries (RFC 3263 §4.3).
	maxFailovers = 4
	// maxRedirects bounds the 3xx answers Dial follows.
	maxRedirects = 5
)

// TargetURI turns a Dial target into a Request-URI: a sip:, sips: or tel:
// URI as given (tel: is sent to Host with user=phone), "user@host" as a
// sip: URI, a bare number or extension as sip:number@Host:Port.
func (u *UA) TargetURI(target string) (sipmsg.URI, error) {
	t := strings.TrimSpace(target)
	lower := strings.ToLower(t)
	switch {
	case t == "":
		return sipmsg.URI{}, ErrInvalidTarget
	case strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:"):
		uri, err := sipmsg.ParseURI(t)
		if err != nil || uri.Host == "" {
			return sipmsg.URI{}, fmt.Errorf("%w: %q", ErrInvalidTarget, target)
		}
		return uri, nil
	case strings.HasPrefix(lower, "tel:"):
		uri, err := sipmsg.ParseURI(t)
		if err != nil || u.cfg.Host == "" {
			return sipmsg.URI{}, fmt.Errorf("%w: %q", ErrInvalidTarget, target)
		}
		return u.hostURI(uri.User + ";user=phone")
	case strings.Contains(t, "@"):
		uri, err := sipmsg.ParseURI("sip:" + t)
		if err != nil || uri.Host == "" {
			return sipmsg.URI{}, fmt.Errorf("%w: %q", ErrInvalidTarget, target)
		}
		return uri, nil
	}
	for _, r := range t {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("+*#-._", r)) {
			return sipmsg.URI{}, fmt.Errorf("%w: %q", ErrInvalidTarget, target)
		}
	}
	if u.cfg.Host == "" {
		return sipmsg.URI{}, fmt.Errorf("%w: %q needs Config.Host", ErrInvalidTarget, target)
	}
	return u.hostURI(t)
}

func (u *UA) hostURI(user string) (sipmsg.URI, error) {
	params := ""
	if i := strings.IndexByte(user, ';'); i >= 0 {
		user, params = user[:i], user[i+1:]
	}
	uri := sipmsg.URI{Scheme: "sip", User: strings.ReplaceAll(user, "#", "%23"), Host: u.cfg.Host, Params: sipmsg.Params(params)}
	if u.cfg.Port != 0 && u.cfg.Port != defaultPort(u.cfg.Transport) {
		uri.Port = u.cfg.Port
	}
	if u.cfg.Transport != transport.UDP {
		uri.Params = uri.Params.Set("transport", lowerProto(u.cfg.Transport))
	}
	return uri, nil
}

// Dial places a call to target and blocks until it is answered, early media
// starts (with EarlyMedia), or it fails: a *StatusError for a final
// response, an error wrapping ErrDialTimeout, ErrCancelled,
// media.ErrNoRTPPort or a transaction error. When another phone picks the
// call up while it rings (an INVITE with Replaces naming its early dialog,
// RFC 3891 §3), the INVITE is cancelled and Dial returns that phone's
// call, answered.
func (u *UA) Dial(ctx context.Context, target string, o DialOptions) (*Call, error) {
	if !u.Connected() {
		return nil, ErrNotConnected
	}
	if !o.transfer && u.full() {
		return nil, ErrMaxCalls
	}
	uri, err := u.TargetURI(target)
	if err != nil {
		return nil, err
	}
	dst, err := u.destination(ctx, uri)
	if err != nil {
		return nil, err
	}
	tl, tm := u.layer()
	if tl == nil {
		return nil, ErrNotConnected
	}
	codecs, srtpMode := u.cfg.Codecs, u.cfg.SRTP
	if len(o.Codecs) > 0 {
		codecs = o.Codecs
	}
	if o.SRTPSet {
		srtpMode = o.SRTP
	}
	c, err := u.newCall(tl.NewTag()+"@xphone", true, dst.Protocol, codecs, srtpMode)
	if err != nil {
		return nil, err
	}
	off, err := c.sdp.Offer()
	if err != nil {
		c.media.Close()
		return nil, err
	}

	host, _ := u.LocalAddr()
	if u.cfg.Host != "" {
		host = u.cfg.Host
	}
	user := u.cfg.Username
	if o.CallerID != "" {
		user = o.CallerID
	}
	from := sipmsg.Address{URI: sipmsg.URI{Scheme: "sip", User: user, Host: host}, Bracketed: true}
	if name := cmp(o.DisplayName, u.cfg.DisplayName); name != "" {
		from.Display = sipmsg.Quote(name)
	}
	to := sipmsg.Address{URI: uri, Bracketed: true}
	to.URI.Params = to.URI.Params.Del("transport")
	fromTag := tl.NewTag()
	req := sipmsg.NewRequest("INVITE", uri)
	req.PrependVia(u.via(tm, tl, dst.Protocol))
	f := from
	f.Params = f.Params.Set("tag", fromTag)
	req.Add("From", f.String())
	req.Add("To", to.String())
	req.Add("Call-ID", c.callID)
	req.Add("CSeq", "1 INVITE")
	req.Add("Max-Forwards", "70")
	u.addRoute(req, true)
	contact := u.contact(user, dst.Protocol)
	req.Add("Contact", contact.String())
	req.Add("Allow", u.allow())
	req.Add("User-Agent", u.cfg.UserAgent)
	u.offer100rel(req)
	u.offerTimer(req)
	if !u.cfg.RefuseReplaces {
		req.Add("Supported", tagReplaces)
	}
	for _, h := range o.Headers {
		req.Add(h[0], h[1])
	}
	req.Add("Content-Type", "application/sdp")
	req.Body = []byte(off.String())
	req.SetContentLength()

	c.from, c.to, c.remoteURI = from.URI.String(), to.URI.String(), uri.String()
	c.party = partyOf(to)
	c.invite = sharedInvite(req)
	c.counted = !o.transfer
	if err := u.addCall(c); err != nil {
		c.media.Close()
		return nil, err
	}
	if u.cfg.NewCall != nil {
		u.cfg.NewCall(c)
	}
	c.setState(StateDialing)

	ictx, end := context.WithCancelCause(context.Background())
	// Cancelling the INVITE registers the call for a 2xx that crosses the
	// CANCEL (§9.1) first: such a 2xx may come as soon as the CANCEL is
	// out, before the transaction has told runInvite it ended.
	cancel := func(cause error) {
		u.late.add(c, contact)
		end(cause)
	}
	c.mu.Lock()
	c.cancelInvite = cancel
	c.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { cancel(fmt.Errorf("%w: %w", ErrCancelled, context.Cause(ctx))) })
	var timer *time.Timer
	if o.Timeout > 0 {
		timer = time.AfterFunc(o.Timeout, func() { cancel(ErrDialTimeout) })
	}
	result := make(chan error, 1)
	var once sync.Once
	report := func(err error) { once.Do(func() { result <- err }) }
	u.tasks.goFunc(func() {
		defer end(nil)
		c.runInvite(ictx, req, dst, contact, o, timer, report)
		if u.testInviteDone != nil {
			u.testInviteDone(c)
		}
	})
	select {
	case err = <-result:
	case <-c.done:
		err = <-result
	}
	stop()
	if nc := c.replacement(); nc != nil {
		return nc, nil // picked up by another phone: Dial's call is the one it made
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// runInvite drives the INVITE client transaction (RFC 3261 §13.2.2):
// provisional responses, digest retries, the 2xx (dialog, ACK, media). It
// returns once the call is answered or has failed; 2xx retransmissions
// after that reach HandleOutside (see ClientTx.Detach).
func (c *Call) runInvite(ictx context.Context, req *sipmsg.Message, dst transport.Addr, contact sipmsg.Address, o DialOptions, timer *time.Timer, report func(error)) {
	u := c.u
	auth := u.newAuthRetry()
	fail := func(r EndReason, err error) {
		if timer != nil {
			timer.Stop()
		}
		if errors.Is(context.Cause(ictx), errPickedUp) {
			r, err = EndReplaced, errPickedUp
		}
		c.end(r, err)
		report(err)
	}
	early := false
	earlyTag := "" // the To tag of the response whose SDP started early media
	hops, failovers := 0, 0
	visited := map[string]bool{req.RequestURI.String(): true}
	for attempt := 0; ; attempt++ {
		tl, tm := u.layer()
		if tl == nil {
			fail(EndError, ErrNotConnected)
			return
		}
		if attempt == 0 {
			u.preemptive(dst.AddrPort, req)
		}
		tx, err := tl.Request(ictx, req, dst)
		if err != nil {
			fail(EndError, err)
			return
		}
		var final *sipmsg.Message
		answered := false
		c.resetEarly()
		for resp := range tx.Responses() {
			code := resp.StatusCode
			switch {
			case code < 200:
				take, reliable := c.acknowledge(ictx, req, resp, contact, dst)
				if !take {
					continue // a reliable provisional seen before (RFC 3262 §4)
				}
				if code == 180 || code == 181 || code == 182 {
					if c.State() == StateDialing {
						c.setState(StateRemoteRinging)
					}
				}
				if len(resp.Body) > 0 && !early {
					// Until one is usable, each 18x's SDP is tried against
					// our offer: one we could not use does not use it up
					// (an unreliable 18x is only a preview, RFC 3960).
					if n, ok := c.processForkAnswer(resp); ok {
						early = true
						if to, err := resp.To(); err == nil {
							earlyTag = to.Tag()
						}
						if err := c.startMedia(n, false); err == nil {
							c.setState(StateEarlyMedia)
							if o.EarlyMedia {
								report(nil)
							}
						}
					}
				}
				if reliable && early && len(resp.Body) > 0 {
					c.earlyAnswered(resp)
				}
			case code < 300:
				if answered {
					c.on2xx(resp)
					continue
				}
				answered = true
				if timer != nil {
					timer.Stop()
				}
				c.answer(ictx, resp, req, contact, dst, early, earlyTag, report)
				// Retransmissions of the 2xx now go to HandleOutside,
				// which ACKs them again: no goroutine waits out Timer M
				// (32 s) per call.
				tx.Detach()
			default:
				final = resp
			}
			if final != nil {
				break
			}
		}
		if answered {
			return
		}
		// RFC 3263 §4.3: no answer, a transport failure or 503 from one
		// server of the target's SRV set sends the INVITE, with a new
		// branch, to the next.
		var txErr error
		if final == nil {
			txErr = tx.Err()
		}
		if notServed(ictx, final, txErr) && failovers < maxFailovers {
			if next, ok := u.nextTarget(ictx, u.firstHop(req.RequestURI), dst); ok {
				failovers++
				dst = next
				req = c.reissue(req.Clone(), tl, tm, dst.Protocol)
				continue
			}
		}
		if final == nil {
			err := tx.Err()
			cause := context.Cause(ictx)
			switch {
			case errors.Is(cause, ErrDialTimeout):
				fail(EndTimeout, fmt.Errorf("%w", ErrDialTimeout))
			case errors.Is(cause, ErrCancelled):
				fail(EndCancelled, cause)
			case errors.Is(err, transaction.ErrTimeout):
				fail(EndTimeout, fmt.Errorf("%w: %w", ErrDialTimeout, err))
			default:
				fail(EndError, err)
			}
			return
		}
		code := final.StatusCode
		if code >= 300 && code < 400 && hops < maxRedirects {
			if next, ndst, ok := c.redirect(ictx, final, req, visited); ok {
				hops++
				req, dst = next, ndst
				auth = u.newAuthRetry()
				attempt = -1
				continue
			}
		}
		if code == 422 && attempt < maxAuthRetries {
			// Session interval too small: ask again with the Min-SE
			// the answer names (RFC 4028 §7.4).
			se, _ := req.SessionExpires()
			if iv, ok := dialog.RetryInterval(final, se.Delta); ok && iv > se.Delta {
				v := strconv.FormatUint(uint64(iv), 10)
				req = nextInvite(req, "Session-Expires", v)
				req.Set("Min-SE", v)
				req = c.reissue(req, tl, tm, dst.Protocol)
				continue
			}
		}
		if attempt < maxAuthRetries {
			if name, value, ok := auth.answer(final, "INVITE", req.RequestURI.String()); ok {
				u.challenges.put(dst.AddrPort, auth.lastHdr, auth.lastChal)
				req = c.reissue(nextInvite(req, name, value), tl, tm, dst.Protocol)
				continue
			}
		}
		se := statusError(final)
		r := EndRejected
		switch code {
		case 486, 600:
			r = EndBusy
		case 408:
			r = EndTimeout
		case 487:
			r = EndCancelled
		}
		fail(r, se)
		return
	}
}

// reissue readies req, a copy of the INVITE, for a new transaction: a new
// Via branch; it is remembered as the call's INVITE.
func (c *Call) reissue(req *sipmsg.Message, tl *transaction.Layer, tm *transport.Manager, p transport.Protocol) *sipmsg.Message {
	req.Del("Via")
	req.PrependVia(c.u.via(tm, tl, p))
	c.mu.Lock()
	c.invite = sharedInvite(req)
	c.mu.Unlock()
	return req
}

// nextInvite copies req with the next CSeq and an authorization header
// (RFC 3261 §22.2: same Call-ID and From tag, CSeq + 1).
func nextInvite(req *sipmsg.Message, name, value string) *sipmsg.Message {
	n := req.Clone()
	cs, _ := n.CSeq()
	n.Set("CSeq", strconv.FormatUint(uint64(cs.Seq+1), 10)+" INVITE")
	n.Set(name, value)
	return n
}

// processAnswer applies an SDP answer in resp.
func (c *Call) processAnswer(resp *sipmsg.Message) (sdp.Negotiated, bool) {
	d, err := sdp.Parse(resp.Body)
	if err != nil {
		return sdp.Negotiated{}, false
	}
	n, err := c.sdp.ProcessAnswer(d)
	if err != nil {
		return sdp.Negotiated{}, false
	}
	return n, true
}

// processForkAnswer applies the SDP answer in resp, from another fork of
// our INVITE than the one whose answer was taken before.
func (c *Call) processForkAnswer(resp *sipmsg.Message) (sdp.Negotiated, bool) {
	d, err := sdp.Parse(resp.Body)
	if err != nil {
		return sdp.Negotiated{}, false
	}
	n, err := c.sdp.ProcessForkAnswer(d)
	return n, err == nil
}

// answer handles the first 2xx to our INVITE: the dialog, the ACK (sent by
// us, §13.2.2.4), the media and StateActive. A 2xx that arrives after the
// call was cancelled is ACKed and hung up with BYE (§15).
func (c *Call) answer(ictx context.Context, resp, req *sipmsg.Message, contact sipmsg.Address, dst transport.Addr, early bool, earlyTag string, report func(error)) {
	d, err := dialog.NewUAC(req, resp, contact)
	if err != nil {
		c.end(EndError, err)
		report(err)
		return
	}
	c.continueEarly(d) // PRACKs and UPDATEs used CSeq numbers of the early dialog
	c.mu.Lock()
	c.dlg = d
	c.headers = resp
	c.party = identify(resp, false, c.party)
	c.remoteURI = d.RemoteTarget.String()
	c.mu.Unlock()
	hop := c.nextHop(ictx, dst)
	if c.u.throughProxy(d) {
		hop = dst
	}
	c.mu.Lock()
	c.dst = hop
	c.mu.Unlock()
	c.sendAck(resp, req)
	if ictx.Err() != nil || c.State() == StateEnded {
		if errors.Is(context.Cause(ictx), errPickedUp) {
			c.end(EndReplaced, nil)
		}
		c.end(EndCancelled, nil)
		bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c.inDialog(bctx, "BYE", nil) //nolint:errcheck // best effort
		cancel()
		report(ErrCancelled)
		return
	}
	n, ok := c.sdp.Negotiated()
	if len(resp.Body) > 0 {
		// The 2xx's answer, unless early media took the same dialog's
		// already (§13.2.1: the first one counts). A 2xx from another fork
		// than the 183's brings its own dialog's answer (§13.2.2.4): the
		// media go where that dialog's callee is.
		process := c.processAnswer
		if !early || d.ID.RemoteTag != earlyTag {
			process = c.processForkAnswer // also after an 18x whose SDP we could not use
		}
		if m, ok2 := process(resp); ok2 {
			n, ok = m, true
		}
	}
	if !ok {
		err := fmt.Errorf("ua: 2xx without a usable SDP answer: %w", sdp.ErrNotAcceptable)
		c.end(EndError, err)
		bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c.inDialog(bctx, "BYE", nil) //nolint:errcheck // best effort
		cancel()
		report(err)
		return
	}
	if err := c.startMedia(n, early); err != nil && !errors.Is(err, media.ErrClosed) {
		c.u.log.Warn("ua: media start", "err", err)
	}
	if c.u.testAcked != nil {
		c.u.testAcked(c, ictx)
	}
	c.setState(StateActive)
	close(c.active)
	c.armTimer(timerFromAnswer(req, resp))
	report(nil)
}

package ua

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xphone-go/xphone/internal/pidf"
	"github.com/xphone-go/xphone/sipmsg"
)

// Our own presence (RFC 3903 PUBLISH of the presence package, RFC 3856):
// Publish sends a PIDF document about our address of record to the
// server; the UA keeps the publication alive, refreshing it by its
// entity tag (SIP-If-Match) before it lapses, publishing anew when the
// server no longer knows the tag (412), and removes it on Disconnect.

// ErrPublishRefused is wrapped by the errors Publish returns, and OnError
// gets for refreshes, when the server refuses a publication.
var ErrPublishRefused = errors.New("ua: presence publication refused")

// publication is the UA's published presence.
type publication struct {
	u      *UA
	kick   chan struct{}
	done   chan struct{} // closed when run returns
	sendMu sync.Mutex    // one PUBLISH exchange at a time: each uses the last entity tag
	// Guarded by sendMu: the requests' Call-ID, From tag and last CSeq.
	callID, tag string
	seq         uint32

	mu       sync.Mutex
	body     []byte // the document to publish
	sentBody []byte // the document the server holds
	etag     string
	granted  time.Duration
}

// Publish publishes doc as our presence and waits, within ctx, for the
// server's answer; from then on the UA refreshes the publication until
// Disconnect, which removes it. A later Publish replaces the document.
func (u *UA) Publish(ctx context.Context, doc pidf.Presence) error {
	if !u.Connected() || u.cfg.Host == "" {
		return ErrNotConnected
	}
	body, err := doc.AppendTo(nil)
	if err != nil {
		return err
	}
	life := u.lifeContext()
	u.mu.Lock()
	p := u.pub
	if p == nil {
		p = &publication{u: u, kick: make(chan struct{}, 1), done: make(chan struct{})}
		u.pub = p
		u.tasks.goFunc(func() {
			defer close(p.done)
			p.run(life)
		})
	}
	u.mu.Unlock()
	p.mu.Lock()
	p.body = body
	p.mu.Unlock()
	if err := p.send(ctx, DefaultSubscribeExpiry); err != nil {
		return err
	}
	select {
	case p.kick <- struct{}{}: // the refresh timer starts from this answer
	default:
	}
	return nil
}

// run refreshes the publication until ctx ends: once Publish had an
// answer, before the expiry granted lapses.
func (p *publication) run(ctx context.Context) {
	failures := 0
	var lastErr string
	for {
		p.mu.Lock()
		granted := p.granted
		p.mu.Unlock()
		var tick <-chan time.Time
		var t *time.Timer
		switch {
		case failures > 0:
			t = time.NewTimer(backoff(p.u.cfg.RegisterRetry, failures, rand.Int64N))
		case granted > 0:
			t = time.NewTimer(refreshAfter(granted))
		}
		if t != nil {
			tick = t.C
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		case <-p.kick:
			if t != nil {
				t.Stop()
			}
			failures = 0
			continue
		case <-tick:
		}
		err := p.send(ctx, DefaultSubscribeExpiry)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			failures, lastErr = 0, ""
			continue
		}
		failures++
		if err.Error() != lastErr {
			lastErr = err.Error()
			p.u.emitError(err)
		}
	}
}

// send sends PUBLISH for expires: the document when the server holds
// none of ours (no entity tag) or it changed since, else a refresh by the
// tag (RFC 3903 §4.1); 0 removes it. It answers digest challenges, 423,
// and 412 (the tag is gone: publish the document anew).
func (p *publication) send(ctx context.Context, expires time.Duration) error {
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	u := p.u
	tl, tm := u.layer()
	if tl == nil {
		return ErrNotConnected
	}
	uri, err := u.TargetURI(u.cfg.Username)
	if err != nil {
		return err
	}
	dst, err := u.destination(ctx, uri)
	if err != nil {
		return err
	}
	secs := uint32(expires / time.Second)
	// One Call-ID and From tag for all the publication's requests, CSeq
	// rising (RFC 3903 §4.1 leaves it open; servers tie them together).
	if p.callID == "" {
		p.callID, p.tag = tl.NewTag()+"@xphone", tl.NewTag()
	}
	aor := u.aor(uri.Scheme)
	from := aor
	from.Params = from.Params.Set("tag", p.tag)
	var a *authRetry
	var authName, authValue string
	for attempt := 1; ; attempt++ {
		p.seq++
		p.mu.Lock()
		etag, body := p.etag, p.body
		p.mu.Unlock()
		req := sipmsg.NewRequest("PUBLISH", uri)
		req.PrependVia(u.via(tm, tl, dst.Protocol))
		req.Add("From", from.String())
		req.Add("To", aor.String())
		req.Add("Call-ID", p.callID)
		req.Add("CSeq", strconv.FormatUint(uint64(p.seq), 10)+" PUBLISH")
		req.Add("Max-Forwards", "70")
		u.addRoute(req, true)
		req.Add("Event", eventPresence)
		req.Add("Expires", strconv.FormatUint(uint64(secs), 10))
		if etag != "" {
			req.Add("SIP-If-Match", etag)
		}
		if authName != "" {
			req.Add(authName, authValue)
		}
		req.Add("User-Agent", u.cfg.UserAgent)
		if secs > 0 && (etag == "" || p.changed()) {
			req.Add("Content-Type", pidf.ContentType)
			req.Body = body
		}
		req.SetContentLength()
		resp, at, err := u.outsideFinal(ctx, tl, tm, req, dst)
		if err != nil {
			return err
		}
		dst = at // a retry goes to the server that answered
		code := resp.StatusCode
		switch {
		case code >= 200 && code < 300:
			p.accepted(resp, req.Body, expires)
			return nil
		case (code == 401 || code == 407) && attempt <= maxAuthRetries:
			if a == nil {
				a = u.newAuthRetry()
			}
			var ok bool
			if authName, authValue, ok = a.answer(resp, "PUBLISH", uri.String()); !ok {
				return errors.Join(ErrPublishRefused, statusError(resp))
			}
		case code == 423 && attempt <= maxAuthRetries:
			minExp, err := resp.MinExpires()
			if err != nil || minExp <= secs {
				return errors.Join(ErrPublishRefused, statusError(resp))
			}
			secs = minExp
		case code == 412 && etag != "" && attempt <= maxAuthRetries:
			p.mu.Lock()
			p.etag = "" // the server lost it: the whole document again
			p.mu.Unlock()
			if secs == 0 {
				return nil // nothing left to remove
			}
		default:
			return errors.Join(ErrPublishRefused, statusError(resp))
		}
	}
}

// changed reports whether the document differs from the one the server
// holds (a Publish since the last answer).
func (p *publication) changed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sentBody == nil || string(p.sentBody) != string(p.body)
}

// accepted records a 2xx: the entity tag and the expiry granted.
func (p *publication) accepted(resp *sipmsg.Message, sent []byte, asked time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.etag = strings.TrimSpace(resp.Get("SIP-ETag"))
	if sent != nil {
		p.sentBody = sent
	}
	p.granted = asked
	if v := resp.Get("Expires"); v != "" {
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil && time.Duration(n)*time.Second < asked {
			p.granted = time.Duration(n) * time.Second
		}
	}
}

// unpublish removes the publication (Expires: 0), best effort; run has
// returned.
func (p *publication) unpublish(ctx context.Context) {
	p.mu.Lock()
	etag := p.etag
	p.mu.Unlock()
	if etag == "" {
		return
	}
	if err := p.send(ctx, 0); err != nil {
		p.u.log.Debug("ua: unpublish", "err", err)
	}
}

package ua

import (
	"context"
	"strconv"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// authRetry answers the digest challenges one request meets as it is sent
// again (RFC 3261 §22.2), with the configured credentials. It gives up on
// a realm whose credentials were refused (a new challenge that is not
// stale, RFC 3261 §22.3).
type authRetry struct {
	client digest.Client
	sent   map[string]digest.Credentials // by realm
}

func (u *UA) newAuthRetry() *authRetry {
	return &authRetry{
		client: digest.Client{Username: u.cfg.AuthUsername, Password: u.cfg.Password},
		sent:   map[string]digest.Credentials{},
	}
}

// answer returns the header (Authorization or Proxy-Authorization) and its
// value that answer the strongest challenge of final, a 401 or 407 to a
// request of method for uri; ok is false for any other response, and when
// no challenge can be answered.
func (a *authRetry) answer(final *sipmsg.Message, method, uri string) (name, value string, ok bool) {
	var hdr string
	switch final.StatusCode {
	case 401:
		hdr, name = "WWW-Authenticate", "Authorization"
	case 407:
		hdr, name = "Proxy-Authenticate", "Proxy-Authorization"
	default:
		return "", "", false
	}
	var chals []digest.Challenge
	for _, v := range final.Values(hdr) {
		if ch, err := digest.ParseChallenge(v); err == nil {
			chals = append(chals, ch)
		}
	}
	i := digest.Strongest(chals)
	if i < 0 {
		return "", "", false
	}
	chal := chals[i]
	if prev, had := a.sent[chal.Realm]; had && chal.Rejects(&prev) {
		return "", "", false
	}
	cr, err := a.client.Authorize(&chal, digest.Request{Method: method, URI: uri})
	if err != nil {
		return "", "", false
	}
	a.sent[chal.Realm] = cr
	return name, cr.String(), true
}

// dialogFinal sends req, a request in d (the call's dialog, or an early
// one; guarded by c.mu), to dst and returns its final response and the
// request that got it. Any request
// may be challenged (RFC 3261 §22), by the peer or a proxy on the route
// set: a 401 or 407 is answered up to maxAuthRetries times with a copy of
// the request under the dialog's next CSeq, a new branch and the
// credentials (§22.2).
func (c *Call) dialogFinal(ctx context.Context, tl *transaction.Layer, tm *transport.Manager, d *dialog.Dialog, req *sipmsg.Message, dst transport.Addr) (final, sent *sipmsg.Message, err error) {
	var a *authRetry
	for attempt := 0; ; attempt++ {
		keep := req.Clone() // the layer owns req once it is sent
		final, err := finalResponse(ctx, tl, req, dst)
		if err != nil || attempt == maxAuthRetries || (final.StatusCode != 401 && final.StatusCode != 407) {
			return final, req, err
		}
		if a == nil {
			a = c.u.newAuthRetry()
		}
		name, value, ok := a.answer(final, keep.Method, keep.RequestURI.String())
		if !ok {
			return final, req, nil
		}
		c.mu.Lock()
		d.LocalSeq++
		seq := d.LocalSeq
		c.mu.Unlock()
		keep.Set("CSeq", strconv.FormatUint(uint64(seq), 10)+" "+keep.Method)
		keep.Set(name, value)
		keep.Del("Via")
		keep.PrependVia(c.u.via(tm, tl, dst.Protocol))
		req = keep
	}
}

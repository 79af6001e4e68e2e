package ua

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"

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
	client *digest.Client
	sent   map[string]digest.Credentials // by realm
	// The challenge answered last and the header the answer went in.
	lastHdr  string
	lastChal digest.Challenge
}

func (u *UA) newAuthRetry() *authRetry {
	return &authRetry{client: u.digest, sent: map[string]digest.Credentials{}}
}

// challengeCache remembers, per server, the last challenge an INVITE
// answered, so that the next INVITE there carries credentials at once
// (RFC 3261 §22.3 allows it). A server that takes a nonce more than once
// saves the round trip of its 401/407; one that does not challenges
// again, as it would have anyway: these credentials are not counted as
// refused (authRetry.sent does not hold them).
type challengeCache struct {
	mu sync.Mutex
	m  map[netip.AddrPort]cachedChallenge
}

type cachedChallenge struct {
	hdr  string
	chal digest.Challenge
}

// maxCachedChallenges bounds the servers a challengeCache remembers.
const maxCachedChallenges = 16

func (cc *challengeCache) put(server netip.AddrPort, hdr string, chal digest.Challenge) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil {
		cc.m = map[netip.AddrPort]cachedChallenge{}
	}
	if _, ok := cc.m[server]; !ok && len(cc.m) >= maxCachedChallenges {
		for k := range cc.m {
			delete(cc.m, k) // any one: a UA talks to few servers
			break
		}
	}
	cc.m[server] = cachedChallenge{hdr, chal}
}

func (cc *challengeCache) get(server netip.AddrPort) (cachedChallenge, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	c, ok := cc.m[server]
	return c, ok
}

// preemptive adds to req, a first INVITE to server, credentials answering
// the challenge the last INVITE there met, when there was one.
func (u *UA) preemptive(server netip.AddrPort, req *sipmsg.Message) {
	c, ok := u.challenges.get(server)
	if !ok {
		return
	}
	cr, err := u.digest.Authorize(&c.chal, digest.Request{Method: req.Method, URI: req.RequestURI.String()})
	if err == nil {
		req.Set(c.hdr, cr.String())
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
	a.lastHdr, a.lastChal = name, chal
	return name, cr.String(), true
}

// dialogFinal sends req, a request in d (the call's dialog, or an early
// one; guarded by c.mu), to dst and returns its final response and the
// request that got it. Any request
// may be challenged (RFC 3261 §22), by the peer or a proxy on the route
// set: a 401 or 407 is answered up to maxAuthRetries times with a copy of
// the request under the dialog's next CSeq, a new branch and the
// credentials (§22.2). When the next hop does not serve it (no answer, a
// transport failure, 503), the same request under a new branch goes to
// the hop's next SRV target (RFC 3263 §4.3), up to maxFailovers times,
// and the call's requests keep going there (nextDst).
func (c *Call) dialogFinal(ctx context.Context, tl *transaction.Layer, tm *transport.Manager, d *dialog.Dialog, req *sipmsg.Message, dst transport.Addr) (final, sent *sipmsg.Message, err error) {
	var a *authRetry
	failovers := 0
	for attempt := 0; ; attempt++ {
		keep := req.Clone() // the layer owns req once it is sent
		final, err := finalResponse(ctx, tl, req, dst)
		if notServed(ctx, final, err) && failovers < maxFailovers {
			if next, ok := c.nextDst(ctx, d, dst); ok {
				failovers++
				attempt-- // not an answer to a challenge
				dst = next
				keep.Del("Via")
				keep.PrependVia(c.u.via(tm, tl, dst.Protocol))
				req = keep
				continue
			}
		}
		if err != nil || attempt == maxAuthRetries || (final.StatusCode != 401 && final.StatusCode != 407) {
			c.dialogGone(d, req.Method, final, err)
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

// dialogGone ends the call whose dialog d is when a request in it got 481
// or 408, or no answer at all: the peer has lost the dialog (RFC 3261
// §12.2.1.2, §14.1; RFC 4028 §10 for a session refresh). The BYE goes
// best effort. A BYE's own answer, and requests in an early dialog, are
// not taken as that.
func (c *Call) dialogGone(d *dialog.Dialog, method string, final *sipmsg.Message, err error) {
	gone := final != nil && (final.StatusCode == 481 || final.StatusCode == 408) ||
		errors.Is(err, transaction.ErrTimeout)
	c.mu.Lock()
	confirmed := c.dlg == d
	c.mu.Unlock()
	if !gone || !confirmed || method == "BYE" {
		return
	}
	why := err
	if why == nil {
		why = statusError(final)
	}
	c.u.log.Info("ua: the peer lost the call's dialog", "call", c.id, "method", method, "err", why)
	c.u.tasks.goFunc(func() { c.hangup(EndError, fmt.Errorf("ua: %s in the call's dialog: %w", method, why)) })
}

// nextDst returns where the requests of d go after dst did not serve one:
// the next SRV target of d's next hop, or of the server (registrar or
// outbound proxy) when dst is that (UA.nextTarget). The call's later
// requests go there too, unless its next hop moved meanwhile.
func (c *Call) nextDst(ctx context.Context, d *dialog.Dialog, dst transport.Addr) (transport.Addr, bool) {
	c.mu.Lock()
	hop := d.NextHop()
	c.mu.Unlock()
	next, ok := c.u.nextTarget(ctx, hop, dst)
	if !ok {
		return next, false
	}
	c.mu.Lock()
	if c.dlg == d && c.dst.AddrPort == dst.AddrPort && c.dst.Protocol == dst.Protocol {
		c.dst = next
	}
	c.mu.Unlock()
	return next, true
}

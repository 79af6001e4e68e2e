package ua

import (
	"context"
	"strconv"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// redirect builds the INVITE that follows a 3xx answer (RFC 3261
// §8.1.3.4): the first SIP Contact, in q order, not tried before becomes the
// Request-URI of a new transaction with the same Call-ID, From and To and
// the next CSeq. It reports false when the answer names no new target;
// visited keeps the URIs tried, so a redirect loop ends.
func (c *Call) redirect(ctx context.Context, resp, prev *sipmsg.Message, visited map[string]bool) (*sipmsg.Message, transport.Addr, bool) {
	if resp.StatusCode == 305 || resp.StatusCode == 380 {
		return nil, transport.Addr{}, false // use proxy and alternative service: not followed
	}
	contacts, err := resp.Contacts()
	if err != nil {
		return nil, transport.Addr{}, false
	}
	best, bestQ := -1, -1.0
	for i, a := range contacts {
		if !a.URI.IsSIP() {
			continue
		}
		if visited[a.URI.String()] {
			continue
		}
		q := qValue(a)
		if q > bestQ {
			best, bestQ = i, q
		}
	}
	if best < 0 {
		return nil, transport.Addr{}, false
	}
	target := contacts[best].URI
	visited[target.String()] = true
	u := c.u
	dst, err := u.destination(ctx, target)
	if err != nil {
		return nil, transport.Addr{}, false
	}
	tl, tm := u.layer()
	if tl == nil {
		return nil, transport.Addr{}, false
	}
	next := prev.Clone()
	cs, _ := prev.CSeq()
	next.Set("CSeq", strconv.FormatUint(uint64(cs.Seq+1), 10)+" INVITE")
	next.Del("Authorization")
	next.Del("Proxy-Authorization")
	next.RequestURI = target
	next.Del("Via")
	next.PrependVia(u.via(tm, tl, dst.Protocol))
	c.mu.Lock()
	c.invite = sharedInvite(next)
	c.remoteURI = target.String()
	c.proto = dst.Protocol
	c.mu.Unlock()
	return next, dst, true
}

// qValue is a Contact's q parameter (RFC 3261 §20.10), 1 when absent.
func qValue(a sipmsg.Address) float64 {
	v := a.Params.Value("q")
	if v == "" {
		return 1
	}
	q := 0.0
	scale := 0.0
	for _, r := range v {
		switch {
		case r == '.':
			scale = 1
		case r >= '0' && r <= '9':
			if scale == 0 {
				q = q*10 + float64(r-'0')
			} else {
				scale /= 10
				q += float64(r-'0') * scale
			}
		default:
			return 0
		}
	}
	return q
}

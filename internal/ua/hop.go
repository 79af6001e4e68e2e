package ua

import (
	"context"
	"errors"
	"net/netip"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// Where a call's in-dialog requests and its media go: the next hop of its
// dialog (RFC 3261 §12.2.1.1, found per RFC 3263) and the media host of
// its SDP. A lookup that may wait on DNS never runs on the transport's
// reader.

// nextHop works out where in-dialog requests go (RFC 3261 §12.2.1.1):
// the first route or the remote target, resolved; fallback is used when it
// cannot be (a peer's Contact with a name we cannot resolve).
func (c *Call) nextHop(ctx context.Context, fallback transport.Addr) transport.Addr {
	c.mu.Lock()
	uri := c.dlg.NextHop()
	c.mu.Unlock()
	return c.resolveHop(ctx, uri, fallback)
}

// resolveHop resolves uri (a route or remote target) for the call, as
// UA.resolveHop does, the call's transport the default.
func (c *Call) resolveHop(ctx context.Context, uri sipmsg.URI, fallback transport.Addr) transport.Addr {
	c.mu.Lock()
	proto := c.proto // a redirect changes it (invite_redirect.go)
	c.mu.Unlock()
	return c.u.resolveHop(ctx, uri, proto, fallback)
}

// resolveHop resolves uri (a route or remote target) to a transport
// address: the transport from its transport parameter or sips: scheme, else
// proto; the default port for it; fallback when the host does not
// resolve. The connection of fallback is reused when both are the same.
func (u *UA) resolveHop(ctx context.Context, uri sipmsg.URI, proto transport.Protocol, fallback transport.Addr) transport.Addr {
	if t := uri.Params.Value("transport"); t != "" {
		if p, err := transport.ParseProtocol(t); err == nil {
			proto = p
		}
	}
	if uri.IsSecure() {
		proto = transport.TLS
	}
	ap, err := u.resolveSIP(ctx, uri.Host, uri.Port, proto)
	if err != nil {
		return fallback
	}
	dst := transport.Addr{Protocol: proto, AddrPort: ap, ServerName: uri.Host}
	if ap == fallback.AddrPort && proto == fallback.Protocol {
		dst.ConnID = fallback.ConnID
	}
	return dst
}

// resolveDst works out where an inbound call's in-dialog requests go:
// hop, the dialog's first route or remote target, or src, where the
// INVITE came from, for a peer on a stream without a route set whose
// Contact is not where it connected from (behind NAT, RFC 3581 symmetric
// response routing). A host name is looked up on a goroutine of its own,
// never on the transport's reader that handles the INVITE: a slow DNS
// server must not hold up every other message. Until the lookup ends
// c.dst is src, and in-dialog requests wait for it (settledDst).
func (c *Call) resolveDst(hop sipmsg.URI, src transport.Addr, routed bool) {
	pick := func(dst transport.Addr) transport.Addr {
		if !routed && dst.AddrPort != src.AddrPort && dst.Protocol.Reliable() {
			return src
		}
		return dst
	}
	if _, err := netip.ParseAddr(hop.Host); err == nil {
		dst := pick(c.resolveHop(context.Background(), hop, src)) // no lookup
		c.mu.Lock()
		c.dst, c.hopPending = dst, nil
		c.mu.Unlock()
		return
	}
	done := make(chan struct{})
	c.mu.Lock()
	c.hopPending = done
	c.mu.Unlock()
	// Not c.ctx: the BYE of a call hung up meanwhile waits for the
	// lookup. Disconnect ends it.
	life := c.u.lifeContext()
	c.u.tasks.goFunc(func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(life, 64*c.u.t1())
		defer cancel()
		dst := pick(c.resolveHop(ctx, hop, src))
		c.mu.Lock()
		if c.hopPending == done { // else a newer target took over
			c.dst, c.hopPending = dst, nil
		}
		c.mu.Unlock()
	})
}

// throughProxy reports whether the requests of dialog d go to the outbound
// proxy rather than to d's remote target: d has no route set and the UA's
// INVITE went through its outbound proxy.
func (u *UA) throughProxy(d *dialog.Dialog) bool {
	return len(d.RouteSet) == 0 && u.cfg.OutboundProxy != ""
}

// retarget follows a target refresh (RFC 3261 §12.2.1.2): with no route
// set, the dialog's requests go to its new remote target, looked up as
// resolveDst does. A peer on a stream keeps the connection it uses, and
// with an outbound proxy they keep going through it (as the INVITE's
// dialog began, invite_uac.go).
func (c *Call) retarget() {
	c.mu.Lock()
	if c.dlg == nil || len(c.dlg.RouteSet) > 0 || c.u.throughProxy(c.dlg) || c.dst.Protocol.Reliable() {
		c.mu.Unlock()
		return
	}
	hop, cur := c.dlg.NextHop(), c.dst
	c.mu.Unlock()
	c.resolveDst(hop, cur, false)
}

// settledDst returns dst, the next hop read with the request it is for,
// unless the lookup of resolveDst still runs: then it waits for it within
// ctx and returns its result.
func (c *Call) settledDst(ctx context.Context, dst transport.Addr) transport.Addr {
	c.mu.Lock()
	pending := c.hopPending
	c.mu.Unlock()
	if pending == nil {
		return dst
	}
	select {
	case <-pending:
	case <-ctx.Done():
		return dst
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dst
}

// lookupMedia resolves the media host of n on a goroutine and gives the
// session started with cfg its address, unless a later negotiation
// (generation gen on) replaced cfg meanwhile. c.mediaMu is held.
func (c *Call) lookupMedia(n sdp.Negotiated, cfg media.Config, gen uint64) {
	c.u.tasks.goFunc(func() {
		ctx, cancel := context.WithTimeout(c.ctx, 64*c.u.t1())
		defer cancel()
		ap, err := c.u.resolve(ctx, n.RemoteHost, int(n.RemoteRTP.Port()))
		if err != nil {
			c.u.log.Warn("ua: the media host does not resolve; no media is sent", "call", c.callID, "host", n.RemoteHost, "err", err)
			return
		}
		cfg.RemoteRTP = ap
		cfg.RemoteRTCP = netip.AddrPortFrom(ap.Addr(), n.RemoteRTCP.Port())
		c.mediaMu.Lock()
		defer c.mediaMu.Unlock()
		if c.mediaGen != gen {
			return
		}
		if err := c.media.Update(cfg); err != nil && !errors.Is(err, media.ErrClosed) {
			c.u.log.Warn("ua: media update", "call", c.callID, "err", err)
		}
	})
}

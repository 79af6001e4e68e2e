package ua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// resolve turns host and port into an address with A and AAAA records,
// an IPv4 address first; for media hosts, and SIP hops with a port.
func (u *UA) resolve(ctx context.Context, host string, port int) (netip.AddrPort, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
	}
	ips, err := u.resolver().LookupNetIP(ctx, "ip", host)
	if err == nil && len(ips) == 0 {
		err = errors.New("no address")
	}
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("ua: resolve %s: %w", host, err)
	}
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
		}
	}
	return netip.AddrPortFrom(ips[0], uint16(port)), nil
}

func (u *UA) resolver() *net.Resolver {
	if u.cfg.Resolver != nil {
		return u.cfg.Resolver
	}
	return net.DefaultResolver
}

// srvService returns the SRV service and protocol labels of a SIP
// transport (RFC 3263 §4.1, RFC 3261 §19.1.2): _sip._udp, _sip._tcp,
// _sips._tcp.
func srvService(p transport.Protocol) (service, proto string) {
	switch p {
	case transport.TCP:
		return "sip", "tcp"
	case transport.TLS:
		return "sips", "tcp"
	}
	return "sip", "udp"
}

// resolveSIP finds the server of a SIP host as RFC 3263 §4.2 says once the
// transport is known: an IP address or an explicit port is used as it is
// (A/AAAA for a name); otherwise the SRV records of the transport are
// tried, in the order of their priorities and weights (net.LookupSRV
// sorts them), and the first target that resolves is taken with its port;
// without SRV records, the name's A/AAAA records with the transport's
// default port. NAPTR is not consulted: the transport comes from the
// configuration or the URI.
func (u *UA) resolveSIP(ctx context.Context, host string, port int, p transport.Protocol) (netip.AddrPort, error) {
	ap, _, err := u.locate(ctx, host, port, p)
	return ap, err
}

// srvTimeout bounds an SRV query.
const srvTimeout = 2 * time.Second

// serverSet is where the registrar (or outbound proxy) was found: the SRV
// records of its name, in order, and the one in use; srvs is nil when it
// was found without SRV.
type serverSet struct {
	srvs []*net.SRV
	at   int
}

// locate is resolveSIP that also returns the SRV records it went through.
func (u *UA) locate(ctx context.Context, host string, port int, p transport.Protocol) (netip.AddrPort, serverSet, error) {
	if _, err := netip.ParseAddr(host); err == nil || port != 0 {
		if port == 0 {
			port = defaultPort(p)
		}
		ap, err := u.resolve(ctx, host, port)
		return ap, serverSet{}, err
	}
	service, proto := srvService(p)
	// Bounded: a name that /etc/hosts knows must not wait out an
	// unreachable DNS server before its A record is used.
	sctx, cancel := context.WithTimeout(ctx, srvTimeout)
	_, srvs, err := u.resolver().LookupSRV(sctx, service, proto, host)
	cancel()
	if err != nil || len(srvs) == 0 {
		ap, err := u.resolve(ctx, host, defaultPort(p))
		return ap, serverSet{}, err
	}
	set := serverSet{srvs: srvs}
	var errs []error
	for i, s := range srvs {
		if s.Target == "." {
			break // RFC 2782: the service is decidedly not available here
		}
		ap, err := u.resolve(ctx, s.Target, int(s.Port))
		if err == nil {
			set.at = i
			return ap, set, nil
		}
		errs = append(errs, err)
	}
	return netip.AddrPort{}, set, fmt.Errorf("ua: no SRV target of %s resolves: %w", host, errors.Join(errs...))
}

// failover moves the registrar's address (u.server) to the next SRV target
// that resolves, in order and around, after the one in use failed to
// answer or answered 503 (RFC 3263 §4.3). It reports whether it moved:
// not when the registrar was not found through SRV or has one target.
func (u *UA) failover(ctx context.Context) bool {
	u.mu.Lock()
	set := u.located
	u.mu.Unlock()
	for k := 1; k < len(set.srvs); k++ {
		i := (set.at + k) % len(set.srvs)
		s := set.srvs[i]
		if s.Target == "." {
			continue
		}
		ap, err := u.resolve(ctx, s.Target, int(s.Port))
		if err != nil {
			continue
		}
		u.mu.Lock()
		u.located.at = i
		u.server.AddrPort = ap
		u.mu.Unlock()
		u.log.Info("ua: registrar unreachable; next SRV target", "target", s.Target, "addr", ap)
		return true
	}
	return false
}

// failoverable says whether a registration error means the server did
// not serve us (no answer, a transport failure, 503) rather than that it
// refused us.
func failoverable(err error) bool {
	var re *RegistrationError
	if errors.As(err, &re) && re.Code == 503 {
		return true
	}
	return errors.Is(err, transaction.ErrTimeout) || errors.Is(err, transaction.ErrTransport)
}

// notServed says whether a request's outcome, its final response or its
// transaction's error, means that the server did not serve it (RFC 3263
// §4.3): no answer or a transport failure while ctx still runs, or 503.
func notServed(ctx context.Context, final *sipmsg.Message, err error) bool {
	if err != nil {
		return ctx.Err() == nil && (errors.Is(err, transaction.ErrTimeout) || errors.Is(err, transaction.ErrTransport))
	}
	return final != nil && final.StatusCode == 503
}

// nextTarget returns where to send an out-of-dialog request to uri again
// after dst did not serve it (no answer, a transport failure, 503; RFC
// 3263 §4.3): the registrar's or outbound proxy's next SRV target when dst
// is that server, else the SRV target of uri's host that follows dst's.
// ok is false when there is none.
func (u *UA) nextTarget(ctx context.Context, uri sipmsg.URI, dst transport.Addr) (transport.Addr, bool) {
	u.mu.Lock()
	server := u.server
	u.mu.Unlock()
	if server.AddrPort.IsValid() && dst.AddrPort == server.AddrPort {
		if !u.failover(ctx) {
			return transport.Addr{}, false
		}
		u.mu.Lock()
		next := u.server
		u.mu.Unlock()
		next.Protocol = dst.Protocol
		return next, true
	}
	_, set, err := u.locate(ctx, uri.Host, uri.Port, dst.Protocol)
	if err != nil || len(set.srvs) < 2 {
		return transport.Addr{}, false
	}
	past := false
	for _, s := range set.srvs {
		if s.Target == "." {
			break
		}
		ap, err := u.resolve(ctx, s.Target, int(s.Port))
		switch {
		case err != nil:
		case past:
			return transport.Addr{Protocol: dst.Protocol, AddrPort: ap, ServerName: dst.ServerName}, true
		case ap == dst.AddrPort:
			past = true
		}
	}
	return transport.Addr{}, false
}

// outsideFinal sends req, a request outside any dialog, to dst, its first
// hop, and returns its final response and the server that gave it, as
// failoverFinal does. A retry with credentials goes to the server that
// challenged: the returned one.
func (u *UA) outsideFinal(ctx context.Context, tl *transaction.Layer, tm *transport.Manager, req *sipmsg.Message, dst transport.Addr) (*sipmsg.Message, transport.Addr, error) {
	return u.failoverFinal(ctx, tl, tm, req, dst, u.firstHop(req.RequestURI))
}

// failoverFinal sends req to dst, where hop was resolved to, and returns
// its final response and the server that gave it. When that server does
// not serve it (no answer, a transport failure, 503), the same request
// with a new branch goes to the next SRV target of hop (RFC 3263 §4.3), up
// to maxFailovers times; the last server's answer or error is returned.
func (u *UA) failoverFinal(ctx context.Context, tl *transaction.Layer, tm *transport.Manager, req *sipmsg.Message, dst transport.Addr, hop sipmsg.URI) (*sipmsg.Message, transport.Addr, error) {
	for failovers := 0; ; failovers++ {
		keep := req.Clone() // the layer owns req once it is sent
		resp, err := finalResponse(ctx, tl, req, dst)
		if !notServed(ctx, resp, err) || failovers == maxFailovers {
			return resp, dst, err
		}
		next, ok := u.nextTarget(ctx, hop, dst)
		if !ok {
			return resp, dst, err
		}
		u.log.Debug("ua: next SRV target", "method", keep.Method, "from", dst.AddrPort, "to", next.AddrPort)
		dst = next
		keep.Del("Via")
		keep.PrependVia(u.via(tm, tl, dst.Protocol))
		req = keep
	}
}

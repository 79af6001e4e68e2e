package ua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/xphone-go/xphone/internal/transport"
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
	if _, err := netip.ParseAddr(host); err == nil || port != 0 {
		if port == 0 {
			port = defaultPort(p)
		}
		return u.resolve(ctx, host, port)
	}
	service, proto := srvService(p)
	_, srvs, err := u.resolver().LookupSRV(ctx, service, proto, host)
	if err == nil {
		var errs []error
		for _, s := range srvs {
			if s.Target == "." {
				break // RFC 2782: the service is decidedly not available here
			}
			ap, err := u.resolve(ctx, s.Target, int(s.Port))
			if err == nil {
				return ap, nil
			}
			errs = append(errs, err)
		}
		if len(srvs) > 0 {
			return netip.AddrPort{}, fmt.Errorf("ua: no SRV target of %s resolves: %w", host, errors.Join(errs...))
		}
	}
	return u.resolve(ctx, host, defaultPort(p))
}

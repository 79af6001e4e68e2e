package ua

import (
	"context"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// Where an out-of-dialog request goes and which Route it carries: the
// outbound proxy, the Service-Route a registrar gave (RFC 3608), else the
// request URI's host found per RFC 3263. In-dialog requests follow the
// dialog's route set instead (hop.go).

// proxyURI parses an outbound proxy given as "host", "host:port" or a URI.
func proxyURI(s string) (sipmsg.URI, error) {
	if u, err := sipmsg.ParseURI(s); err == nil && u.IsSIP() {
		return u, nil
	}
	return sipmsg.ParseURI("sip:" + s)
}

// destination returns where an out-of-dialog request to uri goes: the
// outbound proxy or the registrar's resolved address when set, else uri's
// host and port; the first service route entry stands for uri when there
// is one (see firstHop).
func (u *UA) destination(ctx context.Context, uri sipmsg.URI) (transport.Addr, error) {
	uri = u.firstHop(uri)
	proto := u.cfg.Transport
	if t := uri.Params.Value("transport"); t != "" {
		if p, err := transport.ParseProtocol(t); err == nil {
			proto = p
		}
	}
	if uri.IsSecure() {
		proto = transport.TLS
	}
	u.mu.Lock()
	server := u.server
	u.mu.Unlock()
	if u.cfg.OutboundProxy != "" {
		return server, nil
	}
	if server.AddrPort.IsValid() && equalHost(uri.Host, u.cfg.Host) && (uri.Port == 0 || uri.Port == u.cfg.Port) {
		server.Protocol = proto
		return server, nil
	}
	ap, err := u.resolveSIP(ctx, uri.Host, uri.Port, proto)
	if err != nil {
		return transport.Addr{}, err
	}
	return transport.Addr{Protocol: proto, AddrPort: ap, ServerName: uri.Host}, nil
}

func equalHost(a, b string) bool {
	return len(a) == len(b) && (a == b || sipmsg.URI{Scheme: "sip", Host: a}.Equal(sipmsg.URI{Scheme: "sip", Host: b}))
}

// aor is our address of record as From (and To of REGISTER and PUBLISH)
// name it: the user at Config.Host (at our own address without one), with
// the display name.
func (u *UA) aor(scheme string) sipmsg.Address {
	a := sipmsg.Address{URI: sipmsg.URI{Scheme: scheme, User: u.cfg.Username, Host: u.cfg.Host}, Bracketed: true}
	if u.cfg.Host == "" {
		a.URI.Host, a.URI.Port = u.LocalAddr()
	}
	if u.cfg.DisplayName != "" {
		a.Display = sipmsg.Quote(u.cfg.DisplayName)
	}
	return a
}

// addRoute adds the preloaded route (RFC 3261 §8.1.2): the outbound proxy,
// then, when service is set (an INVITE, not a REGISTER), the service route
// the registrar gave, in its order (RFC 3608 §6.1).
func (u *UA) addRoute(req *sipmsg.Message, service bool) {
	if u.cfg.OutboundProxy != "" {
		if uri, err := proxyURI(u.cfg.OutboundProxy); err == nil {
			uri.Params = uri.Params.Set("lr", "")
			req.Add("Route", "<"+uri.String()+">")
		}
	}
	if !service {
		return
	}
	u.mu.Lock()
	routes := u.serviceRoute
	u.mu.Unlock()
	for _, r := range routes {
		req.Add("Route", "<"+r.String()+">")
	}
}

// firstHop returns the URI an out-of-dialog request to uri is sent
// towards when no outbound proxy is set: the first entry of the service
// route (loose routing, RFC 3261 §8.1.2), else uri itself.
func (u *UA) firstHop(uri sipmsg.URI) sipmsg.URI {
	if u.cfg.OutboundProxy != "" {
		return uri
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.serviceRoute) > 0 {
		return u.serviceRoute[0]
	}
	return uri
}

// setServiceRoute keeps the Service-Route of a 2xx to REGISTER, or forgets
// it (resp nil): each new registration replaces it, and one without the
// header, a removed binding or a lost one clears it (RFC 3608 §6.1).
func (u *UA) setServiceRoute(resp *sipmsg.Message) {
	var routes []sipmsg.URI
	if resp != nil {
		addrs, err := resp.Addresses("Service-Route")
		if err != nil {
			u.log.Warn("ua: ignoring an unreadable Service-Route", "err", err)
		}
		for _, a := range addrs {
			routes = append(routes, a.URI)
		}
	}
	u.mu.Lock()
	u.serviceRoute = routes
	u.mu.Unlock()
}

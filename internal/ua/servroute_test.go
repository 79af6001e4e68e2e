package ua

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// TestServiceRoute: RFC 3608 §6.1. The registrar's 2xx names a proxy in
// Service-Route: an INVITE goes to that proxy with the route preloaded
// (Request-URI unchanged), REGISTER refreshes never carry it, and a
// refresh whose 2xx has no Service-Route clears it: the next INVITE goes
// straight to its target.
func TestServiceRoute(t *testing.T) {
	f := startFake(t, transport.UDP, "127.0.0.1:0", 60)
	proxy, callee := newPeer(t), newPeer(t)
	route := fmt.Sprintf("<sip:orig@127.0.0.1:%d;lr>", proxy.port)
	var offer atomic.Bool
	offer.Store(true)
	f.setScript(func(_ int, req *sipmsg.Message) *sipmsg.Message {
		resp := sipmsg.NewResponse(req, 200, "")
		resp.SetToTag("reg")
		contact, _ := req.Contact()
		contact.Params = contact.Params.Set("expires", "60")
		resp.Add("Contact", contact.String())
		if offer.Load() {
			resp.Add("Service-Route", route)
			resp.Add("Service-Route", "<sip:term@127.0.0.1:9;lr>")
		}
		return resp
	})
	events := make(chan string, 16)
	g := newGate()
	u := fakeUA(f, events, func(c *Config) { c.schedule = g.schedule })
	connect(t, u)
	t.Cleanup(g.stop) // before connect's Disconnect, which waits for the loop
	waitEvent(t, events, "registered")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	target := fmt.Sprintf("sip:bob@127.0.0.1:%d", callee.port)
	res := dialAsync(ctx, u, target, DialOptions{})
	inv := proxy.next("INVITE at the service route's proxy", isReq("INVITE"))
	if got := inv.m.Values("Route"); fmt.Sprint(got) != fmt.Sprint([]string{route, "<sip:term@127.0.0.1:9;lr>"}) {
		t.Errorf("Route: got %q, want the service route in order", got)
	}
	if got := inv.m.RequestURI.String(); got != target {
		t.Errorf("Request-URI: got %s, want %s", got, target)
	}
	proxy.respond(inv, 486, token(), "")
	proxy.next("ACK of the 486", isReq("ACK"))
	if r := recvDial(t, res); r.err == nil {
		t.Fatal("Dial: got nil error, want 486")
	}

	for len(f.regs) > 0 {
		<-f.regs
	}
	offer.Store(false)
	g.refresh()
	for {
		r := f.nextRegister(t)
		if got := r.msg.Values("Route"); len(got) != 0 {
			t.Errorf("REGISTER Route: got %q, want none", got)
		}
		if r.msg.Get("Authorization") != "" {
			break
		}
	}
	// The refresh's 2xx (without Service-Route) is applied before the
	// next refresh may start: wait for it through a second refresh.
	g.refresh()
	f.nextRegister(t)

	res = dialAsync(ctx, u, target, DialOptions{})
	inv = callee.next("INVITE straight to the callee", isReq("INVITE"))
	if got := inv.m.Values("Route"); len(got) != 0 {
		t.Errorf("Route after the service route was cleared: got %q, want none", got)
	}
	callee.respond(inv, 486, token(), "")
	callee.next("ACK of the 486", isReq("ACK"))
	if r := recvDial(t, res); r.err == nil {
		t.Fatal("Dial: got nil error, want 486")
	}
}

// TestServiceRouteAfterOutboundProxy: with an outbound proxy, the INVITE
// goes to the proxy and carries its Route first, then the service route
// (RFC 3608 §6.1); the REGISTER carries only the proxy's.
func TestServiceRouteAfterOutboundProxy(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	proxy := fmt.Sprintf("127.0.0.1:%d", p.port)
	u := New(Config{
		Username: "alice", Host: "example.test", Port: 5060, OutboundProxy: proxy,
		RegisterExpiry: time.Minute, ListenAddr: "127.0.0.1:0", T1: 10 * time.Millisecond, Codecs: []string{"PCMU"},
		Media: media.Options{Address: netip.MustParseAddr("127.0.0.1"), MediaTimeout: -1},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	connected := make(chan error, 1)
	go func() { connected <- u.Connect(ctx) }()
	reg := p.next("REGISTER at the outbound proxy", isReq("REGISTER"))
	if got := reg.m.Values("Route"); len(got) != 1 {
		t.Errorf("REGISTER Route: got %q, want the proxy's only", got)
	}
	p.respond(reg, 200, token(), "", "Service-Route", "<sip:orig@scscf.example.test;lr>")
	if err := <-connected; err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { u.Disconnect(context.Background()) }) //nolint:errcheck // the unregister goes unanswered

	res := dialAsync(ctx, u, "sip:bob@example.test", DialOptions{})
	inv := p.next("INVITE at the outbound proxy", isReq("INVITE"))
	routes, err := inv.m.Route()
	if err != nil || len(routes) != 2 {
		t.Fatalf("INVITE Route: got %v (%v), want the proxy's and the service route", routes, err)
	}
	if got := fmt.Sprintf("%s:%d", routes[0].URI.Host, routes[0].URI.Port); got != proxy || !routes[0].URI.Params.Has("lr") {
		t.Errorf("first Route: got %s, want the proxy %s with lr", routes[0].URI, proxy)
	}
	if got, want := routes[1].URI.String(), "sip:orig@scscf.example.test;lr"; got != want {
		t.Errorf("second Route: got %s, want %s", got, want)
	}
	p.respond(inv, 486, token(), "")
	p.next("ACK of the 486", isReq("ACK"))
	if r := recvDial(t, res); r.err == nil {
		t.Fatal("Dial: got nil error, want 486")
	}
}

package ua

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/sipmsg"
)

// TestSubscriptionRouting: a subscription's refreshes are requests in its
// dialog (RFC 3261 §12.2.1.1, RFC 6665): they go through the route set
// the notifier's proxy recorded, to the remote target a NOTIFY (one that
// came before the 2xx too) or a 2xx last named; a refresh that fails makes the next attempt a new
// subscription, made where the first one was (RFC 6665 §4.1.2.2).
func TestSubscriptionRouting(t *testing.T) {
	p, proxy, target := newPeer(t), newPeer(t), newPeer(t) // registrar, record-routing proxy, notifier's new address
	got := make(chan mwi.Summary, 8)
	u := newUA(t, func(c *Config) {
		c.Host, c.Port, c.RegisterExpiry = "127.0.0.1", p.port, -1
		c.RegisterRetry = 50 * time.Millisecond
		c.MWI = true
		c.OnVoicemail = func(s mwi.Summary) { got <- s }
	})
	isSub := isNewReq("SUBSCRIBE")
	route := fmt.Sprintf("<sip:127.0.0.1:%d;lr>", proxy.port)
	ok := func(from *peer, pm peerMsg, tag, contact string, extra ...string) {
		r := sipmsg.NewResponse(pm.m, 200, "")
		r.SetToTag(tag) //nolint:errcheck // the request's To is ours
		r.Add("Contact", contact)
		r.Add("Expires", "2")
		for i := 0; i+1 < len(extra); i += 2 {
			r.Add(extra[i], extra[i+1])
		}
		from.send(r, pm.from)
	}

	// The first NOTIFY comes before the 2xx (RFC 6665 §4.1.2.4), naming
	// another remote target than the 2xx's Contact.
	sub := p.next("SUBSCRIBE", isSub)
	tag := token()
	moved := fmt.Sprintf("sip:vm@127.0.0.1:%d", target.port)
	notify := p.mwiNotify(sub.m, tag, 1, "active;expires=2", mwiBody)
	notify.Set("Contact", "<"+moved+">") // a target refresh
	p.send(notify, sub.from)
	p.next("200 to NOTIFY", isResp(200, "NOTIFY"))
	ok(p, sub, tag, fmt.Sprintf("<sip:vm@127.0.0.1:%d>", p.port), "Record-Route", route)
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("OnVoicemail was not called")
	}

	// The refresh, at half of the 2 s granted: to the proxy, with the
	// route set, for the notifier's new address.
	ref := proxy.next("refresh through the proxy", isSub)
	if ref.m.Get("Route") != route || ref.m.RequestURI.String() != moved || ref.m.CallID() != sub.m.CallID() {
		t.Errorf("refresh: got Route %q Request-URI %s Call-ID %q, want %s, %s, the subscription's", ref.m.Get("Route"), ref.m.RequestURI, ref.m.CallID(), route, moved)
	}
	proxy.respond(ref, 404, token(), "")

	// That failed: a new subscription, where the first was made.
	again := p.next("new SUBSCRIBE", isSub)
	if to, _ := again.m.To(); again.m.CallID() == sub.m.CallID() || to.Tag() != "" || again.m.Has("Route") {
		t.Errorf("after a failed refresh: got Call-ID %q To tag %q Route %q, want a new subscription", again.m.CallID(), to.Tag(), again.m.Get("Route"))
	}
	// No route set: the next refresh goes to the remote target.
	tag2 := token()
	ok(p, again, tag2, "<"+moved+">")
	ref2 := target.next("refresh to the remote target", isSub)
	if to, _ := ref2.m.To(); ref2.m.Has("Route") || ref2.m.RequestURI.String() != moved || to.Tag() != tag2 {
		t.Errorf("refresh: got Route %q Request-URI %s To tag %q, want none, %s, %s", ref2.m.Get("Route"), ref2.m.RequestURI, to.Tag(), moved, tag2)
	}
	ok(target, ref2, tag2, "<"+moved+">")
	// A NOTIFY in the dialog moves the remote target back.
	back := fmt.Sprintf("sip:vm@127.0.0.1:%d", p.port)
	notify = target.mwiNotify(again.m, tag2, 1, "active;expires=2", mwiBody)
	notify.Set("Contact", "<"+back+">")
	target.send(notify, ref2.from)
	target.next("200 to NOTIFY", isResp(200, "NOTIFY"))

	done := make(chan error, 1)
	go func() { done <- u.Disconnect(context.Background()) }()
	un := p.next("unsubscribe", func(m *sipmsg.Message) bool { return isSub(m) && m.Get("Expires") == "0" })
	if un.m.RequestURI.String() != back {
		t.Errorf("unsubscribe: got Request-URI %s, want %s", un.m.RequestURI, back)
	}
	ok(p, un, tag2, "<"+back+">")
	if err := <-done; err != nil {
		t.Errorf("Disconnect: %v", err)
	}
}

// TestSubscribeAfterStop: once Disconnect has stopped the UA's work (before
// it takes the list of subscriptions to remove), a new subscription, as a
// Watch racing with it would make, is refused and not listed, so none
// outlives the list.
func TestSubscribeAfterStop(t *testing.T) {
	u := newUA(t, nil)
	u.mu.Lock()
	stop := u.stop
	u.mu.Unlock()
	stop() // what Disconnect does before unsubscribeAll
	s := &subscription{event: "dialog", target: sipmsg.URI{Scheme: "sip", Host: "127.0.0.1"}}
	if err := u.subscribe(s); !errors.Is(err, ErrNotConnected) {
		t.Errorf("subscribe after stop: got %v, want ErrNotConnected", err)
	}
	u.mu.Lock()
	n := len(u.subs)
	u.mu.Unlock()
	if n != 0 {
		t.Errorf("subscriptions listed: %d, want 0", n)
	}
}

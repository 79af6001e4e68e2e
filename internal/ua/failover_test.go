package ua

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/dialoginfo"
	"github.com/xphone-go/xphone/internal/pidf"
	"github.com/xphone-go/xphone/sipmsg"
)

// RFC 3263 §4.3 for the requests outside a dialog other than REGISTER and
// INVITE (resolve_test.go): MESSAGE, a new subscription's SUBSCRIBE and
// PUBLISH go to the next SRV target of their first hop when one answers
// 503 or not at all, as the same request under a new branch; what follows
// (credentials, the subscription's dialog, the publication's refreshes)
// goes to the server that answered.

// twoServers returns two peers that are the SRV targets of far.test, in
// that order, and the resolver that says so.
func twoServers(t *testing.T) (p1, p2 *peer, d *fakeDNS) {
	t.Helper()
	p1, p2 = newPeer(t), newPeer(t)
	d = newFakeDNS(t, map[string][]srvRecord{
		"_sip._udp.far.test.": {{10, 0, uint16(p1.port), "a.far.test."}, {20, 0, uint16(p2.port), "b.far.test."}},
	}, map[string][]netip.Addr{
		"a.far.test.": {netip.MustParseAddr("127.0.0.1")},
		"b.far.test.": {netip.MustParseAddr("127.0.0.1")},
	})
	return p1, p2, d
}

// sameRequest checks that again is first sent anew (RFC 3263 §4.3): the
// same Call-ID and CSeq under a new branch.
func sameRequest(t *testing.T, first, again *sipmsg.Message) {
	t.Helper()
	cs1, _ := first.CSeq()
	cs2, _ := again.CSeq()
	v1, _ := first.Via()
	v2, _ := again.Via()
	if again.CallID() != first.CallID() || cs2 != cs1 || v2.Branch() == v1.Branch() {
		t.Errorf("%s at the second server: Call-ID %s CSeq %v branch %s; want %s, %v, a new branch",
			again.Method, again.CallID(), cs2, v2.Branch(), first.CallID(), cs1)
	}
}

const challenge = `Digest realm="far.test", nonce="n1", algorithm=MD5, qop="auth"`

// TestMessageSRVFailover: the first server answers 503, the second asks
// for credentials and gets them, then takes the message.
func TestMessageSRVFailover(t *testing.T) {
	t.Parallel()
	p1, p2, d := twoServers(t)
	u := newUA(t, func(c *Config) { c.Resolver, c.AuthUsername, c.Password = d.resolver(), "test", "secret" })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- u.SendMessage(ctx, "sip:bob@far.test", "", []byte("hello")) }()
	m1 := p1.next("MESSAGE at the first server", isReq("MESSAGE"))
	p1.respond(m1, 503, token(), "")
	m2 := p2.next("MESSAGE at the second server", isReq("MESSAGE"))
	sameRequest(t, m1.m, m2.m)
	p2.respond(m2, 401, token(), "", "WWW-Authenticate", challenge)
	authed := p2.next("MESSAGE with credentials at the second server", func(m *sipmsg.Message) bool {
		return m.Method == "MESSAGE" && m.Has("Authorization")
	})
	p2.respond(authed, 200, token(), "")
	if err := <-done; err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if m := p1.none(100*time.Millisecond, isReq("MESSAGE")); m != nil {
		t.Errorf("the first server got the MESSAGE again:\n%s", m)
	}
}

// TestWatchSRVFailover: the first server answers the SUBSCRIBE 503; the
// second asks for credentials and gets them, grants it and notifies, and
// the removal goes to it.
func TestWatchSRVFailover(t *testing.T) {
	t.Parallel()
	p1, p2, d := twoServers(t)
	u := newUA(t, func(c *Config) {
		c.Resolver, c.RegisterExpiry, c.AuthUsername, c.Password = d.resolver(), -1, "test", "secret"
	})
	got := make(chan dialoginfo.Info, 4)
	w, err := u.Watch("sip:1002@far.test", func(i dialoginfo.Info) { got <- i })
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	s1 := p1.next("SUBSCRIBE at the first server", isReq("SUBSCRIBE"))
	p1.respond(s1, 503, token(), "")
	s2 := p2.next("SUBSCRIBE at the second server", isReq("SUBSCRIBE"))
	sameRequest(t, s1.m, s2.m)
	p2.respond(s2, 401, token(), "", "WWW-Authenticate", challenge)
	s2 = p2.next("SUBSCRIBE with credentials at the second server", func(m *sipmsg.Message) bool {
		return m.Method == "SUBSCRIBE" && m.Has("Authorization")
	})
	tag := token()
	p2.respond(s2, 200, tag, "", "Expires", "3600")
	if r := p2.sendDialogNotify(s2, tag, 1, "active;expires=3600", dialogDoc(t, 0, true)); r.StatusCode != 200 {
		t.Errorf("NOTIFY: got %d, want 200", r.StatusCode)
	}
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the NOTIFY was not reported")
	}
	stopped := make(chan struct{})
	go func() { w.Stop(context.Background()); close(stopped) }()
	un := p2.next("removal at the second server", func(m *sipmsg.Message) bool {
		return m.Method == "SUBSCRIBE" && m.Get("Expires") == "0"
	})
	p2.respond(un, 200, tag, "", "Expires", "0")
	<-stopped
}

// TestWatchInDialogSRVFailover: a subscription Record-Routed by far.test;
// its removal goes to far.test's first SRV target, which answers 503, and
// again, under a new branch, to the second, which takes it.
func TestWatchInDialogSRVFailover(t *testing.T) {
	t.Parallel()
	p1, p2, d := twoServers(t)
	u := newUA(t, func(c *Config) { c.Resolver, c.RegisterExpiry = d.resolver(), -1 })
	w, err := u.Watch("sip:1002@far.test", func(dialoginfo.Info) {})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	sub := p1.next("SUBSCRIBE", isReq("SUBSCRIBE"))
	tag := token()
	p1.respond(sub, 200, tag, "", "Expires", "3600", "Record-Route", "<sip:far.test;lr>")
	r := p1.sendDialogNotify(sub, tag, 1, "active;expires=3600", dialogDoc(t, 0, true), "Record-Route", "<sip:far.test;lr>")
	if r.StatusCode != 200 {
		t.Fatalf("NOTIFY: got %d, want 200", r.StatusCode)
	}
	stopped := make(chan struct{})
	go func() { w.Stop(context.Background()); close(stopped) }()
	removal := func(m *sipmsg.Message) bool { return m.Method == "SUBSCRIBE" && m.Get("Expires") == "0" }
	un1 := p1.next("removal at the first server", removal)
	if routes := un1.m.Values("Route"); len(routes) != 1 || routes[0] != "<sip:far.test;lr>" {
		t.Errorf("removal's Route: got %q, want <sip:far.test;lr>", routes)
	}
	p1.respond(un1, 503, tag, "")
	un2 := p2.next("removal at the second server", removal)
	sameRequest(t, un1.m, un2.m)
	p2.respond(un2, 200, tag, "", "Expires", "0")
	<-stopped
}

// TestWatchKeepsServedTarget: a subscription's refresh fails over from
// the first SRV target of its dialog's next hop to the second, which
// takes it; the removal then goes to the second at once, as a call's
// requests keep to the target that served (the first never answers
// again: a removal sent there would wait out Timer F, 32 s).
func TestWatchKeepsServedTarget(t *testing.T) {
	t.Parallel()
	p1, p2, d := twoServers(t)
	u := newUA(t, func(c *Config) { c.Resolver, c.RegisterExpiry = d.resolver(), -1 })
	w, err := u.Watch("sip:1002@far.test", func(dialoginfo.Info) {})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	isSub := isNewReq("SUBSCRIBE")
	sub := p1.next("SUBSCRIBE", isSub)
	tag := token()
	// Expires 2: the refresh is due in 1 s.
	p1.respond(sub, 200, tag, "", "Expires", "2", "Record-Route", "<sip:far.test;lr>")
	r := p1.sendDialogNotify(sub, tag, 1, "active;expires=2", dialogDoc(t, 0, true), "Record-Route", "<sip:far.test;lr>")
	if r.StatusCode != 200 {
		t.Fatalf("NOTIFY: got %d, want 200", r.StatusCode)
	}
	ref1 := p1.next("refresh at the first server", isSub)
	p1.respond(ref1, 503, tag, "")
	ref2 := p2.next("refresh at the second server", isSub)
	sameRequest(t, ref1.m, ref2.m)
	p2.respond(ref2, 200, tag, "", "Expires", "3600")
	stopped := make(chan struct{})
	go func() { w.Stop(context.Background()); close(stopped) }()
	removal := func(m *sipmsg.Message) bool { return m.Method == "SUBSCRIBE" && m.Get("Expires") == "0" }
	un := p2.next("removal at the second server", removal)
	p2.respond(un, 200, tag, "", "Expires", "0")
	<-stopped
	if m := p1.none(0, removal); m != nil {
		t.Errorf("the first server got the removal too")
	}
}

// TestPublishSRVFailover: the registrar's first SRV target answers
// PUBLISH 503; the second takes it, and the refresh goes there.
func TestPublishSRVFailover(t *testing.T) {
	t.Parallel()
	p1, p2, d := twoServers(t)
	u := newUA(t, func(c *Config) {
		c.Host, c.Resolver, c.RegisterExpiry = "far.test", d.resolver(), -1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	doc := pidf.Presence{Entity: "sip:test@far.test", Tuples: []pidf.Tuple{{ID: "t", Open: true}}}
	done := make(chan error, 1)
	go func() { done <- u.Publish(ctx, doc) }()
	isPub := isNewReq("PUBLISH")
	pub1 := p1.next("PUBLISH at the first server", isPub)
	p1.respond(pub1, 503, token(), "")
	pub2 := p2.next("PUBLISH at the second server", isPub)
	sameRequest(t, pub1.m, pub2.m)
	p2.respond(pub2, 200, token(), "", "SIP-ETag", "e1", "Expires", "2")
	if err := <-done; err != nil {
		t.Fatalf("Publish: %v", err)
	}
	refresh := p2.next("refresh at the second server", isPub)
	if refresh.m.Get("SIP-If-Match") != "e1" {
		t.Errorf("refresh: SIP-If-Match %q, want e1", refresh.m.Get("SIP-If-Match"))
	}
	p2.respond(refresh, 200, token(), "", "SIP-ETag", "e2", "Expires", "3600")
	go func() { done <- u.Disconnect(context.Background()) }()
	rm := p2.next("removal at the second server", isPub)
	p2.respond(rm, 200, token(), "", "Expires", "0")
	if err := <-done; err != nil {
		t.Errorf("Disconnect: %v", err)
	}
}

// TestInDialogSRVFailover: a call whose route set is far.test (the
// caller's INVITE came Record-Routed by it): the re-INVITE of Hold goes
// to far.test's first SRV target, which answers 503 or nothing at all,
// and again, under a new branch, to the second, which takes it; the ACK
// and the BYE then go to the second only (RFC 3263 §4.3).
func TestInDialogSRVFailover(t *testing.T) {
	t.Parallel()
	for _, silent := range []bool{false, true} {
		t.Run(map[bool]string{false: "503", true: "silent"}[silent], func(t *testing.T) {
			t.Parallel()
			p1, p2, d := twoServers(t)
			calls := make(chan *Call, 1)
			u := newUA(t, func(c *Config) {
				c.Resolver, c.OnIncoming = d.resolver(), acceptAll(t, calls)
				c.T1 = 50 * time.Millisecond // Timer B: 3.2 s; the 2xx waits that long for its ACK too
			})
			caller := newPeer(t)
			inv := caller.invite(uaURI(u), peerSDP(40000, "PCMU"))
			inv.Add("Record-Route", "<sip:far.test;lr>")
			caller.send(inv, netipAddr(u))
			ok := caller.next("200", isResp(200, "INVITE"))
			caller.send(caller.ack(inv, ok.m, ""), ok.from)
			c := recvCall(t, calls)
			waitState(t, c, StateActive)
			from, _ := inv.From()

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			held := make(chan error, 1)
			go func() { held <- c.Hold(ctx) }()
			r1 := p1.next("re-INVITE at the first server", isReq("INVITE"))
			if !silent {
				p1.respond(r1, 503, from.Tag(), "")
				p1.next("ACK of the 503", isReq("ACK"))
			}
			r2 := p2.next("re-INVITE at the second server", isReq("INVITE"))
			sameRequest(t, r1.m, r2.m)
			p2.respond(r2, 200, from.Tag(), strings.Replace(peerSDP(40000, "PCMU"), "a=sendrecv", "a=recvonly", 1))
			p2.next("ACK of the 200", isReq("ACK"))
			if err := <-held; err != nil {
				t.Fatalf("Hold: %v", err)
			}
			ended := make(chan error, 1)
			go func() { ended <- c.End(ctx) }()
			bye := p2.next("BYE at the second server", isReq("BYE"))
			p2.respond(bye, 200, from.Tag(), "")
			if err := <-ended; err != nil {
				t.Errorf("End: %v", err)
			}
			if m := p1.none(100*time.Millisecond, func(m *sipmsg.Message) bool { return m.IsRequest() && m.Method != "INVITE" }); m != nil {
				t.Errorf("the first server got a request after it failed:\n%s", m)
			}
		})
	}
}

// TestPrackSRVFailover: a reliable 180 Record-Routed by far.test is
// PRACKed to far.test's first SRV target, which answers 503, and again,
// under a new branch, to the second.
func TestPrackSRVFailover(t *testing.T) {
	t.Parallel()
	p1, p2, d := twoServers(t)
	callee := newPeer(t)
	u := newUA(t, func(c *Config) { c.Resolver = d.resolver() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch := dialAsync(ctx, u, callee.uri("callee"), DialOptions{})
	inv := callee.next("INVITE", isReq("INVITE"))
	tag := token()
	callee.respond(inv, 180, tag, "", "Record-Route", "<sip:far.test;lr>", "Require", "100rel", "RSeq", "1")
	pr1 := p1.next("PRACK at the first server", isReq("PRACK"))
	p1.respond(pr1, 503, "", "")
	pr2 := p2.next("PRACK at the second server", isReq("PRACK"))
	sameRequest(t, pr1.m, pr2.m)
	p2.respond(pr2, 200, "", "")
	callee.respond(inv, 486, tag, "")
	if r := recvDial(t, ch); r.err == nil {
		t.Error("Dial: got a call, want the 486")
	}
}

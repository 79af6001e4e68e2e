package ua

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/sipmsg"
)

// stateLog records a call's states from creation on (Config.NewCall).
type stateLog struct{ ch chan State }

func (l *stateLog) hook(c *Call) { c.OnState(func(s State) { l.ch <- s }) }

func (l *stateLog) wait(t *testing.T, want State) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-l.ch:
			if s == want {
				return
			}
		case <-deadline:
			t.Fatalf("state %v never reported", want)
		}
	}
}

func TestDialAuthRetryAndRinging(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	log := &stateLog{ch: make(chan State, 16)}
	u := newUA(t, func(c *Config) { c.AuthUsername, c.Password = "alice", "secret"; c.NewCall = log.hook })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})

	inv := p.next("INVITE", isReq("INVITE"))
	p.respond(inv, 401, token(), "", "WWW-Authenticate", `Digest realm="test", nonce="n0nce", algorithm=MD5, qop="auth"`)
	p.next("ACK of the 401", isReq("ACK"))
	inv2 := p.next("INVITE with credentials", func(m *sipmsg.Message) bool { return m.Method == "INVITE" && m.Has("Authorization") })
	cr, err := digest.ParseCredentials(inv2.m.Get("Authorization"))
	if err != nil {
		t.Fatalf("Authorization: %v", err)
	}
	if err := digest.Check(&cr, digest.Request{Method: "INVITE", URI: inv2.m.RequestURI.String()}, "alice", "secret"); err != nil {
		t.Errorf("digest: got %v, want a valid response", err)
	}
	cs1, _ := inv.m.CSeq()
	cs2, _ := inv2.m.CSeq()
	if cs2.Seq != cs1.Seq+1 || inv2.m.CallID() != inv.m.CallID() {
		t.Errorf("retry: got CSeq %d Call-ID %q, want %d %q", cs2.Seq, inv2.m.CallID(), cs1.Seq+1, inv.m.CallID())
	}
	tag := token()
	p.respond(inv2, 180, tag, "")
	log.wait(t, StateRemoteRinging)
	sink := newRTPSink(t)
	ok := p.respond(inv2, 200, tag, peerSDP(sink.port, "PCMU"))
	r := recvDial(t, res)
	if r.err != nil {
		t.Fatalf("Dial: %v", r.err)
	}
	if got, want := r.c.State(), StateActive; got != want {
		t.Errorf("state: got %v, want %v", got, want)
	}
	// The ACK carries the INVITE's credentials (§13.2.2.4), each time.
	sameCredentials := func(ack peerMsg) {
		t.Helper()
		if got, want := ack.m.Values("Authorization"), inv2.m.Values("Authorization"); !slices.Equal(got, want) {
			t.Errorf("ACK's Authorization: got %q, want the INVITE's %q", got, want)
		}
	}
	sameCredentials(p.next("ACK of the 200", isReq("ACK")))
	// A retransmitted 2xx is ACKed again (§13.2.2.4).
	p.send(ok.Clone(), inv2.from)
	sameCredentials(p.next("second ACK", isReq("ACK")))
	go sendTone(r.c, 440)
	sink.wait(t)
	go func() {
		bye := p.next("BYE", isReq("BYE"))
		p.respond(bye, 200, "", "")
	}()
	if err := r.c.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
}

func TestDialRedirect(t *testing.T) {
	t.Parallel()
	t.Run("followed", func(t *testing.T) {
		t.Parallel()
		a, b := newPeer(t), newPeer(t)
		u := newUA(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res := dialAsync(ctx, u, a.uri("bob"), DialOptions{})
		inv := a.next("INVITE", isReq("INVITE"))
		r := sipmsg.NewResponse(inv.m, 302, "")
		r.SetToTag(token())
		r.Add("Contact", "<"+b.uri("bob2")+">")
		a.send(r, inv.from)
		inv2 := b.next("redirected INVITE", isReq("INVITE"))
		if got, want := inv2.m.RequestURI.String(), b.uri("bob2"); got != want {
			t.Errorf("Request-URI: got %s, want %s", got, want)
		}
		b.respond(inv2, 200, token(), peerSDP(40000, "PCMU"))
		d := recvDial(t, res)
		if d.err != nil {
			t.Fatalf("Dial: %v", d.err)
		}
		b.next("ACK", isReq("ACK"))
		go func() { b.respond(b.next("BYE", isReq("BYE")), 200, "", "") }()
		d.c.End(ctx)
	})
	for _, tc := range []struct {
		name string
		self bool // redirect to the same URI again (a loop)
		want int  // INVITEs the peer sees
	}{{"loop", true, 1}, {"bounded", false, maxRedirects + 1}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPeer(t)
			u := newUA(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
			for i := 0; i < tc.want; i++ {
				inv := p.next("INVITE", isReq("INVITE"))
				r := sipmsg.NewResponse(inv.m, 302, "")
				r.SetToTag(token())
				target := p.uri("bob")
				if !tc.self {
					target = p.uri(fmt.Sprint("hop", i))
				}
				r.Add("Contact", "<"+target+">")
				p.send(r, inv.from)
			}
			d := recvDial(t, res)
			var se *StatusError
			if !errors.As(d.err, &se) || se.Code != 302 {
				t.Fatalf("Dial: got %v, want a 302 StatusError", d.err)
			}
			if m := p.none(100*time.Millisecond, isReq("INVITE")); m != nil {
				t.Errorf("got another INVITE to %s, want none", m.RequestURI)
			}
		})
	}
}

// TestLate2xxAfterCancel: the callee answers 200 although our CANCEL
// arrived; we ACK it and hang up with BYE (RFC 3261 §9.1, §15).
func TestLate2xxAfterCancel(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	inv, tag := p.answerAfterCancel(u)
	ack := p.next("ACK", isReq("ACK"))
	if got, want := ack.m.CallID(), inv.m.CallID(); got != want {
		t.Errorf("ACK Call-ID: got %s, want %s", got, want)
	}
	bye := p.next("BYE", isReq("BYE"))
	to, _ := bye.m.To()
	if got := to.Tag(); got != tag {
		t.Errorf("BYE To tag: got %q, want %q", got, tag)
	}
	p.respond(bye, 200, "", "")
}

// answerAfterCancel has u call the peer, which rings; the call is
// cancelled, and the peer answers the CANCEL 200 and the INVITE 200 all
// the same, with the extra headers. It checks that Dial reports
// ErrCancelled and returns the INVITE and the peer's To tag.
func (p *peer) answerAfterCancel(u *UA, extra ...string) (peerMsg, string) {
	p.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	tag := token()
	p.respond(inv, 180, tag, "")
	cancel()
	p.respond(p.next("CANCEL", isReq("CANCEL")), 200, tag, "")
	p.respond(inv, 200, tag, peerSDP(40000, "PCMU"), extra...)
	if d := recvDial(p.t, res); !errors.Is(d.err, ErrCancelled) {
		p.t.Errorf("Dial: got %v, want ErrCancelled", d.err)
	}
	return inv, tag
}

// TestOutboundProxyRoute: every out-of-dialog request goes to the outbound
// proxy with a preloaded Route ;lr (RFC 3261 §8.1.2), and in-dialog
// requests follow the route set the proxy recorded (§12.2.1.1).
func TestOutboundProxyRoute(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, func(c *Config) { c.OutboundProxy = fmt.Sprintf("127.0.0.1:%d", p.port) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, "sip:bob@example.invalid", DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	if got, want := inv.m.RequestURI.String(), "sip:bob@example.invalid"; got != want {
		t.Errorf("Request-URI: got %s, want %s", got, want)
	}
	routes, _ := inv.m.Route()
	if len(routes) != 1 || routes[0].URI.Port != p.port || !routes[0].URI.Params.Has("lr") {
		t.Errorf("Route: got %q, want <sip:127.0.0.1:%d;lr>", inv.m.Values("Route"), p.port)
	}
	rr := fmt.Sprintf("<sip:127.0.0.1:%d;lr>", p.port)
	r := sipmsg.NewResponse(inv.m, 200, "")
	r.SetToTag(token())
	r.Add("Record-Route", rr)
	r.Add("Contact", "<sip:bob@192.0.2.1:5060>")
	r.Add("Content-Type", "application/sdp")
	r.Body = []byte(peerSDP(40000, "PCMU"))
	p.send(r, inv.from)
	d := recvDial(t, res)
	if d.err != nil {
		t.Fatalf("Dial: %v", d.err)
	}
	for _, m := range []string{"ACK", "BYE"} {
		if m == "BYE" {
			go d.c.End(ctx)
		}
		got := p.next(m, isReq(m))
		if got.m.RequestURI.String() != "sip:bob@192.0.2.1:5060" || got.m.Get("Route") != rr {
			t.Errorf("%s: got %s with Route %q, want sip:bob@192.0.2.1:5060 with %s", m, got.m.RequestURI, got.m.Get("Route"), rr)
		}
		if m == "BYE" {
			p.respond(got, 200, "", "")
		}
	}
	waitDone(t, d.c)
}

// TestRetransmitted2xxReAcked: once an outbound call is answered, the
// goroutine that ran its INVITE returns at once (it used to wait out
// Timer M, 32 s); a retransmitted 2xx, of the INVITE and of a re-INVITE,
// still gets its ACK again (RFC 3261 §13.2.2.4), and a 2xx of the INVITE
// after the re-INVITE's ACK is not answered with that ACK.
func TestRetransmitted2xxReAcked(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	inviteDone := make(chan *Call, 1)
	u.testInviteDone = func(c *Call) { inviteDone <- c }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := p.dialAnswered(ctx, u)
	c, inv, ok, tag, sink := a.c, a.inv, a.ok, a.tag, a.sink
	select {
	case <-inviteDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the INVITE's goroutine still runs after the call was answered")
	}
	isAck := func(seq uint32) func(*sipmsg.Message) bool {
		return func(m *sipmsg.Message) bool {
			cs, err := m.CSeq()
			to, _ := m.To()
			return m.IsRequest() && m.Method == "ACK" && err == nil && cs.Seq == seq && to.Tag() == tag
		}
	}
	p.send(ok, inv.from)
	p.next("ACK of the retransmitted 200", isAck(1))

	held := make(chan error, 1)
	go func() { held <- c.Hold(ctx) }()
	reinv := p.next("re-INVITE", isReq("INVITE"))
	reok := p.respond(reinv, 200, tag, strings.Replace(peerSDP(sink.port, "PCMU"), "a=sendrecv", "a=recvonly", 1))
	rcs, _ := reinv.m.CSeq()
	p.next("ACK of the re-INVITE's 200", isAck(rcs.Seq))
	if err := <-held; err != nil {
		t.Fatalf("Hold: %v", err)
	}
	p.send(reok, reinv.from)
	p.next("ACK of the re-INVITE's retransmitted 200", isAck(rcs.Seq))
	p.send(ok, inv.from)
	if m := p.none(300*time.Millisecond, isReq("ACK")); m != nil {
		cs, _ := m.CSeq()
		t.Errorf("the INVITE's 200 after the re-INVITE got an ACK with CSeq %d", cs.Seq)
	}
	p.hangupFrom(c)
}

// TestForked2xx: a 2xx from a second fork (another To tag) after the call
// was answered is ACKed and its dialog ended with BYE (RFC 3261
// §13.2.2.4); its retransmission is ACKed again without a second BYE; the
// call itself goes on.
func TestForked2xx(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := p.dialAnswered(ctx, u)
	c, inv, sink, fork := a.c, a.inv, a.sink, token()
	toTag := func(method, want string) func(*sipmsg.Message) bool {
		return func(m *sipmsg.Message) bool {
			to, err := m.To()
			return m.IsRequest() && m.Method == method && err == nil && to.Tag() == want
		}
	}
	forkOK := p.respond(inv, 200, fork, peerSDP(sink.port, "PCMU"))
	ack := p.next("ACK of the fork's 200", toTag("ACK", fork))
	ics, _ := inv.m.CSeq()
	if cs, _ := ack.m.CSeq(); cs.Seq != ics.Seq {
		t.Errorf("fork's ACK CSeq: got %d, want the INVITE's %d", cs.Seq, ics.Seq)
	}
	bye := p.next("BYE to the fork", toTag("BYE", fork))
	p.respond(bye, 200, "", "")
	p.send(forkOK, inv.from)
	p.next("ACK of the fork's retransmitted 200", toTag("ACK", fork))
	if m := p.none(300*time.Millisecond, toTag("BYE", fork)); m != nil {
		t.Error("a second BYE to the fork")
	}
	if s := c.State(); s != StateActive {
		t.Errorf("call state: got %v, want %v", s, StateActive)
	}
	p.hangupFrom(c)
}

// TestForkedBounded: a peer that answers one INVITE with ever new To tags
// gets an ACK and a BYE for the first maxForks of them only.
func TestForkedBounded(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := p.dialAnswered(ctx, u)
	inv := r.inv
	// Each fork retransmits its 2xx until a BYE shows the UA took it
	// (RFC 3261 §13.3.1.4, shortened): the transaction hands the UA only
	// as many 2xx as its Responses channel holds before the UA detaches,
	// and a UA under load may detach after the first burst.
	byes := map[string]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for len(byes) < maxForks {
		for i := range maxForks + 4 {
			if tag := fmt.Sprintf("fork%d", i); !byes[tag] {
				p.respond(inv, 200, tag, peerSDP(40000, "PCMU"))
			}
		}
		for len(byes) < maxForks {
			bye, ok := p.within(500*time.Millisecond, isReq("BYE"))
			if !ok {
				break // send the 2xx again
			}
			to, _ := bye.m.To()
			byes[to.Tag()] = true
			p.respond(bye, 200, "", "")
		}
		if time.Now().After(deadline) {
			t.Fatalf("BYEs to %d forks in 10 s, want %d", len(byes), maxForks)
		}
	}
	if m := p.none(300*time.Millisecond, isReq("BYE")); m != nil {
		to, _ := m.To()
		t.Errorf("a BYE past the bound, to %q", to.Tag())
	}
	r.c.mu.Lock()
	n := len(r.c.forks)
	r.c.mu.Unlock()
	if n != maxForks {
		t.Errorf("forks remembered: got %d, want %d", n, maxForks)
	}
	p.hangupFrom(r.c)
}

// TestInDialogAuth: requests in a dialog may be challenged too (RFC 3261
// §22): a re-INVITE answered 401 and a BYE answered 407 are sent again
// with the dialog's next CSeq, a new branch and valid credentials; a
// second challenge of the same realm that is not stale ends the retries.
func TestInDialogAuth(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, func(c *Config) { c.AuthUsername, c.Password = "alice", "secret" })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := p.dialAnswered(ctx, u)
	c, tag, sink := a.c, a.tag, a.sink
	check := func(first, retry *sipmsg.Message, hdr string) {
		t.Helper()
		cr, err := digest.ParseCredentials(retry.Get(hdr))
		if err != nil {
			t.Fatalf("%s of the %s: %v", hdr, retry.Method, err)
		}
		if err := digest.Check(&cr, digest.Request{Method: retry.Method, URI: retry.RequestURI.String()}, "alice", "secret"); err != nil {
			t.Errorf("%s digest: got %v, want a valid response", retry.Method, err)
		}
		cs1, _ := first.CSeq()
		cs2, _ := retry.CSeq()
		v1, _ := first.Via()
		v2, _ := retry.Via()
		if cs2.Seq <= cs1.Seq || cs2.Method != first.Method || v2.Branch() == v1.Branch() {
			t.Errorf("%s retry: CSeq %d %s, branch %s; want above %d, a new branch", retry.Method, cs2.Seq, cs2.Method, v2.Branch(), cs1.Seq)
		}
	}

	held := make(chan error, 1)
	go func() { held <- c.Hold(ctx) }()
	reinv := p.next("re-INVITE", isReq("INVITE"))
	p.respond(reinv, 401, tag, "", "WWW-Authenticate", `Digest realm="test", nonce="n1", algorithm=MD5, qop="auth"`)
	p.next("ACK of the 401", isReq("ACK"))
	reinv2 := p.next("re-INVITE with credentials", func(m *sipmsg.Message) bool { return m.Method == "INVITE" && m.Has("Authorization") })
	check(reinv.m, reinv2.m, "Authorization")
	p.respond(reinv2, 200, tag, strings.Replace(peerSDP(sink.port, "PCMU"), "a=sendrecv", "a=recvonly", 1))
	ack := p.next("ACK of the re-INVITE's 200", isReq("ACK"))
	cs, _ := ack.m.CSeq()
	if want, _ := reinv2.m.CSeq(); cs.Seq != want.Seq {
		t.Errorf("ACK CSeq: got %d, want the retried re-INVITE's %d", cs.Seq, want.Seq)
	}
	if got, want := ack.m.Get("Authorization"), reinv2.m.Get("Authorization"); got != want {
		t.Errorf("ACK's Authorization: got %q, want the re-INVITE's %q", got, want)
	}
	if err := <-held; err != nil {
		t.Fatalf("Hold: %v", err)
	}

	ended := make(chan error, 1)
	go func() { ended <- c.End(ctx) }()
	bye := p.next("BYE", isReq("BYE"))
	chal := `Digest realm="proxy", nonce="n2", algorithm=MD5, qop="auth"`
	p.respond(bye, 407, "", "", "Proxy-Authenticate", chal)
	bye2 := p.next("BYE with credentials", func(m *sipmsg.Message) bool { return m.Method == "BYE" && m.Has("Proxy-Authorization") })
	check(bye.m, bye2.m, "Proxy-Authorization")
	p.respond(bye2, 407, "", "", "Proxy-Authenticate", chal) // refused: not stale
	if m := p.none(300*time.Millisecond, isReq("BYE")); m != nil {
		t.Error("a third BYE after the credentials were refused")
	}
	select {
	case <-ended: // End does not report how the peer took the BYE
	case <-time.After(10 * time.Second):
		t.Fatal("End did not return")
	}
}

// TestPreemptiveCredentials: after an INVITE was challenged, the next
// INVITE to the same server carries credentials for that nonce at once,
// with the next nonce count (RFC 3261 §22.3); when the server wants a new
// nonce, its challenge is answered as usual, not taken as a refusal.
func TestPreemptiveCredentials(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, func(c *Config) { c.AuthUsername, c.Password = "alice", "secret" })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hasAuth := func(m *sipmsg.Message) bool { return m.Method == "INVITE" && m.Has("Authorization") }
	credentials := func(m *sipmsg.Message) digest.Credentials {
		t.Helper()
		cr, err := digest.ParseCredentials(m.Get("Authorization"))
		if err != nil {
			t.Fatalf("Authorization: %v", err)
		}
		if err := digest.Check(&cr, digest.Request{Method: "INVITE", URI: m.RequestURI.String()}, "alice", "secret"); err != nil {
			t.Errorf("digest: got %v, want a valid response", err)
		}
		return cr
	}
	call := func(challenge string) (first, answered peerMsg) {
		t.Helper()
		res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
		first = p.next("INVITE", isReq("INVITE"))
		answered = first
		if challenge != "" {
			p.respond(first, 401, token(), "", "WWW-Authenticate", challenge)
			p.next("ACK of the 401", isReq("ACK"))
			answered = p.next("INVITE with credentials", hasAuth)
		}
		p.respond(answered, 200, token(), peerSDP(40000, "PCMU"))
		r := recvDial(t, res)
		if r.err != nil {
			t.Fatalf("Dial: %v", r.err)
		}
		p.next("ACK of the 200", isReq("ACK"))
		p.hangupFrom(r.c)
		return first, answered
	}

	first, retried := call(`Digest realm="test", nonce="n1", algorithm=MD5, qop="auth"`)
	if first.m.Has("Authorization") {
		t.Error("the first INVITE ever carries credentials")
	}
	if cr := credentials(retried.m); cr.Nonce != "n1" || cr.NC != 1 {
		t.Errorf("retry: nonce %q nc %d, want n1 1", cr.Nonce, cr.NC)
	}

	second, _ := call("")
	if !second.m.Has("Authorization") {
		t.Fatal("the second INVITE carries no credentials")
	}
	if cr := credentials(second.m); cr.Nonce != "n1" || cr.NC != 2 {
		t.Errorf("second INVITE: nonce %q nc %d, want n1 2", cr.Nonce, cr.NC)
	}

	// The server no longer takes n1 and says so without stale=true.
	third, retried := call(`Digest realm="test", nonce="n2", algorithm=MD5, qop="auth"`)
	if cr := credentials(third.m); cr.Nonce != "n1" {
		t.Errorf("third INVITE: nonce %q, want n1 (pre-emptive)", cr.Nonce)
	}
	if cr := credentials(retried.m); cr.Nonce != "n2" || cr.NC != 1 {
		t.Errorf("answer to the new challenge: nonce %q nc %d, want n2 1", cr.Nonce, cr.NC)
	}
}

// TestEarlyDialogsBounded: a callee that rings with ever new To tags
// leaves the call at most maxForks early dialogs; the call is still
// answered by one of them.
func TestEarlyDialogsBounded(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	for i := range 10 * maxForks {
		p.respond(inv, 180, fmt.Sprintf("early%d", i), "")
	}
	p.respond(inv, 200, "early0", peerSDP(40000, "PCMU"))
	r := recvDial(t, res)
	if r.err != nil {
		t.Fatalf("Dial: %v", r.err)
	}
	p.next("ACK of the 200", isReq("ACK"))
	r.c.mu.Lock()
	n := len(r.c.early.m)
	r.c.mu.Unlock()
	if n > maxForks {
		t.Errorf("early dialogs: got %d, want at most %d", n, maxForks)
	}
	p.hangupFrom(r.c)
}

// TestForkAnswerAfterEarlyMedia: a 183 with SDP from one fork of our
// INVITE starts early media there; the 2xx of another fork (another To
// tag: its own dialog, RFC 3261 §13.2.2.4) carries that dialog's answer,
// and the media move to it. A 2xx of the 183's own dialog keeps the first
// answer (§13.2.1: later session descriptions in responses to the INVITE
// are ignored).
func TestForkAnswerAfterEarlyMedia(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		sameTag  bool
		wantLast bool // media at the 2xx's address
	}{
		{"other fork", false, true},
		{"same dialog", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPeer(t)
			u := newUA(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
			inv := p.next("INVITE", isReq("INVITE"))
			early, final := newRTPSink(t), newRTPSink(t)
			tag := token()
			p.respond(inv, 183, tag, peerSDP(early.port, "PCMU"))
			if !tc.sameTag {
				tag = token()
			}
			p.respond(inv, 200, tag, peerSDP(final.port, "PCMU"))
			r := recvDial(t, res)
			if r.err != nil {
				t.Fatalf("Dial: %v", r.err)
			}
			want := early
			if tc.wantLast {
				want = final
			}
			if got := r.c.Media().Config().RemoteRTP.Port(); int(got) != want.port {
				t.Errorf("remote RTP port: got %d, want %d (183: %d, 2xx: %d)", got, want.port, early.port, final.port)
			}
			go sendTone(r.c, 440)
			want.wait(t)
			p.hangupFrom(r.c)
		})
	}
}

package ua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// Target refreshes (RFC 3261 §12.2) and offers that cross an answer in progress.

// TestTargetRefresh: a re-INVITE from the peer with a new Contact moves
// the dialog's requests there (RFC 3261 §12.2.1.2, no route set): our BYE
// goes to the new target, not to where the call began.
func TestTargetRefresh(t *testing.T) {
	t.Parallel()
	d := peerCalls(t, nil)
	moved := newPeer(t)
	req := d.request("INVITE", peerSDP(40000, "PCMU"))
	req.Set("Contact", "<"+moved.uri("peer")+">")
	d.send(req, d.ua)
	ok := d.next("200 to the re-INVITE", isResp(200, "INVITE")).m
	d.send(d.inviteAck(ok), d.ua)
	moved.hangupFrom(d.c)
}

// TestTargetRefreshOfOurs: the 2xx to our re-INVITE names a new Contact:
// its ACK and the dialog's later requests go there (RFC 3261 §12.2.1.2).
func TestTargetRefreshOfOurs(t *testing.T) {
	t.Parallel()
	d := callsPeer(t, nil)
	moved := newPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	held := d.holdMovedTo(ctx, d.c, moved, 40000)
	moved.next("ACK at the new target", isReq("ACK"))
	if err := <-held; err != nil {
		t.Fatalf("Hold: %v", err)
	}
	moved.hangupFrom(d.c)
}

// TestTargetRefreshBehindProxy: with an outbound proxy and no route set,
// a target refresh changes the Request-URI of the dialog's requests but
// they keep going through the proxy.
func TestTargetRefreshBehindProxy(t *testing.T) {
	t.Parallel()
	p := newPeer(t) // the proxy, which answers as the callee too
	moved := newPeer(t)
	u := newUA(t, func(c *Config) { c.OutboundProxy = fmt.Sprintf("127.0.0.1:%d", p.port) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := p.dialAnswered(ctx, u)
	held := p.holdMovedTo(ctx, a.c, moved, a.sink.port)
	ack := p.next("ACK through the proxy", isReq("ACK"))
	if got, want := ack.m.RequestURI.String(), moved.uri("peer"); got != want {
		t.Errorf("ACK Request-URI: got %s, want the new target %s", got, want)
	}
	if err := <-held; err != nil {
		t.Fatalf("Hold: %v", err)
	}
	p.hangupFrom(a.c)
}

// holdMovedTo has c hold and answers its re-INVITE 200 (recvonly, RTP to
// rtpPort) with moved's URI as Contact: a target refresh. It returns the
// channel Hold's result comes on.
func (p *peer) holdMovedTo(ctx context.Context, c *Call, moved *peer, rtpPort int) chan error {
	p.t.Helper()
	held := make(chan error, 1)
	go func() { held <- c.Hold(ctx) }()
	reinv := p.next("re-INVITE", isReq("INVITE"))
	ok := sipmsg.NewResponse(reinv.m, 200, "")
	ok.Add("Contact", "<"+moved.uri("peer")+">")
	ok.Add("Content-Type", "application/sdp")
	ok.Body = []byte(strings.Replace(peerSDP(rtpPort, "PCMU"), "a=sendrecv", "a=recvonly", 1))
	p.send(ok, reinv.from)
	return held
}

// TestHoldWhileAnsweringOffer: Hold while the transport's reader answers
// the peer's offer (an UPDATE here) must not use the call's SDP session at
// the same time: Hold once checked only for a re-INVITE of its own, so it
// set the direction and built its offer while answerOffer built the answer
// from the same sdp.Session (not safe for concurrent use), a data race. An
// INVITE transaction in progress either way holds a re-INVITE off (RFC
// 3261 §14.1): Hold fails with ErrInvalidState and the answer is sent.
// Likewise while our offer for a re-INVITE without one is built, and
// while the answer in the ACK to our offer in the 2xx is taken.
func TestHoldWhileAnsweringOffer(t *testing.T) {
	t.Parallel()
	// An UPDATE with an offer, and a re-INVITE without one: we offer.
	for _, method := range []string{"UPDATE", "INVITE", "ACK"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			holdWhileAnswering(t, method)
		})
	}
}

func holdWhileAnswering(t *testing.T, method string) {
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls) })
	answering, release := make(chan struct{}), make(chan struct{})
	// The hook runs again for the ACK of a re-INVITE without SDP, which
	// brings the answer to our offer (reinviteAck).
	answered := sync.OnceFunc(func() { close(answering) })
	u.testAnswering = func(*Call) {
		answered()
		<-release
	}
	freeAnswer := sync.OnceFunc(func() { close(release) })
	t.Cleanup(freeAnswer) // before Disconnect, should the test fail half way
	p := newPeer(t)
	inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
	answer := ""
	if method == "ACK" { // a late offer: ours in the 2xx, the answer in the ACK
		inv, answer = p.invite(uaURI(u), ""), peerSDP(40000, "PCMU")
	}
	p.send(inv, netipAddr(u))
	ok := p.next("200", isResp(200, "INVITE"))
	c := recvCall(t, calls)
	waitState(t, c, StateActive)
	p.send(p.ack(inv, ok.m, answer), ok.from)
	d := &dlgPeer{peer: p, c: c, ua: ok.from, from: inv.Get("From"), to: ok.m.Get("To"),
		callID: inv.CallID(), target: mustURI(t, ok.m.Get("Contact")), seq: 1}
	offer := sdpWith("sendrecv", "PCMU")
	if method == "INVITE" {
		offer = ""
	}
	if method != "ACK" {
		d.send(d.request(method, offer), d.ua)
	}
	select {
	case <-answering:
	case <-time.After(10 * time.Second):
		t.Fatalf("the %s was not answered", method)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	held := make(chan error, 1)
	go func() { held <- c.Hold(ctx) }()
	// The re-INVITE Hold sends, if it does, is watched for without a
	// timer firing: the race detector takes a timer run on the same P as
	// one of Hold's for an order between Hold and the answer.
	invited, stop := make(chan peerMsg, 1), make(chan struct{})
	go func() {
		for {
			select {
			case pm := <-p.in:
				if pm.m.IsRequest() && pm.m.Method == "INVITE" {
					invited <- pm
					return
				}
			case <-stop:
				return
			}
		}
	}()
	var err error
	var reinv peerMsg
	select {
	case err = <-held:
	case reinv = <-invited:
		// Hold went on with a re-INVITE, having used the session.
		// Nothing orders that before the answer's use of it, now.
	case <-time.After(10 * time.Second):
		t.Fatal("Hold neither returned nor sent a re-INVITE")
	}
	close(stop)
	freeAnswer()
	if reinv.m != nil {
		d.respond(reinv, 200, "", holdAnswer())
		err = <-held
	}
	if !errors.Is(err, ErrInvalidState) {
		t.Errorf("Hold while the peer's offer is answered: got %v, want ErrInvalidState", err)
	}
	if method == "ACK" {
		d.hangupFrom(c)
		return
	}
	resp := d.next("final response to the "+method, func(m *sipmsg.Message) bool {
		return !m.IsRequest() && m.StatusCode >= 200 && m.Get("CSeq") == "2 "+method
	}).m
	if resp.StatusCode != 200 {
		t.Errorf("%s: got %d, want 200", method, resp.StatusCode)
	}
	if method == "INVITE" {
		d.send(d.inviteAck(resp), d.ua)
	}
	d.hangupFrom(c)
}

// TestReinviteWhileTakingAnswer: a re-INVITE with an offer that comes
// while Dial's goroutine takes the 2xx of our INVITE (its dialog is made,
// its SDP answer not yet applied: a peer that re-INVITEs as soon as it
// has our ACK) once went on to answerOffer on the transport's reader,
// which used the call's sdp.Session while Dial's goroutine applied the
// answer to it: a data race. Our INVITE's offer is outstanding until the
// answer is taken, so the re-INVITE gets 491 (RFC 3261 §14.2).
func TestReinviteWhileTakingAnswer(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	acking, goAck := make(chan struct{}), make(chan struct{})
	var once bool
	u.testAcking = func(*Call) {
		if !once { // the ACK of the INVITE's 2xx only; Dial's goroutine
			once = true
			close(acking)
			<-goAck
		}
	}
	answering, release := make(chan struct{}), make(chan struct{})
	u.testAnswering = func(*Call) {
		close(answering)
		<-release
	}
	var freeAck, freeAnswer sync.Once
	t.Cleanup(func() { // before Disconnect, should the test fail half way
		freeAck.Do(func() { close(goAck) })
		freeAnswer.Do(func() { close(release) })
	})
	// Dial's goroutine says it took the answer by a datagram from one
	// socket to another: nothing the race detector sees as an order,
	// unlike a channel (or one socket, whose fd lock is an atomic).
	var sig [2]*net.UDPConn
	for i := range sig {
		var err error
		if sig[i], err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sig[i].Close() })
	}
	taken := make(chan struct{}, 1)
	go func() {
		var b [1]byte
		if _, _, err := sig[1].ReadFromUDPAddrPort(b[:]); err == nil {
			taken <- struct{}{}
		}
	}()
	u.testAcked = func(*Call, context.Context) {
		sig[0].WriteToUDPAddrPort([]byte{1}, sig[1].LocalAddr().(*net.UDPAddr).AddrPort()) //nolint:errcheck // the test fails without it
	}
	sink := newRTPSink(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	ok := p.respond(inv, 200, token(), peerSDP(sink.port, "PCMU"))
	select {
	case <-acking:
	case <-time.After(10 * time.Second):
		t.Fatal("the 2xx was not taken")
	}
	d := &dlgPeer{peer: p, ua: inv.from, from: ok.Get("To"), to: inv.m.Get("From"),
		callID: inv.m.CallID(), target: mustURI(t, inv.m.Get("Contact")), seq: 100}
	reinv := d.request("INVITE", sdpWith("sendrecv", "PCMU"))
	d.send(reinv, d.ua)
	// Its answer is watched for without a timer firing (see
	// TestHoldWhileAnsweringOffer).
	answered, stop := make(chan *sipmsg.Message, 1), make(chan struct{})
	go func() {
		for {
			select {
			case pm := <-p.in:
				if !pm.m.IsRequest() && pm.m.StatusCode >= 200 && pm.m.Get("CSeq") == "101 INVITE" {
					answered <- pm.m
					return
				}
			case <-stop:
				return
			}
		}
	}()
	var resp *sipmsg.Message
	select {
	case resp = <-answered:
		freeAck.Do(func() { close(goAck) })
	case <-answering:
		// Dial's goroutine takes the answer while answerOffer waits.
		// Nothing orders that before the answer answerOffer builds now.
		freeAck.Do(func() { close(goAck) })
		select {
		case <-taken:
		case <-time.After(10 * time.Second):
			t.Fatal("Dial's goroutine did not take the 2xx's answer")
		}
		freeAnswer.Do(func() { close(release) })
		select {
		case resp = <-answered:
		case <-time.After(10 * time.Second):
			t.Fatal("the re-INVITE was not answered")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the re-INVITE was neither answered nor taken")
	}
	close(stop)
	if resp.StatusCode != 491 {
		t.Errorf("re-INVITE while the 2xx is taken: got %d, want 491", resp.StatusCode)
	}
	if resp.StatusCode == 200 {
		d.send(d.inviteAck(resp), d.ua)
	}
	r := recvDial(t, res)
	if r.err != nil {
		t.Fatalf("Dial: %v", r.err)
	}
	d.hangupFrom(r.c)
}

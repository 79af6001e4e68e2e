package ua

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// TestReinviteWhileRinging: an INVITE inside the dialog of an inbound call
// we have not answered yet (its offer unanswered) gets 500 with a
// Retry-After of 0 to 10 s (RFC 3261 §14.2), not 200 with an answer to a
// second offer; the call is answered afterwards as if it had not come.
func TestReinviteWhileRinging(t *testing.T) {
	t.Parallel()
	p, inv, c, d := ringingCall(t)
	resp := d.ask("INVITE", sdpWith("sendonly", "PCMU"))
	if resp.StatusCode != 500 {
		t.Errorf("re-INVITE while ringing: got %d, want 500", resp.StatusCode)
	}
	if ra, err := strconv.Atoi(resp.Get("Retry-After")); err != nil || ra < 0 || ra > 10 {
		t.Errorf("Retry-After: got %q, want 0 to 10", resp.Get("Retry-After"))
	}
	if err := c.Accept(t.Context()); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	ok := p.next("200", isResp(200, "INVITE"))
	if cs := ok.m.Get("CSeq"); cs != "1 INVITE" {
		t.Errorf("200: got CSeq %q, want the INVITE's", cs)
	}
	p.send(p.ack(inv, ok.m, ""), ok.from)
	waitState(t, c, StateActive)
	if got := c.Media().Config().Direction; got.String() != "sendrecv" {
		t.Errorf("direction: got %v, want sendrecv (the refused re-INVITE's sendonly not taken)", got)
	}
	d.hangupFrom(c)
}

// TestOfferRightAfterAccept: an UPDATE or re-INVITE with an offer that
// comes while Accept, its 2xx sent, is still starting the media (SIPp sends
// an UPDATE right after its ACK; the interop TestSIPpUpdate once failed so)
// is put off until the call is active and then answered 200, not refused
// with 500 as if the INVITE's offer were still unanswered, nor applied to
// media not yet started: RTP goes to the address the offer names.
func TestOfferRightAfterAccept(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"UPDATE", "INVITE"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			offerRightAfterAccept(t, method)
		})
	}
}

func offerRightAfterAccept(t *testing.T, method string) {
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls) })
	answered, release, waited := make(chan struct{}), make(chan struct{}), make(chan struct{})
	u.testAnswered = func(*Call) {
		close(answered)
		<-release
	}
	freeAccept := sync.OnceFunc(func() { close(release) })
	t.Cleanup(freeAccept) // before Disconnect, should the test fail half way
	u.testPutOff = func() { close(waited) }
	p := newPeer(t)
	inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
	p.send(inv, netipAddr(u))
	select {
	case <-answered:
	case <-time.After(10 * time.Second):
		t.Fatal("Accept did not send its 2xx")
	}
	ok := p.next("200", isResp(200, "INVITE"))
	p.send(p.ack(inv, ok.m, ""), ok.from)
	d := &dlgPeer{peer: p, ua: ok.from, from: inv.Get("From"), to: ok.m.Get("To"),
		callID: inv.CallID(), target: mustURI(t, ok.m.Get("Contact")), seq: 1}
	sink := newRTPSink(t)
	d.send(d.request(method, peerSDP(sink.port, "PCMU")), d.ua)
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Errorf("the %s was not put off until Accept finished", method)
	}
	freeAccept()
	resp := d.next("final response to the "+method, func(m *sipmsg.Message) bool {
		return !m.IsRequest() && m.StatusCode >= 200 && m.Get("CSeq") == "2 "+method
	}).m
	if resp.StatusCode != 200 || len(resp.Body) == 0 {
		t.Errorf("%s: got %d with %d bytes of body, want 200 with an SDP answer", method, resp.StatusCode, len(resp.Body))
	}
	if method == "INVITE" && resp.StatusCode == 200 {
		d.send(d.inviteAck(resp), d.ua)
	}
	c := recvCall(t, calls)
	d.c = c
	go sendTone(c, 440)
	sink.wait(t) // the offer's address took
	d.hangupFrom(c)
}

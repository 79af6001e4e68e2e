package ua

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// TestReinviteWithoutOffer: the peer's re-INVITE without SDP gets our
// offer in the 2xx, and the answer in its ACK updates the call (RFC 3261
// §14.2, RFC 3264 §4): here a new codec and a new address, where our
// audio then goes. Until that ACK the peer's offers get 491; an ACK
// without an answer withdraws our offer, and the next offer is taken.
func TestReinviteWithoutOffer(t *testing.T) {
	t.Parallel()
	d := callsPeer(t, func(c *Config) { c.Codecs = []string{"PCMU", "PCMA"} })
	if got := d.c.Codec(); got != "PCMU" {
		t.Fatalf("codec: got %q, want PCMU", got)
	}
	reinvite := func() (*sipmsg.Message, string) {
		t.Helper()
		req := d.request("INVITE", "")
		d.send(req, d.ua)
		cs := req.Get("CSeq")
		ok := d.next("200 to the re-INVITE", func(m *sipmsg.Message) bool {
			return !m.IsRequest() && m.StatusCode == 200 && m.Get("CSeq") == cs
		}).m
		if !strings.Contains(string(ok.Body), "m=audio") {
			t.Fatalf("200 to a re-INVITE without SDP: no offer in\n%s", ok.Body)
		}
		return req, strings.Replace(cs, "INVITE", "ACK", 1)
	}
	ackWith := func(cseq, body string) {
		ack := d.request("ACK", body)
		d.seq-- // an ACK takes its INVITE's CSeq
		ack.Set("CSeq", cseq)
		d.send(ack, d.ua)
	}

	_, cseq := reinvite()
	if r := d.ask("UPDATE", sdpWith("sendonly", "PCMU")); r.StatusCode != 491 {
		t.Errorf("an offer while ours awaits the ACK: got %d, want 491", r.StatusCode)
	}
	sink := newRTPSink(t)
	ackWith(cseq, peerSDP(sink.port, "PCMA"))
	go sendTone(d.c, 440)
	sink.wait(t) // our audio goes to the address of the ACK's answer
	if got := d.c.Codec(); got != "PCMA" {
		t.Errorf("codec after the ACK's answer: got %q, want PCMA", got)
	}

	_, cseq = reinvite()
	ackWith(cseq, "") // no answer: our offer is withdrawn
	if r := d.ask("UPDATE", sdpWith("sendonly", "PCMA")); r.StatusCode != 200 || !strings.Contains(string(r.Body), "a=recvonly") {
		t.Errorf("an offer after an ACK without an answer: got %d\n%s\nwant 200 with a=recvonly", r.StatusCode, r.Body)
	}
	waitState(t, d.c, StateOnHold)
	d.hangupFrom(d.c)
}

// TestFailedHoldWhileHeld: the peer holds us; our own Hold is refused
// (488), which leaves the session as it was (RFC 3264 §8): our direction
// is still sendrecv, so when the peer resumes we answer sendrecv and the
// call is active again.
func TestFailedHoldWhileHeld(t *testing.T) {
	t.Parallel()
	d := peerCalls(t, nil)
	if r := d.ask("UPDATE", sdpWith("sendonly", "PCMU")); r.StatusCode != 200 {
		t.Fatalf("the peer's hold: got %d", r.StatusCode)
	}
	waitState(t, d.c, StateOnHold)
	held := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		held <- d.c.Hold(ctx)
	}()
	reinv := d.next("our re-INVITE", isReq("INVITE"))
	d.respond(reinv, 488, "", "")
	if err := <-held; err == nil {
		t.Fatal("Hold: got no error after 488")
	}
	r := d.ask("UPDATE", sdpWith("sendrecv", "PCMU"))
	if r.StatusCode != 200 || !strings.Contains(string(r.Body), "a=sendrecv\r\n") {
		t.Errorf("the peer's resume after our refused Hold: got %d\n%s\nwant 200 with a=sendrecv", r.StatusCode, r.Body)
	}
	waitState(t, d.c, StateActive)
	d.hangupFrom(d.c)
}

package ua

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/sdp"
)

// TestRenumberedAnswer: an answer that renumbers telephone-event (ours
// 101, its 100): the media sends with the answer's number and takes the
// peer's packets with ours (RFC 3264 §5.1).
func TestRenumberedAnswer(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	off, err := sdp.Parse(inv.m.Body)
	if err != nil {
		t.Fatal(err)
	}
	var ours uint8
	for _, c := range off.Media[0].Codecs() {
		if strings.EqualFold(c.Name, "telephone-event") && c.ClockRate == 8000 {
			ours = c.PT
		}
	}
	if ours == 0 || ours == 100 {
		t.Fatalf("our telephone-event/8000: payload type %d; the test needs one other than 100", ours)
	}
	ans := strings.Replace(peerSDP(40000, "PCMU"), "101", "100", -1)
	p.respond(inv, 200, token(), ans)
	r := recvDial(t, res)
	if r.err != nil {
		t.Fatalf("Dial: %v", r.err)
	}
	p.next("ACK", isReq("ACK"))
	mc := r.c.media.Config()
	if mc.DTMFPayloadType != 100 || mc.DTMFRecvPayloadType != ours || mc.PayloadType != 0 || mc.RecvPayloadType != 0 {
		t.Errorf("media payload types: send %d/%d, receive %d/%d; want 0/100 and 0/%d",
			mc.PayloadType, mc.DTMFPayloadType, mc.RecvPayloadType, mc.DTMFRecvPayloadType, ours)
	}
	p.hangupFrom(r.c)
}

package ua

import (
	"context"
	"testing"
	"time"
)

// TestUnusableEarlyAnswer: a 183 whose SDP we cannot use (G.729 only), from
// the callee or from another fork, does not use up our offer: the 2xx's
// usable answer still sets up the call (RFC 3261 §13.2.1: the answer is in
// the 2xx; an unreliable 18x is a preview, RFC 3960).
func TestUnusableEarlyAnswer(t *testing.T) {
	t.Parallel()
	for _, sameTag := range []bool{true, false} {
		t.Run(map[bool]string{true: "same-dialog", false: "other-fork"}[sameTag], func(t *testing.T) {
			t.Parallel()
			u := newUA(t, nil)
			p := newPeer(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
			inv := p.next("INVITE", isReq("INVITE"))
			g729 := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
			tag := token()
			early := tag
			if !sameTag {
				early = token()
			}
			p.respond(inv, 183, early, g729)
			sink := newRTPSink(t)
			p.respond(inv, 200, tag, peerSDP(sink.port, "PCMU"))
			r := recvDial(t, res)
			if r.err != nil {
				t.Fatalf("Dial: %v; want the 2xx's answer taken", r.err)
			}
			p.next("ACK", isReq("ACK"))
			if got := r.c.Codec(); got != "PCMU" {
				t.Errorf("codec: got %q, want PCMU", got)
			}
			go sendTone(r.c, 440)
			sink.wait(t)
			p.hangupFrom(r.c)
		})
	}
}

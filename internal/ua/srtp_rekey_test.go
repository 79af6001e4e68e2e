package ua

import (
	"context"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/internal/transport"
)

// srtpKeys returns the keys a call sends and receives with, as a=crypto
// text ("" without SRTP).
func srtpKeys(c *Call) (send, recv string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.neg.LocalCrypto != nil {
		send = c.neg.LocalCrypto.String()
	}
	if c.neg.RemoteCrypto != nil {
		recv = c.neg.RemoteCrypto.String()
	}
	return send, recv
}

// TestSRTPRekeyOnReinvite: with mandatory SRTP, a re-INVITE from either
// side carries new keys both ways (our offer and our answer each get a new
// master key, RFC 4568 §7.1.4); each side sends with the key the other
// receives with, and the tones still cross after each rekey. The answerer
// keeps the offerer's replaced key a while (media's rekeyGrace, tested
// there with its expiry), so the packets the offerer sent before it had
// the answer do not fail authentication.
func TestSRTPRekeyOnReinvite(t *testing.T) {
	incoming := make(chan *Call, 1)
	mandatory := func(c *Config) { c.SRTP = sdp.SRTPMandatory }
	b := newPhone(t, transport.UDP, func(c *Config) {
		mandatory(c)
		c.OnIncoming = acceptInto(t, incoming)
	})
	a := newPhone(t, transport.UDP, mandatory)
	ca, cb := dialAccepted(t, a, b, incoming, transport.UDP, "")
	defer endBoth(t, ca, cb)
	go sendTone(ca, 440)
	go sendTone(cb, 1000)
	if err := hearTone(t, cb, 25, 25, 440); err != nil {
		t.Fatalf("callee heard before the rekey: %v", err)
	}

	for _, tc := range []struct {
		name       string
		from, peer *Call
	}{
		{"caller-reinvites", ca, cb},
		{"callee-reinvites", cb, ca},
	} {
		t.Run(tc.name, func(t *testing.T) {
			aSend, aRecv := srtpKeys(ca)
			bSend, bRecv := srtpKeys(cb)
			if aSend == "" || bSend == "" {
				t.Fatalf("SRTP keys before the rekey: got %q and %q, want both set", aSend, bSend)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			failed := tc.peer.media.Stats().AuthFailed
			// Resume on an active call is a plain sendrecv re-offer.
			if err := tc.from.Resume(ctx); err != nil {
				t.Fatalf("re-INVITE: %v", err)
			}
			aSend2, aRecv2 := srtpKeys(ca)
			bSend2, bRecv2 := srtpKeys(cb)
			for _, k := range []struct{ what, old, now string }{
				{"caller's send key", aSend, aSend2},
				{"caller's receive key", aRecv, aRecv2},
				{"callee's send key", bSend, bSend2},
				{"callee's receive key", bRecv, bRecv2},
			} {
				if k.now == "" || k.now == k.old {
					t.Errorf("%s after the re-INVITE: got %q, want a new key (old %q)", k.what, k.now, k.old)
				}
			}
			if aSend2 != bRecv2 || bSend2 != aRecv2 {
				t.Errorf("keys disagree: caller sends %q, callee receives %q; callee sends %q, caller receives %q",
					aSend2, bRecv2, bSend2, aRecv2)
			}
			for _, c := range []*Call{ca, cb} {
				send, recv := srtpKeys(c)
				mc := c.media.Config()
				if mc.SRTPSend == nil || mc.SRTPRecv == nil || mc.SRTPSend.String() != send || mc.SRTPRecv.String() != recv {
					t.Errorf("media keys: got %v/%v, want %q/%q", mc.SRTPSend, mc.SRTPRecv, send, recv)
				}
			}
			if err := hearTone(t, cb, 10, 25, 440); err != nil {
				t.Errorf("callee heard after the rekey: %v", err)
			}
			if err := hearTone(t, ca, 10, 25, 1000); err != nil {
				t.Errorf("caller heard after the rekey: %v", err)
			}
			if got := tc.peer.media.Stats().AuthFailed; got != failed {
				t.Errorf("answerer's SRTP authentication failures across the rekey: got %d, want %d", got-failed, 0)
			}
		})
	}
}

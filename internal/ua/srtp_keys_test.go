package ua

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/srtp"
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

// TestSRTPKeysKeptOnReinvite: with mandatory SRTP, a re-INVITE from either
// side keeps every key as it was (most peers expect it: baresip 1.0.0
// goes on decrypting with the first key it was given), each side sends
// with the key the other receives with, the tones still cross, and
// neither side counts an authentication failure: media.Update kept the
// SRTP contexts, whose packet indexes went on.
func TestSRTPKeysKeptOnReinvite(t *testing.T) {
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
		t.Fatalf("callee heard before the re-INVITE: %v", err)
	}
	aSend, aRecv := srtpKeys(ca)
	bSend, bRecv := srtpKeys(cb)
	if aSend == "" || bSend == "" || aSend != bRecv || bSend != aRecv {
		t.Fatalf("SRTP keys: caller %q/%q, callee %q/%q; want both set, each side's send key the other's receive key",
			aSend, aRecv, bSend, bRecv)
	}
	failedA, failedB := ca.media.Stats().AuthFailed, cb.media.Stats().AuthFailed
	for _, tc := range []struct {
		name string
		from *Call
	}{
		{"caller-reinvites", ca},
		{"callee-reinvites", cb},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// Resume on an active call is a plain sendrecv re-offer.
			if err := tc.from.Resume(ctx); err != nil {
				t.Fatalf("re-INVITE: %v", err)
			}
			for _, c := range []struct {
				who        string
				call       *Call
				send, recv string
			}{{"caller", ca, aSend, aRecv}, {"callee", cb, bSend, bRecv}} {
				send, recv := srtpKeys(c.call)
				mc := c.call.media.Config()
				if send != c.send || recv != c.recv || mc.SRTPSend == nil || mc.SRTPRecv == nil ||
					mc.SRTPSend.String() != send || mc.SRTPRecv.String() != recv {
					t.Errorf("%s's keys after the re-INVITE: negotiated %q/%q, media %v/%v; want %q/%q as before",
						c.who, send, recv, mc.SRTPSend, mc.SRTPRecv, c.send, c.recv)
				}
			}
			if err := hearTone(t, cb, 10, 25, 440); err != nil {
				t.Errorf("callee heard after the re-INVITE: %v", err)
			}
			if err := hearTone(t, ca, 10, 25, 1000); err != nil {
				t.Errorf("caller heard after the re-INVITE: %v", err)
			}
		})
	}
	if a, b := ca.media.Stats().AuthFailed, cb.media.Stats().AuthFailed; a != failedA || b != failedB {
		t.Errorf("SRTP authentication failures across the re-INVITEs: caller %d, callee %d; want none", a-failedA, b-failedB)
	}
}

// srtpOffer returns the first a=crypto of the SDP in body.
func srtpOffer(t *testing.T, body []byte) srtp.Crypto {
	t.Helper()
	d, err := sdp.Parse(body)
	if err != nil || len(d.Media) == 0 || len(d.Media[0].Cryptos()) == 0 {
		t.Fatalf("no a=crypto in %q (%v)", body, err)
	}
	return d.Media[0].Cryptos()[0]
}

// TestSRTPPeerNewKey: a peer that answers our hold re-INVITE with a new
// key of its own (RFC 4568 §7.1.4) is followed: the call's media then
// decrypts with it, while our re-offer carried our key unchanged.
func TestSRTPPeerNewKey(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, func(c *Config) { c.SRTP = sdp.SRTPMandatory })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	ours := srtpOffer(t, inv.m.Body)
	prof, err := ours.Profile()
	if err != nil {
		t.Fatal(err)
	}
	answer := func(dir string) (string, srtp.Crypto) {
		k, err := srtp.NewCrypto(ours.Tag, prof, nil)
		if err != nil {
			t.Fatal(err)
		}
		body := strings.Replace(peerSDP(40000, "PCMU"), "RTP/AVP", "RTP/SAVP", 1)
		body = strings.Replace(body, "a=sendrecv", dir, 1) + "a=crypto:" + k.String() + "\r\n"
		return body, k
	}
	tag := token()
	body, k1 := answer("a=sendrecv")
	p.respond(inv, 200, tag, body)
	r := recvDial(t, res)
	if r.err != nil {
		t.Fatalf("Dial: %v", r.err)
	}
	p.next("ACK", isReq("ACK"))
	if got := r.c.media.Config().SRTPRecv; got == nil || got.String() != k1.String() {
		t.Fatalf("receive key: got %v, want the peer's %v", got, k1)
	}
	held := make(chan error, 1)
	go func() { held <- r.c.Hold(ctx) }()
	reinv := p.next("re-INVITE", isReq("INVITE"))
	if again := srtpOffer(t, reinv.m.Body); again.String() != ours.String() {
		t.Errorf("our key in the re-offer: got %v, want %v as before", again, ours)
	}
	body, k2 := answer("a=recvonly")
	p.respond(reinv, 200, tag, body)
	p.next("ACK of the re-INVITE", isReq("ACK"))
	if err := <-held; err != nil {
		t.Fatalf("Hold: %v", err)
	}
	mc := r.c.media.Config()
	if mc.SRTPRecv == nil || mc.SRTPRecv.String() != k2.String() || mc.SRTPSend == nil || mc.SRTPSend.String() != ours.String() {
		t.Errorf("media keys after the peer's new key: send %v, receive %v; want %v, %v", mc.SRTPSend, mc.SRTPRecv, ours, k2)
	}
	p.hangupFrom(r.c)
}

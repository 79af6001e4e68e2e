package ua

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/rtp"
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

// sendOldKey protects n RTP packets with key and sends them to c's RTP
// port from a socket of its own.
func sendOldKey(t *testing.T, c *Call, key string, n int) {
	t.Helper()
	cr, err := srtp.ParseCrypto(key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := cr.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(c.media.LocalRTP()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range n {
		p := rtp.Packet{Header: rtp.Header{PayloadType: 0, SequenceNumber: uint16(1000 + i),
			Timestamp: uint32(160 * i), SSRC: 0x5EC0DE}, Payload: make([]byte, 160)}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if b, err = ctx.EncryptRTP(nil, b); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
	}
}

// waitAuthFailed waits until c's media has counted at least want SRTP
// authentication failures.
func waitAuthFailed(t *testing.T, c *Call, want uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.media.Stats().AuthFailed < want {
		if time.Now().After(deadline) {
			t.Fatalf("SRTP authentication failures: got %d, want at least %d", c.media.Stats().AuthFailed, want)
		}
		select {
		case <-c.Done():
			t.Fatal("call ended waiting for SRTP authentication failures")
		case <-time.After(5 * time.Millisecond): // a counter: nothing to wait on
		}
	}
}

// TestSRTPRekeyOnReinvite: with mandatory SRTP, a re-INVITE from either
// side carries new keys both ways (our offer and our answer each get a new
// master key, RFC 4568 §7.1.4); each side sends with the key the other
// receives with, the tones still cross after each rekey, and packets
// protected with a replaced key fail authentication and are counted.
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
			// Steady state: the new keys work both ways, so every failure
			// counted from here is a packet under a replaced key.
			const n = 3
			for _, c := range []struct {
				to  *Call
				old string
			}{{cb, aSend}, {ca, bSend}} {
				base := c.to.media.Stats().AuthFailed
				sendOldKey(t, c.to, c.old, n)
				waitAuthFailed(t, c.to, base+n)
			}
		})
	}
}

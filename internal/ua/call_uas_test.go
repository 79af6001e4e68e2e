package ua

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/sipmsg"
)

// acceptAll is an OnIncoming that answers every call and hands it on.
func acceptAll(t *testing.T, ch chan *Call) func(*Call) {
	return func(c *Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
		ch <- c
	}
}

// ringingCall has a scripted peer call a UA that neither accepts nor
// rejects: the call rings, and d is the peer's side of the early dialog of
// the UA's 180.
func ringingCall(t *testing.T) (*peer, *sipmsg.Message, *Call, *dlgPeer) {
	t.Helper()
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.OnIncoming = func(c *Call) { calls <- c } })
	p := newPeer(t)
	inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
	p.send(inv, netipAddr(u))
	c := recvCall(t, calls)
	ring := p.next("180", isResp(180, "INVITE"))
	d := &dlgPeer{peer: p, c: c, ua: ring.from, from: inv.Get("From"), to: ring.m.Get("To"),
		callID: inv.CallID(), target: mustURI(t, ring.m.Get("Contact")), seq: 1}
	return p, inv, c, d
}

func recvCall(t *testing.T, ch chan *Call) *Call {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no incoming call")
	}
	return nil
}

func uaURI(u *UA) string { return sipAddr(u, 0) }

// Test2xxRetransmittedUntilACK: our 200 is repeated (T1, 2*T1, ...) until
// the ACK; without one the call ends after 64*T1 with BYE (RFC 3261
// §13.3.1.4).
func Test2xxRetransmittedUntilACK(t *testing.T) {
	t.Parallel()
	const t1 = 20 * time.Millisecond
	for _, tc := range []struct {
		name string
		ack  bool
	}{{"acked", true}, {"no-ack", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := make(chan *Call, 1)
			u := newUA(t, func(c *Config) { c.T1 = t1; c.OnIncoming = acceptAll(t, calls) })
			p := newPeer(t)
			inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
			start := time.Now() // before the UA can start its 64*T1 wait
			p.send(inv, netipAddr(u))
			first := p.next("200", isResp(200, "INVITE"))
			c := recvCall(t, calls)
			p.next("retransmitted 200", isResp(200, "INVITE"))
			if tc.ack {
				p.send(p.ack(inv, first.m, ""), first.from)
				// Drain a retransmission that may have crossed the ACK.
				p.none(2*t1, isResp(200, "INVITE"))
				if m := p.none(8*t1, isResp(200, "INVITE")); m != nil {
					t.Errorf("got a 200 after the ACK, want none")
				}
				if got, want := c.State(), StateActive; got != want {
					t.Errorf("state: got %v, want %v", got, want)
				}
				p.hangupFrom(c)
				return
			}
			bye := p.next("BYE", isReq("BYE"))
			if el := time.Since(start); el < 64*t1 {
				t.Errorf("BYE after %v, want about 64*T1 = %v", el, 64*t1)
			}
			p.respond(bye, 200, "", "")
			waitDone(t, c)
			if got, want := c.Reason(), EndError; got != want {
				t.Errorf("reason: got %v, want %v", got, want)
			}
		})
	}
}

func netipAddr(u *UA) netip.AddrPort {
	host, port := u.LocalAddr()
	ap, _ := net.ResolveUDPAddr("udp", net.JoinHostPort(host, strconv.Itoa(port)))
	return ap.AddrPort()
}

// TestLateOffer: an INVITE without SDP is answered with our offer and the
// ACK's answer starts the media (RFC 3261 §13.2.1, RFC 3264 §4).
func TestLateOffer(t *testing.T) {
	t.Parallel()
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls) })
	p := newPeer(t)
	inv := p.invite(uaURI(u), "")
	p.send(inv, netipAddr(u))
	ok := p.next("200", isResp(200, "INVITE"))
	offer, err := sdp.Parse(ok.m.Body)
	if err != nil || len(offer.Media) != 1 {
		t.Fatalf("200 body: got %v (%q), want an SDP offer", err, ok.m.Body)
	}
	c := recvCall(t, calls)
	sink := newRTPSink(t)
	p.send(p.ack(inv, ok.m, peerSDP(sink.port, "PCMU")), ok.from)
	go sendTone(c, 440)
	sink.wait(t)
	if got, want := c.Codec(), "PCMU"; got != want {
		t.Errorf("codec: got %q, want %q", got, want)
	}
	if got := c.Media().Config().RemoteRTP.Port(); int(got) != sink.port {
		t.Errorf("remote RTP port: got %d, want %d", got, sink.port)
	}
	p.hangupFrom(c)
}

// TestReinviteBeforeLateOfferAck: a re-INVITE with an offer from a peer
// that has not yet sent the ACK answering the offer in our 2xx to its
// INVITE without SDP would cross our offer (RFC 3264 §4): it gets 491, as
// an UPDATE does. Once the ACK's answer is taken, a re-INVITE is answered
// 200 and the media runs.
func TestReinviteBeforeLateOfferAck(t *testing.T) {
	t.Parallel()
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls) })
	p := newPeer(t)
	inv := p.invite(uaURI(u), "")
	p.send(inv, netipAddr(u))
	ok := p.next("200", isResp(200, "INVITE"))
	c := recvCall(t, calls)
	waitState(t, c, StateActive)
	d := &dlgPeer{peer: p, c: c, ua: ok.from, from: inv.Get("From"), to: ok.m.Get("To"),
		callID: inv.CallID(), target: mustURI(t, ok.m.Get("Contact")), seq: 1}
	if resp := d.ask("INVITE", sdpWith("sendrecv", "PCMU")); resp.StatusCode != 491 {
		t.Errorf("re-INVITE before the ACK: got %d, want 491", resp.StatusCode)
		if resp.StatusCode == 200 {
			d.send(d.inviteAck(resp), d.ua)
		}
	}
	sink := newRTPSink(t)
	p.send(p.ack(inv, ok.m, peerSDP(sink.port, "PCMU")), ok.from)
	go sendTone(c, 440)
	sink.wait(t)
	// The ACK is taken by the time media flows: a re-INVITE is answered.
	resp := d.ask("INVITE", peerSDP(sink.port, "PCMU"))
	if resp.StatusCode != 200 {
		t.Errorf("re-INVITE after the ACK: got %d, want 200", resp.StatusCode)
	} else {
		d.send(d.inviteAck(resp), d.ua)
	}
	d.hangupFrom(c)
}

// TestRefusedInvite: no common codec is answered 488; no free RTP port 500;
// an outbound Dial fails with the matching error.
func TestRefusedInvite(t *testing.T) {
	t.Parallel()
	busy := occupyRTPPort(t)
	for _, tc := range []struct {
		name   string
		mod    func(*Config)
		offer  string
		code   int
		dialTo func(*Config) // the dialing UA's settings for the outbound half
		want   error
	}{
		{"no-common-codec", nil, "PCMA", 488, func(c *Config) { c.Codecs = []string{"PCMA"} }, nil},
		{"no-rtp-port", func(c *Config) { c.Media.PortMin, c.Media.PortMax = busy, busy }, "PCMU", 500, nil, media.ErrNoRTPPort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUA(t, func(c *Config) {
				c.OnIncoming = func(c *Call) { t.Errorf("OnIncoming for a call that should be refused") }
				if tc.mod != nil {
					tc.mod(c)
				}
			})
			p := newPeer(t)
			inv := p.invite(uaURI(u), peerSDP(40000, tc.offer))
			p.send(inv, netipAddr(u))
			p.next("final response", func(m *sipmsg.Message) bool { return !m.IsRequest() && m.StatusCode == tc.code })

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if tc.want != nil {
				// The refusing UA dials out: no port either.
				_, err := u.Dial(ctx, p.uri("x"), DialOptions{})
				if !errors.Is(err, tc.want) {
					t.Errorf("Dial: got %v, want %v", err, tc.want)
				}
				return
			}
			caller := newUA(t, tc.dialTo)
			_, err := caller.Dial(ctx, uaURI(u), DialOptions{})
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tc.code {
				t.Errorf("Dial: got %v, want a %d StatusError", err, tc.code)
			}
		})
	}
}

// occupyRTPPort binds an even port and returns it: a media range of just
// that port has no free pair.
func occupyRTPPort(t *testing.T) int {
	t.Helper()
	for port := 31000; port < 33000; port += 2 {
		pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			continue
		}
		pc2, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4zero, Port: port})
		if err == nil {
			pc2.Close() // a wildcard bind would succeed: try another port
		}
		t.Cleanup(func() { pc.Close() })
		return port
	}
	t.Fatal("no even port to occupy")
	return 0
}

// TestMediaTimeout: no RTP ends the call with EndMediaTimeout; with an
// inactive offer (hold) the longer HoldTimeout applies.
func TestMediaTimeout(t *testing.T) {
	t.Parallel()
	const mt, ht = 200 * time.Millisecond, 1200 * time.Millisecond
	for _, tc := range []struct {
		name string
		dir  string
		min  time.Duration
	}{{"active", "sendrecv", mt}, {"held", "inactive", ht}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := make(chan *Call, 1)
			u := newUA(t, func(c *Config) {
				c.Media.MediaTimeout, c.Media.HoldTimeout = mt, ht
				c.OnIncoming = acceptAll(t, calls)
			})
			p := newPeer(t)
			body := peerSDP(40000, "PCMU")
			body = body[:len(body)-len("a=sendrecv\r\n")] + "a=" + tc.dir + "\r\n"
			inv := p.invite(uaURI(u), body)
			// The media timer cannot start before the INVITE is sent, so
			// the time since then is a lower bound that load can only
			// lengthen (taking it after the 200 raced the timer's start).
			start := time.Now()
			p.send(inv, netipAddr(u))
			ok := p.next("200", isResp(200, "INVITE"))
			p.send(p.ack(inv, ok.m, ""), ok.from)
			c := recvCall(t, calls)
			bye := p.next("BYE", isReq("BYE"))
			p.respond(bye, 200, "", "")
			waitDone(t, c)
			if got, want := c.Reason(), EndMediaTimeout; got != want {
				t.Errorf("reason: got %v, want %v", got, want)
			}
			if el := time.Since(start); el < tc.min {
				t.Errorf("ended after %v, want at least %v", el, tc.min)
			}
		})
	}
}

// TestMaxCalls: with MaxCalls 1 and a call up, another INVITE gets 486
// and Dial ErrMaxCalls, while an INVITE with Replaces taking that call's
// place is answered; once the call ended a new one is taken.
func TestMaxCalls(t *testing.T) {
	t.Parallel()
	calls := make(chan *Call, 4)
	u := newUA(t, func(c *Config) {
		c.MaxCalls = 1
		c.OnIncoming = acceptAll(t, calls)
		c.NewCall = func(c *Call) {
			c.OnReplaced(func(n *Call) { calls <- n })
		}
	})
	p := newPeer(t)
	c, inv, ok := p.callIn(u, calls)
	over := p.invite(uaURI(u), peerSDP(40002, "PCMU"))
	p.send(over, ok.from)
	if r := p.next("answer beyond MaxCalls", func(m *sipmsg.Message) bool {
		return !m.IsRequest() && m.StatusCode >= 180 && m.CallID() == over.CallID()
	}).m; r.StatusCode != 486 {
		t.Errorf("INVITE beyond MaxCalls: got %d, want 486", r.StatusCode)
	}
	if _, err := u.Dial(context.Background(), p.uri("bob"), DialOptions{}); !errors.Is(err, ErrMaxCalls) {
		t.Errorf("Dial beyond MaxCalls: got %v, want ErrMaxCalls", err)
	}
	local, remote := c.Tags()
	rep := p.invite(uaURI(u), peerSDP(40004, "PCMU"))
	rep.Add("Replaces", replacesValue(inv.CallID(), local, remote))
	p.send(rep, ok.from)
	r := p.next("answer to Replaces", func(m *sipmsg.Message) bool {
		return !m.IsRequest() && m.StatusCode >= 200 && m.CallID() == rep.CallID()
	})
	if r.m.StatusCode != 200 {
		t.Fatalf("INVITE with Replaces at MaxCalls: got %d, want 200", r.m.StatusCode)
	}
	p.send(p.ack(rep, r.m, ""), r.from)
	p.respond(p.next("BYE of the replaced call", isReq("BYE")), 200, "", "")
	waitDone(t, c)
	n := recvCall(t, calls)
	p.hangupFrom(n)
	waitDone(t, n)
	// Room again.
	c2, _, _ := p.callIn(u, calls)
	p.hangupFrom(c2)
}

// TestByeWhileRinging: a caller that ends the early dialog of a call we
// have not answered with BYE (RFC 3261 §15) gets 200 to it and 487 to its
// INVITE (§15.1.2); the call ends as cancelled, and Accept then fails.
func TestByeWhileRinging(t *testing.T) {
	t.Parallel()
	p, _, c, d := ringingCall(t)
	if resp := d.ask("BYE", ""); resp.StatusCode != 200 {
		t.Errorf("BYE: got %d, want 200", resp.StatusCode)
	}
	final := p.next("final response to the INVITE", func(m *sipmsg.Message) bool {
		return !m.IsRequest() && m.StatusCode >= 200 && m.Get("CSeq") == "1 INVITE"
	}).m
	if final.StatusCode != 487 {
		t.Errorf("INVITE: got %d, want 487", final.StatusCode)
	}
	if to, _ := final.To(); to.Tag() == "" {
		t.Error("487 without a To tag")
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("call not ended (state %v)", c.State())
	}
	if got := c.Reason(); got != EndCancelled {
		t.Errorf("end reason: got %d, want %d (EndCancelled)", got, EndCancelled)
	}
	if err := c.Accept(t.Context()); err == nil {
		t.Error("Accept after the caller's BYE: got nil, want an error")
	}
}

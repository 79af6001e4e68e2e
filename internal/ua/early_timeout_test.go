package ua

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// TestEarlyMediaDoesNotTimeOut: a call in early media whose peer sends no
// RTP (a 183 while the callee rings) is not ended by the media timeout,
// which would send neither CANCEL nor a final response; the timeout
// counts from the answer, and then ends the call with BYE. Outbound and
// inbound.
func TestEarlyMediaDoesNotTimeOut(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	t.Run("outbound", func(t *testing.T) {
		t.Parallel()
		u := newUA(t, func(c *Config) { c.Media.MediaTimeout = timeout })
		p := newPeer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
		inv := p.next("INVITE", isReq("INVITE"))
		tag := token()
		p.respond(inv, 183, tag, peerSDP(40002, "PCMU"))
		if m := p.none(3*timeout, isReq("CANCEL")); m != nil {
			t.Fatal("the silent early media was cancelled")
		}
		p.respond(inv, 200, tag, peerSDP(40002, "PCMU"))
		r := recvDial(t, res)
		if r.err != nil {
			t.Fatalf("Dial: %v", r.err)
		}
		p.next("ACK", isReq("ACK"))
		p.respond(p.next("BYE after the answer's media timeout", isReq("BYE")), 200, "", "")
		waitDone(t, r.c)
		if got := r.c.Reason(); got != EndMediaTimeout {
			t.Errorf("end reason: got %d, want EndMediaTimeout", got)
		}
	})
	t.Run("inbound", func(t *testing.T) {
		t.Parallel()
		calls := make(chan *Call, 1)
		u := newUA(t, func(c *Config) {
			c.Rel100 = Rel100Disabled
			c.Media.MediaTimeout = timeout
			c.OnIncoming = func(c *Call) { calls <- c }
		})
		p := newPeer(t)
		inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
		p.send(inv, netipAddr(u))
		c := recvCall(t, calls)
		if err := c.Progress(context.Background()); err != nil {
			t.Fatal(err)
		}
		p.next("183", isResp(183, "INVITE"))
		final := func(m *sipmsg.Message) bool {
			cs, _ := m.CSeq()
			return !m.IsRequest() && m.StatusCode >= 200 && cs.Method == "INVITE"
		}
		if m := p.none(3*timeout, final); m != nil {
			t.Fatalf("the silent early media got %d", m.StatusCode)
		}
		if err := c.Accept(context.Background()); err != nil {
			t.Fatalf("Accept: %v", err)
		}
		ok := p.next("200", isResp(200, "INVITE"))
		p.send(p.ack(inv, ok.m, ""), ok.from)
		p.respond(p.next("BYE after the answer's media timeout", isReq("BYE")), 200, "", "")
		waitDone(t, c)
		if got := c.Reason(); got != EndMediaTimeout {
			t.Errorf("end reason: got %d, want EndMediaTimeout", got)
		}
	})
}

// answeredUnacked has a peer call a UA that accepts at once and returns
// the call, Active, before the peer's ACK; ack sends that ACK.
func answeredUnacked(t *testing.T) (p *peer, c *Call, ack func()) {
	t.Helper()
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls) })
	p = newPeer(t)
	inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
	p.send(inv, netipAddr(u))
	ok := p.next("200", isResp(200, "INVITE"))
	c = recvCall(t, calls)
	waitState(t, c, StateActive)
	return p, c, func() { p.send(p.ack(inv, ok.m, ""), ok.from) }
}

// TestHoldBeforeAck: Hold before the ACK of our 2xx has come waits for it
// (RFC 3261 §14.1: the caller's INVITE transaction is still going, and no
// re-INVITE may cross it); once the ACK is in, the re-INVITE goes.
func TestHoldBeforeAck(t *testing.T) {
	t.Parallel()
	p, c, ack := answeredUnacked(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	held := make(chan error, 1)
	go func() { held <- c.Hold(ctx) }()
	isInvite := func(m *sipmsg.Message) bool { return m.IsRequest() && m.Method == "INVITE" }
	if m := p.none(300*time.Millisecond, isInvite); m != nil {
		t.Fatal("a re-INVITE went out before the ACK of our 2xx")
	}
	ack()
	re := p.next("re-INVITE after the ACK", isInvite)
	p.respond(re, 200, "", strings.Replace(peerSDP(40000, "PCMU"), "a=sendrecv", "a=recvonly", 1))
	if err := <-held; err != nil {
		t.Errorf("Hold: %v", err)
	}
	p.hangupFrom(c)
}

// TestByeWaitsForAck: End right after we answered, before the caller's ACK
// has come, sends no BYE until it comes (RFC 3261 §15: a BYE that overtook
// our 2xx would leave the caller a dead call).
func TestByeWaitsForAck(t *testing.T) {
	t.Parallel()
	p, c, ack := answeredUnacked(t)
	ended := make(chan error, 1)
	go func() { ended <- c.End(context.Background()) }()
	if m := p.none(300*time.Millisecond, isReq("BYE")); m != nil {
		t.Fatal("BYE sent before the ACK of our 2xx")
	}
	ack()
	p.respond(p.next("BYE after the ACK", isReq("BYE")), 200, "", "")
	if err := <-ended; err != nil {
		t.Errorf("End: %v", err)
	}
}

// TestEndWhileAcceptAwaitsPRACK: while Accept waits for the PRACK of our
// reliable 183 (RFC 3262 §3), End takes the call over: the INVITE gets a
// final non-2xx response, the call ends and Accept returns an error; and
// a BYE from the caller on the early dialog meanwhile gets its INVITE a
// 487 (RFC 3261 §15.1.2).
func TestEndWhileAcceptAwaitsPRACK(t *testing.T) {
	t.Parallel()
	for _, byPeer := range []bool{false, true} {
		t.Run(map[bool]string{false: "End", true: "peer-BYE"}[byPeer], func(t *testing.T) {
			t.Parallel()
			calls := make(chan *Call, 1)
			u := newUA(t, func(c *Config) { c.OnIncoming = func(c *Call) { calls <- c } })
			p := newPeer(t)
			inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
			inv.Add("Supported", "100rel")
			p.send(inv, netipAddr(u))
			c := recvCall(t, calls)
			ring := p.next("180", isResp(180, "INVITE")) // reliable, never PRACKed
			if err := c.Progress(context.Background()); err != nil {
				t.Fatal(err)
			}
			accepted := make(chan error, 1)
			go func() { accepted <- c.Accept(context.Background()) }()
			// Accept waits for PRACKs that never come: from when it has
			// taken the call, End or the BYE must take it over.
			for deadline := time.Now().Add(10 * time.Second); ; runtime.Gosched() {
				c.mu.Lock()
				waiting := c.uas.abortAccept != nil
				c.mu.Unlock()
				if waiting {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("Accept does not wait for the PRACK")
				}
			}
			want := 603
			if byPeer {
				want = 487
				d := &dlgPeer{peer: p, c: c, ua: ring.from, from: inv.Get("From"), to: ring.m.Get("To"),
					callID: inv.CallID(), target: mustURI(t, ring.m.Get("Contact")), seq: 1}
				if r := d.ask("BYE", ""); r.StatusCode != 200 {
					t.Fatalf("BYE: got %d", r.StatusCode)
				}
			} else if err := c.End(context.Background()); err != nil {
				t.Errorf("End: %v", err)
			}
			final := p.next("final response to the INVITE", func(m *sipmsg.Message) bool {
				cs, _ := m.CSeq()
				return !m.IsRequest() && m.StatusCode >= 200 && cs.Method == "INVITE"
			})
			if final.m.StatusCode != want {
				t.Errorf("final response: got %d, want %d", final.m.StatusCode, want)
			}
			waitDone(t, c)
			if err := <-accepted; err == nil {
				t.Error("Accept: got no error for a call taken over")
			}
		})
	}
}

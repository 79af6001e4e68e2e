package ua

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// UPDATE in early dialogs (RFC 3311 §5.1) and what a 2xx to INVITE says it supports.

// inviteAck builds the ACK for the peer's in-dialog INVITE answered by ok.
func (d *dlgPeer) inviteAck(ok *sipmsg.Message) *sipmsg.Message {
	cs, _ := ok.CSeq()
	m := sipmsg.NewRequest("ACK", d.target)
	m.Add("Via", "SIP/2.0/UDP 127.0.0.1:"+strconv.Itoa(d.port)+";branch=z9hG4bK"+token())
	m.Add("From", d.from)
	m.Add("To", d.to)
	m.Add("Call-ID", d.callID)
	m.Add("CSeq", strconv.FormatUint(uint64(cs.Seq), 10)+" ACK")
	m.Add("Max-Forwards", "70")
	return m
}

// earlyPeer is the scripted callee of a UA's INVITE in the early dialog
// its 18x answers create (RFC 3261 §12.1.2).
func earlyPeer(t *testing.T, p *peer, inv peerMsg, tag string) *dlgPeer {
	t.Helper()
	to := inv.m.Get("To") + ";tag=" + tag
	return &dlgPeer{peer: p, ua: inv.from, from: to, to: inv.m.Get("From"),
		callID: inv.m.CallID(), target: mustURI(t, inv.m.Get("Contact"))}
}

// TestUpdateEarlyDialogUAC: on an outbound call UPDATE works in the early
// dialog (RFC 3311 §5.1, §5.2): a body-less one is taken after a 180 with a
// To tag; an offer gets 491 until a reliable 183 carried the answer to our
// INVITE and was PRACKed, and is answered after; Update sends one in the
// early dialog (CSeq after the PRACKs, no session-timer headers). The
// confirmed dialog keeps the codec the early UPDATE chose and continues
// the CSeq numbers of the early dialog both ways.
func TestUpdateEarlyDialogUAC(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, func(c *Config) {
		c.Codecs = []string{"PCMU", "PCMA"}
		c.SessionTimer = 1800 * time.Second
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{EarlyMedia: true})
	inv := p.next("INVITE", isReq("INVITE"))
	tag := token()
	d := earlyPeer(t, p, inv, tag)
	allow := "INVITE, ACK, CANCEL, BYE, PRACK, UPDATE"
	p.respond(inv, 180, tag, "", "Require", "100rel", "RSeq", "1", "Allow", allow)
	p.respond(p.next("PRACK", isReq("PRACK")), 200, "", "")
	for _, step := range []struct {
		name, body string
		want       int
	}{
		{"refresh-after-180", "", 200},
		{"offer-before-answer", sdpWith("sendrecv", "PCMA"), 491},
	} {
		if got := d.ask("UPDATE", step.body).StatusCode; got != step.want {
			t.Errorf("%s: got %d, want %d", step.name, got, step.want)
		}
	}
	p.respond(inv, 183, tag, peerSDP(40000, "PCMU"), "Require", "100rel", "RSeq", "2", "Allow", allow)
	p.respond(p.next("second PRACK", isReq("PRACK")), 200, "", "")
	r := recvDial(t, res)
	if r.err != nil {
		t.Fatalf("Dial: %v", r.err)
	}
	c := r.c
	resp := d.ask("UPDATE", sdpWith("sendrecv", "PCMA"))
	if got, want := resp.StatusCode, 200; got != want {
		t.Fatalf("offer after the PRACKed answer: got %d, want %d", got, want)
	}
	if !strings.Contains(string(resp.Body), "PCMA/8000") {
		t.Errorf("answer: got %q, want PCMA", resp.Body)
	}
	if got, want := c.Codec(), "PCMA"; got != want {
		t.Errorf("codec after the early UPDATE: got %q, want %q", got, want)
	}
	updated := make(chan error, 1)
	go func() { updated <- c.Update(ctx) }()
	ours := p.next("our UPDATE", isReq("UPDATE"))
	checks := []struct{ name, got, want string }{
		{"CSeq", ours.m.Get("CSeq"), "4 UPDATE"},
		{"To", ours.m.Get("To"), d.from},
		{"Session-Expires", ours.m.Get("Session-Expires"), ""},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("our early UPDATE %s: got %q, want %q", ck.name, ck.got, ck.want)
		}
	}
	p.respond(ours, 200, "", "")
	if err := <-updated; err != nil {
		t.Errorf("Update: %v", err)
	}
	// The 2xx repeats the 183's description (RFC 3261 §13.2.1): ignored.
	p.respond(inv, 200, tag, peerSDP(40000, "PCMU"), "Allow", allow)
	p.next("ACK", isReq("ACK"))
	waitState(t, c, StateActive)
	if got, want := c.Codec(), "PCMA"; got != want {
		t.Errorf("codec after the 2xx: got %q, want %q", got, want)
	}
	// The peer's CSeq went to 3 in the early dialog: 3 again is out of
	// order in the confirmed one (RFC 3261 §12.2.2).
	d.seq = 2
	if got, want := d.ask("UPDATE", "").StatusCode, 500; got != want {
		t.Errorf("UPDATE reusing an early CSeq: got %d, want %d", got, want)
	}
	done := make(chan error, 1)
	go func() { done <- c.End(context.Background()) }()
	bye := p.next("BYE", isReq("BYE"))
	if got, want := bye.m.Get("CSeq"), "5 BYE"; got != want {
		t.Errorf("BYE CSeq: got %q, want %q", got, want)
	}
	p.respond(bye, 200, "", "")
	if err := <-done; err != nil {
		t.Errorf("End: %v", err)
	}
}

// TestUpdateEarlyNotAllowed: Update before the answer fails with
// ErrInvalidState and sends nothing where RFC 3311 §5.1 gives no early
// dialog to send it in: the callee's 18x does not list UPDATE in Allow, or
// (inbound) no PRACK has shown that the caller has the early dialog.
func TestUpdateEarlyNotAllowed(t *testing.T) {
	t.Parallel()
	t.Run("outbound-without-allow", func(t *testing.T) {
		t.Parallel()
		p := newPeer(t)
		u := newUA(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res := dialAsync(ctx, u, p.uri("bob"), DialOptions{EarlyMedia: true})
		inv := p.next("INVITE", isReq("INVITE"))
		tag := token()
		p.respond(inv, 183, tag, peerSDP(40000, "PCMU"))
		r := recvDial(t, res)
		if r.err != nil {
			t.Fatalf("Dial: %v", r.err)
		}
		if err := r.c.Update(ctx); !errors.Is(err, ErrInvalidState) {
			t.Errorf("Update: got %v, want %v", err, ErrInvalidState)
		}
		p.respond(inv, 200, tag, peerSDP(40000, "PCMU"))
		p.next("ACK", isReq("ACK"))
		p.hangupFrom(r.c)
	})
	t.Run("inbound-before-prack", func(t *testing.T) {
		t.Parallel()
		calls := make(chan *Call, 1)
		u := newUA(t, func(c *Config) { c.OnIncoming = func(c *Call) { calls <- c } })
		p := newPeer(t)
		inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
		inv.Add("Supported", "100rel")
		inv.Add("Allow", "INVITE, ACK, BYE, CANCEL, PRACK, UPDATE")
		p.send(inv, netipAddr(u))
		p.next("180", isResp(180, "INVITE"))
		c := recvCall(t, calls)
		if err := c.Update(context.Background()); !errors.Is(err, ErrInvalidState) {
			t.Errorf("Update: got %v, want %v", err, ErrInvalidState)
		}
		if err := c.Reject(context.Background(), 486, ""); err != nil {
			t.Errorf("Reject: %v", err)
		}
		waitDone(t, c)
	})
}

// TestInviteOKSupported: our 2xx to an INVITE lists the extensions we
// support in Supported (RFC 3261 §20.37): timer when session timers are on
// (RFC 4028 §9), 100rel unless it is disabled (RFC 3262).
func TestInviteOKSupported(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		timer           time.Duration
		rel100          Rel100Mode
		wantTimer, want bool
	}{
		{"timer-and-100rel", 1800 * time.Second, Rel100Supported, true, true},
		{"timer-only", 1800 * time.Second, Rel100Disabled, true, false},
		{"100rel-only", 0, Rel100Supported, false, true},
		{"neither", 0, Rel100Disabled, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := make(chan *Call, 1)
			u := newUA(t, func(c *Config) {
				c.SessionTimer = tc.timer
				c.Rel100 = tc.rel100
				c.OnIncoming = acceptAll(t, calls)
			})
			p := newPeer(t)
			inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
			p.send(inv, netipAddr(u))
			ok := p.next("200", isResp(200, "INVITE"))
			c := recvCall(t, calls)
			p.send(p.ack(inv, ok.m, ""), ok.from)
			if got := ok.m.HasToken("Supported", "timer"); got != tc.wantTimer {
				t.Errorf("Supported: timer: got %v, want %v (%q)", got, tc.wantTimer, ok.m.Values("Supported"))
			}
			if got := ok.m.HasToken("Supported", "100rel"); got != tc.want {
				t.Errorf("Supported: 100rel: got %v, want %v (%q)", got, tc.want, ok.m.Values("Supported"))
			}
			if !ok.m.HasToken("Allow", "UPDATE") {
				t.Errorf("Allow: got %q, want UPDATE listed", ok.m.Values("Allow"))
			}
			waitState(t, c, StateActive)
			p.hangupFrom(c)
		})
	}
}

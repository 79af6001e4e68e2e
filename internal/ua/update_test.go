package ua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/sipmsg"
)

// dlgPeer is a scripted peer in a confirmed dialog with a UA's call.
type dlgPeer struct {
	*peer
	c        *Call
	ua       netip.AddrPort // where the UA's requests come from
	from, to string         // the peer's From and To in its requests
	callID   string
	target   sipmsg.URI // the UA's Contact
	seq      int
}

// request builds an in-dialog request from the peer; body may be empty;
// extra are header name/value pairs.
func (d *dlgPeer) request(method, body string, extra ...string) *sipmsg.Message {
	d.seq++
	m := sipmsg.NewRequest(method, d.target)
	m.Add("Via", "SIP/2.0/UDP 127.0.0.1:"+strconv.Itoa(d.port)+";branch=z9hG4bK"+token())
	m.Add("From", d.from)
	m.Add("To", d.to)
	m.Add("Call-ID", d.callID)
	m.Add("CSeq", strconv.Itoa(d.seq)+" "+method)
	m.Add("Max-Forwards", "70")
	m.Add("Contact", "<"+d.uri("peer")+">")
	for i := 0; i+1 < len(extra); i += 2 {
		m.Add(extra[i], extra[i+1])
	}
	if body != "" {
		m.Add("Content-Type", "application/sdp")
		m.Body = []byte(body)
	}
	return m
}

// ask sends a request built by request and returns the final response to
// it.
func (d *dlgPeer) ask(method, body string, extra ...string) *sipmsg.Message {
	d.t.Helper()
	req := d.request(method, body, extra...)
	d.send(req, d.ua)
	cs := strconv.Itoa(d.seq) + " " + method
	return d.next("final response to "+cs, func(m *sipmsg.Message) bool {
		return !m.IsRequest() && m.StatusCode >= 200 && m.Get("CSeq") == cs
	}).m
}

// peerCalls has a scripted peer call a UA built with mod; the UA answers
// and the peer ACKs. inviteHeaders are added to the INVITE.
func peerCalls(t *testing.T, mod func(*Config), inviteHeaders ...string) *dlgPeer {
	t.Helper()
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) {
		c.OnIncoming = acceptAll(t, calls)
		if mod != nil {
			mod(c)
		}
	})
	p := newPeer(t)
	inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
	for i := 0; i+1 < len(inviteHeaders); i += 2 {
		inv.Add(inviteHeaders[i], inviteHeaders[i+1])
	}
	p.send(inv, netipAddr(u))
	ok := p.next("200", isResp(200, "INVITE"))
	c := recvCall(t, calls)
	p.send(p.ack(inv, ok.m, ""), ok.from)
	return &dlgPeer{peer: p, c: c, ua: ok.from, from: inv.Get("From"), to: ok.m.Get("To"),
		callID: inv.CallID(), target: mustURI(t, ok.m.Get("Contact")), seq: 1}
}

// callsPeer has a UA built with mod dial a scripted peer that answers 200
// with the extra headers; it returns the established call.
func callsPeer(t *testing.T, mod func(*Config), answerHeaders ...string) *dlgPeer {
	t.Helper()
	p := newPeer(t)
	u := newUA(t, mod)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	tag := token()
	ok := p.respond(inv, 200, tag, peerSDP(40000, "PCMU"), answerHeaders...)
	d := recvDial(t, res)
	if d.err != nil {
		t.Fatalf("Dial: %v", d.err)
	}
	p.next("ACK", isReq("ACK"))
	return &dlgPeer{peer: p, c: d.c, ua: inv.from, from: ok.Get("To"), to: inv.m.Get("From"),
		callID: inv.m.CallID(), target: mustURI(t, inv.m.Get("Contact")), seq: 100}
}

// sdpWith is the peer's PCMU offer with direction dir and the given codecs.
func sdpWith(dir string, codecs ...string) string {
	s := peerSDP(40000, codecs...)
	return strings.Replace(s, "a=sendrecv\r\n", "a="+dir+"\r\n", 1)
}

// TestUpdateOffer: an UPDATE with an SDP offer in a confirmed dialog is
// answered like a re-INVITE's (RFC 3311 §5.2): hold and resume by the peer,
// a codec change, 488 for an offer without a codec we take.
func TestUpdateOffer(t *testing.T) {
	t.Parallel()
	d := peerCalls(t, func(c *Config) { c.Codecs = []string{"PCMU", "PCMA"} })
	for _, step := range []struct {
		name      string
		offer     string
		wantCode  int
		wantDir   string // a= line in the answer
		wantState State
		wantCodec string
	}{
		{"hold-sendonly", sdpWith("sendonly", "PCMU"), 200, "a=recvonly", StateOnHold, "PCMU"},
		{"hold-inactive", sdpWith("inactive", "PCMU"), 200, "a=inactive", StateOnHold, "PCMU"},
		{"resume", sdpWith("sendrecv", "PCMU"), 200, "a=sendrecv", StateActive, "PCMU"},
		{"codec-change", sdpWith("sendrecv", "PCMA"), 200, "a=sendrecv", StateActive, "PCMA"},
		{"no-common-codec", sdpWith("sendrecv", "G722"), 488, "", StateActive, "PCMA"},
	} {
		resp := d.ask("UPDATE", step.offer)
		if got := resp.StatusCode; got != step.wantCode {
			t.Fatalf("%s: got %d, want %d", step.name, got, step.wantCode)
		}
		if step.wantCode == 200 {
			if got := string(resp.Body); !strings.Contains(got, step.wantDir+"\r\n") {
				t.Errorf("%s: got answer %q, want %s", step.name, got, step.wantDir)
			}
			if got := resp.Get("Contact"); got == "" {
				t.Errorf("%s: got no Contact in the 2xx, want one (§5.2)", step.name)
			}
		}
		waitState(t, d.c, step.wantState)
		if got := d.c.Codec(); got != step.wantCodec {
			t.Errorf("%s: codec got %q, want %q", step.name, got, step.wantCodec)
		}
	}
	d.hangupFrom(d.c)
}

// TestUpdateRefresh: an UPDATE without a body is a session refresh (RFC
// 4028 §7.3): 200 with the Session-Expires and a re-armed timer, or 422
// with our Min-SE for an interval below it.
func TestUpdateRefresh(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		headers  []string
		wantCode int
		wantSE   string
		wantArm  dialog.SessionTimer
	}{
		{"peer-refreshes", []string{"Supported", "timer", "Session-Expires", "120;refresher=uac"}, 200,
			"120;refresher=uac", dialog.SessionTimer{Interval: 120}},
		{"no-timer-asked", nil, 200, "1800;refresher=uas", dialog.SessionTimer{Interval: 1800, WeRefresh: true}},
		{"too-small", []string{"Supported", "timer", "Session-Expires", "30"}, 422, "", dialog.SessionTimer{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			arm := make(armed, 16)
			d := peerCalls(t, func(c *Config) {
				c.SessionTimer = 1800 * time.Second // real seconds: no refresh within the test
				c.timerArmed = arm.hook
			})
			arm.next(t, "after the INVITE")
			resp := d.ask("UPDATE", "", tc.headers...)
			if got := resp.StatusCode; got != tc.wantCode {
				t.Fatalf("got %d, want %d", got, tc.wantCode)
			}
			if tc.wantCode == 422 {
				if got, want := resp.Get("Min-SE"), "90"; got != want {
					t.Errorf("Min-SE: got %q, want %q", got, want)
				}
			} else {
				if got := resp.Get("Session-Expires"); got != tc.wantSE {
					t.Errorf("Session-Expires: got %q, want %q", got, tc.wantSE)
				}
				if got := arm.next(t, "after the UPDATE"); got != tc.wantArm {
					t.Errorf("timer: got %+v, want %+v", got, tc.wantArm)
				}
				if len(resp.Body) != 0 {
					t.Errorf("got a body %q, want none", resp.Body)
				}
			}
			if got, want := d.c.State(), StateActive; got != want {
				t.Errorf("state: got %v, want %v", got, want)
			}
			d.hangupFrom(d.c)
		})
	}
}

// TestUpdateRefreshRepeats: as refresher we refresh with UPDATE for the
// call's life when the peer's Allow lists it, with re-INVITE when it does
// not, and switch to re-INVITE for good when the peer answers UPDATE 501.
func TestUpdateRefreshRepeats(t *testing.T) {
	t.Parallel()
	const allowAll = "INVITE, ACK, BYE, CANCEL, UPDATE"
	for _, tc := range []struct {
		name    string
		allow   string
		refuse  bool // answer the first UPDATE 501
		methods string
	}{
		{"update", allowAll, false, "UPDATE,UPDATE,UPDATE"},
		{"reinvite-without-allow", "INVITE, ACK, BYE, CANCEL", false, "INVITE,INVITE,INVITE"},
		{"reinvite-after-501", allowAll, true, "UPDATE,INVITE,INVITE,INVITE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := callsPeer(t, timerConfig(90, 90, nil, nil),
				"Allow", tc.allow, "Session-Expires", "90;refresher=uac", "Require", "timer")
			var got []string
			refreshes := 0
			for refreshes < 3 {
				pm := d.next("refresh", func(m *sipmsg.Message) bool {
					return m.IsRequest() && (m.Method == "UPDATE" || m.Method == "INVITE")
				})
				got = append(got, pm.m.Method)
				if se := pm.m.Get("Session-Expires"); !strings.HasPrefix(se, "90") {
					t.Errorf("%s Session-Expires: got %q, want 90", pm.m.Method, se)
				}
				if pm.m.Method == "UPDATE" {
					if tc.refuse && len(got) == 1 {
						d.respond(pm, 501, "", "")
						continue
					}
					if len(pm.m.Body) != 0 {
						t.Errorf("refresh UPDATE has a body %q, want none", pm.m.Body)
					}
					d.respond(pm, 200, "", "", "Session-Expires", "90;refresher=uac", "Require", "timer")
				} else {
					d.respond(pm, 200, "", peerSDP(40000, "PCMU"), "Session-Expires", "90;refresher=uac", "Require", "timer")
					d.next("ACK", isReq("ACK"))
				}
				refreshes++
			}
			if g := strings.Join(got, ","); g != tc.methods {
				t.Errorf("refreshes: got %s, want %s", g, tc.methods)
			}
			if st := d.c.State(); st != StateActive {
				t.Errorf("state: got %v, want %v", st, StateActive)
			}
			d.hangupFrom(d.c)
		})
	}
}

// TestUpdateWhileOffersPending: an UPDATE offer while our re-INVITE is
// pending gets 491, one while the peer's INVITE offer is unanswered gets
// 500 with Retry-After 0 to 10 s (RFC 3311 §5.2); a body-less UPDATE is no
// offer and gets 200 in both cases.
func TestUpdateWhileOffersPending(t *testing.T) {
	t.Parallel()
	t.Run("our-reinvite-pending", func(t *testing.T) {
		t.Parallel()
		d := peerCalls(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		held := make(chan error, 1)
		go func() { held <- d.c.Hold(ctx) }()
		ours := d.next("re-INVITE", isReq("INVITE"))
		for _, tc := range []struct {
			name, body string
			want       int
		}{
			{"offer", sdpWith("sendonly", "PCMU"), 491},
			{"refresh", "", 200},
		} {
			if got := d.ask("UPDATE", tc.body).StatusCode; got != tc.want {
				t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
			}
		}
		d.respond(ours, 200, "", holdAnswer())
		if err := <-held; err != nil {
			t.Errorf("Hold: %v", err)
		}
		d.hangupFrom(d.c)
	})
	t.Run("peer-offer-unanswered", func(t *testing.T) {
		t.Parallel()
		calls := make(chan *Call, 1)
		u := newUA(t, func(c *Config) { c.OnIncoming = func(c *Call) { calls <- c } })
		p := newPeer(t)
		inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
		p.send(inv, netipAddr(u))
		ringing := p.next("180", isResp(180, "INVITE"))
		c := recvCall(t, calls)
		d := &dlgPeer{peer: p, c: c, ua: ringing.from, from: inv.Get("From"), to: ringing.m.Get("To"),
			callID: inv.CallID(), target: mustURI(t, ringing.m.Get("Contact")), seq: 1}
		resp := d.ask("UPDATE", sdpWith("sendonly", "PCMU"))
		if got, want := resp.StatusCode, 500; got != want {
			t.Errorf("offer: got %d, want %d", got, want)
		}
		if ra, err := strconv.Atoi(resp.Get("Retry-After")); err != nil || ra < 0 || ra > 10 {
			t.Errorf("Retry-After: got %q, want 0 to 10", resp.Get("Retry-After"))
		}
		if got, want := d.ask("UPDATE", "").StatusCode, 200; got != want {
			t.Errorf("refresh in the early dialog: got %d, want %d", got, want)
		}
		if err := c.Reject(context.Background(), 486, ""); err != nil {
			t.Errorf("Reject: %v", err)
		}
		waitDone(t, c)
	})
}

// TestUpdateUnknownDialog: an UPDATE that matches no dialog gets 481
// (RFC 3261 §12.2.2).
func TestUpdateUnknownDialog(t *testing.T) {
	t.Parallel()
	d := peerCalls(t, nil)
	for _, tc := range []struct {
		name string
		edit func(m *sipmsg.Message)
	}{
		{"unknown-call-id", func(m *sipmsg.Message) { m.Set("Call-ID", token()+"@nowhere") }},
		{"wrong-to-tag", func(m *sipmsg.Message) {
			m.Set("To", strings.Replace(m.Get("To"), "tag=", "tag=x", 1))
		}},
		{"no-to-tag", func(m *sipmsg.Message) { m.Set("To", "<"+d.target.String()+">") }},
	} {
		req := d.request("UPDATE", "")
		tc.edit(req)
		d.send(req, d.ua)
		cs := req.Get("CSeq")
		resp := d.next("final response", func(m *sipmsg.Message) bool {
			return !m.IsRequest() && m.StatusCode >= 200 && m.Get("CSeq") == cs
		}).m
		if got, want := resp.StatusCode, 481; got != want {
			t.Errorf("%s: got %d, want %d", tc.name, got, want)
		}
	}
	if got, want := d.c.State(), StateActive; got != want {
		t.Errorf("state: got %v, want %v", got, want)
	}
	d.hangupFrom(d.c)
}

// TestUpdateGlareRetry: a 491 to our UPDATE or re-INVITE is followed by
// the same request with a higher CSeq after the RFC 3261 §14.1 delay (the
// callee, not owning the Call-ID, waits 0 to 2 s), which then succeeds.
func TestUpdateGlareRetry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		method string
		run    func(ctx context.Context, c *Call) error
		answer string
	}{
		{"update", "UPDATE", func(ctx context.Context, c *Call) error { return c.Update(ctx) }, ""},
		{"reinvite", "INVITE", func(ctx context.Context, c *Call) error { return c.Hold(ctx) }, holdAnswer()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := peerCalls(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- tc.run(ctx, d.c) }()
			first := d.next("first "+tc.method, isReq(tc.method))
			d.respond(first, 491, "", "")
			second := d.next("retried "+tc.method, func(m *sipmsg.Message) bool {
				return m.IsRequest() && m.Method == tc.method && m.Get("CSeq") != first.m.Get("CSeq")
			})
			c1, _ := first.m.CSeq()
			c2, _ := second.m.CSeq()
			if c2.Seq <= c1.Seq {
				t.Errorf("retry CSeq: got %d, want above %d", c2.Seq, c1.Seq)
			}
			d.respond(second, 200, "", tc.answer)
			if err := <-done; err != nil {
				t.Errorf("%s: got %v, want success", tc.method, err)
			}
			d.hangupFrom(d.c)
		})
	}
}

// TestGlareDelay: the §14.1 wait is 2.1 to 4 s for the owner of the
// Call-ID, 0 to 2 s for the other side, in 10 ms steps.
func TestGlareDelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		outbound bool
		lo, hi   time.Duration
	}{
		{true, 2100 * time.Millisecond, 4 * time.Second},
		{false, 0, 2 * time.Second},
	} {
		c := &Call{outbound: tc.outbound}
		for range 500 {
			d := c.glareDelay()
			if d < tc.lo || d > tc.hi || d%(10*time.Millisecond) != 0 {
				t.Fatalf("outbound %v: got %v, want %v to %v in 10 ms steps", tc.outbound, d, tc.lo, tc.hi)
			}
		}
	}
}

// TestUpdateNotInCall: Update fails with ErrInvalidState on an ended call.
func TestUpdateNotInCall(t *testing.T) {
	t.Parallel()
	d := peerCalls(t, nil)
	d.hangupFrom(d.c)
	if err := d.c.Update(context.Background()); !errors.Is(err, ErrInvalidState) {
		t.Errorf("got %v, want %v", err, ErrInvalidState)
	}
}

// TestAllowAdvertisesUpdate: OPTIONS and the 2xx to an INVITE list UPDATE
// in Allow (RFC 3311 §6); OPTIONS says Supported: timer when session timers
// are on (RFC 4028 §3).
func TestAllowAdvertisesUpdate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		timer     time.Duration
		wantTimer bool
	}{
		{"timers-on", 1800 * time.Second, true},
		{"timers-off", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := peerCalls(t, func(c *Config) { c.SessionTimer = tc.timer })
			opt := d.request("OPTIONS", "")
			opt.Set("Call-ID", token()+"@peer")
			opt.Set("To", "<"+d.target.String()+">")
			d.send(opt, d.ua)
			resp := d.next("200 to OPTIONS", isResp(200, "OPTIONS")).m
			if !resp.HasToken("Allow", "UPDATE") {
				t.Errorf("OPTIONS Allow: got %q, want UPDATE listed", resp.Get("Allow"))
			}
			if got := resp.HasToken("Supported", "timer"); got != tc.wantTimer {
				t.Errorf("OPTIONS Supported: timer: got %v, want %v", got, tc.wantTimer)
			}
			d.hangupFrom(d.c)
		})
	}
}

// TestOfferDuringGlareWait: while our re-INVITE waits out its §14.1 delay
// after a 491, no offer of ours is pending: the peer's offer (it retries
// first when it does not own the Call-ID) is answered, not refused 491.
func TestOfferDuringGlareWait(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		waiting bool
		want    int
	}{
		{"reinvite-in-flight", false, 491},
		{"waiting-to-retry", true, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := peerCalls(t, nil)
			d.c.mu.Lock()
			d.c.reinviting, d.c.upd.waiting = true, tc.waiting
			d.c.mu.Unlock()
			for _, method := range []string{"UPDATE", "INVITE"} {
				resp := d.ask(method, sdpWith("sendrecv", "PCMU"))
				if got := resp.StatusCode; got != tc.want {
					t.Errorf("%s: got %d, want %d", method, got, tc.want)
				}
				if method == "INVITE" && resp.StatusCode == 200 {
					d.send(d.inviteAck(resp), d.ua)
				}
			}
			d.c.mu.Lock()
			d.c.reinviting, d.c.upd.waiting = false, false
			d.c.mu.Unlock()
			d.hangupFrom(d.c)
		})
	}
}

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

// TestTargetRefresh: a re-INVITE from the peer with a new Contact moves
// the dialog's requests there (RFC 3261 §12.2.1.2, no route set): our BYE
// goes to the new target, not to where the call began.
func TestTargetRefresh(t *testing.T) {
	t.Parallel()
	d := peerCalls(t, nil)
	moved := newPeer(t)
	req := d.request("INVITE", peerSDP(40000, "PCMU"))
	req.Set("Contact", "<"+moved.uri("peer")+">")
	d.send(req, d.ua)
	ok := d.next("200 to the re-INVITE", isResp(200, "INVITE")).m
	d.send(d.inviteAck(ok), d.ua)
	moved.hangupFrom(d.c)
}

// TestTargetRefreshOfOurs: the 2xx to our re-INVITE names a new Contact:
// its ACK and the dialog's later requests go there (RFC 3261 §12.2.1.2).
func TestTargetRefreshOfOurs(t *testing.T) {
	t.Parallel()
	d := callsPeer(t, nil)
	moved := newPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	held := d.holdMovedTo(ctx, d.c, moved, 40000)
	moved.next("ACK at the new target", isReq("ACK"))
	if err := <-held; err != nil {
		t.Fatalf("Hold: %v", err)
	}
	moved.hangupFrom(d.c)
}

// TestTargetRefreshBehindProxy: with an outbound proxy and no route set,
// a target refresh changes the Request-URI of the dialog's requests but
// they keep going through the proxy.
func TestTargetRefreshBehindProxy(t *testing.T) {
	t.Parallel()
	p := newPeer(t) // the proxy, which answers as the callee too
	moved := newPeer(t)
	u := newUA(t, func(c *Config) { c.OutboundProxy = fmt.Sprintf("127.0.0.1:%d", p.port) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := p.dialAnswered(ctx, u)
	held := p.holdMovedTo(ctx, a.c, moved, a.sink.port)
	ack := p.next("ACK through the proxy", isReq("ACK"))
	if got, want := ack.m.RequestURI.String(), moved.uri("peer"); got != want {
		t.Errorf("ACK Request-URI: got %s, want the new target %s", got, want)
	}
	if err := <-held; err != nil {
		t.Fatalf("Hold: %v", err)
	}
	p.hangupFrom(a.c)
}

// holdMovedTo has c hold and answers its re-INVITE 200 (recvonly, RTP to
// rtpPort) with moved's URI as Contact: a target refresh. It returns the
// channel Hold's result comes on.
func (p *peer) holdMovedTo(ctx context.Context, c *Call, moved *peer, rtpPort int) chan error {
	p.t.Helper()
	held := make(chan error, 1)
	go func() { held <- c.Hold(ctx) }()
	reinv := p.next("re-INVITE", isReq("INVITE"))
	ok := sipmsg.NewResponse(reinv.m, 200, "")
	ok.Add("Contact", "<"+moved.uri("peer")+">")
	ok.Add("Content-Type", "application/sdp")
	ok.Body = []byte(strings.Replace(peerSDP(rtpPort, "PCMU"), "a=sendrecv", "a=recvonly", 1))
	p.send(ok, reinv.from)
	return held
}

// TestHoldWhileAnsweringOffer: Hold while the transport's reader answers
// the peer's offer (an UPDATE here) must not use the call's SDP session at
// the same time: Hold once checked only for a re-INVITE of its own, so it
// set the direction and built its offer while answerOffer built the answer
// from the same sdp.Session (not safe for concurrent use), a data race. An
// INVITE transaction in progress either way holds a re-INVITE off (RFC
// 3261 §14.1): Hold fails with ErrInvalidState and the answer is sent.
// Likewise while our offer for a re-INVITE without one is built, and
// while the answer in the ACK to our offer in the 2xx is taken.
func TestHoldWhileAnsweringOffer(t *testing.T) {
	t.Parallel()
	// An UPDATE with an offer, and a re-INVITE without one: we offer.
	for _, method := range []string{"UPDATE", "INVITE", "ACK"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			holdWhileAnswering(t, method)
		})
	}
}

func holdWhileAnswering(t *testing.T, method string) {
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls) })
	answering, release := make(chan struct{}), make(chan struct{})
	u.testAnswering = func(*Call) {
		close(answering)
		<-release
	}
	freeAnswer := sync.OnceFunc(func() { close(release) })
	t.Cleanup(freeAnswer) // before Disconnect, should the test fail half way
	p := newPeer(t)
	inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
	answer := ""
	if method == "ACK" { // a late offer: ours in the 2xx, the answer in the ACK
		inv, answer = p.invite(uaURI(u), ""), peerSDP(40000, "PCMU")
	}
	p.send(inv, netipAddr(u))
	ok := p.next("200", isResp(200, "INVITE"))
	c := recvCall(t, calls)
	waitState(t, c, StateActive)
	p.send(p.ack(inv, ok.m, answer), ok.from)
	d := &dlgPeer{peer: p, c: c, ua: ok.from, from: inv.Get("From"), to: ok.m.Get("To"),
		callID: inv.CallID(), target: mustURI(t, ok.m.Get("Contact")), seq: 1}
	offer := sdpWith("sendrecv", "PCMU")
	if method == "INVITE" {
		offer = ""
	}
	if method != "ACK" {
		d.send(d.request(method, offer), d.ua)
	}
	select {
	case <-answering:
	case <-time.After(10 * time.Second):
		t.Fatalf("the %s was not answered", method)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	held := make(chan error, 1)
	go func() { held <- c.Hold(ctx) }()
	// The re-INVITE Hold sends, if it does, is watched for without a
	// timer firing: the race detector takes a timer run on the same P as
	// one of Hold's for an order between Hold and the answer.
	invited, stop := make(chan peerMsg, 1), make(chan struct{})
	go func() {
		for {
			select {
			case pm := <-p.in:
				if pm.m.IsRequest() && pm.m.Method == "INVITE" {
					invited <- pm
					return
				}
			case <-stop:
				return
			}
		}
	}()
	var err error
	var reinv peerMsg
	select {
	case err = <-held:
	case reinv = <-invited:
		// Hold went on with a re-INVITE, having used the session.
		// Nothing orders that before the answer's use of it, now.
	case <-time.After(10 * time.Second):
		t.Fatal("Hold neither returned nor sent a re-INVITE")
	}
	close(stop)
	freeAnswer()
	if reinv.m != nil {
		d.respond(reinv, 200, "", holdAnswer())
		err = <-held
	}
	if !errors.Is(err, ErrInvalidState) {
		t.Errorf("Hold while the peer's offer is answered: got %v, want ErrInvalidState", err)
	}
	if method == "ACK" {
		d.hangupFrom(c)
		return
	}
	resp := d.next("final response to the "+method, func(m *sipmsg.Message) bool {
		return !m.IsRequest() && m.StatusCode >= 200 && m.Get("CSeq") == "2 "+method
	}).m
	if resp.StatusCode != 200 {
		t.Errorf("%s: got %d, want 200", method, resp.StatusCode)
	}
	if method == "INVITE" {
		d.send(d.inviteAck(resp), d.ua)
	}
	d.hangupFrom(c)
}

// TestReinviteWhileTakingAnswer: a re-INVITE with an offer that comes
// while Dial's goroutine takes the 2xx of our INVITE (its dialog is made,
// its SDP answer not yet applied: a peer that re-INVITEs as soon as it
// has our ACK) once went on to answerOffer on the transport's reader,
// which used the call's sdp.Session while Dial's goroutine applied the
// answer to it: a data race. Our INVITE's offer is outstanding until the
// answer is taken, so the re-INVITE gets 491 (RFC 3261 §14.2).
func TestReinviteWhileTakingAnswer(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	acking, goAck := make(chan struct{}), make(chan struct{})
	var once bool
	u.testAcking = func(*Call) {
		if !once { // the ACK of the INVITE's 2xx only; Dial's goroutine
			once = true
			close(acking)
			<-goAck
		}
	}
	answering, release := make(chan struct{}), make(chan struct{})
	u.testAnswering = func(*Call) {
		close(answering)
		<-release
	}
	var freeAck, freeAnswer sync.Once
	t.Cleanup(func() { // before Disconnect, should the test fail half way
		freeAck.Do(func() { close(goAck) })
		freeAnswer.Do(func() { close(release) })
	})
	// Dial's goroutine says it took the answer by a datagram from one
	// socket to another: nothing the race detector sees as an order,
	// unlike a channel (or one socket, whose fd lock is an atomic).
	var sig [2]*net.UDPConn
	for i := range sig {
		var err error
		if sig[i], err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sig[i].Close() })
	}
	taken := make(chan struct{}, 1)
	go func() {
		var b [1]byte
		if _, _, err := sig[1].ReadFromUDPAddrPort(b[:]); err == nil {
			taken <- struct{}{}
		}
	}()
	u.testAcked = func(*Call, context.Context) {
		sig[0].WriteToUDPAddrPort([]byte{1}, sig[1].LocalAddr().(*net.UDPAddr).AddrPort()) //nolint:errcheck // the test fails without it
	}
	sink := newRTPSink(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	ok := p.respond(inv, 200, token(), peerSDP(sink.port, "PCMU"))
	select {
	case <-acking:
	case <-time.After(10 * time.Second):
		t.Fatal("the 2xx was not taken")
	}
	d := &dlgPeer{peer: p, ua: inv.from, from: ok.Get("To"), to: inv.m.Get("From"),
		callID: inv.m.CallID(), target: mustURI(t, inv.m.Get("Contact")), seq: 100}
	reinv := d.request("INVITE", sdpWith("sendrecv", "PCMU"))
	d.send(reinv, d.ua)
	// Its answer is watched for without a timer firing (see
	// TestHoldWhileAnsweringOffer).
	answered, stop := make(chan *sipmsg.Message, 1), make(chan struct{})
	go func() {
		for {
			select {
			case pm := <-p.in:
				if !pm.m.IsRequest() && pm.m.StatusCode >= 200 && pm.m.Get("CSeq") == "101 INVITE" {
					answered <- pm.m
					return
				}
			case <-stop:
				return
			}
		}
	}()
	var resp *sipmsg.Message
	select {
	case resp = <-answered:
		freeAck.Do(func() { close(goAck) })
	case <-answering:
		// Dial's goroutine takes the answer while answerOffer waits.
		// Nothing orders that before the answer answerOffer builds now.
		freeAck.Do(func() { close(goAck) })
		select {
		case <-taken:
		case <-time.After(10 * time.Second):
			t.Fatal("Dial's goroutine did not take the 2xx's answer")
		}
		freeAnswer.Do(func() { close(release) })
		select {
		case resp = <-answered:
		case <-time.After(10 * time.Second):
			t.Fatal("the re-INVITE was not answered")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the re-INVITE was neither answered nor taken")
	}
	close(stop)
	if resp.StatusCode != 491 {
		t.Errorf("re-INVITE while the 2xx is taken: got %d, want 491", resp.StatusCode)
	}
	if resp.StatusCode == 200 {
		d.send(d.inviteAck(resp), d.ua)
	}
	r := recvDial(t, res)
	if r.err != nil {
		t.Fatalf("Dial: %v", r.err)
	}
	d.hangupFrom(r.c)
}

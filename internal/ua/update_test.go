package ua

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
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

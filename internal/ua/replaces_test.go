package ua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// TestAttendedTransfer: A talks with B and consults C, then transfers B
// to C (RFC 5589 §7). B's INVITE to C carries Replaces naming the A-C
// dialog as C sees it, and Require: replaces; C answers it without
// OnIncoming, hands it to the consultation's OnReplaced and ends the
// consultation (EndReplaced at C). A's AttendedTransfer returns nil and
// both of A's calls end as transferred; B and C are in a call.
func TestAttendedTransfer(t *testing.T) {
	s := newTransferSetup(t, nil, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	consult, err := s.a.Dial(ctx, uaURI(s.c), DialOptions{})
	if err != nil {
		t.Fatalf("consultation Dial: %v", err)
	}
	cc := recvCall(t, s.calls)
	waitState(t, cc, StateActive)
	replaced := make(chan *Call, 1)
	cc.OnReplaced(func(n *Call) { replaced <- n })
	cLocal, cRemote := cc.Tags()

	if err := s.ca.AttendedTransfer(ctx, consult); err != nil {
		t.Fatalf("AttendedTransfer: %v", err)
	}
	var pair [2]*Call
	select {
	case pair = <-s.transferred:
	case <-time.After(10 * time.Second):
		t.Fatal("B's OnTransfer was not called")
	}
	bc := pair[1]
	var nc *Call
	select {
	case nc = <-replaced:
	case <-time.After(10 * time.Second):
		t.Fatal("C's OnReplaced was not called")
	}
	for name, c := range map[string]*Call{"A-B": s.ca, "A-C": consult, "B-A": s.cb} {
		waitDone(t, c)
		if got, want := c.Reason(), EndTransferred; got != want {
			t.Errorf("%s reason: got %v, want %v", name, got, want)
		}
	}
	waitDone(t, cc)
	if got, want := cc.Reason(), EndReplaced; got != want {
		t.Errorf("C's consultation reason: got %v, want %v", got, want)
	}
	waitState(t, bc, StateActive)
	waitState(t, nc, StateActive)
	if bc.CallID() != nc.CallID() {
		t.Errorf("B's new call %q and C's replacing call %q differ", bc.CallID(), nc.CallID())
	}
	want := consult.CallID() + ";to-tag=" + cLocal + ";from-tag=" + cRemote
	if got := nc.Header("Replaces"); len(got) != 1 || got[0] != want {
		t.Errorf("Replaces at C: got %q, want %q", got, want)
	}
	if got := strings.Join(nc.Header("Require"), ","); !strings.Contains(got, "replaces") {
		t.Errorf("Require at C: got %q, want replaces", got)
	}
	if rb := nc.Header("Referred-By"); len(rb) != 1 || !strings.Contains(rb[0], "sip:alice@") {
		t.Errorf("Referred-By at C: got %q, want A's URI", rb)
	}
	select {
	case c := <-s.calls:
		t.Errorf("C's OnIncoming got the replacing call %s", c.CallID())
	default:
	}
	if calls := s.c.Calls(); len(calls) != 1 || calls[0] != nc {
		t.Errorf("C's calls: got %d, want only the new one", len(calls))
	}
	flushEvents(s.ca)
	if evs := s.progress.all(); len(evs) == 0 || evs[len(evs)-1].Code != 200 || evs[0].Target != uaURI(s.c) {
		t.Errorf("A's transfer events: got %+v, want the target's URI and a final 200", evs)
	}
	if err := bc.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
	waitDone(t, nc)
}

// TestAttendedTransferRefused: the calls must be two answered calls of
// the UA; a transferee that refuses the REFER fails the transfer and both
// calls stay up.
func TestAttendedTransferRefused(t *testing.T) {
	s := newTransferSetup(t, func(c *Config) { c.RefuseTransfer = true }, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.ca.AttendedTransfer(ctx, s.ca); !errors.Is(err, ErrInvalidState) {
		t.Errorf("AttendedTransfer to itself: got %v, want ErrInvalidState", err)
	}
	if err := s.ca.AttendedTransfer(ctx, s.cb); !errors.Is(err, ErrInvalidState) {
		t.Errorf("AttendedTransfer with another UA's call: got %v, want ErrInvalidState", err)
	}
	consult, err := s.a.Dial(ctx, uaURI(s.c), DialOptions{})
	if err != nil {
		t.Fatalf("consultation Dial: %v", err)
	}
	cc := recvCall(t, s.calls)
	err = s.ca.AttendedTransfer(ctx, consult)
	var se *StatusError
	if !errors.Is(err, ErrTransferFailed) || !errors.As(err, &se) || se.Code != 603 {
		t.Fatalf("AttendedTransfer refused: got %v, want ErrTransferFailed with 603", err)
	}
	for name, c := range map[string]*Call{"A-B": s.ca, "A-C": consult, "C-A": cc} {
		if got := c.State(); got != StateActive {
			t.Errorf("%s state: got %v, want %v", name, got, StateActive)
		}
	}
	if err := consult.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
	waitDone(t, cc)
	if got, want := cc.Reason(), EndRemoteHangup; got != want {
		t.Errorf("C's consultation after a failed transfer: got %v, want %v", got, want)
	}
	if err := s.ca.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
	waitDone(t, s.cb)
}

// TestReplacesRefused: INVITEs with Replaces from a scripted peer that
// name no usable call (RFC 3891 §3): unknown Call-ID or tags the wrong way
// round 481, early-only for a confirmed call 486, a malformed or a second
// header 400. The call named stays up and OnIncoming sees none of them.
func TestReplacesRefused(t *testing.T) {
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls) })
	p := newPeer(t)
	c, inv, ok := p.callIn(u, calls)
	local, remote := c.Tags()
	id := inv.CallID()
	for _, tc := range []struct {
		name     string
		replaces []string
		code     int
	}{
		{"unknown-call", []string{replacesValue("nobody@peer", local, remote)}, 481},
		{"tags-reversed", []string{replacesValue(id, remote, local)}, 481},
		{"early-only", []string{replacesValue(id, local, remote) + ";early-only"}, 486},
		{"malformed", []string{id + ";to-tag=" + local}, 400},
		{"two", []string{replacesValue(id, local, remote), replacesValue(id, local, remote)}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := p.invite(uaURI(u), peerSDP(40002, "PCMU"))
			for _, r := range tc.replaces {
				req.Add("Replaces", r)
			}
			p.send(req, ok.from)
			resp := p.next("INVITE answer", func(m *sipmsg.Message) bool {
				return !m.IsRequest() && m.StatusCode >= 200 && m.CallID() == req.CallID()
			}).m
			if resp.StatusCode != tc.code {
				t.Errorf("answer: got %d, want %d", resp.StatusCode, tc.code)
			}
			p.send(p.ack(req, withContact(resp, p), ""), ok.from)
		})
	}
	select {
	case n := <-calls:
		t.Errorf("OnIncoming got %s", n.CallID())
	default:
	}
	if got := c.State(); got != StateActive {
		t.Errorf("call state: got %v, want %v", got, StateActive)
	}
	p.hangupFrom(c)
}

// withContact returns resp with a Contact for building its ACK (error
// responses have none; the ACK of a non-2xx goes hop by hop anyway).
func withContact(resp *sipmsg.Message, p *peer) *sipmsg.Message {
	if _, err := resp.Contact(); err == nil {
		return resp
	}
	r := resp.Clone()
	r.Add("Contact", fmt.Sprintf("<sip:xphone@127.0.0.1:%d>", p.port))
	return r
}

// TestReferHeaders: what a Refer-To URI's headers put in the INVITE.
func TestReferHeaders(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // name=value pairs; "bad" for refused
	}{
		{"", ""},
		{"Replaces=a%40b%3Bto-tag%3D1%3Bfrom-tag%3D2", "Replaces=a@b;to-tag=1;from-tag=2"},
		{"Replaces=a%3Bto-tag%3D1%3Bfrom-tag%3D2&Require=replaces", "Replaces=a;to-tag=1;from-tag=2 Require=replaces"},
		{"replaces=a%3Bfrom-tag%3D2%3Bto-tag%3D1%3Bearly-only", "Replaces=a;from-tag=2;to-tag=1;early-only"},
		{"Route=%3Csip%3Aevil%3E&Subject=hi", ""},
		{"Replaces=a%3Bto-tag%3D1", "bad"},
		{"Replaces=a%3Bto-tag%3D1%3Bfrom-tag%3D2&Replaces=b%3Bto-tag%3D1%3Bfrom-tag%3D2", "bad"},
		{"Replaces=a%3Bto-tag%3D1%3Bfrom-tag%3D2%ZZ", "bad"},
		{"Require=a%0D%0AVia%3A%20x", ""},
		{"Replaces=a%3Bto-tag%3D1%0A%3Bfrom-tag%3D2", "bad"}, // found by FuzzReferHeaders
		{"Replaces=a;to-tag\n;from-tag", "bad"},
	} {
		hs, ok := referHeaders(tc.in)
		var got []string
		for _, h := range hs {
			got = append(got, h[0]+"="+h[1])
		}
		g := strings.Join(got, " ")
		if !ok {
			g = "bad"
		}
		if g != tc.want {
			t.Errorf("referHeaders(%q): got %q, want %q", tc.in, g, tc.want)
		}
	}
	v := replacesValue("x@y.z", "t 1", "f;2")
	if got, want := escapeHeader(v), "x%40y.z%3Bto-tag%3Dt%201%3Bfrom-tag%3Df%3B2"; got != want {
		t.Errorf("escapeHeader: got %q, want %q", got, want)
	}
	if back, ok := unescapeHeader(escapeHeader(v)); !ok || back != v {
		t.Errorf("round trip: got %q %v, want %q", back, ok, v)
	}
}

// TestRequireUnsupported: a request requiring an extension we do not have
// is refused with 420 naming it in Unsupported (RFC 3261 §8.2.2.3); the
// ones we have (replaces, timer, 100rel) pass.
func TestRequireUnsupported(t *testing.T) {
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls) })
	p := newPeer(t)
	for _, tc := range []struct {
		require     []string
		code        int
		unsupported string
	}{
		{[]string{"foo"}, 420, "foo"},
		{[]string{"replaces, foo", "Bar"}, 420, "foo, Bar"},
		{[]string{"replaces", "timer, 100rel"}, 200, ""},
	} {
		req := p.invite(uaURI(u), "")
		req.Method = "OPTIONS"
		req.Set("CSeq", "1 OPTIONS")
		for _, r := range tc.require {
			req.Add("Require", r)
		}
		p.send(req, netipAddr(u))
		resp := p.next("OPTIONS answer", isRespTo(req)).m
		if resp.StatusCode != tc.code || resp.Get("Unsupported") != tc.unsupported {
			t.Errorf("Require %q: got %d Unsupported %q, want %d %q", tc.require, resp.StatusCode, resp.Get("Unsupported"), tc.code, tc.unsupported)
		}
	}
	inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
	inv.Add("Require", "foo")
	p.send(inv, netipAddr(u))
	if resp := p.next("INVITE answer", isRespTo(inv)).m; resp.StatusCode != 420 {
		t.Errorf("INVITE with Require: foo: got %d, want 420", resp.StatusCode)
	}
	select {
	case c := <-calls:
		t.Errorf("OnIncoming got %s", c.CallID())
	default:
	}
}

// isRespTo matches a final response to req.
func isRespTo(req *sipmsg.Message) func(*sipmsg.Message) bool {
	return func(m *sipmsg.Message) bool {
		return !m.IsRequest() && m.StatusCode >= 200 && m.CallID() == req.CallID()
	}
}

// FuzzReferHeaders: the headers of a Refer-To URI (network input) never
// panic, and what is taken is only Replaces (valid, at most one) and
// Require, without line breaks.
func FuzzReferHeaders(f *testing.F) {
	for _, s := range []string{
		"Replaces=a%40b%3Bto-tag%3D1%3Bfrom-tag%3D2",
		"Replaces=a%3Bto-tag%3D1%3Bfrom-tag%3D2&Require=replaces",
		"Route=%3Csip%3Aevil%3E&Subject=hi",
		"Replaces=a%3Bto-tag%3D1%3Bfrom-tag%3D2%ZZ",
		"Require=a%0D%0AVia%3A%20x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, hs string) {
		out, ok := referHeaders(hs)
		if !ok {
			return
		}
		replaces := 0
		for _, h := range out {
			switch h[0] {
			case "Replaces":
				replaces++
				m := &sipmsg.Message{}
				m.Add("Replaces", h[1])
				if _, err := m.Replaces(); err != nil {
					t.Fatalf("taken Replaces %q does not parse: %v", h[1], err)
				}
			case "Require":
			default:
				t.Fatalf("took header %q", h[0])
			}
			if strings.ContainsAny(h[1], "\r\n") {
				t.Fatalf("header %s with a line break: %q", h[0], h[1])
			}
		}
		if replaces > 1 {
			t.Fatalf("%d Replaces taken", replaces)
		}
	})
}

// TestCallPickup: while our INVITE rings at one peer, another sends an
// INVITE with Replaces naming that early dialog (call pickup, RFC 3891
// §3). Names that do not fit (the tags the wrong way round, a dialog of
// no 18x) get 481; the fitting one is answered at once without ringing,
// our INVITE is cancelled, the old call ends EndReplaced and Dial returns
// the new call, answered.
func TestCallPickup(t *testing.T) {
	t.Parallel()
	olds := make(chan *Call, 1)
	u := newUA(t, func(c *Config) {
		c.NewCall = func(c *Call) {
			if c.outbound {
				olds <- c
			}
		}
	})
	callee, picker := newPeer(t), newPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, callee.uri("bob"), DialOptions{})
	inv := callee.next("INVITE", isReq("INVITE"))
	old := <-olds
	from, _ := inv.m.From()
	ours, theirs := from.Tag(), token()
	callee.respond(inv, 180, theirs, "")
	waitState(t, old, StateRemoteRinging)

	pickup := func(replaces string) *sipmsg.Message {
		req := picker.invite(uaURI(u), peerSDP(40004, "PCMU"))
		req.Add("Replaces", replaces)
		req.Add("Require", "replaces")
		picker.send(req, netipAddr(u))
		return picker.next("answer to the pickup", func(m *sipmsg.Message) bool {
			return !m.IsRequest() && m.StatusCode >= 180 && m.CallID() == req.CallID()
		}).m
	}
	id := inv.m.CallID()
	for _, bad := range []string{replacesValue(id, theirs, ours), replacesValue(id, ours, token())} {
		if r := pickup(bad); r.StatusCode != 481 {
			t.Errorf("Replaces %s: got %d, want 481", bad, r.StatusCode)
		}
	}
	// Two pickups at once: the first wins, the other gets 481.
	var reqs [2]*sipmsg.Message
	for i := range reqs {
		reqs[i] = picker.invite(uaURI(u), peerSDP(40004, "PCMU"))
		reqs[i].Add("Replaces", replacesValue(id, ours, theirs))
		reqs[i].Add("Require", "replaces")
	}
	for _, r := range reqs {
		picker.send(r, netipAddr(u))
	}
	var req *sipmsg.Message
	codes := map[string]int{}
	for len(codes) < 2 {
		a := picker.next("answers to the pickups", func(m *sipmsg.Message) bool {
			return !m.IsRequest() && m.StatusCode >= 180 && (m.CallID() == reqs[0].CallID() || m.CallID() == reqs[1].CallID())
		})
		codes[a.m.CallID()] = a.m.StatusCode
		for _, r := range reqs {
			if r.CallID() != a.m.CallID() {
				continue
			}
			if a.m.StatusCode == 200 {
				req = r
			}
			picker.send(picker.ack(r, withContact(a.m, picker), ""), a.from)
		}
	}
	if c0, c1 := codes[reqs[0].CallID()], codes[reqs[1].CallID()]; req == nil || c0+c1 != 200+481 {
		t.Fatalf("two pickups: got %d and %d, want 200 (no ringing) and 481", c0, c1)
	}

	// Our INVITE to the callee is cancelled.
	can := callee.next("CANCEL", isReq("CANCEL"))
	callee.respond(can, 200, theirs, "")
	callee.respond(inv, 487, theirs, "")
	callee.next("ACK of the 487", isReq("ACK"))

	r := recvDial(t, res)
	if r.err != nil || r.c == nil {
		t.Fatalf("Dial: got %v, %v, want the picking phone's call", r.c, r.err)
	}
	if r.c.CallID() != req.CallID() {
		t.Errorf("Dial's call: Call-ID %q, want the pickup's %q", r.c.CallID(), req.CallID())
	}
	waitState(t, r.c, StateActive)
	waitDone(t, old)
	if got := old.Reason(); got != EndReplaced {
		t.Errorf("old call: ended %v, want %v", got, EndReplaced)
	}
	picker.hangupFrom(r.c)
}

// TestRefuseReplaces: with RefuseReplaces the UA does not support RFC
// 3891: OPTIONS and INVITEs leave replaces out of Supported, an INVITE
// requiring it gets 420 with Unsupported: replaces, and one that only
// carries Replaces naming a call rings as a new call, the named call
// untouched.
func TestRefuseReplaces(t *testing.T) {
	t.Parallel()
	calls := make(chan *Call, 2)
	u := newUA(t, func(c *Config) {
		c.RefuseReplaces = true
		c.OnIncoming = func(c *Call) { calls <- c }
	})
	p := newPeer(t)
	supported := func(u *UA) bool {
		opt := p.invite(uaURI(u), "")
		opt.Method = "OPTIONS"
		opt.Set("CSeq", "1 OPTIONS")
		p.send(opt, netipAddr(u))
		return p.next("200 to OPTIONS", isResp(200, "OPTIONS")).m.HasToken("Supported", "replaces")
	}
	if supported(u) || !supported(newUA(t, nil)) {
		t.Error("OPTIONS: replaces in Supported with RefuseReplaces, or not without")
	}
	inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
	p.send(inv, netipAddr(u))
	p.next("180", isResp(180, "INVITE"))
	c := recvCall(t, calls)
	go c.Accept(context.Background()) //nolint:errcheck // the 200 is checked
	ok := p.next("200", isResp(200, "INVITE"))
	p.send(p.ack(inv, ok.m, ""), ok.from)
	waitState(t, c, StateActive)
	local, remote := c.Tags()
	replaces := replacesValue(inv.CallID(), local, remote)

	req := p.invite(uaURI(u), peerSDP(40002, "PCMU"))
	req.Add("Replaces", replaces)
	req.Add("Require", "replaces")
	p.send(req, ok.from)
	r := p.next("answer to Require: replaces", func(m *sipmsg.Message) bool {
		return !m.IsRequest() && m.StatusCode >= 200 && m.CallID() == req.CallID()
	}).m
	if r.StatusCode != 420 || r.Get("Unsupported") != "replaces" {
		t.Errorf("Require: replaces: got %d Unsupported %q, want 420 replaces", r.StatusCode, r.Get("Unsupported"))
	}
	p.send(p.ack(req, withContact(r, p), ""), ok.from)

	req = p.invite(uaURI(u), peerSDP(40002, "PCMU"))
	req.Add("Replaces", replaces)
	p.send(req, ok.from)
	p.next("180 to a plain INVITE with Replaces", func(m *sipmsg.Message) bool {
		return !m.IsRequest() && m.StatusCode == 180 && m.CallID() == req.CallID()
	})
	n := recvCall(t, calls)
	if n.CallID() != req.CallID() || c.State() != StateActive {
		t.Errorf("new call %q, old call %v: want a new ringing call, the old one active", n.CallID(), c.State())
	}
	if err := n.Reject(context.Background(), 486, ""); err != nil {
		t.Errorf("Reject: %v", err)
	}
	p.hangupFrom(c)
}

package ua

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// upTo returns the next message match accepts and the ones skipped before
// it, in arrival order, or fails the test after 10 s.
func (p *peer) upTo(what string, match func(*sipmsg.Message) bool) (peerMsg, []*sipmsg.Message) {
	p.t.Helper()
	var skipped []*sipmsg.Message
	got := p.next(what, func(m *sipmsg.Message) bool {
		if match(m) {
			return true
		}
		skipped = append(skipped, m)
		return false
	})
	return got, skipped
}

// prack builds the peer's PRACK for the reliable provisional resp to inv
// (RFC 3262 §7.2), with CSeq number seq and the RAck value rack.
func (p *peer) prack(inv, resp *sipmsg.Message, seq int, rack string) *sipmsg.Message {
	c, err := resp.Contact()
	if err != nil {
		p.t.Fatalf("provisional without Contact: %v", err)
	}
	m := sipmsg.NewRequest("PRACK", c.URI)
	m.Add("Via", fmt.Sprintf("SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s", p.port, token()))
	m.Add("From", inv.Get("From"))
	m.Add("To", resp.Get("To"))
	m.Add("Call-ID", inv.CallID())
	m.Add("CSeq", fmt.Sprintf("%d PRACK", seq))
	m.Add("Max-Forwards", "70")
	m.Add("RAck", rack)
	return m
}

// ackFinal builds the ACK for a non-2xx final response to inv: part of
// the INVITE transaction, so with its Via (RFC 3261 §17.1.1.3).
func (p *peer) ackFinal(inv, resp *sipmsg.Message) *sipmsg.Message {
	m := sipmsg.NewRequest("ACK", inv.RequestURI)
	m.Add("Via", inv.Get("Via"))
	m.Add("From", inv.Get("From"))
	m.Add("To", resp.Get("To"))
	m.Add("Call-ID", inv.CallID())
	cs, _ := inv.CSeq()
	m.Add("CSeq", fmt.Sprintf("%d ACK", cs.Seq))
	m.Add("Max-Forwards", "70")
	return m
}

func rseqOf(t *testing.T, m *sipmsg.Message) uint32 {
	t.Helper()
	if !m.HasToken("Require", "100rel") {
		t.Fatalf("%d without Require: 100rel", m.StatusCode)
	}
	n, err := m.RSeq()
	if err != nil {
		t.Fatalf("%d RSeq: %v", m.StatusCode, err)
	}
	return n
}

func isRespCSeq(code int, method string, seq uint32) func(*sipmsg.Message) bool {
	return func(m *sipmsg.Message) bool {
		cs, _ := m.CSeq()
		return !m.IsRequest() && m.StatusCode == code && cs.Method == method && cs.Seq == seq
	}
}

// TestPrackEarlyMedia: between two UAs, the callee's 180 and 183 are sent
// reliably and PRACKed; the caller hears the callee's tone before the
// answer; the 2xx follows the 183's PRACK; the caller's BYE continues the
// CSeq numbers its PRACKs used, so the callee takes it.
func TestPrackEarlyMedia(t *testing.T) {
	t.Parallel()
	calls := make(chan *Call, 1)
	log := &stateLog{ch: make(chan State, 16)}
	a, b := pair(t, func(c *Call) {
		if err := c.Progress(context.Background()); err != nil {
			t.Errorf("Progress: %v", err)
		}
		calls <- c
	}, func(c *Config) { c.NewCall = log.hook })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca, err := a.Dial(ctx, uaURI(b), DialOptions{EarlyMedia: true})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	cb := recvCall(t, calls)
	if got, want := ca.State(), StateEarlyMedia; got != want {
		t.Errorf("caller state: got %v, want %v", got, want)
	}
	go sendTone(cb, 1000)
	if err := hearTone(t, ca, 10, 25, 1000); err != nil {
		t.Errorf("caller heard before the answer: %v", err)
	}
	if err := cb.Accept(ctx); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	log.wait(t, StateActive)
	cb.mu.Lock()
	rel := cb.uas.rel
	var pending bool
	var remoteSeq uint32
	if rel != nil {
		pending = rel.cur != nil || len(rel.queue) > 0
		remoteSeq = cb.dlg.RemoteSeq
	}
	cb.mu.Unlock()
	if rel == nil {
		t.Fatal("callee sent its provisional responses unreliably")
	}
	if pending {
		t.Error("a reliable provisional response is still unacknowledged after Accept")
	}
	if got, want := remoteSeq, uint32(3); got != want {
		t.Errorf("CSeq of the caller's last PRACK: got %d, want %d", got, want)
	}
	if err := ca.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
	waitDone(t, cb)
	if got, want := cb.Reason(), EndRemoteHangup; got != want {
		t.Errorf("callee reason: got %v, want %v", got, want)
	}
}

// TestPrackUAC: our INVITE offers 100rel; a reliable 180 is PRACKed in its
// early dialog (Request-URI from its Contact, Route from its
// Record-Route, RAck = RSeq, CSeq, method); its retransmission and an
// out-of-order RSeq get no PRACK; the in-order 183 with SDP is PRACKed and
// starts early media; the BYE's CSeq follows the PRACKs'.
func TestPrackUAC(t *testing.T) {
	t.Parallel()
	a := newUA(t, nil)
	p := newPeer(t)
	sink := newRTPSink(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch := dialAsync(ctx, a, p.uri("callee"), DialOptions{EarlyMedia: true})
	inv := p.next("INVITE", isReq("INVITE"))
	if !inv.m.HasToken("Supported", "100rel") {
		t.Errorf("INVITE Supported: got %q, want 100rel", inv.m.Values("Supported"))
	}
	if !inv.m.HasToken("Allow", "PRACK") {
		t.Errorf("INVITE Allow: got %q, want PRACK in it", inv.m.Values("Allow"))
	}
	tag := token()
	rr := fmt.Sprintf("<sip:127.0.0.1:%d;lr>", p.port)
	ring := p.respond(inv, 180, tag, "", "Record-Route", rr, "Require", "100rel", "RSeq", "7")
	pr := p.next("PRACK", isReq("PRACK"))
	checks := []struct{ name, got, want string }{
		{"Request-URI", pr.m.RequestURI.String(), fmt.Sprintf("sip:peer@127.0.0.1:%d", p.port)},
		{"Route", pr.m.Get("Route"), rr},
		{"RAck", pr.m.Get("RAck"), "7 1 INVITE"},
		{"CSeq", pr.m.Get("CSeq"), "2 PRACK"},
		{"To", pr.m.Get("To"), ring.Get("To")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("PRACK %s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	p.respond(pr, 200, "", "")
	// A retransmission (RSeq 7 again) and a skipped RSeq (9) must not be
	// PRACKed; the in-order 183 (RSeq 8) must.
	p.respond(inv, 180, tag, "", "Record-Route", rr, "Require", "100rel", "RSeq", "7")
	p.respond(inv, 183, tag, "", "Record-Route", rr, "Require", "100rel", "RSeq", "9")
	p.respond(inv, 183, tag, peerSDP(sink.port, "PCMU"), "Record-Route", rr, "Require", "100rel", "RSeq", "8")
	pr = p.next("second PRACK", isReq("PRACK"))
	if got, want := pr.m.Get("RAck"), "8 1 INVITE"; got != want {
		t.Errorf("second PRACK RAck: got %q, want %q", got, want)
	}
	if got, want := pr.m.Get("CSeq"), "3 PRACK"; got != want {
		t.Errorf("second PRACK CSeq: got %q, want %q", got, want)
	}
	p.respond(pr, 200, "", "")
	r := recvDial(t, ch)
	if r.err != nil {
		t.Fatalf("Dial: %v", r.err)
	}
	c := r.c
	if got, want := c.State(), StateEarlyMedia; got != want {
		t.Errorf("state: got %v, want %v", got, want)
	}
	go sendTone(c, 440)
	sink.wait(t)
	p.respond(inv, 200, tag, peerSDP(sink.port, "PCMU"), "Record-Route", rr)
	p.next("ACK", isReq("ACK"))
	waitState(t, c, StateActive)
	done := make(chan error, 1)
	go func() { done <- c.End(context.Background()) }()
	bye, skipped := p.upTo("BYE", isReq("BYE"))
	for _, m := range skipped {
		if m.IsRequest() && m.Method == "PRACK" {
			t.Errorf("PRACK for a retransmitted or out-of-order provisional: RAck %q", m.Get("RAck"))
		}
	}
	if got, want := bye.m.Get("CSeq"), "4 BYE"; got != want {
		t.Errorf("BYE CSeq: got %q, want %q", got, want)
	}
	p.respond(bye, 200, "", "")
	if err := <-done; err != nil {
		t.Errorf("End: %v", err)
	}
}

// TestPrackUAS: to an INVITE that supports 100rel, the 180 is reliable
// (Require, RSeq in 1..2^31-1) and retransmitted; a PRACK with a wrong RAck
// gets 481; the 183 of Progress waits for the 180's PRACK; after a PRACK
// the response is no longer retransmitted; Accept's 2xx waits for the
// 183's PRACK.
func TestPrackUAS(t *testing.T) {
	t.Parallel()
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) {
		c.T1 = 25 * time.Millisecond
		c.OnIncoming = func(c *Call) { calls <- c }
	})
	p := newPeer(t)
	sink := newRTPSink(t)
	inv := p.invite(uaURI(u), peerSDP(sink.port, "PCMU"))
	inv.Add("Supported", "100rel")
	p.send(inv, netipAddr(u))
	ring := p.next("180", isResp(180, "INVITE"))
	rseq := rseqOf(t, ring.m)
	if rseq < 1 || rseq > 1<<31-1 {
		t.Errorf("first RSeq: got %d, want 1..2^31-1", rseq)
	}
	again := p.next("180 retransmission", isResp(180, "INVITE"))
	if got := rseqOf(t, again.m); got != rseq {
		t.Errorf("retransmitted RSeq: got %d, want %d", got, rseq)
	}
	c := recvCall(t, calls)
	if err := c.Progress(context.Background()); err != nil {
		t.Fatalf("Progress: %v", err)
	}

	bad := []string{
		fmt.Sprintf("%d 1 INVITE", rseq+5),
		fmt.Sprintf("%d 2 INVITE", rseq),
		fmt.Sprintf("%d 1 BYE", rseq),
		"x 1 INVITE",
	}
	for i, rack := range bad {
		seq := uint32(2 + i)
		p.send(p.prack(inv, ring.m, int(seq), rack), ring.from)
		got, skipped := p.upTo("answer to PRACK", func(m *sipmsg.Message) bool {
			cs, _ := m.CSeq()
			return !m.IsRequest() && cs.Method == "PRACK" && cs.Seq == seq
		})
		if got.m.StatusCode != 481 {
			t.Errorf("PRACK with RAck %q: got %d, want 481", rack, got.m.StatusCode)
		}
		for _, m := range skipped {
			if m.StatusCode == 183 {
				t.Errorf("183 sent before the 180 was PRACKed")
			}
		}
	}
	seq := uint32(2 + len(bad))
	p.send(p.prack(inv, ring.m, int(seq), fmt.Sprintf("%d 1 INVITE", rseq)), ring.from)
	_, skipped := p.upTo("200 to PRACK", isRespCSeq(200, "PRACK", seq))
	for _, m := range skipped {
		if m.StatusCode == 183 {
			t.Errorf("183 sent before the 180 was PRACKed")
		}
	}
	prog := p.next("183", isResp(183, "INVITE"))
	if got, want := rseqOf(t, prog.m), rseq+1; got != want {
		t.Errorf("183 RSeq: got %d, want %d", got, want)
	}
	if len(prog.m.Body) == 0 {
		t.Error("183 without SDP")
	}
	accepted := make(chan error, 1)
	go func() { accepted <- c.Accept(context.Background()) }()
	// Two retransmissions of the 183 while Accept waits for its PRACK: no
	// 180 (already PRACKed) and no 200 may come in between.
	for range 2 {
		_, skipped = p.upTo("183 retransmission", isResp(183, "INVITE"))
		for _, m := range skipped {
			if m.StatusCode == 180 {
				t.Error("180 retransmitted after its PRACK")
			}
			if m.StatusCode == 200 {
				t.Error("2xx sent before the 183 was PRACKed")
			}
		}
	}
	seq++
	p.send(p.prack(inv, prog.m, int(seq), fmt.Sprintf("%d 1 INVITE", rseq+1)), prog.from)
	p.next("200 to second PRACK", isRespCSeq(200, "PRACK", seq))
	ok := p.next("200 to INVITE", isResp(200, "INVITE"))
	if err := <-accepted; err != nil {
		t.Fatalf("Accept: %v", err)
	}
	p.send(p.ack(inv, ok.m, ""), ok.from)
	waitState(t, c, StateActive)
	// A PRACK for a response already acknowledged matches nothing (§3).
	seq++
	p.send(p.prack(inv, prog.m, int(seq), fmt.Sprintf("%d 1 INVITE", rseq+1)), prog.from)
	if got := p.next("answer to late PRACK", isRespCSeq(481, "PRACK", seq)); got.m.StatusCode != 481 {
		t.Errorf("late PRACK: got %d, want 481", got.m.StatusCode)
	}
	p.hangupFrom(c)
}

// TestPrackGiveUp: a reliable 180 never PRACKed is retransmitted with the
// same RSeq until 64*T1, then the INVITE is rejected with 500 and the call
// ends with EndError and errNoPRACK (RFC 3262 §3).
func TestPrackGiveUp(t *testing.T) {
	t.Parallel()
	const t1 = 20 * time.Millisecond
	calls := make(chan *Call, 1)
	causes := make(chan error, 4)
	u := newUA(t, func(c *Config) {
		c.T1 = t1
		c.OnIncoming = func(c *Call) { calls <- c }
		c.EndCause = func(r EndReason, err error) error {
			causes <- err
			return r
		}
	})
	p := newPeer(t)
	inv := p.invite(uaURI(u), peerSDP(4000, "PCMU"))
	inv.Add("Require", "100rel")
	inv.Add("Supported", "100rel")
	start := time.Now()
	p.send(inv, netipAddr(u))
	first := p.next("180", isResp(180, "INVITE"))
	rseq := rseqOf(t, first.m)
	fail, skipped := p.upTo("500", isResp(500, "INVITE"))
	elapsed := time.Since(start)
	n := 0
	for _, m := range skipped {
		if m.StatusCode == 180 {
			n++
			if got := rseqOf(t, m); got != rseq {
				t.Errorf("retransmitted RSeq: got %d, want %d", got, rseq)
			}
		}
	}
	// T1, 2T1, 4T1, 8T1 and T2 steps fill 64*T1 with at least 5 sends.
	if n < 5 {
		t.Errorf("180 retransmissions: got %d, want at least 5", n)
	}
	if elapsed < 64*t1 {
		t.Errorf("500 after %v, want at least 64*T1 = %v", elapsed, 64*t1)
	}
	c := recvCall(t, calls)
	waitDone(t, c)
	if got, want := c.Reason(), EndError; got != want {
		t.Errorf("reason: got %v, want %v", got, want)
	}
	select {
	case err := <-causes:
		if !errors.Is(err, errNoPRACK) {
			t.Errorf("end cause: got %v, want %v", err, errNoPRACK)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("EndCause not called")
	}
	p.send(p.ackFinal(inv, fail.m), fail.from)
}

// TestRel100Modes: the 100rel option between two UAs (RFC 3262 §3, §4):
// required by a caller and disabled at the callee gets 420 with
// Unsupported: 100rel; not offered to a callee that requires it gets 421;
// otherwise the call goes through, with reliable provisional responses
// only when both sides use them.
func TestRel100Modes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		caller, callee Rel100Mode
		code           int // 0: answered
		reliable       bool
	}{
		{Rel100Supported, Rel100Supported, 0, true},
		{Rel100Required, Rel100Supported, 0, true},
		{Rel100Supported, Rel100Required, 0, true},
		{Rel100Disabled, Rel100Supported, 0, false},
		{Rel100Supported, Rel100Disabled, 0, false},
		{Rel100Required, Rel100Disabled, 420, false},
		{Rel100Disabled, Rel100Required, 421, false},
	} {
		t.Run(fmt.Sprintf("%v-%v", tc.caller, tc.callee), func(t *testing.T) {
			t.Parallel()
			calls := make(chan *Call, 1)
			b := newUA(t, func(c *Config) {
				c.Rel100 = tc.callee
				c.OnIncoming = acceptAll(t, calls)
			})
			a := newUA(t, func(c *Config) { c.Rel100 = tc.caller })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ca, err := a.Dial(ctx, uaURI(b), DialOptions{})
			if tc.code != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != tc.code {
					t.Fatalf("Dial: got %v, want a %d StatusError", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			cb := recvCall(t, calls)
			cb.mu.Lock()
			got := cb.uas.rel != nil
			cb.mu.Unlock()
			if got != tc.reliable {
				t.Errorf("reliable provisional responses: got %v, want %v", got, tc.reliable)
			}
			if err := ca.End(ctx); err != nil {
				t.Errorf("End: %v", err)
			}
			waitDone(t, cb)
		})
	}
}

// TestRel100Refused: the 420 names the extension in Unsupported (RFC 3261
// §8.2.2.3), the 421 in Require (RFC 3262 §3).
func TestRel100Refused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode          Rel100Mode
		header        string // of the INVITE
		code          int
		answerHeader  string
		answerWithTag string
	}{
		{Rel100Disabled, "Require", 420, "Unsupported", "100rel"},
		{Rel100Required, "", 421, "Require", "100rel"},
	} {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			t.Parallel()
			u := newUA(t, func(c *Config) {
				c.Rel100 = tc.mode
				c.OnIncoming = func(c *Call) { t.Error("call offered to OnIncoming") }
			})
			p := newPeer(t)
			inv := p.invite(uaURI(u), peerSDP(4000, "PCMU"))
			if tc.header != "" {
				inv.Add(tc.header, "100rel")
			}
			p.send(inv, netipAddr(u))
			got := p.next("final", func(m *sipmsg.Message) bool { return !m.IsRequest() && m.StatusCode >= 200 })
			if got.m.StatusCode != tc.code {
				t.Errorf("status: got %d, want %d", got.m.StatusCode, tc.code)
			}
			if !got.m.HasToken(tc.answerHeader, tc.answerWithTag) {
				t.Errorf("%s: got %q, want %s", tc.answerHeader, got.m.Values(tc.answerHeader), tc.answerWithTag)
			}
			p.send(p.ackFinal(inv, got.m), got.from)
		})
	}
}

// TestPrackLateOffer: an INVITE without SDP (RFC 3262 §5). When it
// requires 100rel our offer goes in the reliable 180 and the PRACK carries
// the answer, which the media uses after Accept; when it only supports
// 100rel the 180 is unreliable and the offer waits for the 2xx, answered in
// the ACK.
func TestPrackLateOffer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		header   string
		relOffer bool
	}{
		{"required", "Require", true},
		{"supported", "Supported", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := make(chan *Call, 1)
			u := newUA(t, func(c *Config) { c.OnIncoming = func(c *Call) { calls <- c } })
			p := newPeer(t)
			sink := newRTPSink(t)
			inv := p.invite(uaURI(u), "")
			inv.Add(tc.header, "100rel")
			p.send(inv, netipAddr(u))
			ring := p.next("180", isResp(180, "INVITE"))
			c := recvCall(t, calls)
			if got := ring.m.HasToken("Require", "100rel"); got != tc.relOffer {
				t.Errorf("180 reliable: got %v, want %v", got, tc.relOffer)
			}
			if got := len(ring.m.Body) > 0; got != tc.relOffer {
				t.Errorf("180 with our offer: got %v, want %v", got, tc.relOffer)
			}
			ackBody := peerSDP(sink.port, "PCMU")
			if tc.relOffer {
				pr := p.prack(inv, ring.m, 2, fmt.Sprintf("%d 1 INVITE", rseqOf(t, ring.m)))
				pr.Add("Content-Type", "application/sdp")
				pr.Body = []byte(peerSDP(sink.port, "PCMU"))
				p.send(pr, ring.from)
				p.next("200 to PRACK", isRespCSeq(200, "PRACK", 2))
				ackBody = ""
			}
			accepted := make(chan error, 1)
			go func() { accepted <- c.Accept(context.Background()) }()
			ok := p.next("200 to INVITE", isResp(200, "INVITE"))
			if err := <-accepted; err != nil {
				t.Fatalf("Accept: %v", err)
			}
			if len(ok.m.Body) == 0 {
				t.Error("2xx without SDP")
			}
			p.send(p.ack(inv, ok.m, ackBody), ok.from)
			go sendTone(c, 440)
			sink.wait(t)
			if got := c.Media().Config().RemoteRTP.Port(); int(got) != sink.port {
				t.Errorf("remote RTP port: got %d, want %d", got, sink.port)
			}
			p.hangupFrom(c)
		})
	}
}

// TestUpdateAfterPRACKedAnswer: on an inbound call the INVITE's
// offer/answer exchange completes in the early dialog once the reliable
// response carrying the second half was PRACKed (RFC 3262 §5): before,
// the peer's UPDATE offer is refused (500 while its offer waits for our
// answer, 491 while ours waits for its answer); after, it is answered
// (RFC 3311 §5.1), our own Update goes in the early dialog, and the 2xx
// repeats the description last sent, with the codec the UPDATE chose.
func TestUpdateAfterPRACKedAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		lateOffer bool // INVITE without SDP: our offer in the reliable 180 (Require: 100rel)
		before    int  // answer to an UPDATE offer before the PRACK
	}{
		{"answer-in-183", false, 500},
		{"offer-in-180", true, 491},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := make(chan *Call, 1)
			u := newUA(t, func(c *Config) {
				c.Codecs = []string{"PCMU", "PCMA"}
				c.OnIncoming = func(c *Call) { calls <- c }
			})
			p := newPeer(t)
			body := peerSDP(40000, "PCMU")
			if tc.lateOffer {
				body = ""
			}
			inv := p.invite(uaURI(u), body)
			inv.Add("Require", "100rel")
			inv.Add("Allow", "INVITE, ACK, BYE, CANCEL, PRACK, UPDATE")
			p.send(inv, netipAddr(u))
			ring := p.next("180", isResp(180, "INVITE"))
			c := recvCall(t, calls)
			d := &dlgPeer{peer: p, c: c, ua: ring.from, from: inv.Get("From"), to: ring.m.Get("To"),
				callID: inv.CallID(), target: mustURI(t, ring.m.Get("Contact")), seq: 1}
			last := ring // the reliable response with the SDP
			if !tc.lateOffer {
				d.seq++
				p.send(p.prack(inv, ring.m, d.seq, fmt.Sprintf("%d 1 INVITE", rseqOf(t, ring.m))), ring.from)
				p.next("200 to PRACK", isRespCSeq(200, "PRACK", uint32(d.seq)))
				if err := c.Progress(context.Background()); err != nil {
					t.Fatalf("Progress: %v", err)
				}
				last = p.next("183", isResp(183, "INVITE"))
			}
			if got := d.ask("UPDATE", sdpWith("sendrecv", "PCMA")).StatusCode; got != tc.before {
				t.Errorf("UPDATE offer before the PRACK: got %d, want %d", got, tc.before)
			}
			d.seq++
			pr := p.prack(inv, last.m, d.seq, fmt.Sprintf("%d 1 INVITE", rseqOf(t, last.m)))
			if tc.lateOffer {
				pr.Add("Content-Type", "application/sdp")
				pr.Body = []byte(peerSDP(40000, "PCMU"))
			}
			p.send(pr, last.from)
			p.next("200 to PRACK", isRespCSeq(200, "PRACK", uint32(d.seq)))
			resp := d.ask("UPDATE", sdpWith("sendrecv", "PCMA"))
			if got, want := resp.StatusCode, 200; got != want {
				t.Fatalf("UPDATE offer after the PRACK: got %d, want %d", got, want)
			}
			if !strings.Contains(string(resp.Body), "PCMA/8000") {
				t.Errorf("answer: got %q, want PCMA", resp.Body)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			updated := make(chan error, 1)
			go func() { updated <- c.Update(ctx) }()
			ours := p.next("our UPDATE", isReq("UPDATE"))
			if got, want := ours.m.Get("To"), inv.Get("From"); got != want {
				t.Errorf("our UPDATE To: got %q, want %q", got, want)
			}
			p.respond(ours, 200, "", "")
			if err := <-updated; err != nil {
				t.Errorf("Update: %v", err)
			}
			accepted := make(chan error, 1)
			go func() { accepted <- c.Accept(ctx) }()
			ok := p.next("200 to INVITE", isResp(200, "INVITE"))
			if err := <-accepted; err != nil {
				t.Fatalf("Accept: %v", err)
			}
			if got, want := string(ok.m.Body), string(resp.Body); got != want {
				t.Errorf("2xx SDP: got %q, want the UPDATE's answer %q", got, want)
			}
			p.send(p.ack(inv, ok.m, ""), ok.from)
			waitState(t, c, StateActive)
			if got, want := c.Codec(), "PCMA"; got != want {
				t.Errorf("codec: got %q, want %q", got, want)
			}
			if got, want := c.Media().Config().PayloadType, uint8(8); got != want {
				t.Errorf("media payload type: got %d, want %d", got, want)
			}
			p.hangupFrom(c)
		})
	}
}

// TestLate2xxAfterPRACKs: a 2xx that crosses our CANCEL after we PRACKed
// two reliable provisional responses in its early dialog (CSeq 2 and 3) is
// ACKed with the INVITE's CSeq, and the BYE continues after the PRACKs
// (CSeq 4; RFC 3261 §12.2.1.1), so the callee does not refuse it as out of
// order.
func TestLate2xxAfterPRACKs(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	tag := token()
	for i, code := range []int{180, 183} {
		p.respond(inv, code, tag, "", "Require", "100rel", "RSeq", strconv.Itoa(i+1))
		pr := p.next("PRACK", isReq("PRACK"))
		if got, want := pr.m.Get("CSeq"), fmt.Sprintf("%d PRACK", i+2); got != want {
			t.Errorf("PRACK CSeq: got %q, want %q", got, want)
		}
		p.respond(pr, 200, "", "")
	}
	cancel()
	cn := p.next("CANCEL", isReq("CANCEL"))
	p.respond(cn, 200, tag, "")
	p.respond(inv, 200, tag, peerSDP(40000, "PCMU"))
	if d := recvDial(t, res); !errors.Is(d.err, ErrCancelled) {
		t.Errorf("Dial: got %v, want ErrCancelled", d.err)
	}
	ack := p.next("ACK", isReq("ACK"))
	if got, want := ack.m.Get("CSeq"), "1 ACK"; got != want {
		t.Errorf("ACK CSeq: got %q, want %q", got, want)
	}
	bye := p.next("BYE", isReq("BYE"))
	if got, want := bye.m.Get("CSeq"), "4 BYE"; got != want {
		t.Errorf("BYE CSeq: got %q, want %q", got, want)
	}
	p.respond(bye, 200, "", "")
}

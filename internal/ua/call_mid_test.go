package ua

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/sipmsg"
)

// pair connects two UAs on loopback, b answering with onIncoming.
func pair(t *testing.T, onIncoming func(*Call), modA func(*Config)) (a, b *UA) {
	t.Helper()
	b = newUA(t, func(c *Config) { c.OnIncoming = onIncoming })
	a = newUA(t, modA)
	return a, b
}

// established dials b from a and returns both calls once active.
func established(t *testing.T) (ca, cb *Call) {
	t.Helper()
	calls := make(chan *Call, 1)
	a, b := pair(t, acceptAll(t, calls), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca, err := a.Dial(ctx, uaURI(b), DialOptions{})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	cb = recvCall(t, calls)
	t.Cleanup(func() {
		if ca.State() != StateEnded {
			ca.End(context.Background())
		}
	})
	return ca, cb
}

// TestEarlyMedia: the callee's Progress sends 183 with SDP; a Dial with
// EarlyMedia returns in StateEarlyMedia and hears the callee's tone before
// the 200 (RFC 3960); Accept then makes it active.
func TestEarlyMedia(t *testing.T) {
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
	log.wait(t, StateRemoteRinging)
	cb := recvCall(t, calls)
	if got, want := ca.State(), StateEarlyMedia; got != want {
		t.Errorf("caller state: got %v, want %v", got, want)
	}
	if got, want := cb.State(), StateEarlyMedia; got != want {
		t.Errorf("callee state: got %v, want %v", got, want)
	}
	go sendTone(cb, 1000)
	if err := hearTone(t, ca, 10, 25, 1000); err != nil {
		t.Errorf("caller heard before the answer: %v", err)
	}
	if got, want := ca.State(), StateEarlyMedia; got != want {
		t.Errorf("caller state after early audio: got %v, want %v", got, want)
	}
	if err := cb.Accept(ctx); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	log.wait(t, StateActive)
	go sendTone(ca, 440)
	if err := hearTone(t, cb, 10, 25, 440); err != nil {
		t.Errorf("callee heard: %v", err)
	}
	if err := ca.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
	waitDone(t, cb)
}

// TestReject: Reject(code) sends that final response; the caller's Dial
// fails with it.
func TestReject(t *testing.T) {
	t.Parallel()
	for _, code := range []int{486, 603, 404} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			calls := make(chan *Call, 1)
			a, b := pair(t, func(c *Call) {
				if err := c.Reject(context.Background(), code, ""); err != nil {
					t.Errorf("Reject: %v", err)
				}
				calls <- c
			}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := a.Dial(ctx, uaURI(b), DialOptions{})
			var se *StatusError
			if !errors.As(err, &se) || se.Code != code {
				t.Errorf("Dial: got %v, want a %d StatusError", err, code)
			}
			cb := recvCall(t, calls)
			waitDone(t, cb)
			if got, want := cb.Reason(), EndRejected; got != want {
				t.Errorf("callee reason: got %v, want %v", got, want)
			}
		})
	}
}

// TestHoldResume: a re-INVITE with sendonly holds the peer; both sides
// report StateOnHold with the answering side receiving only; Resume
// restores sendrecv on both. Each side holds in turn.
func TestHoldResume(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"caller-holds", "callee-holds"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ca, cb := established(t)
			holder, held := ca, cb
			if name == "callee-holds" {
				holder, held = cb, ca
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := holder.Hold(ctx); err != nil {
				t.Fatalf("Hold: %v", err)
			}
			waitState(t, held, StateOnHold)
			if got, want := holder.State(), StateOnHold; got != want {
				t.Errorf("holder state: got %v, want %v", got, want)
			}
			if got, want := holder.Media().Config().Direction, media.SendOnly; got != want {
				t.Errorf("holder direction: got %v, want %v", got, want)
			}
			if got, want := held.Media().Config().Direction, media.RecvOnly; got != want {
				t.Errorf("held direction: got %v, want %v", got, want)
			}
			if err := holder.Resume(ctx); err != nil {
				t.Fatalf("Resume: %v", err)
			}
			waitState(t, held, StateActive)
			for _, c := range []*Call{holder, held} {
				if got, want := c.Media().Config().Direction, media.SendRecv; got != want {
					t.Errorf("direction after resume: got %v, want %v", got, want)
				}
			}
			go sendTone(held, 440)
			if err := hearTone(t, holder, 10, 25, 440); err != nil {
				t.Errorf("holder hears after resume: %v", err)
			}
		})
	}
}

// waitState waits until c reaches s (polling the state, which OnState
// would race with the test's own hook).
func waitState(t *testing.T, c *Call, s State) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.State() != s {
		if time.Now().After(deadline) {
			t.Fatalf("state: got %v, want %v", c.State(), s)
		}
		select {
		case <-c.Done():
			t.Fatalf("call ended waiting for %v", s)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestInactiveHoldByPeer: a peer's re-INVITE with a=inactive puts the call
// on hold and is answered inactive; a=sendrecv resumes it.
func TestInactiveHoldByPeer(t *testing.T) {
	t.Parallel()
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls) })
	p := newPeer(t)
	c, inv, ok := p.callIn(u, calls)
	seq := 2
	for _, tc := range []struct {
		dir, answer string
		want        State
	}{{"inactive", "a=inactive", StateOnHold}, {"sendonly", "a=recvonly", StateOnHold}, {"sendrecv", "a=sendrecv", StateActive}} {
		re := p.ack(inv, ok.m, "") // in-dialog request skeleton
		re.Method = "INVITE"
		re.Set("CSeq", strconv.Itoa(seq)+" INVITE")
		seq++
		re.Add("Contact", "<"+p.uri("peer")+">")
		body := peerSDP(40000, "PCMU")
		re.Add("Content-Type", "application/sdp")
		re.Body = []byte(body[:len(body)-len("a=sendrecv\r\n")] + "a=" + tc.dir + "\r\n")
		p.send(re, ok.from)
		r := p.next("re-INVITE 200", func(m *sipmsg.Message) bool {
			cs, _ := m.CSeq()
			return !m.IsRequest() && cs.Method == "INVITE" && m.StatusCode >= 200 && cs.Seq == uint32(seq-1)
		})
		if r.m.StatusCode != 200 || !strings.Contains(string(r.m.Body), tc.answer) {
			t.Errorf("%s: got %d %q, want 200 with %s", tc.dir, r.m.StatusCode, r.m.Body, tc.answer)
		}
		ack := p.ack(re, r.m, "")
		p.send(ack, r.from)
		waitState(t, c, tc.want)
	}
	p.hangupFrom(c)
}

// TestReinviteGlare: a re-INVITE that arrives while ours is pending is
// answered 491 (RFC 3261 §14.2).
func TestReinviteGlare(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	tag := token()
	p.respond(inv, 200, tag, peerSDP(40000, "PCMU"))
	d := recvDial(t, res)
	if d.err != nil {
		t.Fatalf("Dial: %v", d.err)
	}
	p.next("ACK", isReq("ACK"))
	held := make(chan error, 1)
	go func() { held <- d.c.Hold(ctx) }()
	ours := p.next("re-INVITE", isReq("INVITE"))
	// The peer's own re-INVITE crosses ours.
	re := sipmsg.NewRequest("INVITE", mustURI(t, ours.m.Get("Contact")))
	re.Add("Via", "SIP/2.0/UDP 127.0.0.1:"+strconv.Itoa(p.port)+";branch=z9hG4bK"+token())
	re.Add("From", ours.m.Get("To"))
	re.Add("To", ours.m.Get("From"))
	re.Add("Call-ID", ours.m.CallID())
	re.Add("CSeq", "5 INVITE")
	re.Add("Max-Forwards", "70")
	re.Add("Contact", "<"+p.uri("peer")+">")
	re.Add("Content-Type", "application/sdp")
	re.Body = []byte(peerSDP(40000, "PCMU"))
	p.send(re, ours.from)
	p.next("491", isResp(491, "INVITE"))
	p.respond(ours, 200, tag, holdAnswer())
	if err := <-held; err != nil {
		t.Errorf("Hold: %v", err)
	}
	if got, want := d.c.State(), StateOnHold; got != want {
		t.Errorf("state: got %v, want %v", got, want)
	}
	p.hangupFrom(d.c)
}

func holdAnswer() string {
	s := peerSDP(40000, "PCMU")
	return s[:len(s)-len("a=sendrecv\r\n")] + "a=recvonly\r\n"
}

func mustURI(t *testing.T, contact string) sipmsg.URI {
	t.Helper()
	a, err := sipmsg.ParseAddress(contact)
	if err != nil {
		t.Fatal(err)
	}
	return a.URI
}

// TestDTMF: digits sent with SendDTMF (RFC 4733) arrive once each at the
// other side, both ways.
func TestDTMF(t *testing.T) {
	t.Parallel()
	ca, cb := established(t)
	for _, dir := range []struct {
		name     string
		from, to *Call
	}{{"caller-to-callee", ca, cb}, {"callee-to-caller", cb, ca}} {
		t.Run(dir.name, func(t *testing.T) {
			got := make(chan rune, 16)
			dir.to.OnDTMF(func(d rune) { got <- d })
			// The trailing digit proves none before it came twice.
			const digits = "12#*9"
			if err := dir.from.SendDTMF(digits); err != nil {
				t.Fatalf("SendDTMF: %v", err)
			}
			for i, want := range digits {
				select {
				case d := <-got:
					if d != want {
						t.Fatalf("digit %d: got %q, want %q", i, d, want)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("digit %d: none arrived, want %q", i, want)
				}
			}
		})
	}
}

// TestReinviteAppliedBeforeAck: the answer to our re-INVITE (Hold) is
// applied, media and call state, before the ACK goes out, so that the
// peer, once it has the ACK, finds the call on hold: a BYE it sent right
// away used to end the call while Hold was still updating the media, and
// Hold failed with "media: session closed" (TestSIPpGlare, once in CI).
func TestReinviteAppliedBeforeAck(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	atAck := make(chan State, 2) // the call's state as each ACK goes out
	u.testAcking = func(c *Call) { atAck <- c.State() }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	tag := token()
	sink := newRTPSink(t)
	p.respond(inv, 200, tag, peerSDP(sink.port, "PCMU"))
	r := recvDial(t, res)
	if r.err != nil {
		t.Fatalf("Dial: %v", r.err)
	}
	c := r.c
	p.next("ACK of the 200", isReq("ACK"))

	held := make(chan error, 1)
	go func() { held <- c.Hold(ctx) }()
	reinv := p.next("re-INVITE", isReq("INVITE"))
	if !strings.Contains(string(reinv.m.Body), "a=sendonly") {
		t.Fatalf("re-INVITE offer is not sendonly:\n%s", reinv.m.Body)
	}
	p.respond(reinv, 200, tag, strings.Replace(peerSDP(sink.port, "PCMU"), "a=sendrecv", "a=recvonly", 1))
	p.next("ACK of the re-INVITE's 200", isReq("ACK"))
	<-atAck // the INVITE's
	if got, want := <-atAck, StateOnHold; got != want {
		t.Errorf("state as the re-INVITE's ACK went out: got %v, want %v", got, want)
	}
	if err := <-held; err != nil {
		t.Errorf("Hold: %v", err)
	}
	p.hangupFrom(c)
}

// TestReinviteOnInboundCallReAcked: on a call the peer placed, the 2xx to
// our re-INVITE is ACKed again when the peer retransmits it (RFC 3261
// §13.2.2.4); the call has no INVITE of ours to tell forks by.
func TestReinviteOnInboundCallReAcked(t *testing.T) {
	t.Parallel()
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls) })
	p := newPeer(t)
	c, _, _ := p.callIn(u, calls)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	held := make(chan error, 1)
	go func() { held <- c.Hold(ctx) }()
	reinv := p.next("our re-INVITE", isReq("INVITE"))
	to, _ := reinv.m.To()
	reok := p.respond(reinv, 200, to.Tag(), strings.Replace(peerSDP(40000, "PCMU"), "a=sendrecv", "a=recvonly", 1))
	p.next("ACK of the 200", isReq("ACK"))
	if err := <-held; err != nil {
		t.Fatalf("Hold: %v", err)
	}
	p.send(reok, reinv.from)
	ack := p.next("ACK of the retransmitted 200", isReq("ACK"))
	cs, _ := ack.m.CSeq()
	if want, _ := reinv.m.CSeq(); cs.Seq != want.Seq {
		t.Errorf("ACK CSeq: got %d, want the re-INVITE's %d", cs.Seq, want.Seq)
	}
	p.hangupFrom(c)
}

// TestRequestsEndWithCall: Hold, BlindTransfer and SendDTMFInfo, whose
// request the peer answers with a BYE instead, return as the call ends,
// not after Timer B or F (32 s): Hold and the INFO with ErrInvalidState,
// the transfer with ErrTransferFailed.
func TestRequestsEndWithCall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method string
		do     func(context.Context, *Call) error
		want   error
	}{
		{"INVITE", func(ctx context.Context, c *Call) error { return c.Hold(ctx) }, ErrInvalidState},
		{"REFER", func(ctx context.Context, c *Call) error { return c.BlindTransfer(ctx, "sip:carol@127.0.0.1:5099") }, ErrTransferFailed},
		{"INFO", func(ctx context.Context, c *Call) error { return c.SendDTMFInfo(ctx, "1") }, ErrInvalidState},
	} {
		t.Run(tc.method, func(t *testing.T) {
			t.Parallel()
			d := peerCalls(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			res := make(chan error, 1)
			go func() { res <- tc.do(ctx, d.c) }()
			d.next(tc.method, isReq(tc.method))
			if resp := d.ask("BYE", ""); resp.StatusCode != 200 {
				t.Errorf("BYE: got %d, want 200", resp.StatusCode)
			}
			select {
			case err := <-res:
				if !errors.Is(err, tc.want) {
					t.Errorf("got %v, want %v", err, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("still waiting for the %s's answer after the call ended", tc.method)
			}
		})
	}
}

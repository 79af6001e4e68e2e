package ua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// progressLog records OnTransferProgress statuses.
type progressLog struct {
	mu     sync.Mutex
	codes  []int
	events []TransferEvent
}

func (l *progressLog) add(e TransferEvent) {
	l.mu.Lock()
	l.codes = append(l.codes, e.Code)
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *progressLog) all() []TransferEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]TransferEvent(nil), l.events...)
}

func (l *progressLog) get() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.codes...)
}

// transferSetup is A in a call with B, and C ready to take calls.
type transferSetup struct {
	a, b, c     *UA
	ca, cb      *Call
	calls       chan *Call // C's incoming calls
	transferred chan [2]*Call
	progress    progressLog // A's, the transferor's
	referred    progressLog // B's, the transferee's
}

func newTransferSetup(t *testing.T, modB, modC func(*Config), onC func(*Call)) *transferSetup {
	t.Helper()
	s := &transferSetup{calls: make(chan *Call, 1), transferred: make(chan [2]*Call, 1)}
	if onC == nil {
		onC = acceptAll(t, s.calls)
	}
	s.c = newUA(t, func(c *Config) {
		c.Username = "carol"
		c.OnIncoming = onC
		if modC != nil {
			modC(c)
		}
	})
	bCalls := make(chan *Call, 1)
	s.b = newUA(t, func(c *Config) {
		c.Username = "bob"
		c.OnIncoming = acceptAll(t, bCalls)
		c.OnTransfer = func(old, new *Call) { s.transferred <- [2]*Call{old, new} }
		if modB != nil {
			modB(c)
		}
	})
	s.a = newUA(t, func(c *Config) { c.Username = "alice" })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	s.ca, err = s.a.Dial(ctx, uaURI(s.b), DialOptions{})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	s.ca.OnTransferProgress(s.progress.add)
	s.cb = recvCall(t, bCalls)
	s.cb.OnTransferProgress(s.referred.add)
	waitState(t, s.cb, StateActive)
	return s
}

// TestBlindTransfer: A transfers B to C. B accepts the REFER, calls C
// (with Referred-By naming A), reports 100 and 200 by NOTIFY and hangs up
// on A; A's BlindTransfer returns nil and both old legs end as
// transferred; B and C are in a call.
func TestBlindTransfer(t *testing.T) {
	s := newTransferSetup(t, nil, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.ca.BlindTransfer(ctx, uaURI(s.c)); err != nil {
		t.Fatalf("BlindTransfer: %v", err)
	}
	cc := recvCall(t, s.calls)
	var pair [2]*Call
	select {
	case pair = <-s.transferred:
	case <-time.After(10 * time.Second):
		t.Fatal("OnTransfer was not called")
	}
	if pair[0] != s.cb {
		t.Errorf("OnTransfer old call: got %v, want B's call %v", pair[0].ID(), s.cb.ID())
	}
	bc := pair[1]
	waitDone(t, s.ca)
	waitDone(t, s.cb)
	for name, c := range map[string]*Call{"A": s.ca, "B": s.cb} {
		if got, want := c.Reason(), EndTransferred; got != want {
			t.Errorf("%s's old call reason: got %v, want %v", name, got, want)
		}
	}
	waitState(t, bc, StateActive)
	waitState(t, cc, StateActive)
	if got, want := bc.CallID(), cc.CallID(); got != want {
		t.Errorf("B's new call: got Call-ID %q, want C's %q", got, want)
	}
	if !bc.Outbound() {
		t.Errorf("B's new call outbound: got false, want true")
	}
	if rb := cc.Header("Referred-By"); len(rb) != 1 || !strings.Contains(rb[0], "sip:alice@") {
		t.Errorf("Referred-By at C: got %q, want A's URI", rb)
	}
	if calls := s.b.Calls(); len(calls) != 1 || calls[0] != bc {
		t.Errorf("B's calls: got %d, want only the new one", len(calls))
	}
	// NOTIFYs seen: 100 Trying, then 200 OK, once A's queued callbacks
	// have run.
	flushEvents(s.ca)
	if got := fmt.Sprint(s.progress.get()); got != "[100 200]" {
		t.Errorf("NOTIFY statuses at A: got %s, want [100 200]", got)
	}
	// Both sides name the target; B's events say the peer referred it.
	target := uaURI(s.c)
	flushEvents(s.cb)
	for _, side := range []struct {
		name     string
		log      *progressLog
		referred bool
	}{{"A", &s.progress, false}, {"B", &s.referred, true}} {
		evs := side.log.all()
		if len(evs) != 2 || evs[1].Code != 200 {
			t.Errorf("%s's transfer events: got %+v, want 100 then 200", side.name, evs)
		}
		for _, e := range evs {
			if e.Target != target || e.Referred != side.referred {
				t.Errorf("%s's transfer event: got %+v, want target %s, referred %v", side.name, e, target, side.referred)
			}
		}
	}
	if err := bc.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
	waitDone(t, cc)
}

// flushEvents waits until the callbacks c has queued so far have run.
func flushEvents(c *Call) {
	done := make(chan struct{})
	c.events.do(func() { close(done) })
	<-done
}

// unusedPort returns a loopback UDP port nothing listens on.
func unusedPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	return port
}

// TestBlindTransferFails: the target busy, the target unreachable, and a
// transferee that refuses transfers (603): BlindTransfer returns an error
// wrapping ErrTransferFailed (with the status as a *StatusError) and the
// A-B call stays active on both sides.
func TestBlindTransferFails(t *testing.T) {
	busy := func(c *Call) { c.Reject(context.Background(), 486, "") }
	for _, tc := range []struct {
		name     string
		modB     func(*Config)
		onC      func(*Call)
		target   func(s *transferSetup) string
		wantCode int // 0: any status
	}{
		{"target-busy", nil, busy, func(s *transferSetup) string { return uaURI(s.c) }, 486},
		{"target-unreachable", func(c *Config) { c.T1 = 20 * time.Millisecond }, nil,
			func(s *transferSetup) string { return fmt.Sprintf("sip:nobody@127.0.0.1:%d", unusedPort(t)) }, 0},
		{"transfer-refused", func(c *Config) { c.RefuseTransfer = true }, nil,
			func(s *transferSetup) string { return uaURI(s.c) }, 603},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTransferSetup(t, tc.modB, nil, tc.onC)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			err := s.ca.BlindTransfer(ctx, tc.target(s))
			if !errors.Is(err, ErrTransferFailed) {
				t.Fatalf("BlindTransfer: got %v, want ErrTransferFailed", err)
			}
			var se *StatusError
			if !errors.As(err, &se) || (tc.wantCode != 0 && se.Code != tc.wantCode) {
				t.Errorf("BlindTransfer: got %v, want a StatusError %d", err, tc.wantCode)
			}
			for name, c := range map[string]*Call{"A": s.ca, "B": s.cb} {
				if got, want := c.State(), StateActive; got != want {
					t.Errorf("%s's call after the failed transfer: got %v, want %v", name, got, want)
				}
			}
			if got := len(s.b.Calls()); got != 1 {
				t.Errorf("B's calls: got %d, want 1", got)
			}
			// B reports the outcome of the call it placed, if it placed one.
			flushEvents(s.cb)
			evs := s.referred.all()
			if tc.wantCode == 603 {
				if len(evs) != 0 {
					t.Errorf("B's transfer events after refusing: got %+v, want none", evs)
				}
			} else if se != nil && (len(evs) != 2 || !evs[1].Referred || evs[1].Code != se.Code) {
				t.Errorf("B's transfer events: got %+v, want 100 then %d", evs, se.Code)
			}
			if err := s.ca.End(ctx); err != nil {
				t.Errorf("End: %v", err)
			}
			waitDone(t, s.cb)
		})
	}
}

// TestReferRequests: REFERs from a scripted peer: no Refer-To is 400, two
// are 400, a REFER outside a dialog is 481, and a NOTIFY
// with no transfer waiting is 481; a Refer-To with a malformed or a
// second Replaces is 400.
func TestReferRequests(t *testing.T) {
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls) })
	p := newPeer(t)
	c, inv, ok := p.callIn(u, calls)
	seq := 2
	for _, tc := range []struct {
		name, method string
		hdrs         []string
		outside      bool
		code         int
	}{
		{"no-refer-to", "REFER", nil, false, 400},
		{"two-refer-to", "REFER", []string{"Refer-To", "<sip:a@127.0.0.1>", "Refer-To", "<sip:b@127.0.0.1>"}, false, 400},
		{"bad-replaces", "REFER", []string{"Refer-To", "<sip:a@127.0.0.1?Replaces=x%40y%3Bto-tag%3D1>"}, false, 400},
		{"two-replaces", "REFER", []string{"Refer-To", "<sip:a@127.0.0.1?Replaces=x%3Bto-tag%3D1%3Bfrom-tag%3D2&Replaces=y%3Bto-tag%3D1%3Bfrom-tag%3D2>"}, false, 400},
		{"outside-dialog", "REFER", []string{"Refer-To", "<sip:a@127.0.0.1>"}, true, 481},
		{"notify-unexpected", "NOTIFY", []string{"Event", "refer", "Subscription-State", "active"}, false, 481},
		{"notify-other-event", "NOTIFY", []string{"Event", "dialog", "Subscription-State", "active"}, false, 489},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := p.ack(inv, ok.m, "")
			req.Method = tc.method
			req.Set("CSeq", fmt.Sprintf("%d %s", seq, tc.method))
			seq++
			if tc.outside {
				req.Set("Call-ID", token()+"@peer")
			}
			for i := 0; i+1 < len(tc.hdrs); i += 2 {
				req.Add(tc.hdrs[i], tc.hdrs[i+1])
			}
			p.send(req, ok.from)
			resp := p.next(tc.method+" answer", func(m *sipmsg.Message) bool {
				cs, _ := m.CSeq()
				return !m.IsRequest() && cs.Method == tc.method
			}).m
			if resp.StatusCode != tc.code {
				t.Errorf("%s answer: got %d, want %d", tc.method, resp.StatusCode, tc.code)
			}
		})
	}
	if got, want := c.State(), StateActive; got != want {
		t.Errorf("call state: got %v, want %v", got, want)
	}
	p.hangupFrom(c)
}

// TestBlindTransferNotifies: the transferee is a scripted peer. Our REFER
// carries Refer-To and Referred-By; every NOTIFY is answered 200; the
// outcome follows the final sipfrag: 200 ends the call as transferred
// (our BYE), 486 fails with the status and keeps the call, no NOTIFY at
// all fails when the context ends and keeps the call.
func TestBlindTransferNotifies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frags  []string // sipfrag status lines, the last one terminating
		wantOK bool
		code   int
	}{
		{"completed", []string{"SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK"}, true, 0},
		{"target-busy", []string{"SIP/2.0 100 Trying", "SIP/2.0 486 Busy Here"}, false, 486},
		{"no-notify", nil, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := make(chan *Call, 1)
			u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls) })
			p := newPeer(t)
			c, inv, ok := p.callIn(u, calls)
			var progress progressLog
			c.OnTransferProgress(progress.add)

			timeout := 10 * time.Second
			if tc.frags == nil {
				timeout = time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			res := make(chan error, 1)
			go func() { res <- c.BlindTransfer(ctx, "sip:carol@127.0.0.1:5999") }()
			refer := p.next("REFER", isReq("REFER"))
			if rt, err := refer.m.ReferTo(); err != nil || rt.URI.String() != "sip:carol@127.0.0.1:5999" {
				t.Errorf("Refer-To: got %q (%v), want <sip:carol@127.0.0.1:5999>", refer.m.Get("Refer-To"), err)
			}
			if rb := refer.m.Get("Referred-By"); !strings.Contains(rb, "sip:callee@") {
				t.Errorf("Referred-By: got %q, want our URI", rb)
			}
			p.send(sipmsg.NewResponse(refer.m, 202, ""), refer.from)
			for i, frag := range tc.frags {
				n := p.ack(inv, ok.m, "")
				n.Method = "NOTIFY"
				n.Set("CSeq", fmt.Sprintf("%d NOTIFY", i+2))
				n.Add("Event", "refer")
				state := "active;expires=60"
				if i == len(tc.frags)-1 {
					state = "terminated;reason=noresource"
				}
				n.Add("Subscription-State", state)
				n.Add("Content-Type", "message/sipfrag;version=2.0")
				n.Body = []byte(frag + "\r\n")
				p.send(n, ok.from)
				p.next("200 to NOTIFY", isResp(200, "NOTIFY"))
			}
			if tc.wantOK {
				p.respond(p.next("BYE", isReq("BYE")), 200, "", "")
			}
			var err error
			select {
			case err = <-res:
			case <-time.After(15 * time.Second):
				t.Fatal("BlindTransfer did not return")
			}
			if tc.wantOK {
				if err != nil {
					t.Fatalf("BlindTransfer: got %v, want nil", err)
				}
				waitDone(t, c)
				if got, want := c.Reason(), EndTransferred; got != want {
					t.Errorf("reason: got %v, want %v", got, want)
				}
				sync := make(chan struct{})
				c.events.do(func() { close(sync) })
				<-sync
				if got := fmt.Sprint(progress.get()); got != "[100 180 200]" {
					t.Errorf("progress: got %s, want [100 180 200]", got)
				}
				return
			}
			var se *StatusError
			if !errors.Is(err, ErrTransferFailed) || (tc.code != 0 && (!errors.As(err, &se) || se.Code != tc.code)) {
				t.Errorf("BlindTransfer: got %v, want ErrTransferFailed with status %d", err, tc.code)
			}
			if tc.code == 0 && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("BlindTransfer: got %v, want it to wrap context.DeadlineExceeded", err)
			}
			if got, want := c.State(), StateActive; got != want {
				t.Errorf("state: got %v, want %v", got, want)
			}
			p.hangupFrom(c)
		})
	}
}

// FuzzParseSipfrag: no input panics; a status line that parses is written
// back by appendSipfrag and parses to the same code and reason.
func FuzzParseSipfrag(f *testing.F) {
	for _, s := range []string{
		"SIP/2.0 100 Trying\r\n", "SIP/2.0 200 OK\r\n", "SIP/2.0 486 Busy Here\r\nVia: x\r\n\r\n",
		"SIP/2.0 503", "SIP/2.0 99 Low", "SIP/2.0 700 High", "SIP/1.0 200 OK", "", "SIP/2.0 200 OK\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseSipfrag(b)
		if err != nil {
			return
		}
		if fr.code < 100 || fr.code > 699 {
			t.Fatalf("code %d out of range from %q", fr.code, b)
		}
		fr2, err := parseSipfrag(appendSipfrag(nil, fr.code, fr.reason))
		if err != nil || fr2 != fr {
			t.Fatalf("round trip of %q: got %+v %v, want %+v", b, fr2, err, fr)
		}
	})
}

// TestReferredNotifies: the transferor is a scripted peer. Our UA answers
// its REFER 202, sends NOTIFY (Event refer with the REFER's CSeq as id,
// message/sipfrag) with 100 Trying while active and the new call's status
// when terminated, and on success hangs up the old call with BYE.
func TestReferredNotifies(t *testing.T) {
	for _, tc := range []struct {
		name  string
		onC   func(*Call)
		final string
	}{
		{"answered", nil, "SIP/2.0 200 OK"},
		{"busy", func(c *Call) { c.Reject(context.Background(), 486, "Busy Here") }, "SIP/2.0 486 Busy Here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cCalls := make(chan *Call, 1)
			onC := tc.onC
			if onC == nil {
				onC = acceptAll(t, cCalls)
			}
			c := newUA(t, func(cfg *Config) { cfg.OnIncoming = onC })
			calls := make(chan *Call, 1)
			u := newUA(t, func(cfg *Config) { cfg.OnIncoming = acceptAll(t, calls) })
			p := newPeer(t)
			inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
			p.send(inv, netipAddr(u))
			ok := p.next("200", isResp(200, "INVITE"))
			p.send(p.ack(inv, ok.m, ""), ok.from)
			old := recvCall(t, calls)
			waitState(t, old, StateActive)

			refer := p.ack(inv, ok.m, "")
			refer.Method = "REFER"
			refer.Set("CSeq", "7 REFER")
			refer.Add("Refer-To", "<"+uaURI(c)+">")
			refer.Add("Referred-By", "<"+p.uri("peer")+">")
			p.send(refer, ok.from)
			p.next("202", isResp(202, "REFER"))
			for i, want := range []struct{ frag, state string }{
				{"SIP/2.0 100 Trying", "active"},
				{tc.final, "terminated"},
			} {
				n := p.next("NOTIFY", isReq("NOTIFY"))
				if got := n.m.Get("Event"); got != "refer;id=7" {
					t.Errorf("NOTIFY %d Event: got %q, want %q", i, got, "refer;id=7")
				}
				if ct, _ := n.m.ContentType(); ct.Type+"/"+ct.Subtype != "message/sipfrag" {
					t.Errorf("NOTIFY %d Content-Type: got %q, want message/sipfrag", i, n.m.Get("Content-Type"))
				}
				if ss, err := n.m.SubscriptionState(); err != nil || ss.State != want.state {
					t.Errorf("NOTIFY %d Subscription-State: got %q, want %s", i, n.m.Get("Subscription-State"), want.state)
				}
				if got := strings.TrimSpace(string(n.m.Body)); got != want.frag {
					t.Errorf("NOTIFY %d body: got %q, want %q", i, got, want.frag)
				}
				p.respond(n, 200, "", "")
			}
			if tc.onC != nil {
				if got, want := old.State(), StateActive; got != want {
					t.Errorf("old call after a failed transfer: got %v, want %v", got, want)
				}
				p.hangupFrom(old)
				return
			}
			p.respond(p.next("BYE", isReq("BYE")), 200, "", "")
			waitDone(t, old)
			if got, want := old.Reason(), EndTransferred; got != want {
				t.Errorf("old call reason: got %v, want %v", got, want)
			}
			cc := recvCall(t, cCalls)
			if rb := cc.Header("Referred-By"); len(rb) != 1 || !strings.Contains(rb[0], "sip:peer@") {
				t.Errorf("Referred-By at C: got %q, want the peer's", rb)
			}
			cc.End(context.Background())
		})
	}
}

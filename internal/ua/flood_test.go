package ua

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/sipmsg"
)

// Events a peer can send at any rate must not queue without bound behind
// an application callback that stalls (dispatch.go): these tests stall
// one, flood the UA, and check what waits, what is answered and what the
// callback gets once it returns.

// TestSerialLatest: doLatest queues like tryDo until the queue is full;
// then it holds one function aside, the newest, which runs after the
// queue, before anything do queues later; tryDo refuses until it has run.
func TestSerialLatest(t *testing.T) {
	s := serial{t: &tracker{}}
	release := make(chan struct{})
	var got []string
	s.do(func() { <-release }) // the stalled callback
	for i := range maxQueued - 1 {
		s.doLatest(func() { got = append(got, "state"+strconv.Itoa(i)) })
	}
	if n := s.pending(); n != maxQueued-1 && n != maxQueued {
		t.Fatalf("pending after filling: %d", n)
	}
	for s.pending() < maxQueued { // the stalled one may or may not have left the queue
		s.doLatest(func() { got = append(got, "filler") })
	}
	s.doLatest(func() { got = append(got, "lost") })
	s.doLatest(func() { got = append(got, "latest") })
	if s.tryDo(func() { got = append(got, "digit") }) {
		t.Error("tryDo queued while a latest event is held")
	}
	if n := s.pending(); n != maxQueued+1 {
		t.Errorf("pending: got %d, want %d", n, maxQueued+1)
	}
	s.do(func() { got = append(got, "end") })
	close(release)
	s.t.wait()
	if n := len(got); n < 3 || got[n-2] != "latest" || got[n-1] != "end" || strings.Contains(strings.Join(got, ","), "lost") {
		t.Errorf("order: got ...%v, want ..., latest, end and no lost", got[max(0, len(got)-3):])
	}
	if got[0] != "state0" {
		t.Errorf("first: got %q", got[0])
	}
	// Drained: doLatest and tryDo queue again.
	got = nil
	s.doLatest(func() { got = append(got, "a") })
	s.t.wait()
	if !s.tryDo(func() { got = append(got, "b") }) {
		t.Error("tryDo refused on an empty queue")
	}
	s.t.wait()
	if strings.Join(got, ",") != "a,b" {
		t.Errorf("after draining: got %v", got)
	}
}

// TestStateQueueBounded: a peer holding and resuming the call faster than
// OnState returns leaves at most maxQueued events waiting (and one held
// aside); every re-INVITE is answered; once OnState returns it gets the
// call's latest state, and the end.
func TestStateQueueBounded(t *testing.T) {
	t.Parallel()
	calls := make(chan *Call, 1)
	release := make(chan struct{})
	var mu sync.Mutex
	var states []State
	u := newUA(t, func(c *Config) {
		c.OnIncoming = acceptAll(t, calls)
		c.NewCall = func(c *Call) {
			c.OnState(func(s State) {
				<-release
				mu.Lock()
				states = append(states, s)
				mu.Unlock()
			})
		}
	})
	p := newPeer(t)
	c, inv, ok := p.callIn(u, calls)
	const n = maxQueued + 50
	body := peerSDP(40000, "PCMU")
	body = body[:len(body)-len("a=sendrecv\r\n")]
	for i := range n {
		dir := "a=sendonly\r\n"
		if i%2 == 1 {
			dir = "a=sendrecv\r\n"
		}
		re := p.ack(inv, ok.m, "")
		re.Method = "INVITE"
		re.Set("CSeq", strconv.Itoa(2+i)+" INVITE")
		re.Add("Contact", "<"+p.uri("peer")+">")
		re.Add("Content-Type", "application/sdp")
		re.Body = []byte(body + dir)
		p.send(re, ok.from)
		r := p.next("re-INVITE answer", func(m *sipmsg.Message) bool {
			cs, _ := m.CSeq()
			return !m.IsRequest() && cs.Method == "INVITE" && m.StatusCode >= 200 && cs.Seq == uint32(2+i)
		})
		if r.m.StatusCode != 200 {
			t.Fatalf("re-INVITE %d: got %d, want 200", i, r.m.StatusCode)
		}
		p.send(p.ack(re, r.m, ""), r.from)
	}
	want := StateActive // after the last re-INVITE
	if n%2 == 1 {
		want = StateOnHold
	}
	waitState(t, c, want)
	if got := c.events.pending(); got > maxQueued+1 {
		t.Errorf("events waiting: got %d, want at most %d", got, maxQueued+1)
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		k := len(states)
		settled := k > 0 && states[k-1] == want && c.events.pending() == 0
		mu.Unlock()
		if settled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("OnState: %d events, the last not %v", k, want)
		}
		<-time.After(5 * time.Millisecond)
	}
	mu.Lock()
	if k := len(states); k > maxQueued+2 {
		t.Errorf("OnState called %d times, want at most %d", k, maxQueued+2)
	}
	mu.Unlock()
	p.hangupFrom(c)
}

// TestMessageQueueBounded: MESSAGEs that come faster than OnMessage
// returns are answered 503 with Retry-After once maxQueued wait, never
// taken and dropped: OnMessage gets every one answered 200.
func TestMessageQueueBounded(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	release := make(chan struct{})
	var delivered atomic.Int64
	u := newUA(t, func(c *Config) { c.OnMessage = func(Message) { <-release; delivered.Add(1) } })
	const n = maxQueued + 50
	taken, refused := 0, 0
	for i := range n {
		req := p.invite(uaURI(u), "")
		req.Method = "MESSAGE"
		req.Set("CSeq", "1 MESSAGE")
		req.Add("Content-Type", "text/plain")
		req.Body = []byte("message " + strconv.Itoa(i))
		req.SetContentLength()
		p.send(req, netipAddr(u))
		switch r := p.next("answer to MESSAGE", isRespTo(req)).m; {
		case r.StatusCode == 200 && refused == 0:
			taken++
		case r.StatusCode == 503 && r.Get("Retry-After") != "":
			refused++
		default:
			t.Fatalf("MESSAGE %d (%d taken, %d refused): got %d Retry-After %q", i, taken, refused, r.StatusCode, r.Get("Retry-After"))
		}
	}
	// One may be in OnMessage already, maxQueued more wait.
	if taken != maxQueued && taken != maxQueued+1 {
		t.Errorf("taken: got %d, want %d or %d", taken, maxQueued, maxQueued+1)
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for delivered.Load() < int64(taken) && time.Now().Before(deadline) {
		<-time.After(5 * time.Millisecond)
	}
	if got := delivered.Load(); got != int64(taken) || u.events.pending() != 0 {
		t.Errorf("delivered: got %d (%d waiting), want the %d taken", got, u.events.pending(), taken)
	}
}

// TestVoicemailReportsCoalesced: NOTIFYs that come faster than
// OnVoicemail returns are all answered 200; up to maxReports wait, each
// reported in order, and past that the newest waiting is replaced:
// OnVoicemail gets the last summary sent.
func TestVoicemailReportsCoalesced(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	release := make(chan struct{})
	got := make(chan mwi.Summary, 4*maxQueued)
	u := newUA(t, func(c *Config) {
		c.OnVoicemail = func(s mwi.Summary) { <-release; got <- s }
	})
	const n = maxQueued + 50
	for i := range n {
		un := p.invite(uaURI(u), "")
		un.Method = "NOTIFY"
		un.Set("CSeq", "1 NOTIFY")
		un.Add("Event", "message-summary")
		un.Add("Content-Type", mwi.ContentType)
		un.Body = []byte("Messages-Waiting: yes\r\nVoice-Message: " + strconv.Itoa(i+1) + "/0\r\n")
		p.send(un, netipAddr(u))
		if r := p.next("answer to NOTIFY", isRespTo(un)).m; r.StatusCode != 200 {
			t.Fatalf("NOTIFY %d: got %d, want 200", i, r.StatusCode)
		}
	}
	// Each NOTIFY's report is posted after its 200 leaves: one more
	// request answered on the same reader shows the last one posted
	// before the callback is released (else a late post finds room).
	opt := p.invite(uaURI(u), "")
	opt.Method = "OPTIONS"
	opt.Set("CSeq", "1 OPTIONS")
	p.send(opt, netipAddr(u))
	p.next("answer to OPTIONS", isRespTo(opt))
	if w := u.events.pending(); w > maxReports+1 {
		t.Errorf("events waiting: got %d, want at most %d (one in OnVoicemail, the reports)", w, maxReports+1)
	}
	close(release)
	var reports []int
	for len(reports) == 0 || reports[len(reports)-1] != n {
		select {
		case s := <-got:
			reports = append(reports, s.Voice().New)
		case <-time.After(10 * time.Second):
			t.Fatalf("OnVoicemail: got new counts %v, want the last %d", reports, n)
		}
	}
	if len(reports) > maxReports+1 {
		t.Errorf("OnVoicemail called %d times, want at most %d", len(reports), maxReports+1)
	}
	// Up to the bound every report came, in order.
	for i := range min(len(reports), maxReports) {
		if reports[i] != i+1 {
			t.Fatalf("report %d: got %d new messages, want %d", i, reports[i], i+1)
		}
	}
}

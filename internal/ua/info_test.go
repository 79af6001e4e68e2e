package ua

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// digits collects OnDTMF digits of a call.
type digits chan rune

func (d digits) hook(c *Call) { c.OnDTMF(func(r rune) { d <- r }) }

// want reads len(s) digits and compares them with s.
func (d digits) want(t *testing.T, s string) {
	t.Helper()
	var got []rune
	deadline := time.After(10 * time.Second)
	for len(got) < len(s) {
		select {
		case r := <-d:
			got = append(got, r)
		case <-deadline:
			t.Fatalf("digits: got %q, want %q", string(got), s)
		}
	}
	if string(got) != s {
		t.Errorf("digits: got %q, want %q", string(got), s)
	}
}

// drained waits until c's queued callbacks have run, then reports digits
// left over.
func (d digits) drained(c *Call) string {
	sync := make(chan struct{})
	c.events.do(func() { close(sync) })
	<-sync
	var extra []rune
	for {
		select {
		case r := <-d:
			extra = append(extra, r)
		default:
			return string(extra)
		}
	}
}

// TestDTMFModes: digits sent per the caller's mode reach the callee once
// each, by the way the mode says; telephone-event is offered unless the
// mode is INFO only, and "both" falls back to INFO when the peer did not
// accept telephone-event.
func TestDTMFModes(t *testing.T) {
	for _, tc := range []struct {
		name         string
		mode         DTMFMode
		calleeNoTE   bool
		wantTE       bool // telephone-event negotiated
		wantRTPCount uint64
	}{
		{"rfc4733", DTMFRFC4733, false, true, 4},
		{"default", 0, false, true, 4},
		{"info", DTMFInfo, false, false, 0},
		{"both", DTMFBoth, false, true, 4},
		{"both-peer-without-te", DTMFBoth, true, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := make(chan *Call, 1)
			got := make(digits, 16)
			b := newUA(t, func(c *Config) {
				c.OnIncoming = acceptAll(t, calls)
				c.NewCall = got.hook
				c.NoTelephoneEvent = tc.calleeNoTE
			})
			a := newUA(t, func(c *Config) { c.DTMFMode = tc.mode })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ca, err := a.Dial(ctx, uaURI(b), DialOptions{})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			cb := recvCall(t, calls)
			waitState(t, cb, StateActive)
			for _, c := range []*Call{ca, cb} {
				if gotTE := c.Media().Config().DTMFPayloadType != 0; gotTE != tc.wantTE {
					t.Errorf("telephone-event negotiated: got %v, want %v", gotTE, tc.wantTE)
				}
			}
			if err := ca.SendDigits(ctx, "15#a"); err != nil {
				t.Fatalf("SendDigits: %v", err)
			}
			got.want(t, "15#A")
			if got, want := cb.Media().Stats().DTMFReceived, tc.wantRTPCount; got != want {
				t.Errorf("digits by RFC 4733: got %d, want %d", got, want)
			}
			if extra := got.drained(cb); extra != "" {
				t.Errorf("extra digits: got %q, want none", extra)
			}
			ca.End(ctx)
			waitDone(t, cb)
		})
	}
}

// TestDTMFInfoReceive: INFO bodies from a scripted peer: dtmf-relay (with
// and without Duration, event numbers, lower case), application/dtmf, an
// empty body (200, no digit), a bad Signal (400), another type (415).
func TestDTMFInfoReceive(t *testing.T) {
	calls := make(chan *Call, 1)
	got := make(digits, 16)
	u := newUA(t, func(c *Config) { c.OnIncoming = acceptAll(t, calls); c.NewCall = got.hook })
	p := newPeer(t)
	c, inv, ok := p.callIn(u, calls)
	seq := 2
	for _, tc := range []struct {
		name, ctype, body string
		code              int
		digit             string
	}{
		{"relay", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 200, "5"},
		{"relay-no-duration", "application/dtmf-relay", "Signal=#", 200, "#"},
		{"relay-event-number", "application/dtmf-relay", "signal = 10\nduration=100", 200, "*"},
		{"relay-lower-letter", "Application/DTMF-Relay", "Signal=d\r\nDuration=250\r\n", 200, "D"},
		{"dtmf", "application/dtmf", "7", 200, "7"},
		{"dtmf-number", "application/dtmf", "11\r\n", 200, "#"},
		{"empty", "", "", 200, ""},
		{"bad-signal", "application/dtmf-relay", "Signal=X\r\n", 400, ""},
		{"no-signal", "application/dtmf-relay", "Duration=160\r\n", 400, ""},
		{"other-type", "text/plain", "hello", 415, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := p.ack(inv, ok.m, "")
			req.Method = "INFO"
			req.Set("CSeq", strconv.Itoa(seq)+" INFO")
			seq++
			if tc.body != "" {
				req.Add("Content-Type", tc.ctype)
				req.Body = []byte(tc.body)
			}
			p.send(req, ok.from)
			resp := p.next("INFO answer", func(m *sipmsg.Message) bool { return !m.IsRequest() }).m
			if resp.StatusCode != tc.code {
				t.Errorf("INFO answer: got %d, want %d", resp.StatusCode, tc.code)
			}
			if tc.code == 415 && resp.Get("Accept") == "" {
				t.Errorf("415 Accept: got none, want the DTMF types")
			}
			if tc.digit != "" {
				got.want(t, tc.digit)
			}
			if extra := got.drained(c); extra != "" {
				t.Errorf("extra digits: got %q, want none", extra)
			}
		})
	}
	p.hangupFrom(c)
}

// TestDTMFBothWaysOnce: a peer sending each key press by RFC 4733 and by
// INFO ("55", so a repeated digit must survive) is reported once per
// press.
func TestDTMFBothWaysOnce(t *testing.T) {
	calls := make(chan *Call, 1)
	got := make(digits, 16)
	b := newUA(t, func(c *Config) {
		c.OnIncoming = acceptAll(t, calls)
		c.NewCall = got.hook
		c.DTMFMode = DTMFBoth
		c.DTMFWindow = time.Minute // the rule, not the machine's speed, is under test
	})
	a := newUA(t, func(c *Config) { c.DTMFMode = DTMFBoth })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca, err := a.Dial(ctx, uaURI(b), DialOptions{})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	cb := recvCall(t, calls)
	waitState(t, cb, StateActive)
	if err := ca.SendDTMF("55"); err != nil {
		t.Fatalf("SendDTMF: %v", err)
	}
	if err := ca.SendDTMFInfo(ctx, "55"); err != nil {
		t.Fatalf("SendDTMFInfo: %v", err)
	}
	got.want(t, "55")
	deadline := time.Now().Add(10 * time.Second)
	for cb.Media().Stats().DTMFReceived < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("RFC 4733 digits: got %d, want 2", cb.Media().Stats().DTMFReceived)
		}
		select {
		case <-cb.Done():
			t.Fatal("call ended")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if extra := got.drained(cb); extra != "" {
		t.Errorf("extra digits: got %q, want none", extra)
	}
	ca.End(ctx)
}

// TestDTMFFilter: the pairing rule on its own, with a fixed clock.
func TestDTMFFilter(t *testing.T) {
	const w = time.Second
	type in struct {
		d   rune
		src dtmfSource
		ms  int
	}
	r, i := dtmfFromRTP, dtmfFromINFO
	for _, tc := range []struct {
		name string
		ins  []in
		want string
	}{
		{"rtp-only-repeats", []in{{'5', r, 0}, {'5', r, 10}, {'5', r, 20}}, "555"},
		{"info-only-repeats", []in{{'5', i, 0}, {'5', i, 10}}, "55"},
		{"both-interleaved", []in{{'5', r, 0}, {'5', i, 5}, {'5', r, 200}, {'5', i, 205}}, "55"},
		{"both-rtp-first", []in{{'5', r, 0}, {'5', r, 200}, {'5', i, 300}, {'5', i, 400}}, "55"},
		{"both-info-first", []in{{'1', i, 0}, {'2', i, 10}, {'1', r, 20}, {'2', r, 30}}, "12"},
		{"outside-window", []in{{'5', r, 0}, {'5', i, 1500}}, "55"},
		{"different-digits", []in{{'5', r, 0}, {'6', i, 5}}, "56"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f dtmfFilter
			t0 := time.Unix(1000, 0)
			var got []rune
			for _, e := range tc.ins {
				if f.admit(e.d, e.src, t0.Add(time.Duration(e.ms)*time.Millisecond), w) {
					got = append(got, e.d)
				}
			}
			if string(got) != tc.want {
				t.Errorf("admitted: got %q, want %q", string(got), tc.want)
			}
		})
	}
}

// FuzzParseDTMFRelay: no input panics; a body that parses is written back
// by appendDTMFRelay and parses to the same digit and duration.
func FuzzParseDTMFRelay(f *testing.F) {
	for _, s := range []string{
		"Signal=5\r\nDuration=160\r\n", "Signal=#", "signal = 10\nduration=100",
		"Signal=d\r\nDuration=250\r\n", "Duration=1\r\nSignal=*\r\n", "", "Signal=\r\n",
		"Signal=5\r\nSignal=6\r\n", "x\r\ny=z\r\nSignal=0",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, dur, err := parseDTMFRelay(b)
		if err != nil {
			return
		}
		d2, dur2, err := parseDTMFRelay(appendDTMFRelay(nil, d, dur))
		if err != nil || d2 != d || dur2 != dur {
			t.Fatalf("round trip of %q: got %q %d %v, want %q %d", b, d2, dur2, err, d, dur)
		}
	})
}

// TestDTMFQueueBounded: a peer sending digits faster than OnDTMF returns
// cannot grow the call's event queue without bound: past maxQueued
// waiting events digits are dropped and counted, every INFO is still
// answered, and the call's end is still reported.
func TestDTMFQueueBounded(t *testing.T) {
	t.Parallel()
	calls := make(chan *Call, 1)
	release := make(chan struct{})
	var delivered atomic.Int64
	ended := make(chan EndReason, 1)
	u := newUA(t, func(c *Config) {
		c.OnIncoming = acceptAll(t, calls)
		c.NewCall = func(c *Call) {
			c.OnDTMF(func(rune) { <-release; delivered.Add(1) })
			c.OnEnded(func(r EndReason) { ended <- r })
		}
	})
	p := newPeer(t)
	c, inv, ok := p.callIn(u, calls)
	const n = maxQueued + 50
	for i := range n {
		req := p.ack(inv, ok.m, "")
		req.Method = "INFO"
		req.Set("CSeq", strconv.Itoa(2+i)+" INFO")
		req.Add("Content-Type", "application/dtmf-relay")
		req.Body = []byte("Signal=5\r\nDuration=100\r\n")
		p.send(req, ok.from)
		if r := p.next("INFO answer", func(m *sipmsg.Message) bool { return !m.IsRequest() }).m; r.StatusCode != 200 {
			t.Fatalf("INFO %d: got %d, want 200", i, r.StatusCode)
		}
	}
	// An INFO is answered before its digit is queued; the OPTIONS, read
	// after the last INFO by the same reader, is answered after it was.
	p.options(u)
	// One digit may be in OnDTMF already, the rest wait in the queue.
	dropped := int(c.DTMFDropped())
	if dropped < n-maxQueued-1 || dropped > n-maxQueued {
		t.Errorf("dropped %d digits, want %d or %d", dropped, n-maxQueued-1, n-maxQueued)
	}
	close(release)
	p.hangupFrom(c)
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("OnEnded not called")
	}
	if got := int(delivered.Load()); got != n-dropped {
		t.Errorf("OnDTMF calls: got %d, want %d (%d sent, %d dropped)", got, n-dropped, n, dropped)
	}
}

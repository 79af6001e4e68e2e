package sipmsg

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const inviteText = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n" +
	"v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8, SIP/2.0/TCP p1.example.com:5061;branch=z9hG4bK2\r\n" +
	"Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bK3;received=192.0.2.9\r\n" +
	"Max-Forwards: 70\r\n" +
	"To: Bob <sip:bob@biloxi.example.com>\r\n" +
	"f: \"Alice, A.\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n" +
	"i: a84b4c76e66710@pc33.atlanta.example.com\r\n" +
	"CSeq: 314159 INVITE\r\n" +
	"m: <sip:alice@pc33.atlanta.example.com>;expires=60;q=0.7, \"Other, Name\" <sip:o@h.example.com>\r\n" +
	"Record-Route: <sip:p1.example.com;lr>\r\n" +
	"Authorization: Digest username=\"alice\", realm=\"atlanta.example.com\", nonce=\"x\"\r\n" +
	"Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n" +
	"Timestamp: 54\r\n" +
	"Supported: replaces, 100rel\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: 4\r\n" +
	"\r\n" +
	"v=0\r\n"

func mustParse(t *testing.T, s string) *Message {
	t.Helper()
	m, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return m
}

func TestHeaderAccess(t *testing.T) {
	m := mustParse(t, inviteText)
	tests := []struct {
		name string
		want []string
	}{
		{"via", []string{"SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8", "SIP/2.0/TCP p1.example.com:5061;branch=z9hG4bK2", "SIP/2.0/UDP p2.example.com;branch=z9hG4bK3;received=192.0.2.9"}},
		{"Contact", []string{"<sip:alice@pc33.atlanta.example.com>;expires=60;q=0.7", "\"Other, Name\" <sip:o@h.example.com>"}},
		{"AUTHORIZATION", []string{"Digest username=\"alice\", realm=\"atlanta.example.com\", nonce=\"x\""}},
		{"Date", []string{"Sat, 13 Nov 2010 23:29:00 GMT"}},
		{"call-id", []string{"a84b4c76e66710@pc33.atlanta.example.com"}},
		{"k", []string{"replaces", "100rel"}},
		{"X-Missing", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := m.Values(tt.name)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	eq(t, "Get i", m.Get("Call-ID"), m.Get("i"))
	eq(t, "Has", m.Has("l"), true)
	eq(t, "body", string(m.Body), "v=0\r")
	eq(t, "canonical", CanonicalName("v"), "Via")
	eq(t, "canonical other", CanonicalName("x-foo"), "x-foo")

	from := get(m.From()).ok(t)
	eq(t, "from display", from.DisplayName(), "Alice, A.")
	eq(t, "from tag", from.Tag(), "1928301774")
	to := get(m.To()).ok(t)
	eq(t, "to display", to.Display, "Bob")
	eq(t, "to tag", to.Tag(), "")
	c := get(m.Contact()).ok(t)
	eq(t, "contact expires", c.Params.Value("expires"), "60")
	eq(t, "contact q", c.Params.Value("q"), "0.7")
	eq(t, "contacts", len(get(m.Contacts()).ok(t)), 2)
	v := get(m.Via()).ok(t)
	eq(t, "via branch", v.Branch(), "z9hG4bKnashds8")
	vias := get(m.Vias()).ok(t)
	eq(t, "via count", len(vias), 3)
	eq(t, "via1 port", vias[1].Port, 5061)
	eq(t, "via2 received", vias[2].Received(), "192.0.2.9")
	eq(t, "supported", m.HasToken("Supported", "100REL"), true)
	eq(t, "not supported", m.HasToken("Supported", "timer"), false)
	if err := m.Validate(); err != nil {
		t.Errorf("validate: got %v, want nil", err)
	}
}

func TestTypedHeaders(t *testing.T) {
	m := mustParse(t, "NOTIFY sip:a@b.example.com SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1;maddr=239.255.255.1;ttl=16;rport=5070\r\n"+
		"From: <sip:x@y.example.com>;tag=1\r\nTo: <sip:a@b.example.com>;tag=2\r\nCall-ID: c\r\nCSeq: 2 NOTIFY\r\n"+
		"Event: refer;id=93809824\r\nSubscription-State: terminated;reason=noresource;expires=0\r\n"+
		"Session-Expires: 1800;refresher=uac\r\nMin-SE: 90\r\nExpires: 3600\r\nMin-Expires: 60\r\n"+
		"RAck: 776656 1 INVITE\r\nRSeq: 988789\r\n"+
		"Refer-To: <sip:carol@c.example.com?Replaces=12345%40192.0.2.4%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\n"+
		"Replaces: 98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only\r\n"+
		"Allow: INVITE, ACK\r\nRequire: timer\r\nProxy-Authenticate: Digest realm=\"a\", nonce=\"b\"\r\n"+
		"Content-Length: 0\r\n\r\n")
	v := get(m.Via()).ok(t)
	eq(t, "maddr", v.MAddr(), "239.255.255.1")
	eq(t, "ttl", v.TTL(), 16)
	rp, ok := v.RPort()
	eq(t, "rport", rp, 5070)
	eq(t, "rport present", ok, true)
	ev := get(m.Event()).ok(t)
	eq(t, "event", ev.Type+"/"+ev.ID, "refer/93809824")
	ss := get(m.SubscriptionState()).ok(t)
	eq(t, "substate", ss.State+"/"+ss.Reason, "terminated/noresource")
	eq(t, "substate expires", ss.Expires, 0)
	se := get(m.SessionExpires()).ok(t)
	eq(t, "session-expires", se.Delta, uint32(1800))
	eq(t, "refresher", se.Refresher, "uac")
	eq(t, "min-se", get(m.MinSE()).ok(t), uint32(90))
	eq(t, "expires", get(m.Expires()).ok(t), uint32(3600))
	eq(t, "min-expires", get(m.MinExpires()).ok(t), uint32(60))
	eq(t, "rack", get(m.RAck()).ok(t), RAck{RSeq: 776656, CSeq: 1, Method: "INVITE"})
	eq(t, "rseq", get(m.RSeq()).ok(t), uint32(988789))
	rt := get(m.ReferTo()).ok(t)
	eq(t, "refer-to replaces", Unescape(rt.URI.Headers), "Replaces=12345@192.0.2.4;to-tag=1;from-tag=2")
	rep := get(m.Replaces()).ok(t)
	eq(t, "replaces", rep, Replaces{CallID: "98732@sip.example.com", FromTag: "r33th4x0r", ToTag: "ff87ff", EarlyOnly: true, Params: rep.Params})
	eq(t, "allow", strings.Join(m.Allow(), ","), "INVITE,ACK")
	eq(t, "require", strings.Join(m.Require(), ","), "timer")
	eq(t, "supported", len(m.Supported()), 0)
	eq(t, "proxy-authenticate", m.Get("Proxy-Authenticate"), "Digest realm=\"a\", nonce=\"b\"")
	if _, err := m.ContentType(); !errors.Is(err, ErrMissingHeader) {
		t.Errorf("content-type: got %v, want ErrMissingHeader", err)
	}
}

func TestMutation(t *testing.T) {
	m := mustParse(t, inviteText)
	v := get(m.Via()).ok(t)
	// RFC 3261 §18.2.1 and RFC 3581 §4: the server transport stamps the top Via.
	v.Params = v.Params.Set("received", "198.51.100.7").Set("rport", "5062")
	if err := m.SetVia(v); err != nil {
		t.Fatal(err)
	}
	got := get(m.Via()).ok(t)
	eq(t, "received", got.Received(), "198.51.100.7")
	eq(t, "vias kept", len(get(m.Vias()).ok(t)), 3)
	m.PrependVia(Via{Transport: "TCP", Host: "2001:db8::1", Port: 5060, Params: "branch=z9hG4bKnew"})
	eq(t, "prepended", m.Field(0).Value, "SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKnew")
	eq(t, "top branch", get(m.Via()).ok(t).Branch(), "z9hG4bKnew")
	eq(t, "remove", m.RemoveVia(), true)
	eq(t, "top after remove", get(m.Via()).ok(t).Received(), "198.51.100.7")
	m.RemoveVia()
	m.RemoveVia()
	eq(t, "last via", get(m.Via()).ok(t).Branch(), "z9hG4bK3")
	m.RemoveVia()
	if _, err := m.Via(); !errors.Is(err, ErrMissingHeader) {
		t.Errorf("no via: got %v, want ErrMissingHeader", err)
	}

	c := m.Clone()
	m.Body = []byte("v=0\r\no=x\r\n")
	m.SetContentLength()
	eq(t, "content-length", get(m.ContentLength()).ok(t), 10)
	eq(t, "clone content-length", get(c.ContentLength()).ok(t), 4)
	m.Set("CSeq", "7 INVITE")
	eq(t, "cseq after set", get(m.CSeq()).ok(t).Seq, uint32(7))
	eq(t, "clone cseq", get(c.CSeq()).ok(t).Seq, uint32(314159))
	m.Add("X-A", "1")
	m.Add("x-a", "2")
	eq(t, "x-a values", strings.Join(m.Values("X-A"), ","), "1,2")
	m.Set("X-a", "3")
	eq(t, "x-a set", strings.Join(m.Values("X-A"), ","), "3")
	m.Del("x-A")
	eq(t, "x-a del", m.Has("X-A"), false)
	m.Del("Contact")
	if _, err := m.Contact(); !errors.Is(err, ErrMissingHeader) {
		t.Errorf("contact after Del: got %v, want ErrMissingHeader", err)
	}
	checkRoundTrip(t, m)
	checkRoundTrip(t, c)
}

func TestNewResponse(t *testing.T) {
	req := mustParse(t, inviteText)
	tests := []struct {
		code       int
		wantRR     bool
		wantTS     bool
		wantReason string
	}{
		{100, false, true, "Trying"},
		{180, true, false, "Ringing"},
		{200, true, false, "OK"},
		{486, false, false, "Busy Here"},
	}
	for _, tt := range tests {
		r := NewResponse(req, tt.code, "")
		eq(t, "reason", r.Reason, tt.wantReason)
		eq(t, "record-route", r.Has("Record-Route"), tt.wantRR)
		eq(t, "timestamp", r.Has("Timestamp"), tt.wantTS)
		eq(t, "vias", len(get(r.Vias()).ok(t)), 3)
		eq(t, "call-id", r.CallID(), req.CallID())
		eq(t, "cseq", get(r.CSeq()).ok(t), get(req.CSeq()).ok(t))
		eq(t, "contact", r.Has("Contact"), false)
		if err := r.SetToTag("abc"); err != nil {
			t.Fatal(err)
		}
		if err := r.SetToTag("other"); err != nil {
			t.Fatal(err)
		}
		eq(t, "to tag", get(r.To()).ok(t).Tag(), "abc")
		eq(t, "from tag", get(r.From()).ok(t).Tag(), "1928301774")
		if err := r.Validate(); err != nil {
			t.Errorf("validate %d: %v", tt.code, err)
		}
		checkRoundTrip(t, r)
	}
	// Not dialog-creating: no Record-Route even in a 200.
	opt := mustParse(t, strings.Replace(strings.Replace(inviteText, "INVITE sip:", "OPTIONS sip:", 1), "314159 INVITE", "314159 OPTIONS", 1))
	eq(t, "options rr", NewResponse(opt, 200, "").Has("Record-Route"), false)
}

func TestNewRequest(t *testing.T) {
	u := get(ParseURI("sip:bob@biloxi.example.com")).ok(t)
	m := NewRequest("OPTIONS", u)
	m.PrependVia(Via{Transport: "UDP", Host: "192.0.2.1", Port: 5060, Params: "branch=z9hG4bK1;rport"})
	m.Add("Max-Forwards", "70")
	m.Add("From", Address{Display: Quote("A \"B\""), URI: get(ParseURI("sip:a@atlanta.example.com")).ok(t), Params: "tag=x"}.String())
	m.Add("To", Address{URI: u}.String())
	m.Add("Call-ID", "k3l4@192.0.2.1")
	m.Add("CSeq", CSeq{Seq: 1, Method: "OPTIONS"}.String())
	m.SetContentLength()
	want := "OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: \"A \\\"B\\\"\" <sip:a@atlanta.example.com>;tag=x\r\n" +
		"To: sip:bob@biloxi.example.com\r\n" +
		"Call-ID: k3l4@192.0.2.1\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n"
	eq(t, "wire", m.String(), want)
	p := mustParse(t, want)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	eq(t, "display", get(p.From()).ok(t).DisplayName(), "A \"B\"")
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", DefaultMaxLineLength+1)
	tests := []struct {
		name, in string
		tooLarge bool
	}{
		{"empty", "", false},
		{"no empty line", "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n", false},
		{"bare LF", "OPTIONS sip:a@b SIP/2.0\nCall-ID: x\r\n\r\n", false},
		{"bare LF in header", "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\nTo: y\r\n\r\n", false},
		{"no colon", "OPTIONS sip:a@b SIP/2.0\r\nCall-ID x\r\n\r\n", false},
		{"bad name", "OPTIONS sip:a@b SIP/2.0\r\nCall ID: x\r\n\r\n", false},
		{"leading fold", "OPTIONS sip:a@b SIP/2.0\r\n x: y\r\n\r\n", false},
		{"bad code", "SIP/2.0 99 Low\r\n\r\n", false},
		{"code 700", "SIP/2.0 700 High\r\n\r\n", false},
		{"no version", "OPTIONS sip:a@b\r\n\r\n", false},
		{"bad method", "OP(TIONS sip:a@b SIP/2.0\r\n\r\n", false},
		{"cseq", "OPTIONS sip:a@b SIP/2.0\r\nCSeq: x OPTIONS\r\n\r\n", false},
		{"content-length", "OPTIONS sip:a@b SIP/2.0\r\nl: 1x\r\n\r\n", false},
		{"long line", "OPTIONS sip:a@b SIP/2.0\r\nX: " + long + "\r\n\r\n", true},
		{"too many", "OPTIONS sip:a@b SIP/2.0\r\n" + strings.Repeat("X: y\r\n", DefaultMaxHeaders+1) + "\r\n", true},
		{"too big", "OPTIONS sip:a@b SIP/2.0\r\nX: y\r\n\r\n" + strings.Repeat("a", DefaultMaxMessageSize), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			if len(pe.Quote) > maxQuote || pe.Offset < 0 || pe.Offset > len(tt.in) || !strings.HasPrefix(pe.Error(), "sipmsg: ") {
				t.Errorf("got %#v, want offset in range and a short quote", pe)
			}
			eq(t, "too large", errors.Is(err, ErrTooLarge), tt.tooLarge)
		})
	}
	// Custom limits.
	p := Parser{MaxHeaders: 2}
	if _, err := p.Parse([]byte("OPTIONS sip:a@b SIP/2.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxHeaders 2: got %v, want ErrTooLarge", err)
	}
}

func TestAllocations(t *testing.T) {
	for _, w := range workloads {
		raw := readWorkload(t, w.file)
		allocs := testing.AllocsPerRun(50, func() {
			if _, err := Parse(raw); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 4 {
			t.Errorf("%s: Parse got %v allocs, want at most 4", w.name, allocs)
		}
		allocs = testing.AllocsPerRun(50, func() {
			m, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := readCommon(m); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 4 {
			t.Errorf("%s: Parse and the common headers got %v allocs, want at most 4", w.name, allocs)
		}
		m, _ := Parse(raw)
		if _, err := readCommon(m); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 0, 8192)
		allocs = testing.AllocsPerRun(50, func() {
			buf = m.AppendTo(buf[:0])
			if _, err := readCommon(m); err != nil { // cached: no work, no allocation
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: AppendTo and cached reads got %v allocs, want 0", w.name, allocs)
		}
		eq(t, w.name+" byte-exact", string(buf), string(raw))
	}
}

func TestCancelAck(t *testing.T) {
	req := mustParse(t, strings.Replace(inviteText, "Record-Route:", "Route:", 1))
	c, err := NewCancel(req)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "method", c.Method, "CANCEL")
	eq(t, "ruri", c.RequestURI.String(), req.RequestURI.String())
	eq(t, "vias", len(get(c.Vias()).ok(t)), 1)
	eq(t, "via", get(c.Via()).ok(t).Branch(), "z9hG4bKnashds8")
	eq(t, "cseq", get(c.CSeq()).ok(t), CSeq{Seq: 314159, Method: "CANCEL"})
	eq(t, "route", c.Get("Route"), "<sip:p1.example.com;lr>")
	eq(t, "to", c.Get("To"), req.Get("To"))
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	resp := NewResponse(req, 486, "")
	if err := resp.SetToTag("xyz"); err != nil {
		t.Fatal(err)
	}
	a, err := NewAck(req, resp)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ack method", a.Method, "ACK")
	eq(t, "ack to tag", get(a.To()).ok(t).Tag(), "xyz")
	eq(t, "ack cseq", get(a.CSeq()).ok(t).Method, "ACK")
	eq(t, "ack from tag", get(a.From()).ok(t).Tag(), "1928301774")
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	checkRoundTrip(t, a)
}

// TestReasons: the Reason header (RFC 3326), with §2's examples: values
// in order across headers and lists, cause and unquoted text; -1 with no
// cause; an empty protocol or a cause that is not a number is an error.
func TestReasons(t *testing.T) {
	m := mustParse(t, "BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=2\r\n"+
		"Call-ID: c\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\n"+
		"Reason: SIP ;cause=200 ;text=\"Call completed elsewhere\"\r\n"+
		"Reason: Q.850 ;cause=16 ;text=\"Terminated\", Q.850;cause=17\r\n"+
		"Reason: preemption\r\nContent-Length: 0\r\n\r\n")
	got, err := m.Reasons()
	want := []Reason{
		{Protocol: "SIP", Cause: 200, Text: "Call completed elsewhere"},
		{Protocol: "Q.850", Cause: 16, Text: "Terminated"},
		{Protocol: "Q.850", Cause: 17},
		{Protocol: "preemption", Cause: -1},
	}
	if err != nil || len(got) != len(want) {
		t.Fatalf("Reasons: got %+v, %v, want %+v", got, err, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Reason %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{";cause=1", "SIP;cause=x", "S I P;cause=1"} {
		m := mustParse(t, "BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=2\r\n"+
			"Call-ID: c\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nReason: "+bad+"\r\nContent-Length: 0\r\n\r\n")
		if _, err := m.Reasons(); err == nil {
			t.Errorf("Reason: %s: no error", bad)
		}
	}
}

// TestRetryAfter: delta-seconds with RFC 3261 §20.33's comment and
// duration parameter ignored; not a number is an error, none is
// ErrMissingHeader.
func TestRetryAfter(t *testing.T) {
	msg := func(v string) *Message {
		h := ""
		if v != "" {
			h = "Retry-After: " + v + "\r\n"
		}
		return mustParse(t, "SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=2\r\n"+
			"Call-ID: c\r\nCSeq: 1 INVITE\r\n"+h+"Content-Length: 0\r\n\r\n")
	}
	for v, want := range map[string]time.Duration{"18000;duration=3600": 5 * time.Hour, "120 (I'm in a meeting)": 2 * time.Minute, "0": 0, "7": 7 * time.Second} {
		if got, err := msg(v).RetryAfter(); err != nil || got != want {
			t.Errorf("Retry-After: %s: got %v, %v, want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"soon", "1x", "-5"} {
		if _, err := msg(v).RetryAfter(); err == nil {
			t.Errorf("Retry-After: %s: no error", v)
		}
	}
	if _, err := msg("").RetryAfter(); !errors.Is(err, ErrMissingHeader) {
		t.Errorf("no Retry-After: got %v, want ErrMissingHeader", err)
	}
}

// A bad expires makes Subscription-State an error, except with terminated,
// where expires means nothing (RFC 6665 §4.1.3).
func TestSubscriptionStateExpires(t *testing.T) {
	for _, tt := range []struct {
		value   string
		expires int
		ok      bool
	}{
		{"active;expires=600", 600, true},
		{"active;expires=soon", 0, false},
		{"pending;expires=", 0, false},
		{"terminated;reason=timeout;expires=soon", -1, true},
		{"Terminated;expires=", -1, true},
		{"terminated;expires=0", 0, true},
	} {
		m := mustParse(t, "NOTIFY sip:a@b.example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"+
			"From: <sip:x@y.example.com>;tag=1\r\nTo: <sip:a@b.example.com>;tag=2\r\nCall-ID: c\r\nCSeq: 2 NOTIFY\r\n"+
			"Event: dialog\r\nSubscription-State: "+tt.value+"\r\nContent-Length: 0\r\n\r\n")
		ss, err := m.SubscriptionState()
		if (err == nil) != tt.ok || (tt.ok && ss.Expires != tt.expires) {
			t.Errorf("%q: got expires %d, error %v; want %d, ok %v", tt.value, ss.Expires, err, tt.expires, tt.ok)
		}
	}
}

// TestWireLen: WireLen is the length AppendTo gives, for requests and
// responses, without allocating.
func TestWireLen(t *testing.T) {
	for _, raw := range []string{
		"INVITE sip:bob@[2001:db8::1]:5062;transport=udp SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 3\r\n\r\nabc",
		"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nv: SIP/2.0/TCP g\r\n\r\n",
	} {
		m, err := Parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		m.Add("X-Added", "value")
		if got, want := m.WireLen(), len(m.AppendTo(nil)); got != want {
			t.Errorf("WireLen: got %d, want %d", got, want)
		}
		if n := testing.AllocsPerRun(10, func() { m.WireLen() }); n != 0 {
			t.Errorf("WireLen allocates %v times", n)
		}
	}
}

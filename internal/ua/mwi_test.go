package ua

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/sipmsg"
)

const mwiBody = "Messages-Waiting: yes\r\nMessage-Account: sip:test@vm\r\nVoice-Message: 2/8 (0/2)\r\n"

// mwiNotify builds the peer's NOTIFY in the subscription sub (the 2xx'd
// SUBSCRIBE) with the peer's tag, CSeq seq and Subscription-State state.
func (p *peer) mwiNotify(sub *sipmsg.Message, tag string, seq int, state, body string) *sipmsg.Message {
	c, err := sub.Contact()
	if err != nil {
		p.t.Fatalf("SUBSCRIBE without Contact: %v", err)
	}
	m := sipmsg.NewRequest("NOTIFY", c.URI)
	m.Add("Via", fmt.Sprintf("SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s", p.port, token()))
	to, _ := sub.To()
	to.Params = to.Params.Set("tag", tag)
	m.Add("From", to.String())
	m.Add("To", sub.Get("From"))
	m.Add("Call-ID", sub.CallID())
	m.Add("CSeq", fmt.Sprintf("%d NOTIFY", seq))
	m.Add("Max-Forwards", "70")
	m.Add("Contact", fmt.Sprintf("<sip:vm@127.0.0.1:%d>", p.port))
	m.Add("Event", "message-summary")
	m.Add("Subscription-State", state)
	if body != "" {
		m.Add("Content-Type", mwi.ContentType)
		m.Body = []byte(body)
	}
	return m
}

// TestMWISubscription: with MWI the UA subscribes to message-summary of
// its address of record (Event, Accept, Expires), answers the server's
// digest challenge, reports each NOTIFY's summary to OnVoicemail,
// refreshes inside the subscription's dialog before it lapses, subscribes
// anew after a NOTIFY ends it, takes an unsolicited NOTIFY, and on
// Disconnect removes the subscription with Expires: 0.
func TestMWISubscription(t *testing.T) {
	p := newPeer(t)
	got := make(chan mwi.Summary, 8)
	u := newUA(t, func(c *Config) {
		c.Host, c.Port, c.RegisterExpiry = "127.0.0.1", p.port, -1
		c.AuthUsername, c.Password = "test", "secret"
		c.MWI = true
		c.OnVoicemail = func(s mwi.Summary) { got <- s }
	})
	summary := func(what string) mwi.Summary {
		t.Helper()
		select {
		case s := <-got:
			return s
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: OnVoicemail was not called", what)
			return mwi.Summary{}
		}
	}
	isSub := isReq("SUBSCRIBE")

	first := p.next("SUBSCRIBE", isSub)
	for h, want := range map[string]string{"Event": "message-summary", "Accept": mwi.ContentType, "Expires": "3600"} {
		if v := first.m.Get(h); v != want {
			t.Errorf("SUBSCRIBE %s: got %q, want %q", h, v, want)
		}
	}
	if ru := first.m.RequestURI.String(); ru != fmt.Sprintf("sip:test@127.0.0.1:%d", p.port) {
		t.Errorf("SUBSCRIBE Request-URI: got %s, want our address of record", ru)
	}
	p.respond(first, 401, token(), "", "WWW-Authenticate", `Digest realm="vm", nonce="n0nce", algorithm=MD5, qop="auth"`)
	sub := p.next("SUBSCRIBE with credentials", func(m *sipmsg.Message) bool { return isSub(m) && m.Has("Authorization") })
	cr, err := digest.ParseCredentials(sub.m.Get("Authorization"))
	if err != nil || digest.Check(&cr, digest.Request{Method: "SUBSCRIBE", URI: sub.m.RequestURI.String()}, "test", "secret") != nil {
		t.Errorf("SUBSCRIBE credentials: %q, %v", sub.m.Get("Authorization"), err)
	}
	tag := token()
	p.respond(sub, 200, tag, "", "Expires", "2")
	p.send(p.mwiNotify(sub.m, tag, 1, "active;expires=2", mwiBody), sub.from)
	p.next("200 to NOTIFY", isResp(200, "NOTIFY"))
	if s := summary("first NOTIFY"); !s.Waiting || s.Voice() != (mwi.Counts{New: 2, Old: 8, OldUrgent: 2}) || s.Account != "sip:test@vm" {
		t.Errorf("summary: got %+v", s)
	}

	// The refresh, at half of the 2 s granted, inside the dialog.
	ref := p.next("refreshing SUBSCRIBE", isSub)
	to, _ := ref.m.To()
	cs0, _ := sub.m.CSeq()
	cs1, _ := ref.m.CSeq()
	if ref.m.CallID() != sub.m.CallID() || to.Tag() != tag || cs1.Seq <= cs0.Seq {
		t.Errorf("refresh: got Call-ID %q To tag %q CSeq %d, want the dialog's with CSeq above %d", ref.m.CallID(), to.Tag(), cs1.Seq, cs0.Seq)
	}
	p.respond(ref, 200, tag, "", "Expires", "3600")

	// The server ends it: a new subscription follows at once.
	p.send(p.mwiNotify(sub.m, tag, 2, "terminated;reason=timeout", "Messages-Waiting: no\r\n"), sub.from)
	p.next("200 to the last NOTIFY", isResp(200, "NOTIFY"))
	if s := summary("terminating NOTIFY"); s.Waiting {
		t.Errorf("summary: got %+v, want none waiting", s)
	}
	again := p.next("new SUBSCRIBE", isSub)
	if to, _ := again.m.To(); again.m.CallID() == sub.m.CallID() || to.Tag() != "" {
		t.Errorf("after termination: got Call-ID %q To tag %q, want a new subscription", again.m.CallID(), to.Tag())
	}
	tag2 := token()
	p.respond(again, 200, tag2, "", "Expires", "3600")

	// Unsolicited, outside any dialog.
	un := p.invite(uaURI(u), "")
	un.Method = "NOTIFY"
	un.Set("CSeq", "1 NOTIFY")
	un.Add("Event", "message-summary")
	un.Add("Content-Type", mwi.ContentType)
	un.Body = []byte("Messages-Waiting: yes\r\nVoice-Message: 1/0\r\n")
	p.send(un, netipAddr(u))
	if r := p.next("answer to the unsolicited NOTIFY", isRespTo(un)).m; r.StatusCode != 200 {
		t.Errorf("unsolicited NOTIFY: got %d, want 200", r.StatusCode)
	}
	if s := summary("unsolicited NOTIFY"); s.Voice().New != 1 {
		t.Errorf("unsolicited summary: got %+v", s)
	}
	// A NOTIFY in a dialog we do not have is 481; a bad body 400.
	stray := p.mwiNotify(again.m, "other", 1, "active", mwiBody)
	stray.Set("Call-ID", token()+"@peer")
	p.send(stray, again.from)
	if r := p.next("answer to a stray NOTIFY", isRespTo(stray)).m; r.StatusCode != 481 {
		t.Errorf("stray NOTIFY: got %d, want 481", r.StatusCode)
	}
	bad := p.mwiNotify(again.m, tag2, 1, "active", "Voice-Message: x\r\n")
	p.send(bad, again.from)
	if r := p.next("answer to a bad NOTIFY", isRespTo(bad)).m; r.StatusCode != 400 {
		t.Errorf("bad NOTIFY: got %d, want 400", r.StatusCode)
	}

	done := make(chan error, 1)
	go func() { done <- u.Disconnect(context.Background()) }()
	un2 := p.next("unsubscribe", func(m *sipmsg.Message) bool { return isSub(m) && m.Get("Expires") == "0" })
	if to, _ := un2.m.To(); un2.m.CallID() != again.m.CallID() || to.Tag() != tag2 {
		t.Errorf("unsubscribe: got Call-ID %q To tag %q, want the current dialog", un2.m.CallID(), to.Tag())
	}
	p.respond(un2, 200, tag2, "", "Expires", "0")
	if err := <-done; err != nil {
		t.Errorf("Disconnect: %v", err)
	}
}

// TestMWIRefused: a server that refuses the subscription (489 Bad Event)
// is reported once through OnError, and tried again with backoff.
func TestMWIRefused(t *testing.T) {
	p := newPeer(t)
	errs := make(chan error, 4)
	u := newUA(t, func(c *Config) {
		c.Host, c.Port, c.RegisterExpiry = "127.0.0.1", p.port, -1
		c.RegisterRetry = 50 * time.Millisecond
		c.MWI = true
		c.OnError = func(err error) { errs <- err }
	})
	for i := range 2 {
		s := p.next(fmt.Sprintf("SUBSCRIBE %d", i+1), isReq("SUBSCRIBE"))
		p.respond(s, 489, token(), "")
	}
	select {
	case err := <-errs:
		if !errors.Is(err, ErrMWIRefused) {
			t.Errorf("OnError: got %v, want ErrMWIRefused", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnError was not called")
	}
	select {
	case err := <-errs:
		t.Errorf("a second OnError for the same failure: %v", err)
	default:
	}
	_ = u
}

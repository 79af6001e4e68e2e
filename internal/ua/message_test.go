package ua

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/sipmsg"
)

// TestSendMessage: SendMessage sends MESSAGE with the body and its type,
// answers a 407 with credentials on the next CSeq and the same Call-ID,
// and returns nil on 202; a 404 is a *StatusError; a request over 1300
// bytes is refused on UDP before it is sent.
func TestSendMessage(t *testing.T) {
	p := newPeer(t)
	u := newUA(t, func(c *Config) { c.AuthUsername, c.Password = "alice", "secret" })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- u.SendMessage(ctx, p.uri("bob"), "", []byte("hello")) }()
	first := p.next("MESSAGE", isReq("MESSAGE"))
	if ct := first.m.Get("Content-Type"); ct != DefaultMessageType || string(first.m.Body) != "hello" {
		t.Errorf("MESSAGE: got %q %q, want %q hello", ct, first.m.Body, DefaultMessageType)
	}
	p.respond(first, 407, token(), "", "Proxy-Authenticate", `Digest realm="test", nonce="n0nce", algorithm=MD5, qop="auth"`)
	second := p.next("MESSAGE with credentials", func(m *sipmsg.Message) bool { return m.Method == "MESSAGE" && m.Has("Proxy-Authorization") })
	cr, err := digest.ParseCredentials(second.m.Get("Proxy-Authorization"))
	if err != nil || digest.Check(&cr, digest.Request{Method: "MESSAGE", URI: second.m.RequestURI.String()}, "alice", "secret") != nil {
		t.Errorf("credentials: %q %v", second.m.Get("Proxy-Authorization"), err)
	}
	cs1, _ := first.m.CSeq()
	cs2, _ := second.m.CSeq()
	if second.m.CallID() != first.m.CallID() || cs2.Seq != cs1.Seq+1 {
		t.Errorf("retry: Call-ID %q CSeq %d, want %q %d", second.m.CallID(), cs2.Seq, first.m.CallID(), cs1.Seq+1)
	}
	p.respond(second, 202, token(), "")
	if err := <-done; err != nil {
		t.Errorf("SendMessage: %v", err)
	}

	go func() { done <- u.SendMessage(ctx, p.uri("nobody"), "application/json", []byte(`{}`)) }()
	p.respond(p.next("MESSAGE", isReq("MESSAGE")), 404, token(), "")
	var se *StatusError
	if err := <-done; !errors.As(err, &se) || se.Code != 404 {
		t.Errorf("SendMessage to nobody: got %v, want a 404 StatusError", err)
	}
	if err := u.SendMessage(ctx, p.uri("bob"), "text/plain\r\nX-Evil: 1", []byte("x")); err == nil {
		t.Error("SendMessage with a line break in the content type: got nil error")
	}
	big := []byte(strings.Repeat("x", MaxMessageUDP))
	if err := u.SendMessage(ctx, p.uri("bob"), "", big); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("SendMessage of %d bytes over UDP: got %v, want ErrMessageTooLarge", len(big), err)
	}
	if m := p.none(200*time.Millisecond, isReq("MESSAGE")); m != nil {
		t.Errorf("the too large MESSAGE was sent")
	}
}

// TestReceiveMessage: a MESSAGE is answered 200 and handed to OnMessage
// with its From, To, type and body; without OnMessage it is 405, and
// Allow lists MESSAGE only when it is taken.
func TestReceiveMessage(t *testing.T) {
	p := newPeer(t)
	got := make(chan Message, 1)
	u := newUA(t, func(c *Config) { c.OnMessage = func(m Message) { got <- m } })
	send := func(u *UA) *sipmsg.Message {
		req := p.invite(uaURI(u), "")
		req.Method = "MESSAGE"
		req.Set("CSeq", "1 MESSAGE")
		req.Add("Content-Type", "text/plain")
		req.Body = []byte("hi there")
		req.SetContentLength()
		p.send(req, netipAddr(u))
		return p.next("answer to MESSAGE", isRespTo(req)).m
	}
	if r := send(u); r.StatusCode != 200 {
		t.Errorf("MESSAGE: got %d, want 200", r.StatusCode)
	}
	select {
	case m := <-got:
		if !strings.HasPrefix(m.From, "sip:peer@") || m.To != uaURI(u) || m.ContentType != "text/plain" || string(m.Body) != "hi there" {
			t.Errorf("OnMessage: got %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnMessage was not called")
	}
	off := newUA(t, nil)
	r := send(off)
	if r.StatusCode != 405 || strings.Contains(r.Get("Allow"), "MESSAGE") {
		t.Errorf("MESSAGE without OnMessage: got %d Allow %q, want 405 without MESSAGE", r.StatusCode, r.Get("Allow"))
	}
	if !strings.Contains(u.allow(), "MESSAGE") {
		t.Errorf("Allow with OnMessage: got %q", u.allow())
	}
}

// TestMaxUDPRequest: an INVITE larger than Config.MaxUDPRequest goes over
// TCP to the peer's port (RFC 3261 §18.1.1); with -1 it stays on UDP.
func TestMaxUDPRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		max     int
		overTCP bool
	}{{200, true}, {-1, false}} {
		p, ln := peerWithTCP(t)
		overTCP := make(chan string, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			b := make([]byte, 64)
			n, _ := c.Read(b)
			overTCP <- string(b[:n])
		}()
		u := newUA(t, func(c *Config) { c.MaxUDPRequest = tc.max })
		ctx, cancel := context.WithCancel(context.Background())
		go u.Dial(ctx, p.uri("bob"), DialOptions{}) //nolint:errcheck // cancelled below
		select {
		case start := <-overTCP:
			if !tc.overTCP || !strings.HasPrefix(start, "INVITE ") {
				t.Errorf("MaxUDPRequest %d: over TCP %q", tc.max, start)
			}
		case m := <-p.in:
			if tc.overTCP || m.m.Method != "INVITE" {
				t.Errorf("MaxUDPRequest %d: over UDP %s", tc.max, m.m.Method)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("MaxUDPRequest %d: no INVITE", tc.max)
		}
		cancel()
	}
}

// TestResponseWithTwoVias: a response that carries a second Via was
// meant for a proxy and is dropped (RFC 3261 §8.1.3.3): the MESSAGE's
// transaction waits for the response that is its own.
func TestResponseWithTwoVias(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- u.SendMessage(ctx, p.uri("bob"), "", []byte("hi")) }()
	m := p.next("MESSAGE", isReq("MESSAGE"))
	p.respond(m, 403, token(), "", "Via", "SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKproxy")
	p.respond(m, 200, token(), "")
	if err := <-done; err != nil {
		t.Errorf("SendMessage: got %v, want the 200's nil", err)
	}
}

// peerWithTCP returns a peer and a TCP listener on its UDP port, giving up
// a port whose TCP twin another socket holds for another.
func peerWithTCP(t *testing.T) (*peer, net.Listener) {
	t.Helper()
	for try := 1; ; try++ {
		p := newPeer(t)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)))
		if err == nil {
			t.Cleanup(func() { ln.Close() })
			return p, ln
		}
		if try == 20 {
			t.Fatalf("TCP on the peer's UDP port, %d tries: %v", try, err)
		}
	}
}

package ua

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// TestByeAnsweredBeforeShutdown: the peer's BYE is answered before the
// call is seen as ended, so an application that shuts its phone down the
// moment the call ends (Done, OnEnded) still sends the 200, and the
// caller's BYE gets its answer. The callee's UA is
// disconnected as soon as its call is done, 20 times over.
func TestByeAnsweredBeforeShutdown(t *testing.T) {
	t.Parallel()
	for range 20 {
		calls := make(chan *Call, 1)
		a, b := pair(t, acceptAll(t, calls), nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ca, err := a.Dial(ctx, uaURI(b), DialOptions{})
		if err != nil {
			cancel()
			t.Fatalf("Dial: %v", err)
		}
		cb := recvCall(t, calls)
		stopped := make(chan struct{})
		go func() {
			<-cb.Done()
			b.Disconnect(context.Background())
			close(stopped)
		}()
		// What End does, with the BYE's answer in hand.
		ca.end(EndLocalHangup, nil)
		resp, err := ca.inDialog(ctx, "BYE", nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("BYE: got %v, %v; want the callee's 200", resp, err)
		}
		<-stopped
		cancel()
		if got := cb.Reason(); got != EndRemoteHangup {
			t.Errorf("callee reason: got %v, want %v", got, EndRemoteHangup)
		}
	}
}

// TestEndBetweenAckAndActive: End called after the 2xx was ACKed, when
// cancelling the INVITE can no longer end the call, waits for the call to
// become active and hangs up with BYE. (It used to wait for an end that
// never came, sending nothing: a flaky TestUpdateEarlyNotAllowed.)
func TestEndBetweenAckAndActive(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	u := newUA(t, nil)
	ended := make(chan error, 1)
	u.testAcked = func(c *Call, ictx context.Context) {
		go func() { ended <- c.End(context.Background()) }()
		select { // End has cancelled the INVITE
		case <-ictx.Done():
		case <-time.After(10 * time.Second):
			t.Error("End did not cancel the INVITE")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	p.respond(inv, 200, token(), peerSDP(40000, "PCMU"))
	p.next("ACK", isReq("ACK"))
	p.respond(p.next("BYE", isReq("BYE")), 200, "", "")
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("End: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("End did not return")
	}
	if r := recvDial(t, res); r.err == nil {
		if got := r.c.Reason(); got != EndLocalHangup {
			t.Errorf("reason: got %v, want %v", got, EndLocalHangup)
		}
	}
}

// TestNewTagAfterDisconnect: a request still being handled when Disconnect
// let the transaction layer go gets its To tag all the same (CI saw a nil
// dereference there).
func TestNewTagAfterDisconnect(t *testing.T) {
	t.Parallel()
	u := newUA(t, nil)
	if err := u.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a, b := u.tlNewTag(), u.tlNewTag(); a == "" || a == b {
		t.Errorf("tags after Disconnect: %q, %q; want two different non-empty tags", a, b)
	}
}

// TestPeerReasons: the Reason headers (RFC 3326) of the peer's BYE, and of
// its CANCEL of a call still ringing, reach Config.EndCause as PeerReasons
// beside EndRemoteHangup and EndCancelled; a BYE without one gives nil.
func TestPeerReasons(t *testing.T) {
	t.Parallel()
	type end struct {
		r   EndReason
		err error
	}
	ends := make(chan end, 4)
	calls := make(chan *Call, 4)
	var answer atomic.Bool
	answer.Store(true)
	u := newUA(t, func(c *Config) {
		c.EndCause = func(r EndReason, err error) error { ends <- end{r, err}; return r }
		c.OnIncoming = func(c *Call) {
			calls <- c
			if answer.Load() {
				go c.Accept(context.Background()) //nolint:errcheck // the 200 is awaited
			}
		}
	})
	p := newPeer(t)
	bye := func(inv, ok *sipmsg.Message, from netip.AddrPort, reason string) {
		b := p.ack(inv, ok, "")
		b.Method = "BYE"
		b.Set("CSeq", "2 BYE")
		if reason != "" {
			b.Add("Reason", reason)
		}
		p.send(b, from)
		p.next("200 to BYE", isResp(200, "BYE"))
	}
	wait := func() end {
		t.Helper()
		select {
		case e := <-ends:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("the call did not end")
			return end{}
		}
	}
	for _, tc := range []struct {
		reason string
		want   PeerReasons
	}{
		{`Q.850 ;cause=16 ;text="Terminated"`, PeerReasons{{Protocol: "Q.850", Cause: 16, Text: "Terminated"}}},
		{"", nil},
	} {
		inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
		p.send(inv, netipAddr(u))
		ok := p.next("200", isResp(200, "INVITE"))
		p.send(p.ack(inv, ok.m, ""), ok.from)
		waitState(t, recvCall(t, calls), StateActive)
		bye(inv, ok.m, ok.from, tc.reason)
		e := wait()
		var got PeerReasons
		if e.err != nil && !errors.As(e.err, &got) {
			t.Errorf("BYE with %q: got error %v, want PeerReasons", tc.reason, e.err)
		}
		if e.r != EndRemoteHangup || !slices.Equal(got, tc.want) {
			t.Errorf("BYE with %q: got %v %+v, want %v %+v", tc.reason, e.r, got, EndRemoteHangup, tc.want)
		}
	}
	// A CANCEL that says the call was answered elsewhere.
	answer.Store(false)
	inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
	p.send(inv, netipAddr(u))
	ring := p.next("180", isResp(180, "INVITE"))
	recvCall(t, calls)
	can := sipmsg.NewRequest("CANCEL", inv.RequestURI)
	for _, h := range []string{"Via", "From", "To", "Call-ID", "Max-Forwards"} {
		can.Add(h, inv.Get(h))
	}
	can.Add("CSeq", "1 CANCEL")
	can.Add("Reason", `SIP ;cause=200 ;text="Call completed elsewhere"`)
	p.send(can, ring.from)
	p.next("487", isResp(487, "INVITE"))
	e := wait()
	var got PeerReasons
	errors.As(e.err, &got)
	if want := (PeerReasons{{Protocol: "SIP", Cause: 200, Text: "Call completed elsewhere"}}); e.r != EndCancelled || !slices.Equal(got, want) {
		t.Errorf("CANCEL: got %v %+v, want %v %+v", e.r, got, EndCancelled, want)
	}
}

// TestFinalResponseReasons: the Reason headers of a final response to our
// INVITE (RFC 6432: a carrier's Q.850 cause with a 486) and its
// Retry-After come back in Dial's StatusError and reach EndCause with it.
func TestFinalResponseReasons(t *testing.T) {
	t.Parallel()
	causes := make(chan error, 1)
	u := newUA(t, func(c *Config) {
		c.EndCause = func(r EndReason, err error) error { causes <- err; return r }
	})
	p := newPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	inv := p.next("INVITE", isReq("INVITE"))
	p.respond(inv, 486, token(), "", "Reason", "Q.850;cause=17;text=\"User busy\"", "Retry-After", "60")
	r := recvDial(t, res)
	var se *StatusError
	want := PeerReasons{{Protocol: "Q.850", Cause: 17, Text: "User busy"}}
	if !errors.As(r.err, &se) || se.Code != 486 || !slices.Equal(se.Reasons, want) || se.RetryAfter != time.Minute {
		t.Fatalf("Dial: got %v (%+v), want 486 with %+v, Retry-After 1m", r.err, se, want)
	}
	if err := <-causes; !errors.As(err, &se) || !slices.Equal(se.Reasons, want) {
		t.Errorf("EndCause: got %v, want the StatusError with its reasons", err)
	}
}

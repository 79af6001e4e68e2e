package ua

import (
	"context"
	"testing"
	"time"
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

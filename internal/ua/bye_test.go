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

package ua

import (
	"context"
	"testing"
	"time"
)

// TestByeEndsBeforeAnswer: when the caller's End returns (the callee's 200
// to BYE has arrived), the callee's call has already ended, so a Disconnect
// right after cannot race it into sending a BYE of its own to a peer that
// has gone away (which would hold Disconnect for 64*T1).
func TestByeEndsBeforeAnswer(t *testing.T) {
	t.Parallel()
	for range 20 {
		ca, cb := established(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := ca.End(ctx); err != nil {
			t.Fatalf("End: %v", err)
		}
		cancel()
		if got := cb.State(); got != StateEnded {
			t.Fatalf("callee state after the caller's End returned: got %v, want %v", got, StateEnded)
		}
		if got := cb.Reason(); got != EndRemoteHangup {
			t.Errorf("callee reason: got %v, want %v", got, EndRemoteHangup)
		}
	}
}

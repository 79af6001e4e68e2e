package transaction

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
)

// TestWaitQueueOrder: transactions that enter Completed at different
// times each end 64*T1 (Timer J, RFC 3261 §17.2.2) after their own final
// response, though they share one timer; one that terminates early (a
// transport failure) leaves the others' schedule alone.
func TestWaitQueueOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, rec, u := serverLayer(t)
		defer l.Close()
		branches := []string{"z9hG4bKq0", "z9hG4bKq1", "z9hG4bKq2", "z9hG4bKq3"}
		for i, b := range branches {
			if i > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			l.HandleInbound(inbound(request(t, "OPTIONS", b, "UDP"), transport.UDP))
			reqs, _, _ := u.snapshot()
			if err := respond(t, reqs[len(reqs)-1], 200); err != nil {
				t.Fatal(err)
			}
		}
		// q2's retransmission fails to send: it terminates at once.
		rec.setFail(errors.New("test: send failed"))
		l.HandleInbound(inbound(request(t, "OPTIONS", "z9hG4bKq2", "UDP"), transport.UDP))
		rec.setFail(nil)
		// Now 0.3 s after q0's final response.
		tests := []struct {
			at   time.Duration // since q0's final response
			want int
		}{
			{64*DefaultT1 - time.Millisecond, 3},
			{64 * DefaultT1, 2},
			{64*DefaultT1 + 100*time.Millisecond, 1},
			{64*DefaultT1 + 200*time.Millisecond, 1}, // q2 is already gone
			{64*DefaultT1 + 300*time.Millisecond, 0},
		}
		elapsed := 300 * time.Millisecond
		for _, tt := range tests {
			time.Sleep(tt.at - elapsed)
			elapsed = tt.at
			synctest.Wait()
			if _, s := l.counts(); s != tt.want {
				t.Errorf("at %v: server transactions: got %d, want %d", tt.at, s, tt.want)
			}
		}
	})
}

package transaction

import (
	"runtime"
	"testing"
	"weak"

	"github.com/xphone-go/xphone/internal/transport"
)

// TestServerReleasesRequest: once the TU's part of a server transaction is
// over (a final response to a non-INVITE request, a 2xx to an INVITE), the
// layer keeps matching retransmissions for Timer J or L without keeping
// the request or the ServerTx; before that, and for an INVITE awaiting
// the ACK of a non-2xx (Timer H reports to the TU), it keeps them.
func TestServerReleasesRequest(t *testing.T) {
	tests := []struct {
		method   string
		code     int
		released bool
	}{
		{"OPTIONS", 200, true},
		{"BYE", 481, true},
		{"INVITE", 200, true},
		{"INVITE", 486, false},
		{"INVITE", 180, false},
	}
	for _, tt := range tests {
		t.Run(tt.method+"/"+itoa(tt.code), func(t *testing.T) {
			l, rec, u := serverLayer(t)
			defer l.Close()
			req := request(t, tt.method, "z9hG4bKr1", "UDP")
			wreq := weak.Make(req)
			l.HandleInbound(inbound(req, transport.UDP))
			req = nil
			tx := onlyRequest(t, u)
			wtx := weak.Make(tx)
			if err := respond(t, tx, tt.code); err != nil {
				t.Fatal(err)
			}
			tx = nil
			u.reset()
			runtime.GC()
			runtime.GC()
			if got := wreq.Value() == nil && wtx.Value() == nil; got != tt.released {
				t.Errorf("request and ServerTx released: got %v, want %v", got, tt.released)
			}
			if _, s := l.counts(); s != 1 {
				t.Errorf("server transactions: got %d, want 1", s)
			}
			// A retransmission still matches: answered again (non-INVITE,
			// non-2xx) or absorbed, never a new transaction.
			before := len(rec.sends())
			l.HandleInbound(inbound(request(t, tt.method, "z9hG4bKr1", "UDP"), transport.UDP))
			if reqs, _, _ := u.snapshot(); len(reqs) != 0 {
				t.Errorf("retransmission reached the TU: got %d requests, want 0", len(reqs))
			}
			wantResend := !(tt.method == "INVITE" && tt.code >= 200 && tt.code < 300)
			if got := len(rec.sends()) - before; got != map[bool]int{true: 1, false: 0}[wantResend] {
				t.Errorf("responses re-sent: got %d, want resend %v", got, wantResend)
			}
		})
	}
}

// reset forgets what the TU recorded.
func (u *tu) reset() {
	u.mu.Lock()
	u.requests, u.outside, u.errs = nil, nil, nil
	u.mu.Unlock()
}

func itoa(n int) string {
	return string(rune('0'+n/100)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}

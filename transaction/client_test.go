package transaction

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
)

// TestClientRetransmitSchedule checks Timers A and E (count and spacing)
// on UDP, their absence on TCP, and Timers B and F (RFC 3261 §17.1.1.2,
// §17.1.2.2).
func TestClientRetransmitSchedule(t *testing.T) {
	tests := []struct {
		name   string
		method string
		proto  transport.Protocol
		want   []time.Duration
	}{
		{"INVITE/UDP", "INVITE", transport.UDP, []time.Duration{0, sec(0.5), sec(1.5), sec(3.5), sec(7.5), sec(15.5), sec(31.5)}},
		{"INVITE/TCP", "INVITE", transport.TCP, []time.Duration{0}},
		{"OPTIONS/UDP", "OPTIONS", transport.UDP, []time.Duration{0, sec(0.5), sec(1.5), sec(3.5), sec(7.5), sec(11.5), sec(15.5), sec(19.5), sec(23.5), sec(27.5), sec(31.5)}},
		{"OPTIONS/TLS", "OPTIONS", transport.TLS, []time.Duration{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				l := New(rec, &tu{}, Config{})
				start := time.Now()
				tx, err := l.Request(context.Background(), request(t, tt.method, "", "UDP"), transport.Addr{Protocol: tt.proto, AddrPort: addrB})
				if err != nil {
					t.Fatal(err)
				}
				for range tx.Responses() {
					t.Error("got a response, want none")
				}
				if got := time.Since(start); got != 32*time.Second {
					t.Errorf("ended after %v, want 32s (Timer B/F = 64*T1)", got)
				}
				if got := rec.times(tt.method); !equalDurations(got, tt.want) {
					t.Errorf("sent at %v, want %v", got, tt.want)
				}
				if err := tx.Err(); !errors.Is(err, ErrTimeout) || errors.Is(err, ErrTransport) || errors.Is(err, ErrCanceled) {
					t.Errorf("Err: got %v, want ErrTimeout only", err)
				}
				checkEmpty(t, l)
			})
		})
	}
}

// TestClientTimers checks the configurable T1/T2 and that E is reset to T2
// after a provisional response (§17.1.2.2).
func TestClientProceedingRetransmits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		l := New(rec, &tu{}, Config{T1: 100 * time.Millisecond, T2: time.Second})
		tx, err := l.Request(context.Background(), request(t, "OPTIONS", "", "UDP"), udp(addrB))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
		l.HandleInbound(inbound(reply(t, rec.sends()[0].msg, 100), transport.UDP))
		for range tx.Responses() {
		}
		// E: 0.1, 0.3 (Trying), then T2 steps from the fire at 0.3: 1.3, 2.3, ...; F at 6.4 s.
		want := []time.Duration{0, sec(0.1), sec(0.3), sec(1.3), sec(2.3), sec(3.3), sec(4.3), sec(5.3), sec(6.3)}
		if got := rec.times("OPTIONS"); !equalDurations(got, want) {
			t.Errorf("sent at %v, want %v", got, want)
		}
		if err := tx.Err(); !errors.Is(err, ErrTimeout) {
			t.Errorf("Err: got %v, want ErrTimeout", err)
		}
	})
}

// TestClientWaitTimers checks Timers D, K and M: how long a client
// transaction stays after its final response (RFC 3261 §17.1, RFC 6026).
func TestClientWaitTimers(t *testing.T) {
	tests := []struct {
		name   string
		method string
		proto  transport.Protocol
		code   int
		want   time.Duration
	}{
		{"D/UDP", "INVITE", transport.UDP, 486, 32 * time.Second},
		{"D/TCP", "INVITE", transport.TCP, 486, 0},
		{"M/UDP", "INVITE", transport.UDP, 200, 32 * time.Second},
		{"M/TCP", "INVITE", transport.TCP, 200, 32 * time.Second},
		{"K/UDP", "REGISTER", transport.UDP, 200, 5 * time.Second},
		{"K/TCP", "REGISTER", transport.TCP, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				l := New(rec, &tu{}, Config{})
				tx, err := l.Request(context.Background(), request(t, tt.method, "", "UDP"), transport.Addr{Protocol: tt.proto, AddrPort: addrB})
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond)
				l.HandleInbound(inbound(reply(t, rec.sends()[0].msg, tt.code), tt.proto))
				start := time.Now()
				var codes []int
				for m := range tx.Responses() {
					codes = append(codes, m.StatusCode)
				}
				if got := time.Since(start); got != tt.want {
					t.Errorf("ended %v after the final response, want %v", got, tt.want)
				}
				if len(codes) != 1 || codes[0] != tt.code {
					t.Errorf("responses: got %v, want [%d]", codes, tt.code)
				}
				if err := tx.Err(); err != nil {
					t.Errorf("Err: got %v, want nil", err)
				}
				checkEmpty(t, l)
			})
		})
	}
}

// TestClientAckNon2xx: the INVITE client transaction ACKs a non-2xx final
// response itself, again for each retransmission, and delivers it once
// (RFC 3261 §17.1.1.2, §17.1.1.3).
func TestClientAckNon2xx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		l := New(rec, &tu{}, Config{})
		tx, err := l.Request(context.Background(), request(t, "INVITE", "", "UDP"), udp(addrB))
		if err != nil {
			t.Fatal(err)
		}
		inv := rec.sends()[0].msg
		busy := reply(t, inv, 486)
		l.HandleInbound(inbound(busy, transport.UDP))
		time.Sleep(time.Second)
		l.HandleInbound(inbound(wire(t, busy), transport.UDP))
		synctest.Wait()
		got, closed := drain(tx.Responses())
		if len(got) != 1 || got[0] != 486 || closed {
			t.Errorf("responses: got %v closed %v, want [486] open", got, closed)
		}
		acks := rec.times("ACK")
		if want := []time.Duration{0, time.Second}; !equalDurations(acks, want) {
			t.Fatalf("ACKs at %v, want %v", acks, want)
		}
		ack := rec.sends()[1].msg
		via, _ := ack.Via()
		invVia, _ := inv.Via()
		to, _ := ack.To()
		cseq, _ := ack.CSeq()
		if via.Branch() != invVia.Branch() || to.Tag() != "b1" || cseq.Method != "ACK" || cseq.Seq != 1 {
			t.Errorf("ACK: got branch %q, To tag %q, CSeq %v; want branch %q, tag b1, 1 ACK", via.Branch(), to.Tag(), cseq, invVia.Branch())
		}
		if n := len(rec.times("INVITE")); n != 1 {
			t.Errorf("INVITEs sent: got %d, want 1 (no retransmission after the final response)", n)
		}
	})
}

// TestClient2xxPassthrough: 2xx retransmissions reach the TU in the Accepted
// state, the layer sends no ACK for them, and after Timer M a 2xx goes to
// TU.HandleOutside (RFC 6026 §7.2, RFC 3261 §13.2.2.4).
func TestClient2xxPassthrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		u := &tu{}
		l := New(rec, u, Config{})
		tx, err := l.Request(context.Background(), request(t, "INVITE", "", "UDP"), udp(addrB))
		if err != nil {
			t.Fatal(err)
		}
		ok := reply(t, rec.sends()[0].msg, 200)
		for range 3 {
			l.HandleInbound(inbound(wire(t, ok), transport.UDP))
		}
		got, _ := drain(tx.Responses())
		if want := []int{200, 200, 200}; len(got) != 3 {
			t.Errorf("responses: got %v, want %v", got, want)
		}
		time.Sleep(33 * time.Second)
		if _, closed := drain(tx.Responses()); !closed {
			t.Error("Responses open after Timer M")
		}
		l.HandleInbound(inbound(wire(t, ok), transport.UDP))
		if _, out, _ := u.snapshot(); len(out) != 1 || out[0].Msg.StatusCode != 200 {
			t.Errorf("HandleOutside: got %d messages, want the stray 200", len(out))
		}
		if n := len(rec.times("ACK")); n != 0 {
			t.Errorf("ACKs by the layer: got %d, want 0", n)
		}
		checkEmpty(t, l)
	})
}

// TestClientDetach: after Detach, Responses is closed at once, 2xx
// retransmissions go to TU.HandleOutside while the transaction is still
// Accepted, and the transaction still ends with Timer M. Detach before a
// final response changes nothing.
func TestClientDetach(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		u := &tu{}
		l := New(rec, u, Config{})
		tx, err := l.Request(context.Background(), request(t, "INVITE", "", "UDP"), udp(addrB))
		if err != nil {
			t.Fatal(err)
		}
		tx.Detach()
		l.HandleInbound(inbound(wire(t, reply(t, rec.sends()[0].msg, 180)), transport.UDP))
		if r := <-tx.Responses(); r == nil || r.StatusCode != 180 {
			t.Fatalf("after an early Detach: got %v, want the 180", r)
		}
		ok := reply(t, rec.sends()[0].msg, 200)
		l.HandleInbound(inbound(wire(t, ok), transport.UDP))
		if r := <-tx.Responses(); r == nil || r.StatusCode != 200 {
			t.Fatalf("got %v, want the 200", r)
		}
		tx.Detach()
		if _, closed := drain(tx.Responses()); !closed {
			t.Fatal("Responses open after Detach")
		}
		for range 2 {
			l.HandleInbound(inbound(wire(t, ok), transport.UDP))
		}
		if _, out, _ := u.snapshot(); len(out) != 2 || out[0].Msg.StatusCode != 200 {
			t.Errorf("HandleOutside: got %d messages, want the two retransmitted 200s", len(out))
		}
		if c, _ := l.counts(); c != 1 {
			t.Errorf("client transactions after Detach: got %d, want 1 (Accepted until Timer M)", c)
		}
		time.Sleep(33 * time.Second)
		if err := tx.Err(); err != nil {
			t.Errorf("Err: got %v, want nil after a final response", err)
		}
		checkEmpty(t, l)
	})
}

// TestClientCancel: CANCEL waits for a provisional response (§9.1), goes
// out with the INVITE's branch, and the 487 that follows is ACKed and
// delivered.
func TestClientCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		l := New(rec, &tu{}, Config{})
		tx, err := l.Request(context.Background(), request(t, "INVITE", "", "UDP"), udp(addrB))
		if err != nil {
			t.Fatal(err)
		}
		inv := rec.sends()[0].msg
		if err := tx.Cancel(); err != nil {
			t.Fatal(err)
		}
		if n := len(rec.times("CANCEL")); n != 0 {
			t.Fatalf("CANCELs before a provisional: got %d, want 0", n)
		}
		time.Sleep(100 * time.Millisecond)
		l.HandleInbound(inbound(reply(t, inv, 180), transport.UDP))
		cancels := rec.times("CANCEL")
		if want := []time.Duration{sec(0.1)}; !equalDurations(cancels, want) {
			t.Fatalf("CANCELs at %v, want %v", cancels, want)
		}
		c := rec.sends()[len(rec.sends())-1].msg
		cv, _ := c.Via()
		iv, _ := inv.Via()
		if cv.Branch() != iv.Branch() {
			t.Errorf("CANCEL branch: got %q, want %q", cv.Branch(), iv.Branch())
		}
		l.HandleInbound(inbound(reply(t, c, 200), transport.UDP))
		l.HandleInbound(inbound(reply(t, inv, 487), transport.UDP))
		got, _ := drain(tx.Responses())
		if want := []int{180, 487}; len(got) != 2 || got[0] != 180 || got[1] != 487 {
			t.Errorf("responses: got %v, want %v", got, want)
		}
		if n := len(rec.times("ACK")); n != 1 {
			t.Errorf("ACKs: got %d, want 1", n)
		}
		if err := tx.Cancel(); err == nil {
			t.Error("Cancel after the final response: got nil, want an error")
		}
		time.Sleep(time.Minute)
		checkEmpty(t, l)
	})
}

// TestClientErrors: timeouts, transport failures and cancellation are told
// apart with errors.Is.
func TestClientErrors(t *testing.T) {
	t.Run("send fails", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			rec.setFail(errBoom)
			l := New(rec, &tu{}, Config{})
			_, err := l.Request(context.Background(), request(t, "OPTIONS", "", "UDP"), udp(addrB))
			if !errors.Is(err, ErrTransport) || !errors.Is(err, errBoom) || errors.Is(err, ErrTimeout) {
				t.Errorf("got %v, want ErrTransport wrapping the cause", err)
			}
			checkEmpty(t, l)
		})
	})
	t.Run("retransmission fails", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			l := New(rec, &tu{}, Config{})
			tx, err := l.Request(context.Background(), request(t, "INVITE", "", "UDP"), udp(addrB))
			if err != nil {
				t.Fatal(err)
			}
			rec.setFail(errBoom)
			for range tx.Responses() {
			}
			if err := tx.Err(); !errors.Is(err, ErrTransport) || !errors.Is(err, errBoom) {
				t.Errorf("got %v, want ErrTransport wrapping the cause", err)
			}
			checkEmpty(t, l)
		})
	})
	t.Run("context canceled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			l := New(rec, &tu{}, Config{})
			ctx, cancel := context.WithCancel(context.Background())
			tx, err := l.Request(ctx, request(t, "OPTIONS", "", "UDP"), udp(addrB))
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			cancel()
			for range tx.Responses() {
			}
			if err := tx.Err(); !errors.Is(err, ErrCanceled) || !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
				t.Errorf("got %v, want ErrCanceled and context.Canceled", err)
			}
			checkEmpty(t, l)
		})
	})
	t.Run("context ends INVITE", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			l := New(rec, &tu{}, Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tx, err := l.Request(ctx, request(t, "INVITE", "", "UDP"), udp(addrB))
			if err != nil {
				t.Fatal(err)
			}
			inv := rec.sends()[0].msg
			l.HandleInbound(inbound(reply(t, inv, 180), transport.UDP))
			for range tx.Responses() {
			}
			if err := tx.Err(); !errors.Is(err, ErrCanceled) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want ErrCanceled and DeadlineExceeded", err)
			}
			if got := rec.times("CANCEL"); len(got) != 1 || got[0] != 10*time.Second {
				t.Errorf("CANCEL sent at %v, want [10s]", got)
			}
			l.HandleInbound(inbound(reply(t, inv, 487), transport.UDP))
			if n := len(rec.times("ACK")); n != 1 {
				t.Errorf("ACKs for the 487: got %d, want 1", n)
			}
			time.Sleep(time.Minute)
			checkEmpty(t, l)
		})
	})
}

package transaction

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// respond answers tx's request with code and To tag "s1".
func respond(t testing.TB, tx *ServerTx, code int) error {
	t.Helper()
	r := sipmsg.NewResponse(tx.Request(), code, "")
	if code > 100 {
		_ = r.SetToTag("s1")
	}
	return tx.Respond(r)
}

// serverLayer makes a layer whose TU records requests; the test answers
// them through the returned tu.
func serverLayer(t *testing.T) (*Layer, *recorder, *tu) {
	rec := newRecorder()
	u := &tu{}
	return New(rec, u, Config{}), rec, u
}

func onlyRequest(t *testing.T, u *tu) *ServerTx {
	t.Helper()
	reqs, _, _ := u.snapshot()
	if len(reqs) != 1 {
		t.Fatalf("requests given to the TU: got %d, want 1", len(reqs))
	}
	return reqs[0]
}

// TestServerTrying: an INVITE the TU leaves unanswered for 200 ms gets
// 100 Trying from the layer, once; one answered in time does not
// (RFC 3261 §17.2.1).
func TestServerTrying(t *testing.T) {
	tests := []struct {
		name   string
		answer time.Duration
		want   []time.Duration
	}{
		{"TU silent", time.Second, []time.Duration{sec(0.2)}},
		{"TU answers at 199ms", 199 * time.Millisecond, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, rec, u := serverLayer(t)
				l.HandleInbound(inbound(request(t, "INVITE", "z9hG4bKi1", "UDP"), transport.UDP))
				tx := onlyRequest(t, u)
				time.Sleep(tt.answer)
				if err := respond(t, tx, 180); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Second)
				if got := rec.times("SIP/2.0 100"); !equalDurations(got, tt.want) {
					t.Errorf("100 Trying at %v, want %v", got, tt.want)
				}
				_ = l.Close()
			})
		})
	}
}

// TestServerInviteNon2xx checks Timer G's schedule, Timer H and its report
// to the TU, and the absence of G on reliable transports (§17.2.1).
func TestServerInviteNon2xx(t *testing.T) {
	tests := []struct {
		name  string
		proto transport.Protocol
		want  []time.Duration
	}{
		{"UDP", transport.UDP, []time.Duration{0, sec(0.5), sec(1.5), sec(3.5), sec(7.5), sec(11.5), sec(15.5), sec(19.5), sec(23.5), sec(27.5), sec(31.5)}},
		{"TCP", transport.TCP, []time.Duration{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, rec, u := serverLayer(t)
				u.onRequest = func(tx *ServerTx) { _ = respond(t, tx, 486) }
				l.HandleInbound(inbound(request(t, "INVITE", "z9hG4bKi1", tt.proto.String()), tt.proto))
				time.Sleep(time.Minute)
				if got := rec.times("SIP/2.0 486"); !equalDurations(got, tt.want) {
					t.Errorf("486 sent at %v, want %v", got, tt.want)
				}
				if _, _, errs := u.snapshot(); len(errs) != 1 || !errors.Is(errs[0], ErrTimeout) {
					t.Errorf("HandleServerError: got %v, want [ErrTimeout] (Timer H)", errs)
				}
				checkEmpty(t, l)
			})
		})
	}
}

// TestServerInviteAck: the ACK of a non-2xx response stops Timer G, is
// absorbed (not given to the TU), and Timer I ends the transaction: T4 on
// UDP, at once on TCP.
func TestServerInviteAck(t *testing.T) {
	tests := []struct {
		name  string
		proto transport.Protocol
		wantI time.Duration
	}{
		{"UDP", transport.UDP, 5 * time.Second},
		{"TCP", transport.TCP, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, rec, u := serverLayer(t)
				u.onRequest = func(tx *ServerTx) { _ = respond(t, tx, 404) }
				inv := request(t, "INVITE", "z9hG4bKi1", tt.proto.String())
				l.HandleInbound(inbound(inv, tt.proto))
				time.Sleep(time.Second) // UDP: retransmissions at 0.5
				ack, err := sipmsg.NewAck(inv, rec.sends()[0].msg)
				if err != nil {
					t.Fatal(err)
				}
				l.HandleInbound(inbound(wire(t, ack), tt.proto))
				if tt.wantI > 0 {
					l.HandleInbound(inbound(wire(t, ack), tt.proto)) // absorbed in Confirmed
				}
				if _, s := l.counts(); (s == 0) != (tt.wantI == 0) {
					t.Errorf("server transactions after the ACK: got %d", s)
				}
				time.Sleep(tt.wantI)
				synctest.Wait()
				checkEmpty(t, l)
				n := len(rec.times("SIP/2.0 404"))
				if want := map[transport.Protocol]int{transport.UDP: 2, transport.TCP: 1}[tt.proto]; n != want {
					t.Errorf("404s sent: got %d, want %d", n, want)
				}
				if _, out, errs := u.snapshot(); len(out) != 0 || len(errs) != 0 {
					t.Errorf("TU got %d outside, %v errors; want none", len(out), errs)
				}
			})
		})
	}
}

// TestServerInvite2xx: Accepted absorbs INVITE retransmissions without
// resending the 2xx, passes ACKs to the TU, sends the TU's 2xx
// retransmissions, and ends with Timer L (RFC 6026 §7.1).
func TestServerInvite2xx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, rec, u := serverLayer(t)
		inv := request(t, "INVITE", "z9hG4bKi1", "UDP")
		l.HandleInbound(inbound(inv, transport.UDP))
		tx := onlyRequest(t, u)
		if err := respond(t, tx, 200); err != nil {
			t.Fatal(err)
		}
		l.HandleInbound(inbound(wire(t, inv), transport.UDP))
		if err := respond(t, tx, 200); err != nil { // the UA core's retransmission
			t.Fatal(err)
		}
		ack := parse(t, "ACK sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKi1\r\n"+
			"From: <sip:alice@192.0.2.1>;tag=a1\r\nTo: <sip:bob@192.0.2.2>;tag=s1\r\nCall-ID: c1@192.0.2.1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n")
		l.HandleInbound(inbound(ack, transport.UDP))
		if n := len(rec.times("SIP/2.0 200")); n != 2 {
			t.Errorf("200s sent: got %d, want 2 (the TU's two)", n)
		}
		if _, out, _ := u.snapshot(); len(out) != 1 || out[0].Msg.Method != "ACK" {
			t.Errorf("HandleOutside: got %d, want the ACK", len(out))
		}
		if err := respond(t, tx, 486); err == nil {
			t.Error("486 after 200: got nil, want an error")
		}
		time.Sleep(32*time.Second - time.Nanosecond)
		if _, s := l.counts(); s != 1 {
			t.Errorf("server transactions before Timer L: got %d, want 1", s)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		checkEmpty(t, l)
		if reqs, _, _ := u.snapshot(); len(reqs) != 1 {
			t.Errorf("requests to the TU: got %d, want 1 (retransmission absorbed)", len(reqs))
		}
	})
}

// TestServerNonInvite: retransmissions are absorbed in Trying and answered
// with the last response in Proceeding and Completed; Timer J is 64*T1 on
// UDP and zero on TCP (§17.2.2).
func TestServerNonInvite(t *testing.T) {
	tests := []struct {
		name  string
		proto transport.Protocol
		wantJ time.Duration
	}{
		{"UDP", transport.UDP, 32 * time.Second},
		{"TCP", transport.TCP, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, rec, u := serverLayer(t)
				req := request(t, "OPTIONS", "z9hG4bKo1", tt.proto.String())
				l.HandleInbound(inbound(req, tt.proto))
				tx := onlyRequest(t, u)
				l.HandleInbound(inbound(wire(t, req), tt.proto))
				if n := len(rec.sends()); n != 0 {
					t.Errorf("sent in Trying: got %d, want 0", n)
				}
				if err := respond(t, tx, 100); err != nil {
					t.Fatal(err)
				}
				l.HandleInbound(inbound(wire(t, req), tt.proto))
				if err := respond(t, tx, 200); err != nil {
					t.Fatal(err)
				}
				l.HandleInbound(inbound(wire(t, req), tt.proto))
				var want []string
				if tt.wantJ > 0 {
					want = []string{"SIP/2.0 100 Trying", "SIP/2.0 100 Trying", "SIP/2.0 200 OK", "SIP/2.0 200 OK"}
				} else {
					// TCP: Completed lasts zero time, so the last copy is a new request.
					want = []string{"SIP/2.0 100 Trying", "SIP/2.0 100 Trying", "SIP/2.0 200 OK"}
				}
				var got []string
				for _, s := range rec.sends() {
					got = append(got, startLine(s.msg))
				}
				if len(got) != len(want) {
					t.Fatalf("sent %q, want %q", got, want)
				}
				for i := range got {
					if got[i] != want[i] {
						t.Errorf("sent %q, want %q", got, want)
					}
				}
				time.Sleep(tt.wantJ)
				synctest.Wait()
				if tt.wantJ == 0 {
					_ = l.Close() // the last copy started a transaction the test does not answer
				}
				checkEmpty(t, l)
			})
		})
	}
}

// TestServerCancel: a CANCEL for a pending INVITE is answered 200, then the
// INVITE 487, in that order, with one To tag; the TU hears ErrCanceled and
// its later Respond fails with ErrCanceled; a retransmitted CANCEL gets the
// 200 again; the 487's ACK is absorbed (RFC 3261 §9.2).
func TestServerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, rec, u, inv, tx, cancel := cancelAfter(t, 180)
		got := sentLines(rec)
		want := []string{"SIP/2.0 180 Ringing INVITE s1", "SIP/2.0 200 OK CANCEL s1", "SIP/2.0 487 Request Terminated INVITE s1"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("sent %q, want %q", got, want)
		}
		if _, _, errs := u.snapshot(); len(errs) != 1 || !errors.Is(errs[0], ErrCanceled) {
			t.Errorf("HandleServerError: got %v, want [ErrCanceled]", errs)
		} else if ce, ok := errs[0].(*CancelError); !ok || ce.Cancel == nil || ce.Cancel.Method != "CANCEL" {
			t.Errorf("HandleServerError: got %#v, want a *CancelError with the CANCEL", errs[0])
		}
		if err := respond(t, tx, 200); !errors.Is(err, ErrCanceled) {
			t.Errorf("Respond after CANCEL: got %v, want ErrCanceled", err)
		}
		l.HandleInbound(inbound(wire(t, cancel), transport.UDP))
		if n := len(rec.times("SIP/2.0 200")); n != 2 {
			t.Errorf("200s to CANCEL: got %d, want 2", n)
		}
		ack, _ := sipmsg.NewAck(inv, rec.sends()[2].msg)
		l.HandleInbound(inbound(wire(t, ack), transport.UDP))
		if reqs, out, _ := u.snapshot(); len(reqs) != 1 || len(out) != 0 {
			t.Errorf("TU got %d requests, %d outside; want 1, 0", len(reqs), len(out))
		}
		time.Sleep(time.Minute)
		checkEmpty(t, l)
	})
}

// cancelAfter has the layer receive an INVITE, the TU answer it with
// code, and the caller send a CANCEL for it.
func cancelAfter(t *testing.T, code int) (l *Layer, rec *recorder, u *tu, inv *sipmsg.Message, tx *ServerTx, cancel *sipmsg.Message) {
	t.Helper()
	l, rec, u = serverLayer(t)
	inv = request(t, "INVITE", "z9hG4bKi1", "UDP")
	l.HandleInbound(inbound(inv, transport.UDP))
	tx = onlyRequest(t, u)
	if err := respond(t, tx, code); err != nil {
		t.Fatal(err)
	}
	cancel, err := sipmsg.NewCancel(inv)
	if err != nil {
		t.Fatal(err)
	}
	l.HandleInbound(inbound(wire(t, cancel), transport.UDP))
	return l, rec, u, inv, tx, cancel
}

// sentLines lists what rec sent as "start line, CSeq method, To tag".
func sentLines(rec *recorder) []string {
	var out []string
	for _, s := range rec.sends() {
		cseq, _ := s.msg.CSeq()
		to, _ := s.msg.To()
		out = append(out, startLine(s.msg)+" "+cseq.Method+" "+to.Tag())
	}
	return out
}

// TestServerCancelUnmatched: a CANCEL matching nothing gets 481 (§9.2).
func TestServerCancelUnmatched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, rec, u := serverLayer(t)
		cancel, _ := sipmsg.NewCancel(request(t, "INVITE", "z9hG4bKgone", "UDP"))
		l.HandleInbound(inbound(wire(t, cancel), transport.UDP))
		if got := rec.times("SIP/2.0 481"); len(got) != 1 {
			t.Errorf("481s: got %d, want 1", len(got))
		}
		if reqs, _, _ := u.snapshot(); len(reqs) != 0 {
			t.Errorf("requests to the TU: got %d, want 0", len(reqs))
		}
		time.Sleep(time.Minute)
		checkEmpty(t, l)
	})
}

// TestServerCancelAfter2xx: a CANCEL for an INVITE already answered with a
// 2xx still matches it (the transaction waits out Timer L): 200 with the
// 2xx's To tag, no 487, nothing for the TU (RFC 3261 §9.2).
func TestServerCancelAfter2xx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, rec, u, _, tx, cancel := cancelAfter(t, 200)
		l.HandleInbound(inbound(wire(t, cancel), transport.UDP)) // retransmitted
		got := sentLines(rec)
		want := []string{"SIP/2.0 200 OK INVITE s1", "SIP/2.0 200 OK CANCEL s1", "SIP/2.0 200 OK CANCEL s1"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("sent %q, want %q", got, want)
		}
		if reqs, out, errs := u.snapshot(); len(reqs) != 1 || len(out) != 0 || len(errs) != 0 {
			t.Errorf("TU got %d requests, %d outside, %d errors; want 1, 0, 0", len(reqs), len(out), len(errs))
		}
		if err := respond(t, tx, 200); err != nil {
			t.Errorf("the TU's 2xx retransmission after the CANCEL: %v", err)
		}
		time.Sleep(time.Minute) // the bubble's fake clock: Timer L (64*T1) is what is under test
		synctest.Wait()
		checkEmpty(t, l)
		if err := respond(t, tx, 200); err == nil {
			t.Error("2xx after Timer L: got nil, want an error")
		}
	})
}

// TestServerLegacyMatching: requests from an RFC 2543 peer (no magic
// cookie) match by Request-URI, tags, Call-ID, CSeq and top Via (§17.2.3).
func TestServerLegacyMatching(t *testing.T) {
	for _, branch := range []string{"", "1234old"} {
		t.Run("branch="+branch, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, rec, u := serverLayer(t)
				inv := request(t, "INVITE", branch, "UDP")
				l.HandleInbound(inbound(inv, transport.UDP))
				tx := onlyRequest(t, u)
				if err := respond(t, tx, 486); err != nil {
					t.Fatal(err)
				}
				l.HandleInbound(inbound(wire(t, inv), transport.UDP)) // retransmission: 486 again
				if n := len(rec.times("SIP/2.0 486")); n != 2 {
					t.Errorf("486s: got %d, want 2", n)
				}
				// Another From tag is another transaction.
				other := parse(t, replaceOnce(inv.String(), "tag=a1", "tag=a2"))
				l.HandleInbound(inbound(other, transport.UDP))
				if reqs, _, _ := u.snapshot(); len(reqs) != 2 {
					t.Errorf("requests to the TU: got %d, want 2", len(reqs))
				}
				// An ACK with the wrong To tag is not ours; with ours it is absorbed.
				ack, _ := sipmsg.NewAck(inv, rec.sends()[0].msg)
				l.HandleInbound(inbound(parse(t, replaceOnce(ack.String(), "tag=s1", "tag=zz")), transport.UDP))
				l.HandleInbound(inbound(wire(t, ack), transport.UDP))
				if _, out, _ := u.snapshot(); len(out) != 1 {
					t.Errorf("HandleOutside: got %d, want 1 (the mismatched ACK)", len(out))
				}
				if _, s := l.counts(); s != 2 {
					t.Errorf("server transactions: got %d, want 2", s)
				}
				time.Sleep(10 * time.Second) // Timer I
				if _, s := l.counts(); s != 1 {
					t.Errorf("server transactions after Timer I: got %d, want 1", s)
				}
				_ = l.Close()
				checkEmpty(t, l)
			})
		})
	}
}

// TestServerOverload: past MaxServerTransactions a request gets a
// stateless 503 and no transaction.
func TestServerOverload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		u := &tu{}
		l := New(rec, u, Config{MaxServerTransactions: 1})
		l.HandleInbound(inbound(request(t, "OPTIONS", "z9hG4bK1", "UDP"), transport.UDP))
		l.HandleInbound(inbound(request(t, "OPTIONS", "z9hG4bK2", "UDP"), transport.UDP))
		if got := rec.times("SIP/2.0 503"); len(got) != 1 {
			t.Errorf("503s: got %d, want 1", len(got))
		}
		if to, _ := rec.sends()[0].msg.To(); to.Tag() == "" {
			t.Error("503 without a To tag")
		}
		if reqs, _, _ := u.snapshot(); len(reqs) != 1 {
			t.Errorf("requests to the TU: got %d, want 1", len(reqs))
		}
		_ = l.Close()
	})
}

// TestServerTransportError: a failed Respond returns ErrTransport and ends
// the transaction; a failed retransmission (Timer G) is reported to the TU.
func TestServerTransportError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, rec, u := serverLayer(t)
		l.HandleInbound(inbound(request(t, "INVITE", "z9hG4bKi1", "UDP"), transport.UDP))
		l.HandleInbound(inbound(request(t, "INVITE", "z9hG4bKi2", "UDP"), transport.UDP))
		reqs, _, _ := u.snapshot()
		if err := respond(t, reqs[0], 486); err != nil {
			t.Fatal(err)
		}
		rec.setFail(errBoom)
		err := respond(t, reqs[1], 486)
		if !errors.Is(err, ErrTransport) || !errors.Is(err, errBoom) {
			t.Errorf("Respond: got %v, want ErrTransport wrapping the cause", err)
		}
		time.Sleep(time.Second)
		if _, _, errs := u.snapshot(); len(errs) != 1 || !errors.Is(errs[0], ErrTransport) || errors.Is(errs[0], ErrTimeout) {
			t.Errorf("HandleServerError: got %v, want [ErrTransport]", errs)
		}
		checkEmpty(t, l)
	})
}

// TestRespondStateless: a 400 outside any transaction, with a To tag.
func TestRespondStateless(t *testing.T) {
	rec := newRecorder()
	l := New(rec, &tu{}, Config{})
	req := request(t, "MESSAGE", "z9hG4bK1", "UDP")
	if err := l.RespondStateless(context.Background(), inbound(req, transport.UDP), 400, "Bad Header"); err != nil {
		t.Fatal(err)
	}
	s := rec.sends()
	if len(s) != 1 || startLine(s[0].msg) != "SIP/2.0 400 Bad Header" || s[0].dst.AddrPort != addrA {
		t.Fatalf("sent %v, want one 400 to %v", s, addrA)
	}
	if err := l.RespondStateless(context.Background(), inbound(request(t, "ACK", "z9hG4bK1", "UDP"), transport.UDP), 400, ""); err == nil {
		t.Error("answering an ACK: got nil, want an error")
	}
	checkEmpty(t, l)
}

func replaceOnce(s, old, new string) string {
	i := len(s)
	for j := 0; j+len(old) <= len(s); j++ {
		if s[j:j+len(old)] == old {
			i = j
			break
		}
	}
	if i == len(s) {
		return s
	}
	return s[:i] + new + s[i+len(old):]
}

// TestServerTimerIOnTime: Timer I's queue runs late only where nothing
// can tell. An ACK retransmitted 1 ms before T4 is absorbed; at T4 the
// transaction is still in the layer's map (the queue's timer waits
// lazySlack more), yet an ACK then goes to the TU as a request outside
// any transaction; with no traffic the timer removes it lazySlack after T4.
func TestServerTimerIOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, rec, u := serverLayer(t)
		defer l.Close()
		u.onRequest = func(tx *ServerTx) { _ = respond(t, tx, 486) }
		mapped := func() int {
			l.mu.Lock()
			defer l.mu.Unlock()
			return len(l.servers)
		}
		var acks []*sipmsg.Message
		for _, b := range []string{"z9hG4bKt1", "z9hG4bKt2"} {
			inv := request(t, "INVITE", b, "UDP")
			l.HandleInbound(inbound(inv, transport.UDP))
			sends := rec.sends()
			ack, err := sipmsg.NewAck(inv, sends[len(sends)-1].msg)
			if err != nil {
				t.Fatal(err)
			}
			l.HandleInbound(inbound(wire(t, ack), transport.UDP))
			acks = append(acks, ack)
		}
		time.Sleep(DefaultT4 - time.Millisecond)
		l.HandleInbound(inbound(wire(t, acks[0]), transport.UDP))
		if _, out, _ := u.snapshot(); len(out) != 0 {
			t.Errorf("ACK before Timer I: %d given to the TU, want absorbed", len(out))
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if n := mapped(); n != 2 {
			t.Errorf("transactions in the map at Timer I: got %d, want 2 (the timer waits lazySlack more)", n)
		}
		l.HandleInbound(inbound(wire(t, acks[0]), transport.UDP))
		if _, out, _ := u.snapshot(); len(out) != 1 {
			t.Errorf("ACK at Timer I: %d given to the TU, want 1 (no transaction left to absorb it)", len(out))
		}
		if n := mapped(); n != 0 {
			t.Errorf("transactions in the map after a request at Timer I: got %d, want 0", n)
		}

		// The same again with no request at Timer I: the timer empties the
		// map lazySlack later.
		inv := request(t, "INVITE", "z9hG4bKt3", "UDP")
		l.HandleInbound(inbound(inv, transport.UDP))
		sends := rec.sends()
		ack, err := sipmsg.NewAck(inv, sends[len(sends)-1].msg)
		if err != nil {
			t.Fatal(err)
		}
		l.HandleInbound(inbound(wire(t, ack), transport.UDP))
		time.Sleep(DefaultT4)
		synctest.Wait()
		if n := mapped(); n != 1 {
			t.Errorf("in the map at Timer I: got %d, want 1", n)
		}
		time.Sleep(time.Duration(lazySlack) * waitTick)
		synctest.Wait()
		if n := mapped(); n != 0 {
			t.Errorf("in the map lazySlack after Timer I: got %d, want 0", n)
		}
		time.Sleep(DefaultT4)
		synctest.Wait()
		if _, s := l.counts(); s != 0 {
			t.Errorf("server transactions: got %d, want 0", s)
		}
	})
}

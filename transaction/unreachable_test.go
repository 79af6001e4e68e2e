package transaction

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

func TestParseQuote(t *testing.T) {
	const req = "OPTIONS sip:b@h SIP/2.0\r\nMax-Forwards: 70\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa1, SIP/2.0/UDP p;branch=z9hG4bKp\r\nFrom: <sip:a@h>;tag=1\r\n"
	const resp = "SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKr;rport=5062\r\nTo: <sip:b@h>;tag=2\r\ni: c7@h\r\nCSeq: 4 INVITE\r\nContact: <sip:b@h>\r\n"
	for _, tt := range []struct {
		name, in       string
		status         int
		method, branch string
		callID         string
	}{
		{"whole", req + "\r\n", 0, "OPTIONS", "z9hG4bKa1", ""},
		{"cut after the Via line", req[:len(req)-10], 0, "OPTIONS", "z9hG4bKa1", ""},
		{"compact, LF only", "INVITE sip:b@h SIP/2.0\nv : SIP/2.0/UDP h;branch=z9hG4bKc\ni: x@h\n", 0, "INVITE", "z9hG4bKc", "x@h"},
		{"cut in the Via line", req[:len(req)-40], 0, "", "", ""},
		{"cut in the request line", "OPTIONS sip:b@h SIP", 0, "", "", ""},
		{"folded Via", "BYE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n ;branch=z9hG4bKf\r\n\r\n", 0, "", "", ""},
		{"no Via", "BYE sip:b@h SIP/2.0\r\nTo: <sip:b@h>\r\n\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKbody\r\n", 0, "", "", ""},
		{"no branch", "BYE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n", 0, "", "", ""},
		{"a response", resp + "\r\n", 486, "INVITE", "z9hG4bKr", "c7@h"},
		{"a response cut after CSeq", resp[:len(resp)-10], 486, "INVITE", "z9hG4bKr", "c7@h"},
		{"a response cut before CSeq", resp[:len(resp)-30], 0, "", "", ""},
		{"a response with a folded CSeq", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKr\r\nCSeq: 1\r\n INVITE\r\n\r\n", 0, "", "", ""},
		{"a status out of range", "SIP/2.0 099 Odd\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKr\r\nCSeq: 1 INVITE\r\n\r\n", 0, "", "", ""},
		{"a status of four digits", "SIP/2.0 2000 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKr\r\nCSeq: 1 INVITE\r\n\r\n", 0, "", "", ""},
		{"a status without a reason", "SIP/2.0 200\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKr\r\nCSeq: 1 BYE\r\n\r\n", 200, "BYE", "z9hG4bKr", ""},
		{"empty", "", 0, "", "", ""},
	} {
		q, ok := ParseQuote([]byte(tt.in))
		if q.Status != tt.status || q.Method != tt.method || q.Via.Branch() != tt.branch || q.CallID != tt.callID || ok != (tt.method != "") {
			t.Errorf("%s: got %d %q %q %q %v; want %d %q %q %q", tt.name, q.Status, q.Method, q.Via.Branch(), q.CallID, ok,
				tt.status, tt.method, tt.branch, tt.callID)
		}
	}
	q, _ := ParseQuote([]byte(resp))
	if q.Via.Host != "192.0.2.1" || q.Via.Port != 5062 {
		t.Errorf("sent-by: got %s:%d, want 192.0.2.1:5062", q.Via.Host, q.Via.Port)
	}
}

// TestUnreachable: an ICMP error quoting a client transaction's request,
// for its destination, ends it with ErrTransport while nothing has
// answered it (RFC 3261 §17.1.4), INVITE and non-INVITE alike, and goes
// no further: not after a provisional response, not for another
// destination, not over TCP.
func TestUnreachable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		l := New(rec, &tu{}, Config{})
		start := func(method, proto string, dst transport.Addr) (*ClientTx, []byte) {
			t.Helper()
			tx, err := l.Request(context.Background(), request(t, method, "", proto), dst)
			if err != nil {
				t.Fatal(err)
			}
			sends := rec.sends()
			return tx, sends[len(sends)-1].msg.AppendTo(nil)
		}
		ended := func(tx *ClientTx) bool {
			synctest.Wait()
			_, closed := drain(tx.Responses())
			return closed
		}

		for _, method := range []string{"OPTIONS", "INVITE"} {
			tx, quoted := start(method, "UDP", udp(addrB))
			l.Unreachable(udp(addrA), quoted, syscall.ECONNREFUSED) // another destination
			if ended(tx) {
				t.Fatalf("%s: ended by an ICMP error for another destination", method)
			}
			l.Unreachable(udp(addrB), quoted, syscall.ECONNREFUSED)
			if !ended(tx) {
				t.Fatalf("%s: not ended by the ICMP error", method)
			}
			if err := tx.Err(); !errors.Is(err, ErrTransport) || !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("%s: Err: got %v, want ErrTransport and ECONNREFUSED", method, err)
			}
		}

		tx, quoted := start("INVITE", "UDP", udp(addrB))
		inv := rec.sends()[len(rec.sends())-1].msg
		l.HandleInbound(inbound(reply(t, inv, 100), transport.UDP))
		l.Unreachable(udp(addrB), quoted, syscall.ECONNREFUSED)
		if ended(tx) {
			t.Error("INVITE: ended by an ICMP error after a provisional response")
		}
		tx.Cancel()

		tcp := transport.Addr{Protocol: transport.TCP, AddrPort: addrB}
		tx, quoted = start("OPTIONS", "TCP", tcp)
		l.Unreachable(tcp, quoted, syscall.ECONNREFUSED)
		if ended(tx) {
			t.Error("TCP: ended by an ICMP error")
		}
		l.Close()
	})
}

// TestUnreachableServer: an ICMP error quoting a response of an INVITE
// server transaction, for where the responses go, ends it with
// ErrTransport and tells the TU (RFC 3261 §17.2.4) while it is ringing or
// retransmitting a non-2xx; Timer G stops. A 2xx, a non-INVITE response,
// another destination or TCP end nothing.
func TestUnreachableServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		u := &tu{}
		l := New(rec, u, Config{})
		defer l.Close()
		// answer starts a server transaction for method over proto and
		// answers it with code; it returns the transaction and the
		// response as the transport sent it.
		answer := func(method, branch string, proto transport.Protocol, code int) (*ServerTx, []byte) {
			t.Helper()
			l.HandleInbound(inbound(request(t, method, branch, proto.String()), proto))
			reqs, _, _ := u.snapshot()
			tx := reqs[len(reqs)-1]
			r := sipmsg.NewResponse(tx.Request(), code, "")
			if err := r.SetToTag("b1"); err != nil {
				t.Fatal(err)
			}
			if err := tx.Respond(r); err != nil {
				t.Fatal(err)
			}
			sends := rec.sends()
			return tx, sends[len(sends)-1].msg.AppendTo(nil)
		}
		reported := func() int {
			synctest.Wait()
			_, _, errs := u.snapshot()
			return len(errs)
		}

		_, quoted := answer("INVITE", "z9hG4bKs1", transport.UDP, 486)
		l.Unreachable(udp(addrB), quoted, syscall.ECONNREFUSED) // another destination
		if n := reported(); n != 0 {
			t.Fatalf("486: %d errors reported for another destination", n)
		}
		l.Unreachable(udp(addrA), quoted, syscall.ECONNREFUSED)
		_, _, errs := u.snapshot()
		if len(errs) != 1 || !errors.Is(errs[0], ErrTransport) || !errors.Is(errs[0], syscall.ECONNREFUSED) {
			t.Fatalf("486: errors reported: got %v, want one with ErrTransport and ECONNREFUSED", errs)
		}
		sent := len(rec.sends())
		time.Sleep(10 * time.Second) // Timer G would have re-sent the 486 six times
		if n := len(rec.sends()); n != sent {
			t.Errorf("486: %d retransmissions after the ICMP error", n-sent)
		}

		tx, quoted := answer("INVITE", "z9hG4bKs2", transport.UDP, 180)
		l.Unreachable(udp(addrA), quoted, syscall.EHOSTUNREACH)
		if n := reported(); n != 2 {
			t.Fatalf("180: %d errors reported, want 2", n)
		}
		if err := tx.Respond(reply(t, tx.Request(), 200)); !errors.Is(err, ErrTransport) {
			t.Errorf("200 after the ICMP error: got %v, want ErrTransport", err)
		}

		for _, c := range []struct {
			method string
			proto  transport.Protocol
			code   int
		}{{"INVITE", transport.UDP, 200}, {"OPTIONS", transport.UDP, 200}, {"INVITE", transport.TCP, 180}} {
			_, quoted := answer(c.method, "z9hG4bKs3"+c.method+c.proto.String(), c.proto, c.code)
			l.Unreachable(transport.Addr{Protocol: c.proto, AddrPort: addrA}, quoted, syscall.ECONNREFUSED)
			if n := reported(); n != 2 {
				t.Errorf("%s %d over %s: ended by an ICMP error", c.method, c.code, c.proto)
			}
		}
	})
}

// FuzzParseQuote: whatever an ICMP message quotes, ParseQuote does not
// panic, and what it finds is there: a method that starts the first line
// or is in the quote, a branch and a Call-ID that are in the quote.
func FuzzParseQuote(f *testing.F) {
	for _, name := range []string{"invite.sip", "options.sip", "bye.sip", "register-auth.sip", "200ok-invite.sip"} {
		if b, err := os.ReadFile(filepath.Join("..", "testdata", "workloads", "sip", name)); err == nil {
			f.Add(b)
			f.Add(b[:min(len(b), 548)]) // what an IPv4 ICMP message quotes at most
		}
	}
	vectors, _ := filepath.Glob(filepath.Join("..", "testdata", "vectors", "sip", "rfc4475", "*.dat"))
	for _, v := range vectors {
		if b, err := os.ReadFile(v); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		q, ok := ParseQuote(b)
		if !ok {
			return
		}
		request := q.Status == 0 && bytes.HasPrefix(b, []byte(q.Method+" "))
		response := q.Status >= 100 && q.Status <= 699 && bytes.HasPrefix(b, []byte("SIP/2.0 ")) && bytes.Contains(b, []byte(q.Method))
		if !request && !response || q.Via.Branch() == "" || !bytes.Contains(b, []byte(q.Via.Branch())) ||
			!bytes.Contains(b, []byte(q.CallID)) {
			t.Fatalf("got %+v from %q", q, b)
		}
	})
}

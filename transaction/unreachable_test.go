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

	"github.com/xphone-go/xphone/internal/transport"
)

func TestQuotedRequest(t *testing.T) {
	const req = "OPTIONS sip:b@h SIP/2.0\r\nMax-Forwards: 70\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa1, SIP/2.0/UDP p;branch=z9hG4bKp\r\nFrom: <sip:a@h>;tag=1\r\n"
	for _, tt := range []struct {
		name, in       string
		method, branch string
	}{
		{"whole", req + "\r\n", "OPTIONS", "z9hG4bKa1"},
		{"cut after the Via line", req[:len(req)-10], "OPTIONS", "z9hG4bKa1"},
		{"compact, LF only", "INVITE sip:b@h SIP/2.0\nv : SIP/2.0/UDP h;branch=z9hG4bKc\n", "INVITE", "z9hG4bKc"},
		{"cut in the Via line", req[:len(req)-40], "", ""},
		{"cut in the request line", "OPTIONS sip:b@h SIP", "", ""},
		{"folded Via", "BYE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n ;branch=z9hG4bKf\r\n\r\n", "", ""},
		{"no Via", "BYE sip:b@h SIP/2.0\r\nTo: <sip:b@h>\r\n\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKbody\r\n", "", ""},
		{"no branch", "BYE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n", "", ""},
		{"a response", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKr\r\n\r\n", "", ""},
		{"empty", "", "", ""},
	} {
		method, branch, ok := quotedRequest([]byte(tt.in))
		if method != tt.method || branch != tt.branch || ok != (tt.method != "") {
			t.Errorf("%s: got %q %q %v; want %q %q", tt.name, method, branch, ok, tt.method, tt.branch)
		}
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

// FuzzQuotedRequest: whatever an ICMP message quotes, quotedRequest does
// not panic, and what it finds is there: a method that is the start of
// the first line and a branch that is in the quote.
func FuzzQuotedRequest(f *testing.F) {
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
		method, branch, ok := quotedRequest(b)
		if !ok {
			return
		}
		if !bytes.HasPrefix(b, []byte(method+" ")) || branch == "" || !bytes.Contains(b, []byte(branch)) {
			t.Fatalf("got %q %q from %q", method, branch, b)
		}
	})
}

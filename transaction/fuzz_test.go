package transaction

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// FuzzLayer feeds a sequence of messages, separated by NUL bytes, to a
// layer that has one INVITE and one OPTIONS client transaction pending
// (branches z9hG4bKfuzzI and z9hG4bKfuzzO) and whose TU answers every
// request at once. Nothing may panic, and once every timer has run out no
// transaction may be left: state stays bounded by the traffic's lifetime.
func FuzzLayer(f *testing.F) {
	for _, name := range []string{"invite.sip", "options.sip", "bye.sip", "200ok-invite.sip", "401-register.sip"} {
		if b, err := os.ReadFile(filepath.Join("..", "testdata", "workloads", "sip", name)); err == nil {
			f.Add(b)
		}
	}
	vectors, _ := filepath.Glob(filepath.Join("..", "testdata", "vectors", "sip", "rfc4475", "*.dat"))
	for _, v := range vectors {
		if b, err := os.ReadFile(v); err == nil {
			f.Add(b)
		}
	}
	inv := request(f, "INVITE", "z9hG4bKfuzzI", "UDP")
	opt := request(f, "OPTIONS", "z9hG4bKfuzzO", "UDP")
	cancel, _ := sipmsg.NewCancel(inv)
	ack, _ := sipmsg.NewAck(inv, reply(f, inv, 486))
	seq := func(ms ...*sipmsg.Message) []byte {
		var b []byte
		for _, m := range ms {
			b = append(append(b, m.String()...), 0)
		}
		return b
	}
	f.Add(seq(reply(f, inv, 180), reply(f, inv, 486), reply(f, inv, 486), reply(f, opt, 200)))
	f.Add(seq(reply(f, inv, 200), reply(f, inv, 200), reply(f, opt, 100), reply(f, opt, 404)))
	f.Add(seq(inv, inv, cancel, cancel, ack, opt, opt))
	f.Add(seq(request(f, "INVITE", "", "TCP"), request(f, "OPTIONS", "old", "UDP"), cancel))

	f.Fuzz(func(t *testing.T, data []byte) {
		synctest.Test(t, func(t *testing.T) {
			u := &tu{}
			n := 0
			u.onRequest = func(tx *ServerTx) {
				n++
				code := []int{200, 486, 180, 100}[n%4]
				r := sipmsg.NewResponse(tx.Request(), code, "")
				_ = r.SetToTag("f1")
				_ = tx.Respond(r)
				if code < 200 {
					// A TU answers every request in the end.
					r = sipmsg.NewResponse(tx.Request(), 603, "")
					_ = r.SetToTag("f1")
					_ = tx.Respond(r)
				}
			}
			l := New(newRecorder(), u, Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _ = l.Request(ctx, request(t, "INVITE", "z9hG4bKfuzzI", "UDP"), udp(addrA))
			_, _ = l.Request(ctx, request(t, "OPTIONS", "z9hG4bKfuzzO", "UDP"), udp(addrA))
			for i, part := range bytes.Split(data, []byte{0}) {
				if i >= 64 {
					break
				}
				m, err := sipmsg.Parse(part)
				if err != nil {
					continue
				}
				proto := transport.UDP
				if i%3 == 2 {
					proto = transport.TCP
				}
				l.HandleInbound(inbound(m, proto))
			}
			time.Sleep(10 * time.Minute)
			synctest.Wait()
			l.mu.Lock()
			kept, mapped := len(l.done.index), len(l.servers)
			l.mu.Unlock()
			if kept != 0 || mapped != 0 { // before counts, which drops what is due itself
				t.Errorf("after every timer ran out: %d done records, %d server transactions left", kept, mapped)
			}
			checkEmpty(t, l)
		})
	})
}

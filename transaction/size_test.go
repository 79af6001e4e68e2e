package transaction

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// arrival is how a request reached a sizeTU: over which transport, and
// what its top Via said.
type arrival struct {
	proto transport.Protocol
	via   string
}

// sizeTU answers every request 200 and says how each arrived.
type sizeTU struct{ got chan arrival }

func (u sizeTU) HandleRequest(tx *ServerTx) {
	via, _ := tx.Request().Via()
	u.got <- arrival{tx.Source().Protocol, via.Transport}
	r := sipmsg.NewResponse(tx.Request(), 200, "")
	_ = r.SetToTag("t")
	_ = tx.Respond(r)
}
func (sizeTU) HandleOutside(transport.Inbound)    {}
func (sizeTU) HandleServerError(*ServerTx, error) {}

// sizeNode is a layer over a Manager listening on 127.0.0.1 over UDP and,
// with tcp, over TCP on the same port: a port whose TCP twin some other
// socket of the machine holds is given up for another.
func sizeNode(t *testing.T, tu TU, tcp bool) (*Layer, *transport.Manager) {
	t.Helper()
	for try := 1; ; try++ {
		var l *Layer
		m := transport.New(transport.Config{Handler: func(in transport.Inbound) { l.HandleInbound(in) }, Logger: quiet})
		l = New(m, tu, Config{Logger: quiet}) // T1 500 ms: the TCP connection has 1 s
		closeBoth := func() {
			_ = l.Close()
			_ = m.Close()
		}
		if err := m.Listen(context.Background(), transport.UDP, "127.0.0.1:0"); err != nil {
			closeBoth()
			t.Fatal(err)
		}
		if tcp {
			if err := m.Listen(context.Background(), transport.TCP, m.LocalAddr(transport.UDP).String()); err != nil {
				closeBoth()
				if try == 20 {
					t.Fatalf("TCP on the UDP listener's port, %d tries: %v", try, err)
				}
				continue
			}
		}
		t.Cleanup(closeBoth)
		return l, m
	}
}

// paddedOptions is an OPTIONS from m's UDP listener to dst whose wire form
// is about size bytes.
func paddedOptions(t *testing.T, l *Layer, m *transport.Manager, dst transport.Addr, size int) *sipmsg.Message {
	t.Helper()
	n := &sockNode{m: m, l: l, proto: transport.UDP}
	req := n.newRequest("OPTIONS", dst, &dialog{callID: l.NewTag(), fromTag: "f", seq: 1}, "")
	if pad := size - req.WireLen() - len("X-Pad: \r\n"); pad > 0 {
		req.Add("X-Pad", strings.Repeat("p", pad))
	}
	return req
}

// TestLargeRequestOverTCP: over real sockets, a request for UDP larger
// than 1300 bytes goes over TCP to the same port, its Via saying TCP, and
// its transaction is a reliable one (RFC 3261 §18.1.1); one of 1300 bytes
// goes over UDP. A server without TCP gets the large one over UDP, with
// its Via as it was.
func TestLargeRequestOverTCP(t *testing.T) {
	for _, tc := range []struct {
		name       string
		serverTCP  bool
		size       int
		want       transport.Protocol
		wantVia    string
		reliableTx bool
	}{
		{"1400 bytes to UDP and TCP", true, 1400, transport.TCP, "TCP", true},
		{"1300 bytes to UDP and TCP", true, 1300, transport.UDP, "UDP", false},
		{"1400 bytes to UDP only", false, 1400, transport.UDP, "UDP", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tu := sizeTU{got: make(chan arrival, 1)}
			_, server := sizeNode(t, tu, tc.serverTCP)
			l, m := sizeNode(t, sizeTU{got: make(chan arrival, 1)}, false)
			dst := transport.Addr{Protocol: transport.UDP, AddrPort: server.LocalAddr(transport.UDP)}
			req := paddedOptions(t, l, m, dst, tc.size)
			if n := req.WireLen(); n != tc.size {
				t.Fatalf("request of %d bytes, want %d", n, tc.size)
			}
			tx, err := l.Request(context.Background(), req, dst)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case a := <-tu.got:
				if a.proto != tc.want || a.via != tc.wantVia {
					t.Errorf("arrived over %v with Via %s, want %v and %s", a.proto, a.via, tc.want, tc.wantVia)
				}
			case <-time.After(sockWait):
				t.Fatal("the request did not arrive")
			}
			if r, _ := finalResponse(t, tx); r.StatusCode != 200 {
				t.Errorf("final response %d", r.StatusCode)
			}
			tx.mu.Lock()
			reliable := tx.dst.Protocol.Reliable()
			tx.mu.Unlock()
			if reliable != tc.reliableTx {
				t.Errorf("transaction over a reliable transport: %v, want %v", reliable, tc.reliableTx)
			}
		})
	}
}

// refuser is a Sender that refuses TCP and records every attempt.
type refuser struct {
	mu    sync.Mutex
	sends []arrival
}

func (r *refuser) Send(_ context.Context, m *sipmsg.Message, dst transport.Addr) error {
	via, _ := m.Via()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sends = append(r.sends, arrival{dst.Protocol, via.Transport})
	if dst.Protocol == transport.TCP {
		return errors.New("connection refused")
	}
	return nil
}

func (r *refuser) take() []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sends
	r.sends = nil
	return s
}

// TestLargeRequestNoTCP: a destination that refused TCP for a large
// request gets the next one over UDP without a TCP attempt; another
// destination is tried over TCP again; MaxUDPRequest -1 never switches.
func TestLargeRequestNoTCP(t *testing.T) {
	large := func(branch string) *sipmsg.Message {
		m := request(t, "OPTIONS", branch, "UDP")
		m.Add("X-Pad", strings.Repeat("p", 1400))
		return m
	}
	s := &refuser{}
	l := New(s, &tu{}, Config{})
	defer l.Close()
	udpOnly := []arrival{{transport.TCP, "TCP"}, {transport.UDP, "UDP"}}
	for i, want := range [][]arrival{udpOnly, {{transport.UDP, "UDP"}}} {
		if _, err := l.Request(context.Background(), large("z9hG4bKn"+string(rune('a'+i))), udp(addrB)); err != nil {
			t.Fatal(err)
		}
		if got := s.take(); !slices.Equal(got, want) {
			t.Errorf("request %d to %v: sent %v, want %v", i+1, addrB, got, want)
		}
	}
	if _, err := l.Request(context.Background(), large("z9hG4bKnc"), udp(addrA)); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); !slices.Equal(got, udpOnly) {
		t.Errorf("request to %v: sent %v, want %v", addrA, got, udpOnly)
	}

	never := New(s, &tu{}, Config{MaxUDPRequest: -1})
	defer never.Close()
	if _, err := never.Request(context.Background(), large("z9hG4bKnd"), udp(addrA)); err != nil {
		t.Fatal(err)
	}
	if got, want := s.take(), []arrival{{transport.UDP, "UDP"}}; !slices.Equal(got, want) {
		t.Errorf("MaxUDPRequest -1: sent %v, want %v", got, want)
	}
}

// silentTCP is a Sender whose TCP connections never complete: a send over
// TCP waits for its context to end.
type silentTCP struct{ refuser }

func (s *silentTCP) Send(ctx context.Context, m *sipmsg.Message, dst transport.Addr) error {
	if err := s.refuser.Send(ctx, m, dst); err == nil || dst.Protocol != transport.TCP {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}

// TestLargeRequestSilentTCP: a server whose TCP port does not answer at
// all gets the large request over UDP once 2*T1 have passed; when the
// request's own context ends first, nothing is sent over UDP.
func TestLargeRequestSilentTCP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &silentTCP{}
		l := New(s, &tu{}, Config{})
		defer l.Close()
		req := request(t, "OPTIONS", "z9hG4bKs1", "UDP")
		req.Add("X-Pad", strings.Repeat("p", 1400))
		start := time.Now()
		if _, err := l.Request(context.Background(), req, udp(addrB)); err != nil {
			t.Fatal(err)
		}
		if got, want := s.take(), []arrival{{transport.TCP, "TCP"}, {transport.UDP, "UDP"}}; !slices.Equal(got, want) {
			t.Errorf("sent %v, want %v", got, want)
		}
		if waited := time.Since(start); waited != 2*DefaultT1 {
			t.Errorf("fell back to UDP after %v, want 2*T1 = %v", waited, 2*DefaultT1)
		}

		req = request(t, "OPTIONS", "z9hG4bKs2", "UDP")
		req.Add("X-Pad", strings.Repeat("p", 1400))
		ctx, cancel := context.WithTimeout(context.Background(), DefaultT1/2)
		defer cancel()
		if _, err := l.Request(ctx, req, udp(addrA)); !errors.Is(err, ErrTransport) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Request whose context ended: got %v, want ErrTransport and DeadlineExceeded", err)
		}
		if got, want := s.take(), []arrival{{transport.TCP, "TCP"}}; !slices.Equal(got, want) {
			t.Errorf("context ended: sent %v, want %v", got, want)
		}
	})
}

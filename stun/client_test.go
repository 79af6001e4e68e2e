package stun

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// testServer is a STUN Binding server on a loopback UDP socket. It drops
// the first drop requests it receives, can send an unrelated packet before
// answering, and answers with a given error code when code is not zero.
type testServer struct {
	conn     net.PacketConn
	drop     int
	noise    [][]byte // sent to the client before each answer
	code     int
	received atomic.Int32
	requests chan struct{} // one value per request received, if room
	wg       sync.WaitGroup
}

// waitRequests waits until the server has received n requests in all.
func (s *testServer) waitRequests(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for int(s.received.Load()) < n {
		select {
		case <-s.requests:
		case <-timeout:
			t.Fatalf("server received %d requests, want %d", s.received.Load(), n)
		}
	}
}

func startServer(t *testing.T, s *testServer) *testServer {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.conn = conn
	s.requests = make(chan struct{}, 1)
	s.wg.Go(s.serve)
	t.Cleanup(func() {
		conn.Close()
		s.wg.Wait()
	})
	return s
}

func (s *testServer) serve() {
	buf := make([]byte, 1500)
	var m Message
	var b Builder
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		if m.Decode(buf[:n]) != nil || m.Type != BindingRequest {
			continue
		}
		k := int(s.received.Add(1))
		select {
		case s.requests <- struct{}{}:
		default:
		}
		if k <= s.drop {
			continue
		}
		for _, p := range s.noise {
			s.conn.WriteTo(p, from)
		}
		ua := from.(*net.UDPAddr)
		if s.code != 0 {
			b.Reset(nil, BindingError, m.TransactionID)
			b.AddErrorCode(s.code, "Test Error")
		} else {
			b.Reset(nil, BindingSuccess, m.TransactionID)
			b.AddXORMappedAddress(ua.AddrPort())
		}
		b.AddFingerprint()
		resp, _ := b.Build()
		s.conn.WriteTo(resp, from)
	}
}

func listenClient(t *testing.T) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// fastConfig has RTOs short enough for tests, so that retransmissions
// happen within milliseconds, and a final wait (10 s) long enough that a
// transaction whose server answers never times out on a loaded machine.
func fastConfig() *ClientConfig {
	return &ClientConfig{RTO: 2 * time.Millisecond, Rc: 7, Rm: 5000}
}

func TestBind(t *testing.T) {
	rtp := []byte{0x80, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1}
	var otherTx Builder
	otherTx.Reset(nil, BindingSuccess, TransactionID{1, 2, 3})
	otherTx.AddXORMappedAddress(testAddr4)
	stray, _ := otherTx.Build()
	tests := []struct {
		name  string
		drop  int
		noise [][]byte
	}{
		{name: "first answer"},
		{name: "drops 3 requests", drop: 3},
		{name: "drops 6 requests", drop: 6},
		{name: "RTP, DTLS and a stray transaction on the socket", noise: [][]byte{rtp, stray, {0x17, 0xfe, 0xfd}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, &testServer{drop: tt.drop, noise: tt.noise})
			c := listenClient(t)
			cfg := fastConfig()
			var unhandled [][]byte
			cfg.Unhandled = func(b []byte, from net.Addr) { unhandled = append(unhandled, bytes.Clone(b)) }
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got, err := Bind(ctx, c, s.conn.LocalAddr(), cfg)
			if err != nil {
				t.Fatalf("Bind: %v", err)
			}
			want := c.LocalAddr().(*net.UDPAddr).AddrPort()
			if got != want {
				t.Errorf("got %v, want %v", got, want)
			}
			if n := int(s.received.Load()); n < tt.drop+1 {
				t.Errorf("server received %d requests, want at least %d", n, tt.drop+1)
			}
			// The packets sent before the answer are handed over, in order.
			if len(unhandled) != len(tt.noise) {
				t.Fatalf("unhandled packets: got %d, want %d", len(unhandled), len(tt.noise))
			}
			for k := range unhandled {
				if !bytes.Equal(unhandled[k], tt.noise[k]) {
					t.Errorf("unhandled packet %d: got %x, want %x", k, unhandled[k], tt.noise[k])
				}
			}
		})
	}
}

func TestBindErrorResponse(t *testing.T) {
	s := startServer(t, &testServer{code: 438})
	c := listenClient(t)
	_, err := Bind(context.Background(), c, s.conn.LocalAddr(), fastConfig())
	var re *ResponseError
	if !errors.As(err, &re) || re.Code != 438 || re.Reason != "Test Error" {
		t.Fatalf("got %v, want *ResponseError 438 Test Error", err)
	}
}

// TestBindTimeout: a server that never answers. Rc transmissions reach it,
// then Bind gives up with ErrTimeout.
func TestBindTimeout(t *testing.T) {
	s := startServer(t, &testServer{drop: 1 << 30})
	c := listenClient(t)
	cfg := &ClientConfig{RTO: time.Millisecond, Rc: 4, Rm: 2}
	_, err := Bind(context.Background(), c, s.conn.LocalAddr(), cfg)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want %v", err, ErrTimeout)
	}
	// The server saw all Rc transmissions, no more.
	s.waitRequests(t, 4)
	if got := s.received.Load(); got != 4 {
		t.Errorf("server received %d requests, want 4", got)
	}
}

// TestBindConnectedRefused: over a socket connected to a closed port, the
// ICMP port unreachable ends Bind at once with ECONNREFUSED (Linux reports
// it on connected UDP sockets) instead of after all retransmissions.
func TestBindConnectedRefused(t *testing.T) {
	closed := listenClient(t)
	addr := closed.LocalAddr().(*net.UDPAddr)
	closed.Close()
	c, err := net.DialUDP("udp4", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = Bind(ctx, c, addr, &ClientConfig{RTO: time.Second})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v, want %v", err, syscall.ECONNREFUSED)
	}
}

// TestBindConnected binds over a socket connected to the server.
func TestBindConnected(t *testing.T) {
	s := startServer(t, &testServer{drop: 1})
	c, err := net.DialUDP("udp4", nil, s.conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := Bind(context.Background(), c, s.conn.LocalAddr(), fastConfig())
	if want := c.LocalAddr().(*net.UDPAddr).AddrPort(); err != nil || got != want {
		t.Fatalf("got %v, %v, want %v", got, err, want)
	}
}

// TestBindContext: with the default schedule (39.5 s) a context deadline
// ends Bind, and a cancelled context too.
func TestBindContext(t *testing.T) {
	unreachable := listenClient(t) // bound, silent
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := listenClient(t)
			ctx, cancel := tt.ctx()
			defer cancel()
			_, err := Bind(ctx, c, unreachable.LocalAddr(), nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestBindCancelWhileWaiting cancels the context while Bind is blocked in a
// read and checks that it returns.
func TestBindCancelWhileWaiting(t *testing.T) {
	s := startServer(t, &testServer{drop: 1 << 30})
	c := listenClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Bind(ctx, c, s.conn.LocalAddr(), nil)
		done <- err
	}()
	// Wait until the request has arrived, so Bind is waiting for a reply.
	s.waitRequests(t, 1)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want %v", err, context.Canceled)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Bind did not return after cancel")
	}
	// Bind cleared the read deadline it had moved into the past: a read
	// without a deadline of our own waits for the next packet.
	if _, err := s.conn.WriteTo([]byte{0x80, 0}, c.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadFrom(make([]byte, 10)); err != nil {
		t.Errorf("read after Bind: got %v, want nil", err)
	}
}

// TestSchedule checks the RFC 8489 §6.2.1 example: with the defaults,
// requests at 0, 500, 1500, 3500, 7500, 15500 and 31500 ms, failure at
// 39500 ms.
func TestSchedule(t *testing.T) {
	tests := []struct {
		name  string
		cfg   *ClientConfig
		sends []time.Duration
		end   time.Duration
	}{
		{"defaults", nil, []time.Duration{0, 500, 1500, 3500, 7500, 15500, 31500}, 39500},
		{"zero value", &ClientConfig{}, []time.Duration{0, 500, 1500, 3500, 7500, 15500, 31500}, 39500},
		{"RTO 100 Rc 3 Rm 4", &ClientConfig{RTO: 100 * time.Millisecond, Rc: 3, Rm: 4}, []time.Duration{0, 100, 300}, 700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg.withDefaults()
			var at time.Duration
			var sends []time.Duration
			for n := 1; n <= c.Rc; n++ {
				sends = append(sends, at/time.Millisecond)
				at += c.wait(n)
			}
			if !slices.Equal(sends, tt.sends) {
				t.Errorf("sends: got %v, want %v", sends, tt.sends)
			}
			if got := at / time.Millisecond; got != tt.end {
				t.Errorf("end: got %v, want %v", got, tt.end)
			}
		})
	}
}

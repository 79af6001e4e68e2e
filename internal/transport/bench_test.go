package transport

import (
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

func readWorkload(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("../../testdata/workloads/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkUDPRoundTrip sends the workload INVITE from one Manager to
// another over loopback UDP and waits until the receiver's Handler has it:
// serialize, write, read, parse, validate, received/rport, hand over.
func BenchmarkUDPRoundTrip(b *testing.B) {
	raw := readWorkload(b, "sip/invite.sip")
	msg, err := sipmsg.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("impl=ours", func(b *testing.B) {
		got := make(chan struct{}, 1)
		rx := newEndpoint(b, UDP, "127.0.0.1", Config{Handler: func(Inbound) { got <- struct{}{} }})
		tx := newEndpoint(b, UDP, "127.0.0.1", Config{})
		dst := rx.addr(UDP)
		ctx := context.Background()
		timeout := time.NewTimer(wait)
		defer timeout.Stop()
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if err := tx.Send(ctx, msg, dst); err != nil {
				b.Fatal(err)
			}
			timeout.Reset(wait)
			select {
			case <-got:
			case <-timeout.C:
				b.Fatalf("lost: %+v", rx.Stats())
			}
		}
	})
}

// TestSendDoesNotAllocate: serializing and writing a request, and a
// keepalive, allocate nothing in steady state on UDP and on an open TCP
// connection.
func TestSendDoesNotAllocate(t *testing.T) {
	msg, err := sipmsg.Parse(readWorkload(t, "sip/invite.sip"))
	if err != nil {
		t.Fatal(err)
	}
	m := newEndpoint(t, UDP, "127.0.0.1", Config{})
	sink := rawUDP(t, "127.0.0.1") // never read: no receiver allocations

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(io.Discard, c)
	}()
	tcpDst := Addr{Protocol: TCP, AddrPort: ln.Addr().(*net.TCPAddr).AddrPort()}
	ctx := context.Background()
	if err := m.Send(ctx, msg, tcpDst); err != nil { // dial once
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    func() error
	}{
		{"UDP send", func() error { return m.Send(ctx, msg, Addr{Protocol: UDP, AddrPort: localPort(sink)}) }},
		{"UDP keepalive", func() error { return m.Keepalive(ctx, Addr{Protocol: UDP, AddrPort: localPort(sink)}) }},
		{"TCP send", func() error { return m.Send(ctx, msg, tcpDst) }},
	}
	for _, tt := range tests {
		var err error
		allocs := testing.AllocsPerRun(100, func() {
			if e := tt.f(); e != nil {
				err = e
			}
		})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if allocs != 0 {
			t.Errorf("%s: got %v allocations, want 0", tt.name, allocs)
		}
	}
	m.Close()
	<-drained
}

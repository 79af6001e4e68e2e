//go:build linux && (amd64 || arm64)

package transaction

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
)

// TestUnreachableSockets: over real UDP sockets, with the transport's
// OnUnreachable given to the layer, an OPTIONS to a port where nothing
// listens ends with the ICMP error at once, not after Timer F.
func TestUnreachableSockets(t *testing.T) {
	var l *Layer
	m := transport.New(transport.Config{
		Handler:       func(in transport.Inbound) { l.HandleInbound(in) },
		OnUnreachable: func(dst transport.Addr, quoted []byte, err error) { l.Unreachable(dst, quoted, err) },
		Logger:        quiet,
	})
	l = New(m, &sockUA{}, Config{T1: time.Hour, Logger: quiet}) // Timer F: 64 hours
	t.Cleanup(func() {
		_ = l.Close()
		_ = m.Close()
	})
	if err := m.Listen(context.Background(), transport.UDP, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	gone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	dst := transport.Addr{Protocol: transport.UDP, AddrPort: gone.LocalAddr().(*net.UDPAddr).AddrPort()}
	gone.Close()
	n := &sockNode{m: m, l: l, proto: transport.UDP}
	req := n.newRequest("OPTIONS", dst, &dialog{callID: "icmp1", fromTag: "f1", seq: 1}, "")
	tx, err := l.Request(context.Background(), req, dst)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case _, open := <-tx.Responses():
		if open {
			t.Fatal("a response from nowhere")
		}
	case <-time.After(sockWait):
		t.Fatal("the transaction did not end")
	}
	if err := tx.Err(); !errors.Is(err, ErrTransport) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Err: got %v, want ErrTransport and ECONNREFUSED", err)
	}
}

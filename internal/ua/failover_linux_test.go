//go:build linux && (amd64 || arm64)

package ua

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/xphone-go/xphone/transaction"
)

// TestRegisterUnreachable: a registrar port where nothing listens answers
// the REGISTER with an ICMP port unreachable, which ends it at once (RFC
// 3261 §18.4; read on Linux only): Connect fails with a transport error
// well before Timer F (64*T1, here an hour).
func TestRegisterUnreachable(t *testing.T) {
	t.Parallel()
	gone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := gone.LocalAddr().(*net.UDPAddr).Port
	gone.Close()
	u := New(Config{Username: "test", Host: "127.0.0.1", Port: port, ListenAddr: "127.0.0.1:0", T1: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = u.Connect(ctx)
	if err == nil {
		u.Disconnect(context.Background())
		t.Fatal("Connect: registered with nobody")
	}
	var re *RegistrationError
	if !errors.As(err, &re) || !errors.Is(err, transaction.ErrTransport) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Connect: got %v, want a RegistrationError with ErrTransport and ECONNREFUSED", err)
	}
}

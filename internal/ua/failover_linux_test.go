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

// TestCallerGone: a caller whose socket closes after its 180 does not get
// our 183 (ringing) or 200 (answered): the ICMP error that comes back
// ends the call at once with a transport error (RFC 3261 §18.4), not
// after Timer H or 64*T1 without an ACK (here 64 hours).
func TestCallerGone(t *testing.T) {
	t.Parallel()
	for _, answer := range []string{"183", "200"} {
		t.Run(answer, func(t *testing.T) {
			t.Parallel()
			calls := make(chan *Call, 1)
			causes := make(chan error, 1)
			u := newUA(t, func(c *Config) {
				c.T1 = time.Hour
				c.OnIncoming = func(c *Call) { calls <- c }
				c.EndCause = func(r EndReason, err error) error {
					causes <- err
					return r
				}
			})
			p := newPeer(t)
			p.send(p.invite(uaURI(u), peerSDP(40000, "PCMU")), netipAddr(u))
			c := recvCall(t, calls)
			p.next("180", isResp(180, "INVITE"))
			p.pc.Close()
			// The ICMP error may end the call before Progress or
			// Accept returns, which then say so: the end is what counts.
			if answer == "183" {
				c.Progress(context.Background()) //nolint:errcheck // see above
			} else {
				c.Accept(context.Background()) //nolint:errcheck // see above
			}
			waitDone(t, c)
			if got, want := c.Reason(), EndError; got != want {
				t.Errorf("reason: got %v, want %v", got, want)
			}
			if err := <-causes; !errors.Is(err, transaction.ErrTransport) || !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("cause: got %v, want ErrTransport and ECONNREFUSED", err)
			}
		})
	}
}

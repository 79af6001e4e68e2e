package phonetest

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// The registrar restarts: the PBX is closed, losing every binding, and a new
// one starts on the same port. Both phones register again without being
// told to (their refresh, with a short expiry, meets the new PBX's
// challenge), and a call goes through the new PBX.
func TestE2ERegistrarRestart(t *testing.T) {
	short := PBXConfig{MinExpires: time.Second}
	pbx := startE2E(t, short)
	var restarted *PBX
	// Registered before the phones, so it runs after their Disconnect.
	t.Cleanup(func() {
		if restarted != nil {
			_ = restarted.Close()
		}
	})
	cfg := func(user string) xphone.Config {
		c := e2eConfig(pbx, user)
		c.RegisterExpiry = 2 * time.Second // refreshed every second
		c.RegisterRetry = 100 * time.Millisecond
		return c
	}
	alice, bob := e2ePhone(t, cfg("alice")), e2ePhone(t, cfg("bob"))
	addr := pbx.Addr().String()
	if err := pbx.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	short.Addr, short.Users = addr, e2eUsers
	var err error
	if restarted, err = NewPBX(short); err != nil {
		t.Fatalf("restart on %s: %v", addr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	for _, user := range []string{"alice", "bob"} {
		if err := restarted.WaitRegistered(ctx, user); err != nil {
			t.Fatalf("%s did not register with the new PBX: %v", user, err)
		}
	}
	if got, want := alice.State(), xphone.PhoneRegistered; got != want {
		t.Errorf("alice state: got %v, want %v", got, want)
	}
	in := listen(bob, func(c xphone.Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
	})
	c, err := dial(t, alice, "bob")
	if err != nil {
		t.Fatalf("Dial after the restart: %v", err)
	}
	callee := in.next(t)
	if err := c.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	callee.waitEnded(t, "callee", xphone.EndRemoteHangup)
}

// freeRTPPair returns an even port p such that p and p+1 are free on
// loopback now, outside the phones' default range and the ephemeral one.
func freeRTPPair(t *testing.T) int {
	t.Helper()
	for p := 21000 + 2*(time.Now().Nanosecond()%2000); p < 30000; p += 2 {
		a, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(p))))
		if err != nil {
			continue
		}
		b, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(p+1))))
		_ = a.Close()
		if err != nil {
			continue
		}
		_ = b.Close()
		return p
	}
	t.Fatal("no free RTP port pair")
	return 0
}

// A phone whose RTP range holds one port pair carries one call; a second
// concurrent call fails cleanly (ErrNoRTPPort when placing it, 500 when
// receiving it), the first call is unharmed, and once it ends the pair is
// free again.
func TestE2EPortExhaustion(t *testing.T) {
	for _, side := range []string{"caller", "callee"} {
		t.Run(side, func(t *testing.T) {
			pbx := startE2E(t, PBXConfig{})
			aliceCfg, bobCfg := e2eConfig(pbx, "alice"), e2eConfig(pbx, "bob")
			p := freeRTPPair(t)
			if side == "caller" {
				aliceCfg.RTPPortMin, aliceCfg.RTPPortMax = p, p+1
			} else {
				bobCfg.RTPPortMin, bobCfg.RTPPortMax = p, p+1
			}
			alice, bob := e2ePhone(t, aliceCfg), e2ePhone(t, bobCfg)
			in := listen(bob, func(c xphone.Call) {
				if err := c.Accept(context.Background()); err != nil {
					t.Errorf("Accept: %v", err)
				}
			})
			first, err := dial(t, alice, "bob")
			if err != nil {
				t.Fatalf("first Dial: %v", err)
			}
			firstIn := in.next(t)

			second, err := dial(t, alice, "bob")
			if second != nil {
				t.Fatalf("second Dial: got a call in state %v, want an error", second.State())
			}
			var se *xphone.StatusError
			switch {
			case side == "caller" && !errors.Is(err, xphone.ErrNoRTPPort):
				t.Errorf("second Dial: got %v, want ErrNoRTPPort", err)
			case side == "callee" && (!errors.As(err, &se) || se.Code != 500):
				t.Errorf("second Dial: got %v, want a 500 StatusError", err)
			}
			if got, want := first.State(), xphone.StateActive; got != want {
				t.Errorf("first call state: got %v, want %v", got, want)
			}
			sendTone(t, first, 500)
			hearTone(t, "first callee", firstIn, 500)

			ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
			defer cancel()
			if err := first.End(ctx); err != nil {
				t.Fatalf("End: %v", err)
			}
			firstIn.waitEnded(t, "first callee", xphone.EndRemoteHangup)
			third, err := dial(t, alice, "bob")
			if err != nil {
				t.Fatalf("Dial after the first call ended: %v", err)
			}
			thirdIn := in.next(t)
			if err := third.End(ctx); err != nil {
				t.Fatalf("End: %v", err)
			}
			thirdIn.waitEnded(t, "third callee", xphone.EndRemoteHangup)
		})
	}
}

// The callee's media stops (it sends a tone, then nothing): the caller's
// media timeout ends its call with EndMediaTimeout and a BYE, which the
// callee sees as a remote hangup.
func TestE2EMediaTimeout(t *testing.T) {
	pbx := startE2E(t, PBXConfig{})
	aliceCfg := e2eConfig(pbx, "alice")
	aliceCfg.MediaTimeout = 500 * time.Millisecond
	alice, bob := e2ePhone(t, aliceCfg), e2ePhone(t, e2eConfig(pbx, "bob"))
	in := listen(bob, func(c xphone.Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
	})
	c, err := dial(t, alice, "bob")
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	callee := in.next(t)
	sendTone(t, callee, 900)
	hearTone(t, "caller", c, 900)
	c.waitEnded(t, "caller", xphone.EndMediaTimeout)
	callee.waitEnded(t, "callee", xphone.EndRemoteHangup)
	var r xphone.EndReason
	if cause := context.Cause(c.Context()); !errors.As(cause, &r) || r != xphone.EndMediaTimeout {
		t.Errorf("caller context cause: got %v, want %v", cause, xphone.EndMediaTimeout)
	}
}

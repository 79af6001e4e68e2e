package phonetest

import (
	"context"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/xphone-go/xphone"
)

// ipv6Loopback reports whether this host can bind ::1 (a container may
// have IPv6 switched off).
func ipv6Loopback(t *testing.T) bool {
	t.Helper()
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Two phones and the PBX on ::1 only (skipped on a host without IPv6
// loopback, never in CI), over UDP and TCP: registration, a
// call with SRTP, a tone each way (media over IPv6, c=IN IP6 in SDP),
// and a hang-up.
func TestE2ECallIPv6(t *testing.T) {
	if !ipv6Loopback(t) {
		if os.Getenv("CI") != "" {
			t.Fatal("no IPv6 loopback: CI must run this test")
		}
		t.Skip("no IPv6 loopback on this host")
	}
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			pbx := startE2E(t, PBXConfig{Addr: "[::1]:0"})
			cfg := func(user string) xphone.Config {
				c := e2eConfig(pbx, user)
				c.ListenAddr, c.RTPAddress = "[::1]:0", netip.IPv6Loopback()
				c.Transport = transport
				c.SRTP = xphone.SRTPMandatory
				return c
			}
			alice, bob := e2ePhone(t, cfg("alice")), e2ePhone(t, cfg("bob"))
			in := listen(bob, func(c xphone.Call) {
				if err := c.Accept(context.Background()); err != nil {
					t.Errorf("Accept: %v", err)
				}
			})
			out, err := dial(t, alice, "bob")
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			callee := in.next(t)
			sendTone(t, out, 600)
			sendTone(t, callee, 1000)
			hearTone(t, "callee", callee, 600)
			hearTone(t, "caller", out, 1000)
			ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
			defer cancel()
			if err := out.End(ctx); err != nil {
				t.Fatalf("End: %v", err)
			}
			out.waitEnded(t, "caller", xphone.EndLocalHangup)
			callee.waitEnded(t, "callee", xphone.EndRemoteHangup)
		})
	}
}

package ua

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/stun"
)

// stunServer answers Binding requests on loopback with mapped as the
// reflexive address; silent servers read and drop everything.
func stunServer(t *testing.T, mapped netip.Addr, silent bool) string {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		out := make([]byte, 0, 256)
		var m stun.Message
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if silent || m.Decode(buf[:n]) != nil || m.Type != stun.BindingRequest {
				continue
			}
			var b stun.Builder
			b.Reset(out[:0], stun.BindingSuccess, m.TransactionID)
			b.AddXORMappedAddress(netip.AddrPortFrom(mapped, from.Port()))
			b.AddFingerprint()
			resp, err := b.Build()
			if err != nil {
				t.Errorf("build: %v", err)
				return
			}
			pc.WriteToUDPAddrPort(resp, from) //nolint:errcheck // the client retransmits
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().String()
}

func TestSTUNAddressUsed(t *testing.T) {
	t.Parallel()
	public := netip.MustParseAddr("127.0.0.2")
	for _, tc := range []struct {
		name   string
		silent bool
		want   netip.Addr
	}{
		{"mapped-address-advertised", false, public},
		{"silent-server-falls-back", true, netip.MustParseAddr("127.0.0.1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := stunServer(t, public, tc.silent)
			a := newPhone(t, transport.UDP, func(c *Config) {
				c.STUNServer = srv
				c.stunTimeout = 300 * time.Millisecond
			})
			if host, _ := a.LocalAddr(); host != tc.want.String() {
				t.Errorf("advertised host: got %v, want %v", host, tc.want)
			}
			p := newPeer(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go a.Dial(ctx, p.uri("bob"), DialOptions{}) //nolint:errcheck // cancelled below
			inv := p.next("INVITE", isReq("INVITE")).m
			via, err := inv.Via()
			if err != nil || via.Host != tc.want.String() {
				t.Errorf("Via sent-by: got %q (%v), want %v", via.Host, err, tc.want)
			}
			contact, err := inv.Contact()
			if err != nil || contact.URI.Host != tc.want.String() {
				t.Errorf("Contact host: got %q (%v), want %v", contact.URI.Host, err, tc.want)
			}
			if want := "c=IN IP4 " + tc.want.String(); !strings.Contains(string(inv.Body), want) {
				t.Errorf("SDP: got %q, want a line %q", inv.Body, want)
			}
			cancel()
		})
	}
}

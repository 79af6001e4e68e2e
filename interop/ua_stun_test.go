//go:build interop

package interop

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/stun"
)

// registerSeen is one REGISTER a fakeRegistrar received.
type registerSeen struct {
	from    netip.AddrPort // the datagram's source
	via     sipmsg.Via     // top Via
	contact sipmsg.URI     // first Contact's URI ("*" or none: zero)
}

// startFakeRegistrar listens on 127.0.0.1 (UDP) and answers every REGISTER
// 200 OK, echoing its Contact with expires=60 (none for Expires: 0). It
// adds no received/rport to the Via, so the phone keeps the address it
// advertised. Each REGISTER is reported on the returned channel.
func startFakeRegistrar(t *testing.T) (netip.AddrPort, <-chan registerSeen) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan registerSeen, 16)
	done := make(chan struct{})
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			m, err := sipmsg.Parse(buf[:n])
			if err != nil || m.Method != "REGISTER" {
				continue // keepalives (CRLF), anything else
			}
			r := registerSeen{from: from}
			r.via, _ = m.Via()
			resp := sipmsg.NewResponse(m, 200, "")
			if c := m.Get("Contact"); c != "" && m.Get("Expires") != "0" {
				if a, err := sipmsg.ParseAddress(c); err == nil {
					r.contact = a.URI
				}
				resp.Add("Contact", c+";expires=60")
			}
			resp.SetContentLength()
			conn.WriteToUDPAddrPort([]byte(resp.String()), from)
			select {
			case seen <- r:
			default:
			}
		}
	}()
	return conn.LocalAddr().(*net.UDPAddr).AddrPort(), seen
}

// freePortOn returns a UDP port free on ip now.
func freePortOn(t *testing.T, ip string) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("bind %s: %v", ip, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// stunPhone connects a phone listening on 127.0.0.2 that registers with
// registrar and asks stunServer for its address, and returns the first
// REGISTER it sent and how long Connect took.
func stunPhone(t *testing.T, registrar netip.AddrPort, seen <-chan registerSeen, stunServer string) (registerSeen, int, time.Duration) {
	t.Helper()
	port := freePortOn(t, "127.0.0.2")
	p, err := xphone.New(xphone.Config{
		Username: "1001", Password: "secret", Host: "127.0.0.1", Port: int(registrar.Port()),
		ListenAddr: fmt.Sprintf("127.0.0.2:%d", port), STUNServer: stunServer,
		RegisterExpiry: time.Minute, MediaTimeout: -1, NATKeepaliveInterval: -1,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	if err := p.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	took := time.Since(start)
	t.Cleanup(func() { p.Disconnect(context.Background()) })
	for {
		select {
		case r := <-seen:
			if r.from.Port() == uint16(port) { // not an earlier phone's un-REGISTER
				return r, port, took
			}
		case <-ctx.Done():
			t.Fatal("no REGISTER reached the registrar")
		}
	}
}

// TestUASTUNCoturn: the phone listens on 127.0.0.2 and asks coturn (on
// 127.0.0.1) for its address at Connect. coturn sees the phone's STUN
// socket, bound to every interface, come from 127.0.0.1: that mapped
// address, not the local 127.0.0.2, must be in the REGISTER's Via and
// Contact (with the listening port; the phone only takes the address from
// STUN, RFC 8489 §6). With coturn stopped, Connect falls back to the local
// address within the 3 s STUN bound.
func TestUASTUNCoturn(t *testing.T) {
	ct := startCoturn(t)
	reg, seen := startFakeRegistrar(t)

	// What coturn reports for a socket like the phone's STUN socket.
	conn, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	mapped, err := stun.Bind(ctx, conn, net.UDPAddrFromAddrPort(ct.addr), nil)
	cancel()
	conn.Close()
	if err != nil {
		t.Fatalf("stun.Bind: %v", err)
	}
	want := mapped.Addr().Unmap()
	local := netip.MustParseAddr("127.0.0.2")
	t.Logf("coturn maps this host to %v; the phone listens on %v", mapped, local)
	if want == local {
		t.Fatalf("coturn reports the phone's own address %v: the test proves nothing", want)
	}

	t.Run("mapped", func(t *testing.T) {
		r, port, took := stunPhone(t, reg, seen, ct.addr.String())
		t.Logf("Connect took %v; REGISTER from %v, Via %s:%d, Contact %s", took, r.from, r.via.Host, r.via.Port, r.contact)
		if got, want := r.from, netip.AddrPortFrom(local, uint16(port)); got != want {
			t.Errorf("REGISTER sent from %v, want %v", got, want)
		}
		if got, want := fmt.Sprintf("%s:%d", r.via.Host, r.via.Port), netip.AddrPortFrom(want, uint16(port)).String(); got != want {
			t.Errorf("Via sent-by: got %s, want %s (coturn's address, our port)", got, want)
		}
		if got, want := fmt.Sprintf("%s:%d", r.contact.Host, r.contact.Port), netip.AddrPortFrom(want, uint16(port)).String(); got != want {
			t.Errorf("Contact: got %s, want %s (coturn's address, our port)", got, want)
		}
	})

	t.Run("coturn stopped", func(t *testing.T) {
		ct.stop(t)
		r, port, took := stunPhone(t, reg, seen, ct.addr.String())
		t.Logf("Connect took %v; REGISTER from %v, Via %s:%d, Contact %s", took, r.from, r.via.Host, r.via.Port, r.contact)
		// The STUN query gives up after 3 s; registering on loopback
		// takes milliseconds more.
		if took > 4*time.Second {
			t.Errorf("Connect took %v, want the 3 s STUN bound at most (+1 s)", took)
		}
		wantAP := netip.AddrPortFrom(local, uint16(port)).String()
		if got := fmt.Sprintf("%s:%d", r.via.Host, r.via.Port); got != wantAP {
			t.Errorf("Via sent-by: got %s, want the local %s", got, wantAP)
		}
		if got := fmt.Sprintf("%s:%d", r.contact.Host, r.contact.Port); got != wantAP {
			t.Errorf("Contact: got %s, want the local %s", got, wantAP)
		}
	})
}

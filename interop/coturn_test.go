//go:build interop

package interop

import (
	"context"
	_ "embed"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/xphone-go/xphone/stun"
)

//go:embed testdata/turnserver.conf.tmpl
var turnserverConf string

// coturn is a running coturn STUN/TURN server on 127.0.0.1 (UDP and TCP),
// long-term credentials user/pass, realm interop.lab.
type coturn struct {
	*peer
	addr netip.AddrPort
}

// startCoturn starts turnserver on a free port and waits until it answers
// a STUN Binding request.
func startCoturn(t *testing.T) *coturn {
	t.Helper()
	bin := needBinary(t, "turnserver")
	logVersion(t, "turnserver", "coturn", "--version")
	dir := t.TempDir()
	port := freePort(t)
	relay := freePortRange(t, 20)
	cfg := filepath.Join(dir, "turnserver.conf")
	writeFile(t, cfg, expand(t, turnserverConf, map[string]string{
		"PORT": strconv.Itoa(port), "WORKDIR": dir, "USER": "user", "PASS": "pass", "REALM": "interop.lab",
		"MINPORT": strconv.Itoa(relay), "MAXPORT": strconv.Itoa(relay + 19),
	}))
	c := &coturn{addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))}
	c.peer = startPeer(t, "turnserver", dir, bin, "-c", cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("turnserver.log:\n%s", readTail(filepath.Join(dir, "turnserver.log"), 16<<10))
		}
	})
	c.waitUntil(t, 15*time.Second, "answering STUN", func() error {
		_, err := c.bind(200*time.Millisecond, 1)
		return err
	})
	return c
}

// bind runs one stun.Bind from a fresh loopback UDP socket and checks
// nothing; it returns the mapped address.
func (c *coturn) bind(rto time.Duration, rc int) (netip.AddrPort, error) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return netip.AddrPort{}, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return stun.Bind(ctx, conn, net.UDPAddrFromAddrPort(c.addr), &stun.ClientConfig{RTO: rto, Rc: rc, Rm: 2})
}

func TestCoturnSTUNBinding(t *testing.T) {
	c := startCoturn(t)
	for i := range 3 {
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		want := conn.LocalAddr().(*net.UDPAddr).AddrPort()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got, err := stun.Bind(ctx, conn, net.UDPAddrFromAddrPort(c.addr), &stun.ClientConfig{Software: "xphone-interop"})
		cancel()
		conn.Close()
		if err != nil {
			t.Fatalf("binding %d: stun.Bind: %v", i, err)
		}
		if got != want {
			t.Fatalf("binding %d: got mapped address %v, want our own %v", i, got, want)
		}
	}
}

//go:build interop

package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// restartKamailio kills k and starts Kamailio again with the same
// configuration and port: usrloc is in memory only (db_mode 0), so every
// binding is lost.
func restartKamailio(t *testing.T, k *kamailio) {
	t.Helper()
	k.peer.stop(t)
	dir := k.peer.dir
	bin := needBinary(t, "kamailio")
	args := []string{"-f", filepath.Join(dir, "kamailio.cfg"), "-A", "WITH_AUTH",
		"-DD", "-E", "-m", "32", "-M", "8", "-Y", dir, "-w", dir, "-P", filepath.Join(dir, "kamailio.pid")}
	k.peer = startPeer(t, "kamailio", dir, bin, args...)
	k.waitUntil(t, 15*time.Second, "answering OPTIONS after the restart", func() error { return optionsPing(k.addr()) })
}

// TestUARegKamailioRestart registers with Kamailio over UDP and TCP, kills
// Kamailio and starts it again on the same port (losing the binding), and
// waits for our binding to reappear without any call on the Phone: over UDP
// by the next refresh, over TCP by the closed connection and the retry.
func TestUARegKamailioRestart(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			k := startKamailio(t)
			port := freePort(t)
			events := make(chan string, 32)
			p, err := xphone.New(xphone.Config{
				Username: "1002", Password: "secret", Host: "127.0.0.1", Port: k.port, Transport: tr,
				RegisterExpiry: 10 * time.Second, RegisterRetry: 500 * time.Millisecond, MediaTimeout: -1,
				ListenAddr: fmt.Sprintf("127.0.0.1:%d", port),
			})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			start := time.Now()
			send := func(e string) {
				t.Logf("%v: %s", time.Since(start).Round(time.Millisecond), e)
				events <- e
			}
			p.OnRegistered(func() { send("registered") })
			p.OnUnregistered(func() { send("unregistered") })
			p.OnError(func(err error) { send("error: " + err.Error()) })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := p.Connect(ctx); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			t.Cleanup(func() { p.Disconnect(context.Background()) })
			contact := fmt.Sprintf("sip:1002@127.0.0.1:%d", port)
			eventually(t, 5*time.Second, "binding in usrloc", func() error { return k.registered(t, "1002", contact) })

			t.Logf("%v: restarting Kamailio", time.Since(start).Round(time.Millisecond))
			restartKamailio(t, k)
			t.Logf("%v: Kamailio answers again", time.Since(start).Round(time.Millisecond))
			if tr == "udp" {
				// Nothing told the phone: the binding is gone until its
				// refresh (at half of the granted 10 s) puts it back.
				if err := k.registered(t, "1002", contact); err == nil {
					t.Fatalf("binding survived the restart: the test proves nothing")
				}
			}
			eventually(t, 20*time.Second, "binding back after the restart", func() error { return k.registered(t, "1002", contact) })
			if got, want := p.State(), xphone.PhoneRegistered; got != want {
				t.Errorf("State: got %v, want %v", got, want)
			}
			// Disconnect now, while the restarted Kamailio (stopped by a
			// cleanup registered after ours) still answers the un-REGISTER.
			dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer dcancel()
			if err := p.Disconnect(dctx); err != nil {
				t.Fatalf("Disconnect: %v", err)
			}
			eventually(t, 5*time.Second, "binding removed by Disconnect", func() error {
				if k.registered(t, "1002", contact) == nil {
					return errStillRegistered
				}
				return nil
			})
			// Transitions come in pairs and in order: never two
			// "registered" or two "unregistered" in a row.
			last := "unregistered"
			for done := false; !done; {
				select {
				case e := <-events:
					if strings.HasPrefix(e, "error: ") {
						continue
					}
					if e == last {
						t.Errorf("OnRegistered/OnUnregistered: %q twice in a row", e)
					}
					last = e
				default:
					done = true
				}
			}
		})
	}
}

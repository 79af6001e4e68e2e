//go:build interop

package interop

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// TestUAKamailioMessage: two phones registered with Kamailio exchange
// instant messages (RFC 3428) through it: Kamailio challenges the sender
// (407, answered with credentials) and relays the MESSAGE to the
// recipient's binding; OnMessage gets the sender, the type and the body,
// and the answer comes back as success. A MESSAGE to a user with no
// binding is refused by Kamailio (404) and reported as ErrNotFound.
func TestUAKamailioMessage(t *testing.T) {
	k := startKamailio(t)
	got := make(chan xphone.Message, 2)
	alice, bob := messagePhone(t, k, "1001", got), messagePhone(t, k, "1002", got)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct {
		from xphone.Phone
		to   string
		user string
		body string
	}{{alice, "1002", "1001", "ping ü"}, {bob, "1001", "1002", "pong"}} {
		if err := tc.from.SendMessage(ctx, tc.to, "", []byte(tc.body)); err != nil {
			t.Fatalf("SendMessage to %s: %v", tc.to, err)
		}
		select {
		case m := <-got:
			if !strings.HasPrefix(m.From, "sip:"+tc.user+"@") || !strings.HasPrefix(m.To, "sip:"+tc.to+"@") ||
				!strings.HasPrefix(m.ContentType, "text/plain") || string(m.Body) != tc.body {
				t.Errorf("message to %s: got %+v", tc.to, m)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the message to %s did not arrive", tc.to)
		}
	}
	if err := alice.SendMessage(ctx, "1005", "", []byte("anyone?")); !errors.Is(err, xphone.ErrNotFound) {
		t.Errorf("SendMessage to an unregistered user: got %v, want ErrNotFound", err)
	}
}

// messagePhone is a phone registered with k as user that takes messages
// onto got. OnMessage is set before Connect: the REGISTER's Allow then
// lists MESSAGE, and Kamailio's lookup relays only the methods a binding
// allows (405 otherwise).
func messagePhone(t *testing.T, k *kamailio, user string, got chan xphone.Message) xphone.Phone {
	t.Helper()
	p, err := xphone.New(xphone.Config{
		Username: user, Password: "secret", Host: "127.0.0.1", Port: k.port,
		RegisterExpiry: time.Minute, MediaTimeout: -1, RTPAddress: netip.MustParseAddr("127.0.0.1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	p.OnMessage(func(m xphone.Message) { got <- m })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Connect(ctx); err != nil {
		t.Fatalf("Connect %s: %v", user, err)
	}
	t.Cleanup(func() { p.Disconnect(context.Background()) })
	return p
}

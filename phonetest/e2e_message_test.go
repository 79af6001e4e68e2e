package phonetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// TestE2EMessage: Alice's phone sends Bob an instant message through the
// PBX (which challenges her for credentials); Bob's OnMessage gets it with
// Alice as sender. Carol takes no messages: hers is refused with 405.
func TestE2EMessage(t *testing.T) {
	pbx := startE2E(t, PBXConfig{})
	alice := e2ePhone(t, e2eConfig(pbx, "alice"))
	bob := e2ePhone(t, e2eConfig(pbx, "bob"))
	e2ePhone(t, e2eConfig(pbx, "carol"))
	got := make(chan xphone.Message, 1)
	bob.OnMessage(func(m xphone.Message) { got <- m })
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	if err := alice.SendMessage(ctx, "bob", "", []byte("lunch?")); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	select {
	case m := <-got:
		if !strings.HasPrefix(m.From, "sip:alice@") || !strings.HasPrefix(m.To, "sip:bob@") ||
			m.ContentType != "text/plain;charset=UTF-8" || string(m.Body) != "lunch?" {
			t.Errorf("Bob got %+v", m)
		}
	case <-time.After(e2eWait):
		t.Fatal("Bob's OnMessage was not called")
	}
	err := alice.SendMessage(ctx, "carol", "", []byte("hello?"))
	var se *xphone.StatusError
	if !errors.As(err, &se) || se.Code != 405 {
		t.Errorf("SendMessage to Carol: got %v, want a 405 StatusError", err)
	}
}

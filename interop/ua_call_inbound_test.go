//go:build interop

package interop

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/audiotest"
)

// TestUACalledByBaresipThroughKamailio: our phone registers with Kamailio
// as 1002; baresip, registered as 1001, dials 1002 through Kamailio. We
// answer, hear baresip's 440 Hz and send 1000 Hz; after our BYE (through
// the route set) baresip's recording of what it decoded holds 1000 Hz.
func TestUACalledByBaresipThroughKamailio(t *testing.T) {
	k := startKamailio(t)
	errs := make(chan error, 8)
	p := kamailioPhone(t, k, "1002", time.Minute, errs)
	incoming := make(chan xphone.Call, 1)
	p.OnIncoming(func(c xphone.Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
		incoming <- c
	})
	b := startBaresip(t, baresipOptions{user: "1001", registrar: k.addr(), codecs: "PCMU", toneHz: 440})
	eventually(t, 10*time.Second, "baresip registered in Kamailio's usrloc", func() error {
		return k.registered(t, "1001", fmt.Sprintf("127.0.0.1:%d", b.sipPort))
	})
	ctl := dialBaresipCtl(t, b)
	ctl.command(t, "dial", fmt.Sprintf("sip:1002@%s", k.addr()))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var c xphone.Call
	select {
	case c = <-incoming:
	case <-ctx.Done():
		t.Fatal("baresip's call did not reach our phone")
	}
	ctl.waitEvent(t, "CALL_ESTABLISHED", 10*time.Second)
	if got, want := c.Direction(), xphone.Inbound; got != want {
		t.Errorf("direction: got %v, want %v", got, want)
	}
	go toneTo(c, 1000)
	heard := hear(t, c, 150)
	if err := audiotest.CheckTone(heard[160*25:], 8000, 440, 10); err != nil {
		t.Errorf("we heard: %v", err)
	}
	if err := c.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	ctl.waitEvent(t, "CALL_CLOSED", 10*time.Second)

	s, _, _ := b.decodedRecording(t, 2*time.Second)
	if err := audiotest.CheckTone(s[4000:len(s)-1600], 8000, 1000, 10); err != nil {
		t.Errorf("baresip heard: %v", err)
	}
	select {
	case err := <-errs:
		t.Errorf("phone error: %v", err)
	default:
	}
}

//go:build interop

package interop

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/audiotest"
)

// TestUACallToBaresip: our phone (listening, not registered) calls baresip
// directly; baresip auto-answers and sends 440 Hz, we send 1000 Hz. We hear
// 440 Hz; after our BYE, baresip's recording of what it decoded holds
// 1000 Hz.
func TestUACallToBaresip(t *testing.T) {
	b := startBaresip(t, baresipOptions{user: "1001", codecs: "PCMU", toneHz: 440})
	p, err := xphone.New(xphone.Config{Username: "xphone", ListenAddr: "127.0.0.1:0", MediaTimeout: -1,
		RTPAddress: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { p.Disconnect(context.Background()) })
	c, err := p.Dial(ctx, fmt.Sprintf("sip:1001@127.0.0.1:%d", b.sipPort))
	if err != nil {
		t.Fatalf("Dial baresip: %v", err)
	}
	go toneTo(c, 1000)
	heard := hear(t, c, 150)
	if err := audiotest.CheckTone(heard[160*25:], 8000, 440, 10); err != nil {
		t.Errorf("we heard: %v", err)
	}
	if err := c.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	s, _, _ := b.decodedRecording(t, 2*time.Second)
	if err := audiotest.CheckTone(s[4000:len(s)-1600], 8000, 1000, 10); err != nil {
		t.Errorf("baresip heard: %v", err)
	}
}

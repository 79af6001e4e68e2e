//go:build interop

package interop

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// TestSIPpMaxCalls: a phone with Config.MaxCalls 1 takes SIPp's first call
// (uac-basic.xml, held 2 s) and answers a second SIPp's INVITE, while the
// first is up, 486 Busy Here (uac-expect-busy.xml, which fails on
// anything else); OnIncoming sees only the first; the first call then
// ends normally.
func TestSIPpMaxCalls(t *testing.T) {
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := listeningPhone(t, "xphone", port, func(c *xphone.Config) { c.MaxCalls = 1 })
	calls := make(chan xphone.Call, 4)
	states := make(chan xphone.CallState, 16)
	p.OnIncoming(func(c xphone.Call) {
		c.OnState(func(s xphone.CallState) { states <- s }) // the first call's: no other is taken
		calls <- c
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
	})
	first, _ := startSIPp(t, "uac-basic", "-s", "xphone", "-key", "caller", "sipp", "-d", "2000", addr)
	select {
	case <-calls:
	case <-time.After(10 * time.Second):
		t.Fatal("the first call did not come")
	}
	waitState(t, states, xphone.StateActive, 10*time.Second)
	second, _ := startSIPp(t, "uac-expect-busy", "-s", "xphone", addr)
	if err := second.wait(t, 20*time.Second); err != nil {
		t.Errorf("second SIPp: %v, want success (486 Busy Here)", err)
	}
	if err := first.wait(t, 20*time.Second); err != nil {
		t.Errorf("first SIPp: %v, want success", err)
	}
	select {
	case n := <-calls:
		t.Errorf("OnIncoming got a second call %s", n.CallID())
	default:
	}
}

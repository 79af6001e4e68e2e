package phonetest

import (
	"context"
	"testing"

	"github.com/xphone-go/xphone"
)

// Two real phones register with the PBX and call each other through it with
// each codec: the callee answers, a tone goes each way and arrives at its
// frequency, and each side in turn hangs up.
func TestE2ECall(t *testing.T) {
	tests := []struct {
		codec  xphone.Codec
		hangup string // "caller" or "callee"
	}{
		{xphone.CodecPCMU, "caller"},
		{xphone.CodecPCMA, "callee"},
		{xphone.CodecG722, "caller"},
		{xphone.CodecPCMU, "callee"},
	}
	for _, tt := range tests {
		t.Run(string(tt.codec)+"/"+tt.hangup+"-hangs-up", func(t *testing.T) {
			pbx := startE2E(t, PBXConfig{})
			aliceCfg, bobCfg := e2eConfig(pbx, "alice"), e2eConfig(pbx, "bob")
			aliceCfg.Codecs = []xphone.Codec{tt.codec}
			bobCfg.Codecs = []xphone.Codec{xphone.CodecPCMU, xphone.CodecPCMA, xphone.CodecG722}
			alice, bob := e2ePhone(t, aliceCfg), e2ePhone(t, bobCfg)
			if !pbx.Registered("alice") || !pbx.Registered("bob") {
				t.Fatalf("registered: got alice %v bob %v, want both", pbx.Registered("alice"), pbx.Registered("bob"))
			}
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
			if out.State() != xphone.StateActive || out.Direction() != xphone.Outbound || callee.Direction() != xphone.Inbound {
				t.Errorf("caller state %v direction %v, callee direction %v: want Active outbound, inbound",
					out.State(), out.Direction(), callee.Direction())
			}
			if out.Codec() != tt.codec || callee.Codec() != tt.codec {
				t.Errorf("codecs: got caller %v callee %v, want %v", out.Codec(), callee.Codec(), tt.codec)
			}
			if got, want := out.CallID(), callee.CallID(); got != want {
				t.Errorf("Call-ID: got callee %v, want the caller's %v", want, got)
			}

			sendTone(t, out, 600)
			sendTone(t, callee, 1000)
			hearTone(t, "callee", callee, 600)
			hearTone(t, "caller", out, 1000)

			ender, other := out, callee
			if tt.hangup == "callee" {
				ender, other = callee, out
			}
			ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
			defer cancel()
			if err := ender.End(ctx); err != nil {
				t.Fatalf("End: %v", err)
			}
			ender.waitEnded(t, "hanging-up side", xphone.EndLocalHangup)
			other.waitEnded(t, "other side", xphone.EndRemoteHangup)
			if n := len(alice.Calls()) + len(bob.Calls()); n != 0 {
				t.Errorf("calls left: got %d, want 0", n)
			}
		})
	}
}

package xphone

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRefuseSDESOverPlainReachesTheUA: the root Config's RefuseSDESOverPlain
// is passed to the user agent: a mandatory-SRTP Dial over UDP fails with
// ErrNotAcceptable instead of sending keys in the clear, while the same
// phone without the option places the call.
func TestRefuseSDESOverPlainReachesTheUA(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	callee := listeningPhone(t, func(c *Config) { c.SRTP = SRTPMandatory })
	callee.OnIncoming(func(c Call) { c.Accept(ctx) })

	refusing := listeningPhone(t, func(c *Config) { c.SRTP, c.RefuseSDESOverPlain = SRTPMandatory, true })
	if _, err := refusing.Dial(ctx, phoneURI(callee)); !errors.Is(err, ErrNotAcceptable) {
		t.Errorf("mandatory SRTP over UDP with RefuseSDESOverPlain: got %v, want ErrNotAcceptable", err)
	}

	plain := listeningPhone(t, func(c *Config) { c.SRTP = SRTPMandatory })
	call, err := plain.Dial(ctx, phoneURI(callee))
	if err != nil {
		t.Fatalf("mandatory SRTP over UDP without the option: %v", err)
	}
	if err := call.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
}

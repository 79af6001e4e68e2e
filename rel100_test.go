package xphone

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRel100Modes: Config.Rel100 reaches the user agent. A caller that
// requires 100rel is refused by a callee that disables it (420, RFC 3262
// §3 / RFC 3261 §8.2.2.3) and connects to one that supports it.
func TestRel100Modes(t *testing.T) {
	tests := []struct {
		caller, callee Rel100Mode
		code           int // 0: the call connects
	}{
		{Rel100Required, Rel100Disabled, 420},
		{Rel100Required, Rel100Supported, 0},
		{Rel100Disabled, Rel100Required, 421},
		{Rel100Supported, Rel100Required, 0},
	}
	for _, tt := range tests {
		t.Run(tt.caller.String()+"-"+tt.callee.String(), func(t *testing.T) {
			callee := listeningPhone(t, func(c *Config) { c.Rel100 = tt.callee })
			caller := listeningPhone(t, func(c *Config) { c.Rel100 = tt.caller })
			callee.OnIncoming(func(c Call) { c.Accept(context.Background()) }) //nolint:errcheck // the Dial result is the check
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := caller.Dial(ctx, phoneURI(callee))
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("Dial: got %v, want a call", err)
				}
				c.End(ctx) //nolint:errcheck // teardown
				return
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tt.code {
				t.Fatalf("Dial: got %v, want a *StatusError with code %d", err, tt.code)
			}
		})
	}
}

func TestRel100ModeString(t *testing.T) {
	for m, want := range map[Rel100Mode]string{Rel100Supported: "supported", Rel100Required: "required", Rel100Disabled: "disabled", 7: "Rel100Mode(7)"} {
		if got := m.String(); got != want {
			t.Errorf("%d.String(): got %q, want %q", m, got, want)
		}
	}
}

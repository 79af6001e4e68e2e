package xphone

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xphone-go/xphone/srtp"
)

func suitePhone(t *testing.T, suites ...srtp.Profile) Phone {
	t.Helper()
	return listeningPhone(t, func(c *Config) { c.SRTP, c.SRTPSuites = SRTPMandatory, suites })
}

// TestSRTPSuites: Config.SRTPSuites decides which SDES suites are offered
// and accepted: the first suite both sides list is used in both
// directions, and phones without a common suite do not connect (488).
func TestSRTPSuites(t *testing.T) {
	gcm, cm80, cm32, aes256 := srtp.ProfileAEADAES128GCM, srtp.ProfileAES128CMSHA1_80, srtp.ProfileAES128CMSHA1_32, srtp.ProfileAES256CMSHA1_80
	tests := []struct {
		name           string
		caller, callee []srtp.Profile
		want           srtp.Profile // 0: no common suite
	}{
		{"gcm", []srtp.Profile{gcm}, []srtp.Profile{gcm, cm80}, gcm},
		{"caller's order", []srtp.Profile{aes256, cm80}, []srtp.Profile{cm80, aes256}, aes256},
		{"default callee", []srtp.Profile{cm32}, nil, cm32},
		{"none common", []srtp.Profile{gcm}, []srtp.Profile{cm80}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			callee := suitePhone(t, tt.callee...)
			caller := suitePhone(t, tt.caller...)
			accepted := make(chan Call, 1)
			callee.OnIncoming(func(c Call) {
				if err := c.Accept(context.Background()); err == nil {
					accepted <- c
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := caller.Dial(ctx, phoneURI(callee))
			if tt.want == 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != 488 {
					t.Fatalf("Dial: got %v, want a 488 *StatusError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.End(ctx) //nolint:errcheck // teardown
			var in Call
			select {
			case in = <-accepted:
			case <-ctx.Done():
				t.Fatal("callee never accepted")
			}
			for _, x := range []Call{c, in} {
				mc := x.(*call).c.Media().Config()
				if mc.SRTPSend == nil || mc.SRTPRecv == nil {
					t.Fatalf("%s: media has no SRTP keys", x.Direction())
				}
				if mc.SRTPSend.Suite != tt.want.String() || mc.SRTPRecv.Suite != tt.want.String() {
					t.Errorf("%s: got suites %s/%s, want %s", x.Direction(), mc.SRTPSend.Suite, mc.SRTPRecv.Suite, tt.want)
				}
			}
		})
	}
}

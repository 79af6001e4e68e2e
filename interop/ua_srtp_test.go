//go:build interop

package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/srtp"
)

// sdesSuites are the SDES crypto suites (RFC 4568 §6.2, RFC 6188, RFC 7714)
// Kamailio can delete from offers (SDES_DROP_* in kamailio.cfg.tmpl).
var sdesSuites = []string{
	"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32",
	"AES_256_CM_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_32",
	"AEAD_AES_128_GCM", "AEAD_AES_256_GCM",
}

// baresipSuiteRE finds the suite baresip's srtp module started with.
var baresipSuiteRE = regexp.MustCompile(`SRTP is Enabled \(cryptosuite=([A-Z0-9_]+)\)`)

// srtpPhone returns a phone registered with k as user with SRTP mandatory
// and suite as its only SDES suite.
func srtpPhone(t *testing.T, k *kamailio, user, suite string) xphone.Phone {
	t.Helper()
	prof, err := srtp.ParseProfile(suite)
	if err != nil {
		t.Fatal(err)
	}
	return registeredPhone(t, k, user, nil, func(c *xphone.Config) {
		c.SRTP, c.SRTPSuites, c.Codecs = xphone.SRTPMandatory, []srtp.Profile{prof}, []xphone.Codec{xphone.CodecPCMU}
	})
}

// TestUASRTPBaresip: baresip with mediaenc=srtp-mand (RTP/SAVP only) and
// our phone with SRTPMandatory call each other through Kamailio, which
// deletes from the INVITE's offer every a=crypto line (RFC 4568) but one
// suite's, so the answer must take that suite. Per case: baresip reports
// that suite, we hear its 440 Hz and its recording holds our 1000 Hz,
// both through the encryption.
//
// baresip 1.0.0 offers AES_CM_128_HMAC_SHA1_80 only, and accepts it,
// AES_CM_128_HMAC_SHA1_32 and AEAD_AES_128/256_GCM in offers; our phone
// is configured (Config.SRTPSuites) with the one suite under test, so the
// other suites are tested in our offers only.
func TestUASRTPBaresip(t *testing.T) {
	for _, tc := range []struct{ suite, dir string }{
		{"AES_CM_128_HMAC_SHA1_80", "we call"},
		{"AES_CM_128_HMAC_SHA1_80", "baresip calls"},
		{"AES_CM_128_HMAC_SHA1_32", "we call"},
		{"AEAD_AES_128_GCM", "we call"},
		{"AEAD_AES_256_GCM", "we call"},
	} {
		suite, dir := tc.suite, tc.dir
		t.Run(suite+"/"+dir, func(t *testing.T) {
			var defines []string
			for _, s := range sdesSuites {
				if s != suite {
					defines = append(defines, "SDES_DROP_"+s)
				}
			}
			k := startKamailioWith(t, kamailioOptions{defines: defines})
			p := srtpPhone(t, k, "1002", suite)
			incoming := make(chan xphone.Call, 1)
			p.OnIncoming(func(c xphone.Call) {
				if err := c.Accept(context.Background()); err != nil {
					t.Errorf("Accept: %v", err)
				}
				incoming <- c
			})
			b := startBaresip(t, baresipOptions{user: "1001", registrar: k.addr(), codecs: "PCMU", toneHz: 440, mediaenc: "srtp-mand"})
			eventually(t, 10*time.Second, "baresip registered in Kamailio's usrloc", func() error {
				return k.registered(t, "1001", fmt.Sprintf("127.0.0.1:%d", b.sipPort))
			})
			ctl := dialBaresipCtl(t, b)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var c xphone.Call
			if dir == "we call" {
				var err error
				if c, err = p.Dial(ctx, "1001"); err != nil {
					t.Fatalf("Dial baresip: %v", err)
				}
			} else {
				ctl.command(t, "dial", "sip:1002@"+k.addr())
				select {
				case c = <-incoming:
				case <-ctx.Done():
					t.Fatal("baresip's call did not reach our phone")
				}
			}
			ctl.waitEvent(t, "CALL_ESTABLISHED", 10*time.Second)
			go toneTo(c, 1000)
			hearTone(t, c, 440) // we hear baresip
			hear(t, c, 100)     // two more seconds of our tone into baresip's recording
			st := c.Stats()
			if !st.SRTP {
				t.Errorf("Stats().SRTP: got false, want true")
			}
			if err := c.End(ctx); err != nil {
				t.Fatalf("End: %v", err)
			}
			ctl.waitEvent(t, "CALL_CLOSED", 10*time.Second)
			m := baresipSuiteRE.FindStringSubmatch(b.log())
			if m == nil || m[1] != suite {
				t.Errorf("baresip's SRTP suite: got %q, want %s", m, suite)
			}
			s, _, dec := b.decodedRecording(t, 1500*time.Millisecond)
			t.Logf("we received %d packets (%d after SRTP authentication); baresip recorded %s: %.2f s",
				st.PacketsReceived, st.PacketsReceived, filepath.Base(dec), float64(len(s))/8000)
			if err := audiotest.CheckTone(s[4000:len(s)-1600], 8000, 1000, 10); err != nil {
				t.Errorf("baresip heard: %v", err)
			}
		})
	}
}

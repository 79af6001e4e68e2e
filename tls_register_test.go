package xphone_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/phonetest"
)

// TestPhoneTLSRegister: a Phone with Transport "tls" and a TLSConfig that
// trusts the test's CA registers with the PBX over TLS (digest, a sips:
// Contact; OnRegistered fires) and Disconnect removes the binding
// (OnUnregistered fires). A TLSConfig without the CA fails Connect with a
// *RegistrationError.
func TestPhoneTLSRegister(t *testing.T) {
	srv, cli := phonetest.TLSConfigs(t)
	for _, tc := range []struct {
		name    string
		client  *tls.Config
		trusted bool
	}{
		{"trusted-ca", cli, true},
		{"unknown-ca", &tls.Config{MinVersion: tls.VersionTLS12}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pbx := phonetest.StartPBX(t, phonetest.PBXConfig{Users: map[string]string{"alice": "secret"}, TLSConfig: srv})
			p, err := xphone.New(xphone.Config{
				Username: "alice", Password: "secret",
				Host: "127.0.0.1", Port: int(pbx.TLSAddr().Port()),
				Transport: "tls", TLSConfig: tc.client,
				RTPAddress: netip.MustParseAddr("127.0.0.1"), RegisterRetry: time.Minute,
			})
			if err != nil {
				t.Fatal(err)
			}
			registered := make(chan struct{}, 4)
			unregistered := make(chan struct{}, 4)
			p.OnRegistered(func() { registered <- struct{}{} })
			p.OnUnregistered(func() { unregistered <- struct{}{} })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = p.Connect(ctx)
			if !tc.trusted {
				var re *xphone.RegistrationError
				if !errors.As(err, &re) {
					t.Fatalf("Connect: got %v, want a *RegistrationError", err)
				}
				if pbx.Registered("alice") {
					t.Error("registered through an untrusted certificate")
				}
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			select {
			case <-registered:
			case <-ctx.Done():
				t.Fatal("OnRegistered did not fire")
			}
			bs := pbx.Bindings("alice")
			if len(bs) != 1 || !strings.HasPrefix(bs[0].Contact, "sips:alice@") || !strings.HasPrefix(bs[0].Source, "tls:") {
				t.Fatalf("bindings: got %+v, want one sips: Contact registered over TLS", bs)
			}
			if err := p.Disconnect(ctx); err != nil {
				t.Fatalf("Disconnect: %v", err)
			}
			if err := pbx.WaitUnregistered(ctx, "alice"); err != nil {
				t.Errorf("binding after Disconnect: %v", err)
			}
			select {
			case <-unregistered:
			case <-ctx.Done():
				t.Error("OnUnregistered did not fire")
			}
		})
	}
}

package ua

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/internal/transport"
)

func usesSRTP(c *Call) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hasNeg && c.neg.LocalCrypto != nil && c.neg.RemoteCrypto != nil
}

// checkAudio sends tones both ways and checks each side hears the other's.
func checkAudio(t *testing.T, ca, cb *Call) {
	t.Helper()
	go sendTone(ca, 440)
	go sendTone(cb, 1000)
	if err := hearTone(t, cb, 25, 25, 440); err != nil {
		t.Errorf("callee heard: %v", err)
	}
	if err := hearTone(t, ca, 25, 25, 1000); err != nil {
		t.Errorf("caller heard: %v", err)
	}
}

func TestSRTPModes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		caller, callee sdp.SRTPMode
		wantCode       int // 0: answered
		wantSRTP       bool
	}{
		{"mandatory-mandatory", sdp.SRTPMandatory, sdp.SRTPMandatory, 0, true},
		{"optional-optional", sdp.SRTPOptional, sdp.SRTPOptional, 0, true},
		{"optional-mandatory-callee", sdp.SRTPOptional, sdp.SRTPMandatory, 0, true}, // keys in the AVP offer satisfy it
		{"optional-off", sdp.SRTPOptional, sdp.SRTPOff, 0, false},
		{"mandatory-off", sdp.SRTPMandatory, sdp.SRTPOff, 488, false},
		{"off-mandatory", sdp.SRTPOff, sdp.SRTPMandatory, 488, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			incoming := make(chan *Call, 1)
			b := newPhone(t, transport.UDP, func(c *Config) {
				c.SRTP = tc.callee
				c.OnIncoming = acceptInto(t, incoming)
			})
			a := newPhone(t, transport.UDP, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ca, err := a.Dial(ctx, sipAddr(b, transport.UDP), DialOptions{SRTP: tc.caller, SRTPSet: true})
			if tc.wantCode != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != tc.wantCode {
					t.Fatalf("Dial: got %v, want status %d", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			cb := <-incoming
			defer endBoth(t, ca, cb)
			for _, c := range []*Call{ca, cb} {
				if got := usesSRTP(c); got != tc.wantSRTP {
					t.Errorf("SRTP in use: got %v, want %v", got, tc.wantSRTP)
				}
			}
			checkAudio(t, ca, cb)
		})
	}
}

// countHandler counts log records whose message contains substr.
type countHandler struct {
	substr string
	mu     sync.Mutex
	n      int
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.substr) {
		h.mu.Lock()
		h.n++
		h.mu.Unlock()
	}
	return nil
}
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }
func (h *countHandler) count() int                         { h.mu.Lock(); defer h.mu.Unlock(); return h.n }

func TestSDESOverPlainSignalingWarnsOncePerCall(t *testing.T) {
	t.Parallel()
	logs := &countHandler{substr: "SDES"}
	incoming := make(chan *Call, 1)
	b := newPhone(t, transport.UDP, func(c *Config) {
		c.SRTP = sdp.SRTPMandatory
		c.OnIncoming = acceptInto(t, incoming)
	})
	a := newPhone(t, transport.UDP, func(c *Config) {
		c.SRTP = sdp.SRTPMandatory
		c.Logger = slog.New(logs)
	})
	ca, cb := dialAccepted(t, a, b, incoming, transport.UDP, "")
	defer endBoth(t, ca, cb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Two re-INVITEs renegotiate the keys' use without a second warning.
	if err := ca.Hold(ctx); err != nil {
		t.Fatalf("Hold: %v", err)
	}
	if err := ca.Resume(ctx); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if got, want := logs.count(), 1; got != want {
		t.Errorf("SDES warnings: got %d, want %d", got, want)
	}
	if !usesSRTP(ca) {
		t.Errorf("SRTP in use: got false, want true")
	}
}

func TestRefuseSDESOverPlain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                 string
		caller, callee       sdp.SRTPMode
		callerRef, calleeRef bool
		wantNotAcceptable    bool // Dial fails locally
		wantCode             int
		wantSRTP             bool
	}{
		{"caller-refuses-mandatory", sdp.SRTPMandatory, sdp.SRTPMandatory, true, false, true, 0, false},
		{"caller-refuses-optional-offers-plain", sdp.SRTPOptional, sdp.SRTPOptional, true, false, false, 0, false},
		{"callee-refuses-savp-offer", sdp.SRTPMandatory, sdp.SRTPMandatory, false, true, false, 488, false},
		{"callee-refuses-optional-answers-plain", sdp.SRTPOptional, sdp.SRTPOptional, false, true, false, 0, false},
		{"allowed-without-the-option", sdp.SRTPMandatory, sdp.SRTPMandatory, false, false, false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			incoming := make(chan *Call, 1)
			b := newPhone(t, transport.UDP, func(c *Config) {
				c.SRTP = tc.callee
				c.RefuseSDESOverPlain = tc.calleeRef
				c.OnIncoming = acceptInto(t, incoming)
			})
			a := newPhone(t, transport.UDP, func(c *Config) {
				c.SRTP = tc.caller
				c.RefuseSDESOverPlain = tc.callerRef
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ca, err := a.Dial(ctx, sipAddr(b, transport.UDP), DialOptions{})
			var se *StatusError
			switch {
			case tc.wantNotAcceptable:
				if !errors.Is(err, sdp.ErrNotAcceptable) {
					t.Fatalf("Dial: got %v, want %v", err, sdp.ErrNotAcceptable)
				}
				return
			case tc.wantCode != 0:
				if !errors.As(err, &se) || se.Code != tc.wantCode {
					t.Fatalf("Dial: got %v, want status %d", err, tc.wantCode)
				}
				return
			case err != nil:
				t.Fatalf("Dial: %v", err)
			}
			cb := <-incoming
			defer endBoth(t, ca, cb)
			if got := usesSRTP(ca); got != tc.wantSRTP {
				t.Errorf("SRTP in use: got %v, want %v", got, tc.wantSRTP)
			}
		})
	}
}

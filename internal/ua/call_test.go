package ua

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/transport"
)

// newListener returns a connected UA that takes INVITEs on loopback
// without registering.
func newListener(t *testing.T, proto transport.Protocol, onIncoming func(*Call)) *UA {
	t.Helper()
	u := New(Config{
		Username:   "test",
		Transport:  proto,
		ListenAddr: "127.0.0.1:0",
		UserAgent:  "xphone-test",
		Media:      media.Options{Address: netip.MustParseAddr("127.0.0.1"), MediaTimeout: -1},
		Codecs:     []string{"PCMU"},
		OnIncoming: onIncoming,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := u.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		if u.Connected() {
			u.Disconnect(context.Background())
		}
	})
	return u
}

func sipAddr(u *UA, proto transport.Protocol) string {
	host, port := u.LocalAddr()
	s := fmt.Sprintf("sip:callee@%s:%d", host, port)
	if proto == transport.TCP {
		s += ";transport=tcp"
	}
	return s
}

// sendTone writes a tone to the call until it ends.
func sendTone(c *Call, freq float64) {
	g := audiotest.ToneGenerator{Freq: freq, SampleRate: 8000, Amplitude: 8000}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		f := make([]int16, 160)
		g.Fill(f)
		select {
		case c.media.PCMWriter() <- f:
		case <-c.Done():
			return
		}
		select {
		case <-tick.C:
		case <-c.Done():
			return
		}
	}
}

// hearTone checks that c hears freq: after skipping skip frames it tries
// up to three windows of n frames, so that one scheduling hiccup on a
// loaded machine (a concealed or skipped frame pulling the tone under half
// the energy) does not fail a test while a missing or wrong tone still does.
// The sender must keep sending (sendTone does).
func hearTone(t *testing.T, c *Call, skip, n int, freq float64) error {
	t.Helper()
	collect(t, c, skip, 0)
	var err error
	for range 3 {
		if err = audiotest.CheckTone(collect(t, c, 0, n), 8000, freq, 15); err == nil {
			return nil
		}
		t.Logf("window without %v Hz: %v", freq, err)
	}
	return err
}

// collect reads n frames (skipping the first skip) or fails at the deadline.
func collect(t *testing.T, c *Call, skip, n int) []int16 {
	t.Helper()
	var out []int16
	deadline := time.After(10 * time.Second)
	for i := 0; i < skip+n; {
		select {
		case f, ok := <-c.media.PCMReader():
			if !ok {
				t.Fatalf("PCMReader closed after %d frames", i)
			}
			if i >= skip {
				out = append(out, f...)
			}
			i++
		case <-deadline:
			t.Fatalf("got %d frames, want %d", i, skip+n)
		}
	}
	return out
}

func TestCallAudioBothWays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		proto  transport.Protocol
		callee bool // the callee hangs up
	}{
		{"udp/caller-hangs-up", transport.UDP, false},
		{"udp/callee-hangs-up", transport.UDP, true},
		{"tcp/caller-hangs-up", transport.TCP, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			incoming := make(chan *Call, 1)
			b := newListener(t, tc.proto, func(c *Call) {
				if err := c.Accept(context.Background()); err != nil {
					t.Errorf("Accept: %v", err)
				}
				incoming <- c
			})
			a := newListener(t, tc.proto, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ca, err := a.Dial(ctx, sipAddr(b, tc.proto), DialOptions{})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			var cb *Call
			select {
			case cb = <-incoming:
			case <-ctx.Done():
				t.Fatal("no incoming call")
			}
			if got, want := ca.State(), StateActive; got != want {
				t.Errorf("caller state: got %v, want %v", got, want)
			}
			go sendTone(ca, 440)
			go sendTone(cb, 1000)
			if err := hearTone(t, cb, 10, 25, 440); err != nil {
				t.Errorf("callee heard: %v", err)
			}
			if err := hearTone(t, ca, 10, 25, 1000); err != nil {
				t.Errorf("caller heard: %v", err)
			}
			hang, other := ca, cb
			if tc.callee {
				hang, other = cb, ca
			}
			if err := hang.End(ctx); err != nil {
				t.Fatalf("End: %v", err)
			}
			select {
			case <-other.Done():
			case <-ctx.Done():
				t.Fatal("the other side did not end")
			}
			if got, want := hang.Reason(), EndLocalHangup; got != want {
				t.Errorf("hanging side reason: got %v, want %v", got, want)
			}
			if got, want := other.Reason(), EndRemoteHangup; got != want {
				t.Errorf("other side reason: got %v, want %v", got, want)
			}
		})
	}
}

package xphone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/internal/leakcheck"
	"github.com/xphone-go/xphone/internal/ua"
)

// listeningPhone returns a connected phone that takes calls on loopback
// without registering; each edit adjusts its Config first.
func listeningPhone(t *testing.T, edits ...func(*Config)) Phone {
	t.Helper()
	cfg := Config{Username: "p", ListenAddr: "127.0.0.1:0", MediaTimeout: -1, RTPAddress: netipLoopback()}
	for _, edit := range edits {
		edit(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { p.Disconnect(context.Background()) })
	return p
}

func phoneURI(p Phone) string {
	ph := p.(*phone)
	host, port := ph.ua.LocalAddr()
	return "sip:callee@" + net.JoinHostPort(host, strconv.Itoa(port))
}

func TestPhoneCallThroughFacade(t *testing.T) {
	caller := listeningPhone(t)
	c, in := callPair(t, caller, listeningPhone(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c.State() != StateActive || c.Codec() != CodecPCMU || c.Direction() != Outbound || in.Direction() != Inbound {
		t.Errorf("got state %v codec %v direction %v/%v, want Active PCMU outbound/inbound", c.State(), c.Codec(), c.Direction(), in.Direction())
	}
	if got, want := len(caller.Calls()), 1; got != want {
		t.Errorf("Calls: got %d, want %d", got, want)
	}
	go func() {
		g := audiotest.ToneGenerator{Freq: 600, SampleRate: 8000, Amplitude: 8000}
		for {
			f := make([]int16, 160)
			g.Fill(f)
			select {
			case c.PCMWriter() <- f:
			case <-c.Context().Done():
				return
			}
			select {
			case <-time.After(20 * time.Millisecond):
			case <-c.Context().Done():
				return
			}
		}
	}()
	var heard []int16
	for len(heard) < 160*35 {
		select {
		case f := <-in.PCMReader():
			heard = append(heard, f...)
		case <-ctx.Done():
			t.Fatal("no audio")
		}
	}
	if err := audiotest.CheckTone(heard[160*10:], 8000, 600, 15); err != nil {
		t.Errorf("callee heard: %v", err)
	}
	ended := make(chan EndReason, 1)
	in.OnEnded(func(r EndReason) { ended <- r })
	if err := c.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	var r EndReason
	if !errors.As(context.Cause(c.Context()), &r) || r != EndLocalHangup {
		t.Errorf("caller context cause: got %v, want %v", context.Cause(c.Context()), EndLocalHangup)
	}
	select {
	case r := <-ended:
		if r != EndRemoteHangup {
			t.Errorf("callee OnEnded: got %v, want %v", r, EndRemoteHangup)
		}
	case <-ctx.Done():
		t.Fatal("callee did not end")
	}
	if err := c.End(ctx); !errors.Is(err, ErrInvalidState) {
		t.Errorf("End twice: got %v, want ErrInvalidState", err)
	}
}

func TestPhoneDialRefused(t *testing.T) {
	for _, tc := range []struct {
		code int
		want error
	}{{486, ErrBusy}, {603, ErrDeclined}, {404, ErrNotFound}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			callee := listeningPhone(t)
			caller := listeningPhone(t)
			callee.OnIncoming(func(c Call) { c.Reject(context.Background(), tc.code, "") })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := caller.Dial(ctx, phoneURI(callee))
			var se *StatusError
			if !errors.Is(err, tc.want) || !errors.As(err, &se) || se.Code != tc.code {
				t.Errorf("Dial: got %v, want a %d StatusError matching %v", err, tc.code, tc.want)
			}
		})
	}
}

func TestPhoneDialTimeoutCancels(t *testing.T) {
	callee := listeningPhone(t)
	caller := listeningPhone(t)
	ended := make(chan EndReason, 1)
	callee.OnIncoming(func(c Call) { c.OnEnded(func(r EndReason) { ended <- r }) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := caller.Dial(ctx, phoneURI(callee), WithTimeout(300*time.Millisecond))
	if !errors.Is(err, ErrDialTimeout) {
		t.Fatalf("Dial: got %v, want ErrDialTimeout", err)
	}
	select {
	case r := <-ended:
		if r != EndCancelled {
			t.Errorf("callee end reason: got %v, want %v", r, EndCancelled)
		}
	case <-ctx.Done():
		t.Fatal("the callee's call was not cancelled")
	}
}

func netipLoopback() netip.Addr { return netip.MustParseAddr("127.0.0.1") }

// playTone writes frames of a tone at the call's PCM rate until it ends.
func playTone(c Call, freq float64, rate int) {
	g := audiotest.ToneGenerator{Freq: freq, SampleRate: rate, Amplitude: 8000}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		f := make([]int16, rate/50)
		g.Fill(f)
		select {
		case c.PCMWriter() <- f:
		case <-c.Context().Done():
			return
		}
		select {
		case <-tick.C:
		case <-c.Context().Done():
			return
		}
	}
}

// hear reads frames of rate/50 samples until the last 25 carry freq, or
// fails after 200 frames (4 s of audio) with what the last window held.
func hear(t *testing.T, c Call, freq float64, rate int) {
	t.Helper()
	var win []int16
	deadline := time.After(10 * time.Second)
	var last error
	for n := 0; n < 200; n++ {
		select {
		case f := <-c.PCMReader():
			if len(f) != rate/50 {
				t.Fatalf("frame of %d samples, want %d", len(f), rate/50)
			}
			win = append(win, f...)
			if len(win) < 25*rate/50 {
				continue
			}
			win = win[len(win)-25*rate/50:]
			if last = audiotest.CheckTone(win, rate, freq, 15); last == nil {
				return
			}
		case <-deadline:
			t.Fatalf("got %d frames without the %v Hz tone", n, freq)
		}
	}
	t.Errorf("heard: %v", last)
}

// TestPhoneCodecs: a call with each codec carries a tone both ways (G.722
// at 16 kHz, 320-sample frames) and ends from either side; every goroutine
// is gone afterwards.
func TestPhoneCodecs(t *testing.T) {
	for _, codec := range []Codec{CodecPCMU, CodecPCMA, CodecG722} {
		for _, calleeHangs := range []bool{false, true} {
			name := string(codec) + "/caller-hangs-up"
			if calleeHangs {
				name = string(codec) + "/callee-hangs-up"
			}
			t.Run(name, func(t *testing.T) {
				leakcheck.Check(t)
				only := func(c *Config) { c.Codecs = []Codec{codec} }
				out, in := callPair(t, listeningPhone(t, only), listeningPhone(t, only))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if out.Codec() != codec || in.Codec() != codec {
					t.Errorf("codec: got %v/%v, want %v", out.Codec(), in.Codec(), codec)
				}
				rate := codec.SampleRate()
				go playTone(out, 440, rate)
				go playTone(in, 1000, rate)
				hear(t, in, 440, rate)
				hear(t, out, 1000, rate)
				hang, other := out, in
				if calleeHangs {
					hang, other = in, out
				}
				if err := hang.End(ctx); err != nil {
					t.Fatalf("End: %v", err)
				}
				select {
				case <-other.Context().Done():
				case <-ctx.Done():
					t.Fatal("the other side did not end")
				}
				for _, c := range []struct {
					call Call
					want EndReason
				}{{hang, EndLocalHangup}, {other, EndRemoteHangup}} {
					var r EndReason
					if !errors.As(context.Cause(c.call.Context()), &r) || r != c.want {
						t.Errorf("end cause: got %v, want %v", context.Cause(c.call.Context()), c.want)
					}
				}
			})
		}
	}
}

// TestStateAndReasonConversion: every ua value maps to the xphone value of
// the same name.
func TestStateAndReasonConversion(t *testing.T) {
	states := []struct {
		in   ua.State
		want CallState
	}{
		{ua.StateIdle, StateIdle}, {ua.StateRinging, StateRinging}, {ua.StateDialing, StateDialing},
		{ua.StateRemoteRinging, StateRemoteRinging}, {ua.StateEarlyMedia, StateEarlyMedia},
		{ua.StateActive, StateActive}, {ua.StateOnHold, StateOnHold}, {ua.StateEnded, StateEnded},
	}
	for _, tc := range states {
		if got := callState(tc.in); got != tc.want {
			t.Errorf("callState(%d): got %v, want %v", tc.in, got, tc.want)
		}
	}
	reasons := []struct {
		in   ua.EndReason
		want EndReason
	}{
		{ua.EndLocalHangup, EndLocalHangup}, {ua.EndRemoteHangup, EndRemoteHangup}, {ua.EndRejected, EndRejected},
		{ua.EndBusy, EndBusy}, {ua.EndCancelled, EndCancelled}, {ua.EndTimeout, EndTimeout},
		{ua.EndMediaTimeout, EndMediaTimeout}, {ua.EndTransferred, EndTransferred}, {ua.EndError, EndError},
	}
	for _, tc := range reasons {
		if got := endReason(tc.in); got != tc.want {
			t.Errorf("endReason(%d): got %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestPhoneDialErrors: no common codec fails with ErrNotAcceptable; an RTP
// range without a free port fails with ErrNoRTPPort at both ends.
func TestPhoneDialErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pcmu := listeningPhone(t, func(c *Config) { c.Codecs = []Codec{CodecPCMU} })
	pcma := listeningPhone(t, func(c *Config) { c.Codecs = []Codec{CodecPCMA} })
	if _, err := pcma.Dial(ctx, phoneURI(pcmu)); !errors.Is(err, ErrNotAcceptable) {
		t.Errorf("Dial without a common codec: got %v, want ErrNotAcceptable", err)
	}
	port := busyEvenPort(t)
	full := listeningPhone(t, func(c *Config) { c.RTPPortMin, c.RTPPortMax = port, port+1 })
	if _, err := full.Dial(ctx, phoneURI(pcmu)); !errors.Is(err, ErrNoRTPPort) {
		t.Errorf("Dial without a free RTP port: got %v, want ErrNoRTPPort", err)
	}
	full.OnIncoming(func(c Call) { t.Errorf("OnIncoming without a free RTP port") })
	var se *StatusError
	if _, err := pcmu.Dial(ctx, phoneURI(full)); !errors.As(err, &se) || se.Code != 500 {
		t.Errorf("Dial to a phone without a free RTP port: got %v, want a 500 StatusError", err)
	}
}

// busyEvenPort binds an even loopback port for the test's life.
func busyEvenPort(t *testing.T) int {
	t.Helper()
	for port := 33000; port < 35000; port += 2 {
		pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			continue
		}
		t.Cleanup(func() { pc.Close() })
		return port
	}
	t.Fatal("no even port to occupy")
	return 0
}

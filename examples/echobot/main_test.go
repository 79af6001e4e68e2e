package main

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/internal/leakcheck"
	"github.com/xphone-go/xphone/phonetest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// wait bounds every wait: it turns a hang into a failure and is never an
// assertion about time.
const wait = 10 * time.Second

func frames(n int) [][]int16 {
	out := make([][]int16, n)
	for i := range out {
		out[i] = audiotest.Tone(float64(300+100*i), 8000, 8000, 160)
	}
	return out
}

func TestEcho(t *testing.T) {
	tests := []struct {
		name       string
		maxFrames  int
		inject     int  // frames the caller sends
		hangup     bool // then the caller hangs up
		wantEchoed int  // -1: not checked (the hangup may overtake frames)
		wantReason xphone.EndReason
	}{
		{"limit reached", 3, 3, false, 3, xphone.EndLocalHangup},
		{"limit of one", 1, 1, false, 1, xphone.EndLocalHangup},
		{"caller hangs up", 0, 2, true, -1, xphone.EndRemoteHangup},
		{"caller hangs up at once", 0, 0, true, 0, xphone.EndRemoteHangup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			call := phonetest.NewMockCall()
			if err := call.Accept(ctx); err != nil {
				t.Fatal(err)
			}
			type result struct {
				n   int
				err error
			}
			res := make(chan result, 1)
			go func() {
				n, err := Echo(ctx, call, tt.maxFrames)
				res <- result{n, err}
			}()
			sent := frames(tt.inject)
			for _, f := range sent {
				call.InjectPCM(slices.Clone(f))
			}
			if tt.hangup {
				if err := call.SimulateRemoteHangup(); err != nil {
					t.Fatal(err)
				}
			}
			var r result
			select {
			case r = <-res:
			case <-ctx.Done():
				t.Fatal("Echo did not return")
			}
			if got := call.EndReason(); got != tt.wantReason {
				t.Errorf("end reason: got %v, want %v", got, tt.wantReason)
			}
			if tt.hangup && !errors.Is(r.err, tt.wantReason) {
				t.Errorf("Echo error: got %v, want %v", r.err, tt.wantReason)
			}
			if !tt.hangup && r.err != nil {
				t.Errorf("Echo error: got %v, want nil", r.err)
			}
			if tt.wantEchoed < 0 {
				return
			}
			got := call.SentPCM()
			if r.n != tt.wantEchoed || len(got) != tt.wantEchoed {
				t.Fatalf("echoed: got %d frames (%d recorded), want %d", r.n, len(got), tt.wantEchoed)
			}
			for i := range got {
				if !slices.Equal(got[i], sent[i]) {
					t.Errorf("frame %d: got a different frame back, want the one sent", i)
				}
			}
		})
	}
}

// TestServeMock checks that Serve answers an incoming call and echoes it.
func TestServeMock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	phone := phonetest.NewMockPhone()
	if err := phone.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer phone.Disconnect(ctx)
	Serve(ctx, phone, 2)
	call := phone.SimulateIncoming("sip:alice@example.com")
	if err := call.WaitState(ctx, xphone.StateActive); err != nil {
		t.Fatal(err)
	}
	sent := frames(2)
	for _, f := range sent {
		call.InjectPCM(slices.Clone(f))
	}
	if err := call.WaitState(ctx, xphone.StateEnded); err != nil {
		t.Fatal(err)
	}
	if got := call.EndReason(); got != xphone.EndLocalHangup {
		t.Errorf("end reason: got %v, want %v", got, xphone.EndLocalHangup)
	}
	if got := call.SentPCM(); len(got) != 2 || !slices.Equal(got[1], sent[1]) {
		t.Errorf("echoed: got %d frames, want the 2 sent", len(got))
	}
}

// TestServeLoopback runs the echobot as a real phone registered with the
// in-process PBX: a second phone calls it, plays a 440 Hz tone and must
// hear the tone come back.
func TestServeLoopback(t *testing.T) {
	leakcheck.Check(t)
	users := map[string]string{"echo": "echo-pw", "alice": "alice-pw"}
	pbx := phonetest.StartPBX(t, phonetest.PBXConfig{Users: users})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	phone := func(user string) xphone.Phone {
		p, err := xphone.New(xphone.Config{
			Username: user, Password: users[user],
			Host: pbx.Addr().Addr().String(), Port: int(pbx.Addr().Port()),
			ListenAddr: "127.0.0.1:0", RTPAddress: netip.MustParseAddr("127.0.0.1"),
			NATKeepaliveInterval: -1, MediaTimeout: -1,
		})
		if err != nil {
			t.Fatal(err)
		}
		if user == "echo" {
			Serve(ctx, p, 0)
		}
		if err := p.Connect(ctx); err != nil {
			t.Fatalf("%s Connect: %v", user, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			if err := p.Disconnect(ctx); err != nil {
				t.Errorf("%s Disconnect: %v", user, err)
			}
		})
		return p
	}
	phone("echo")
	alice := phone("alice")
	call, err := alice.Dial(ctx, "echo")
	if err != nil {
		t.Fatal(err)
	}
	rate := call.Codec().SampleRate()
	g := audiotest.ToneGenerator{Freq: 440, SampleRate: rate, Amplitude: 8000}
	tone := make([]int16, 3*rate) // 3 s, paced by the call
	g.Fill(tone)
	call.PacedPCMWriter() <- tone

	// Listen until the last 100 ms heard are the tone.
	var heard []int16
	window := rate / 10
	for ok := false; !ok; {
		select {
		case f, open := <-call.PCMReader():
			if !open {
				t.Fatalf("call ended (%v) before the tone came back", call.Context().Err())
			}
			heard = append(heard, f...)
			ok = len(heard) >= window && audiotest.CheckTone(heard[len(heard)-window:], rate, 440, 20) == nil
		case <-ctx.Done():
			t.Fatal("the tone did not come back")
		}
	}
	if err := call.End(ctx); err != nil {
		t.Fatal(err)
	}
}

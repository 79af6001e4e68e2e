package main

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/leakcheck"
	"github.com/xphone-go/xphone/phonetest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// wait bounds every wait: it turns a hang into a failure and is never an
// assertion about time.
const wait = 10 * time.Second

// testMenu plays short sounds (60 and 40 ms) so the tests wait little for
// them to play out.
func testMenu(digitWait time.Duration) *Menu {
	return &Menu{
		Rate:       8000,
		Prompt:     beeps(440, 1, 8000)[:480],
		More:       beeps(660, 1, 8000)[:320],
		TransferTo: "sip:1003@pbx.example.com",
		Wait:       digitWait,
	}
}

func TestServe(t *testing.T) {
	never := time.Hour // the digit or the hangup always comes first
	tests := []struct {
		name        string
		press       string // digits the callee presses during the prompt
		hangup      bool   // the callee hangs up instead
		wait        time.Duration
		transferErr error
		wantDigit   rune
		wantPlayed  int // sounds played: prompt, then More
		wantTarget  string
		wantReason  xphone.EndReason
		wantErr     error
	}{
		{"1 plays more", "1", false, never, nil, '1', 2, "", xphone.EndLocalHangup, nil},
		{"2 transfers", "2", false, never, nil, '2', 1, "sip:1003@pbx.example.com", xphone.EndTransferred, nil},
		{"other digit hangs up", "7", false, never, nil, '7', 1, "", xphone.EndLocalHangup, nil},
		{"first digit counts", "21", false, never, nil, '2', 1, "sip:1003@pbx.example.com", xphone.EndTransferred, nil},
		{"no digit hangs up", "", false, time.Millisecond, nil, 0, 1, "", xphone.EndLocalHangup, nil},
		{"transfer fails", "2", false, never, xphone.ErrTransferFailed, '2', 1, "sip:1003@pbx.example.com", xphone.EndLocalHangup, xphone.ErrTransferFailed},
		{"callee hangs up", "", true, never, nil, 0, -1, "", xphone.EndRemoteHangup, xphone.EndRemoteHangup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			phone := phonetest.NewMockPhone()
			if err := phone.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			defer phone.Disconnect(ctx)
			call, err := phone.Dial(ctx, "1002")
			if err != nil {
				t.Fatal(err)
			}
			mock := phone.LastCall()
			mock.SetTransferError(tt.transferErr)
			m := testMenu(tt.wait)
			digits := Listen(call)
			if tt.press != "" {
				if err := mock.SimulateDTMF(tt.press); err != nil {
					t.Fatal(err)
				}
			}
			if tt.hangup {
				if err := mock.SimulateRemoteHangup(); err != nil {
					t.Fatal(err)
				}
			}
			digit, err := m.Serve(ctx, call, digits)
			if digit != tt.wantDigit {
				t.Errorf("digit: got %q, want %q", digit, tt.wantDigit)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Serve: got %v, want %v", err, tt.wantErr)
			}
			if got := mock.EndReason(); got != tt.wantReason {
				t.Errorf("end reason: got %v, want %v", got, tt.wantReason)
			}
			if got := mock.TransferTarget(); got != tt.wantTarget {
				t.Errorf("transfer target: got %q, want %q", got, tt.wantTarget)
			}
			if tt.wantPlayed < 0 {
				return
			}
			played := mock.SentPCM()
			want := [][]int16{m.Prompt, m.More}[:tt.wantPlayed]
			if !slices.EqualFunc(played, want, slices.Equal) {
				t.Errorf("played: got %d sounds, want %d (prompt, then more)", len(played), len(want))
			}
		})
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		dial       func(*phonetest.MockCall) error
		wantErr    error
		wantPlayed int
	}{
		{"answered, no digit", nil, nil, 1},
		{"busy", func(*phonetest.MockCall) error { return &xphone.StatusError{Code: 486} }, xphone.ErrBusy, 0},
		{"no answer", func(*phonetest.MockCall) error { return xphone.ErrDialTimeout }, xphone.ErrDialTimeout, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			phone := phonetest.NewMockPhone()
			if err := phone.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			defer phone.Disconnect(ctx)
			phone.SetDialHandler(tt.dial)
			m := testMenu(time.Millisecond)
			_, err := m.Run(ctx, phone, "1002")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Run: got %v, want %v", err, tt.wantErr)
			}
			if got := phone.Dialed(); !slices.Equal(got, []string{"1002"}) {
				t.Errorf("dialed: got %q, want [1002]", got)
			}
			call := phone.LastCall()
			if got := len(call.SentPCM()); got != tt.wantPlayed {
				t.Errorf("played: got %d sounds, want %d", got, tt.wantPlayed)
			}
			if call.State() != xphone.StateEnded {
				t.Errorf("state: got %v, want %v", call.State(), xphone.StateEnded)
			}
		})
	}
}

package phonetest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/phonetest"
)

// answerMenu is application code under test: a small IVR. It answers,
// plays a prompt, waits for one digit and transfers the caller to sales (1)
// or support (2); any other digit, or none within wait, ends the call.
func answerMenu(ctx context.Context, call xphone.Call, prompt [][]int16, wait time.Duration) error {
	digits := make(chan rune, 8)
	call.OnDTMF(func(r rune) {
		select {
		case digits <- r:
		default:
		}
	})
	if err := call.Accept(ctx); err != nil {
		return err
	}
	out := call.PCMWriter()
	for _, frame := range prompt {
		select {
		case out <- frame:
		case <-call.Context().Done():
			return context.Cause(call.Context())
		}
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case d := <-digits:
		switch d {
		case '1':
			return call.BlindTransfer(ctx, "sip:sales@pbx.example.com")
		case '2':
			return call.BlindTransfer(ctx, "sip:support@pbx.example.com")
		}
	case <-timer.C:
	case <-call.Context().Done():
		return context.Cause(call.Context())
	}
	return call.End(ctx)
}

func TestIVR(t *testing.T) {
	prompt := [][]int16{make([]int16, 160), make([]int16, 160), make([]int16, 160)}
	never := time.Hour // the digit or hangup always comes first
	tests := []struct {
		name        string
		input       string // digits the caller presses; "" presses none
		hangup      bool   // the caller hangs up instead
		wait        time.Duration
		transferErr error
		wantTarget  string
		wantReason  xphone.EndReason
		wantErr     error
	}{
		{"sales", "1", false, never, nil, "sip:sales@pbx.example.com", xphone.EndTransferred, nil},
		{"support", "2", false, never, nil, "sip:support@pbx.example.com", xphone.EndTransferred, nil},
		{"other digit", "9", false, never, nil, "", xphone.EndLocalHangup, nil},
		{"only first digit counts", "21", false, never, nil, "sip:support@pbx.example.com", xphone.EndTransferred, nil},
		{"no input", "", false, time.Millisecond, nil, "", xphone.EndLocalHangup, nil},
		{"caller hangs up", "", true, never, nil, "", xphone.EndRemoteHangup, xphone.EndRemoteHangup},
		{"transfer fails", "1", false, never, xphone.ErrTransferFailed, "sip:sales@pbx.example.com", 0, xphone.ErrTransferFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			phone := phonetest.NewMockPhone()
			if err := phone.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			defer phone.Disconnect(ctx)
			result := make(chan error, 1)
			phone.OnIncoming(func(c xphone.Call) {
				// Long call flows run on their own goroutine, as with a real phone.
				go func() { result <- answerMenu(ctx, c, prompt, tt.wait) }()
			})
			call := phone.SimulateIncoming("sip:+15550100@trunk.example.com")
			call.SetTransferError(tt.transferErr)
			// The caller acts once answered; with nothing to do it only
			// waits for the result (the IVR may be done before a wait
			// for StateActive would look).
			if tt.hangup || tt.input != "" {
				if err := call.WaitState(ctx, xphone.StateActive); err != nil {
					t.Fatal(err)
				}
			}
			switch {
			case tt.hangup:
				if err := call.SimulateRemoteHangup(); err != nil {
					t.Fatal(err)
				}
			case tt.input != "":
				if err := call.SimulateDTMF(tt.input); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			select {
			case err = <-result:
			case <-ctx.Done():
				t.Fatal("the IVR did not finish")
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("IVR returned %v, want %v", err, tt.wantErr)
			}
			if got := call.TransferTarget(); got != tt.wantTarget {
				t.Errorf("transfer target: got %q, want %q", got, tt.wantTarget)
			}
			if got := call.EndReason(); got != tt.wantReason {
				t.Errorf("end reason: got %v, want %v", got, tt.wantReason)
			}
			if !tt.hangup {
				if got := len(call.SentPCM()); got != len(prompt) {
					t.Errorf("prompt: got %d frames, want %d", got, len(prompt))
				}
			}
		})
	}
}

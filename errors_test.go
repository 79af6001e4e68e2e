package xphone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/xphone-go/xphone/transaction"
)

var sentinels = []error{ErrBusy, ErrDeclined, ErrNotFound, ErrAuthFailed, ErrDialTimeout, ErrUnavailable, ErrCancelled, ErrNotAcceptable}

func TestStatusErrorIs(t *testing.T) {
	tests := []struct {
		code   int
		want   error // the only sentinel it matches, or nil
		reason EndReason
	}{
		{486, ErrBusy, EndBusy}, {600, ErrBusy, EndBusy},
		{603, ErrDeclined, EndRejected},
		{404, ErrNotFound, EndRejected}, {604, ErrNotFound, EndRejected},
		{401, ErrAuthFailed, EndRejected}, {403, ErrAuthFailed, EndRejected}, {407, ErrAuthFailed, EndRejected},
		{408, ErrDialTimeout, EndTimeout},
		{480, ErrUnavailable, EndRejected}, {503, ErrUnavailable, EndRejected},
		{487, ErrCancelled, EndCancelled},
		{488, ErrNotAcceptable, EndRejected}, {606, ErrNotAcceptable, EndRejected},
		{500, nil, EndRejected}, {302, nil, EndRejected},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			err := fmt.Errorf("dial: %w", &StatusError{Code: tt.code, Reason: "Reason"})
			for _, s := range sentinels {
				if got, want := errors.Is(err, s), s == tt.want; got != want {
					t.Errorf("errors.Is(%d, %v): got %v, want %v", tt.code, s, got, want)
				}
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tt.code {
				t.Fatalf("errors.As: got %v, want code %d", se, tt.code)
			}
			if got := se.EndReason(); got != tt.reason {
				t.Errorf("EndReason: got %v, want %v", got, tt.reason)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&StatusError{Code: 486, Reason: "Busy Here"}, "xphone: 486 Busy Here"},
		{&StatusError{Code: 499}, "xphone: SIP status 499"},
		{&RegistrationError{Code: 403, Reason: "Forbidden"}, "xphone: registration failed: 403 Forbidden"},
		{&RegistrationError{Err: io.EOF}, "xphone: registration failed: EOF"},
		{&RegistrationError{Code: 503, Err: io.EOF}, "xphone: registration failed: 503: EOF"},
		{&RegistrationError{Err: fmt.Errorf("transaction: canceled: %w", context.DeadlineExceeded)},
			"xphone: registration failed: no answer from the registrar: transaction: canceled: context deadline exceeded"},
		{&RegistrationError{Err: transaction.ErrTimeout}, "xphone: registration failed: no answer from the registrar: " + transaction.ErrTimeout.Error()},
		{&StateError{Op: OpHold, Direction: Inbound, State: StateRinging}, "xphone: Hold not allowed on an inbound call in state Ringing"},
		{EndRemoteHangup, "xphone: call ended: remote hangup"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestRegistrationError(t *testing.T) {
	tests := []struct {
		name string
		err  *RegistrationError
		is   []error
		not  []error
	}{
		{"forbidden", &RegistrationError{Code: 403, Reason: "Forbidden"}, []error{ErrRegistrationFailed, ErrAuthFailed}, []error{io.EOF, ErrBusy}},
		{"transport", &RegistrationError{Err: io.EOF}, []error{ErrRegistrationFailed, io.EOF}, []error{ErrAuthFailed}},
		{"timeout", &RegistrationError{Err: context.DeadlineExceeded}, []error{ErrRegistrationFailed, context.DeadlineExceeded}, []error{ErrDialTimeout}},
		{"unavailable", &RegistrationError{Code: 503}, []error{ErrRegistrationFailed, ErrUnavailable}, []error{ErrAuthFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fmt.Errorf("connect: %w", tt.err)
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v): got false, want true", target)
				}
			}
			for _, target := range tt.not {
				if errors.Is(err, target) {
					t.Errorf("errors.Is(%v): got true, want false", target)
				}
			}
			var re *RegistrationError
			if !errors.As(err, &re) || re != tt.err {
				t.Errorf("errors.As RegistrationError: got %v, want %v", re, tt.err)
			}
			var se *StatusError
			if got, want := errors.As(err, &se), tt.err.Code != 0; got != want || (got && se.Code != tt.err.Code) {
				t.Errorf("errors.As StatusError: got %v %v, want %v", got, se, want)
			}
		})
	}
}

func TestEndReasonAsContextCause(t *testing.T) {
	for r := EndLocalHangup; r <= EndError; r++ {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(fmt.Errorf("%w: %w", r, io.ErrUnexpectedEOF))
		var got EndReason
		if !errors.As(context.Cause(ctx), &got) || got != r {
			t.Errorf("got %v, want %v", got, r)
		}
		if !errors.Is(context.Cause(ctx), r) {
			t.Errorf("errors.Is(cause, %v): got false, want true", r)
		}
	}
	if got := EndReason(0).String(); got != "EndReason(0)" {
		t.Errorf("got %q, want EndReason(0)", got)
	}
}

package xphone

import (
	"errors"
	"fmt"
	"testing"
)

func TestCanTransition(t *testing.T) {
	allowed := map[CallState][]CallState{
		StateIdle:          {StateRinging, StateDialing, StateEnded},
		StateRinging:       {StateEarlyMedia, StateActive, StateEnded},
		StateDialing:       {StateRemoteRinging, StateEarlyMedia, StateActive, StateEnded},
		StateRemoteRinging: {StateEarlyMedia, StateActive, StateEnded},
		StateEarlyMedia:    {StateActive, StateEnded},
		StateActive:        {StateOnHold, StateEnded},
		StateOnHold:        {StateActive, StateEnded},
		StateEnded:         nil,
	}
	for from := StateIdle; from <= StateEnded+1; from++ {
		for to := StateIdle; to <= StateEnded+1; to++ {
			want := false
			for _, s := range allowed[from] {
				want = want || s == to
			}
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%v, %v): got %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestCheckOp(t *testing.T) {
	// allowed[op] lists "direction/state" pairs where op is allowed.
	type ds struct {
		d Direction
		s CallState
	}
	both := func(states ...CallState) []ds {
		var r []ds
		for _, s := range states {
			r = append(r, ds{Inbound, s}, ds{Outbound, s})
		}
		return r
	}
	notEnded := both(StateIdle, StateRinging, StateDialing, StateRemoteRinging, StateEarlyMedia, StateActive, StateOnHold)
	allowed := map[Op][]ds{
		OpAccept:        {{Inbound, StateRinging}, {Inbound, StateEarlyMedia}},
		OpReject:        {{Inbound, StateRinging}, {Inbound, StateEarlyMedia}},
		OpProgress:      {{Inbound, StateRinging}},
		OpEnd:           notEnded,
		OpHold:          both(StateActive),
		OpResume:        both(StateOnHold),
		OpSendDTMF:      both(StateActive, StateEarlyMedia),
		OpBlindTransfer: both(StateActive, StateOnHold),
		OpMute:          notEnded,
		OpUnmute:        notEnded,

		OpAttendedTransfer: both(StateActive, StateOnHold),
	}
	for op := OpAccept; op <= OpAttendedTransfer; op++ {
		for _, d := range []Direction{Inbound, Outbound} {
			for s := StateIdle; s <= StateEnded; s++ {
				t.Run(fmt.Sprintf("%v/%v/%v", op, d, s), func(t *testing.T) {
					want := false
					for _, a := range allowed[op] {
						want = want || a == ds{d, s}
					}
					err := CheckOp(op, d, s)
					if got := err == nil; got != want {
						t.Fatalf("allowed: got %v (%v), want %v", got, err, want)
					}
					var se *StateError
					if err != nil && (!errors.Is(err, ErrInvalidState) || !errors.As(err, &se) || *se != (StateError{op, d, s})) {
						t.Errorf("got %#v, want a *StateError{%v, %v, %v}", err, op, d, s)
					}
				})
			}
		}
	}
	if err := CheckOp(0, Inbound, StateActive); err == nil {
		t.Error("unknown op: got nil, want an error")
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{StateRemoteRinging.String(), "RemoteRinging"},
		{CallState(42).String(), "CallState(42)"},
		{Inbound.String(), "inbound"},
		{Direction(0).String(), "Direction(0)"},
		{OpBlindTransfer.String(), "BlindTransfer"},
		{OpAttendedTransfer.String(), "AttendedTransfer"},
		{EndReplaced.String(), "replaced"},
		{Op(0).String(), "Op(0)"},
		{EndMediaTimeout.String(), "media timeout"},
		{PhoneRegistered.String(), "Registered"},
		{PhoneState(9).String(), "PhoneState(9)"},
		{DTMFBoth.String(), "both"},
		{SRTPMandatory.String(), "mandatory"},
		{SRTPMode(0).String(), "default"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestParseCodec(t *testing.T) {
	tests := []struct {
		in    string
		want  Codec
		rate  int
		frame int
	}{
		{"pcmu", CodecPCMU, 8000, 160},
		{"PCMA", CodecPCMA, 8000, 160},
		{"g722", CodecG722, 16000, 320},
		{"OPUS", CodecOpus, 16000, 320},
		{"g729", "", 0, 0},
	}
	for _, tt := range tests {
		got, err := ParseCodec(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("ParseCodec(%q): got %q, %v, want %q", tt.in, got, err, tt.want)
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ParseCodec(%q): got %v, want ErrInvalidConfig", tt.in, err)
		}
		if got.SampleRate() != tt.rate || got.FrameSize() != tt.frame {
			t.Errorf("%q: got rate %d frame %d, want %d %d", got, got.SampleRate(), got.FrameSize(), tt.rate, tt.frame)
		}
	}
}

func TestValidateDTMF(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"0123456789*#ABCD", true}, {"abcd", true}, {"", false}, {"12E", false}, {"1 2", false}, {"é", false},
	}
	for _, tt := range tests {
		err := ValidateDTMF(tt.in)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidDTMF)) {
			t.Errorf("ValidateDTMF(%q): got %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

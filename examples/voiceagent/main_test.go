package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
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

// frames turns a script into 20 ms frames at 8 kHz: 'S' is speech (a loud
// tone), anything else quiet (a faint one, below the threshold).
func frames(script string) [][]int16 {
	var out [][]int16
	for _, c := range script {
		amp := 200.0
		if c == 'S' {
			amp = 8000
		}
		out = append(out, audiotest.Tone(300, 8000, amp, 160))
	}
	return out
}

func TestEnergyTranscriber(t *testing.T) {
	tests := []struct {
		script string
		want   []string
	}{
		{"qqqq", nil},
		{"SSqqq", []string{"(speech, 40 ms)"}},
		{"SSqq", nil}, // still within the hangover
		{"SqSqqq", []string{"(speech, 40 ms)"}},
		{"SSSqqqSqqq", []string{"(speech, 60 ms)", "(speech, 20 ms)"}},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			tr := &EnergyTranscriber{Threshold: 1000, Hangover: 3}
			var got []string
			for _, f := range frames(tt.script) {
				if text, ok := tr.Feed(f); ok {
					got = append(got, text)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnergyTranscriberSpeaking(t *testing.T) {
	tr := &EnergyTranscriber{Threshold: 1000, Hangover: 3}
	var got []bool
	for _, f := range frames("qSSqS") {
		tr.Feed(f)
		got = append(got, tr.Speaking())
	}
	if want := []bool{false, true, true, false, true}; !slices.Equal(got, want) {
		t.Errorf("Speaking after each frame: got %v, want %v", got, want)
	}
}

// answeredBy has a mock phone's incoming call handled by agent, and
// returns the call once the agent answered it, and where Handle's result
// will come. The phone disconnects when the test ends.
func answeredBy(ctx context.Context, t *testing.T, agent *Agent) (*phonetest.MockCall, chan error) {
	t.Helper()
	phone := phonetest.NewMockPhone()
	if err := phone.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { phone.Disconnect(context.Background()) })
	result := make(chan error, 1)
	phone.OnIncoming(func(c xphone.Call) { go func() { result <- agent.Handle(ctx, c) }() })
	call := phone.SimulateIncoming("sip:alice@example.com")
	if err := call.WaitState(ctx, xphone.StateActive); err != nil {
		t.Fatal(err)
	}
	return call, result
}

// TestHandleBargeIn: the caller speaks during the agent's long greeting;
// the agent clears its output once, reports it, and goes on listening.
func TestHandleBargeIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	bargeIns := make(chan time.Duration, 4)
	agent := &Agent{Rate: 8000, Speaker: ToneSpeaker{Rate: 8000, Word: time.Second},
		NewTranscriber: func() Transcriber { return &EnergyTranscriber{Threshold: 1000, Hangover: 3} },
		OnBargeIn:      func(_ string, cut time.Duration) { bargeIns <- cut }}
	call, result := answeredBy(ctx, t, agent)
	// The greeting lasts 7.5 s: these frames come while it plays.
	for _, f := range frames("qSSSqqq") {
		call.InjectPCM(f)
	}
	select {
	case <-bargeIns:
	case <-ctx.Done():
		t.Fatal("no barge-in")
	}
	if err := call.SimulateRemoteHangup(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-result:
	case <-ctx.Done():
		t.Fatal("Handle did not return")
	}
	if n := call.OutputCleared(); n != 1 {
		t.Errorf("ClearOutput calls: got %d, want 1 (the greeting, once)", n)
	}
}

func TestToneSpeaker(t *testing.T) {
	s := ToneSpeaker{Rate: 8000, Word: 100 * time.Millisecond}
	got := s.Speak("two words")
	if want := 2 * (800 + 400); len(got) != want {
		t.Fatalf("got %d samples, want %d", len(got), want)
	}
	if err := audiotest.CheckTone(got[:800], 8000, 300+60*3, 10); err != nil {
		t.Errorf("first word: %v", err)
	}
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name        string
		turns       int
		script      string
		hangup      bool
		wantHeard   []string // -: not checked
		wantReason  xphone.EndReason
		wantErr     error
		wantReplies int
	}{
		{"two turns then hang up", 2, "SSSSqqqSSqqq", false,
			[]string{"(speech, 80 ms)", "(speech, 40 ms)"}, xphone.EndLocalHangup, nil, 2},
		{"one turn", 1, "qqSqqqSSqqq", false, []string{"(speech, 20 ms)"}, xphone.EndLocalHangup, nil, 1},
		{"caller hangs up", 0, "SSqqq", true, nil, xphone.EndRemoteHangup, xphone.EndRemoteHangup, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			var mu sync.Mutex
			var heard []string
			speaker := ToneSpeaker{Rate: 8000, Word: 5 * time.Millisecond}
			agent := &Agent{Rate: 8000, Speaker: speaker, Turns: tt.turns,
				NewTranscriber: func() Transcriber { return &EnergyTranscriber{Threshold: 1000, Hangover: 3} },
				OnTranscript: func(id, text string) {
					mu.Lock()
					heard = append(heard, text)
					mu.Unlock()
				}}
			call, result := answeredBy(ctx, t, agent)
			for _, f := range frames(tt.script) {
				call.InjectPCM(f)
			}
			if tt.hangup {
				if err := call.SimulateRemoteHangup(); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			select {
			case err = <-result:
			case <-ctx.Done():
				t.Fatal("Handle did not return")
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Handle: got %v, want %v", err, tt.wantErr)
			}
			if got := call.EndReason(); got != tt.wantReason {
				t.Errorf("end reason: got %v, want %v", got, tt.wantReason)
			}
			if tt.wantReplies < 0 {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(heard, tt.wantHeard) {
				t.Errorf("heard: got %q, want %q", heard, tt.wantHeard)
			}
			// The greeting, then one spoken reply per utterance.
			want := [][]int16{speaker.Speak("hello, how can I help")}
			for _, h := range heard {
				want = append(want, speaker.Speak("you said "+h))
			}
			got := call.SentPCM()
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("spoken: got %d utterances, want %d (%s)", len(got), len(want), strings.Join(heard, ", "))
			}
		})
	}
}

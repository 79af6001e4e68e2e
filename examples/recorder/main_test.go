package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/audio/wav"
	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/internal/leakcheck"
	"github.com/xphone-go/xphone/phonetest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// wait bounds every wait: it turns a hang into a failure and is never an
// assertion about time.
const wait = 10 * time.Second

// speak injects n frames of distinct tones at rate into call and returns
// the samples sent, concatenated.
func speak(call *phonetest.MockCall, n, rate int) []int16 {
	var all []int16
	for i := range n {
		f := audiotest.Tone(float64(200+50*i), rate, 10000, rate/50)
		all = append(all, f...)
		call.InjectPCM(f)
	}
	return all
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRecord(t *testing.T) {
	tests := []struct {
		name       string
		rate       int
		frames     int
		fail       bool // the writer fails
		wantReason xphone.EndReason
	}{
		{"narrowband", 8000, 5, false, xphone.EndRemoteHangup},
		{"wideband", 16000, 3, false, xphone.EndRemoteHangup},
		{"silent caller", 8000, 0, false, xphone.EndRemoteHangup},
		{"write fails", 8000, 2, true, xphone.EndLocalHangup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			call := phonetest.NewMockCall()
			if err := call.Accept(ctx); err != nil {
				t.Fatal(err)
			}
			sent := speak(call, tt.frames, tt.rate)
			if !tt.fail {
				// The reader keeps what was queued when the call ends.
				if err := call.SimulateRemoteHangup(); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			var n int
			var err error
			if tt.fail {
				n, err = Record(ctx, call, failWriter{}, tt.rate)
			} else {
				n, err = Record(ctx, call, &buf, tt.rate)
			}
			if got := call.EndReason(); got != tt.wantReason {
				t.Errorf("end reason: got %v, want %v", got, tt.wantReason)
			}
			if tt.fail {
				if err == nil {
					t.Errorf("Record: got nil error, want the writer's")
				}
				return
			}
			if err != nil {
				t.Fatalf("Record: %v", err)
			}
			if n != len(sent) {
				t.Errorf("samples: got %d, want %d", n, len(sent))
			}
			r, err := wav.NewReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if r.SampleRate() != tt.rate {
				t.Errorf("rate: got %d, want %d", r.SampleRate(), tt.rate)
			}
			got, err := wav.ReadAll(bytes.NewReader(buf.Bytes()), tt.rate)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, sent) {
				t.Errorf("recording: got %d samples, want the %d sent", len(got), len(sent))
			}
		})
	}
}

func TestHandle(t *testing.T) {
	type saved struct {
		path    string
		samples int
		err     error
	}
	tests := []struct {
		name     string
		dir      string // "" means a new temporary directory
		wantCode int    // the call is rejected with this code
	}{
		{"records to a file", "", 0},
		{"no such directory", filepath.Join(t.TempDir(), "missing"), 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			dir := tt.dir
			if dir == "" {
				dir = t.TempDir()
			}
			done := make(chan saved, 1)
			rec := &Recorder{Dir: dir, Rate: 8000, Saved: func(path string, samples int, err error) {
				done <- saved{path, samples, err}
			}}
			phone := phonetest.NewMockPhone()
			if err := phone.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			defer phone.Disconnect(ctx)
			phone.OnIncoming(func(c xphone.Call) { go rec.Handle(ctx, c) })
			call := phone.SimulateIncoming("sip:alice@example.com")
			var sent []int16
			if tt.wantCode == 0 {
				if err := call.WaitState(ctx, xphone.StateActive); err != nil {
					t.Fatal(err)
				}
				sent = speak(call, 4, 8000)
				if err := call.SimulateRemoteHangup(); err != nil {
					t.Fatal(err)
				}
			}
			var s saved
			select {
			case s = <-done:
			case <-ctx.Done():
				t.Fatal("no recording finished")
			}
			if code, _ := call.RejectedWith(); code != tt.wantCode {
				t.Errorf("rejected with: got %d, want %d", code, tt.wantCode)
			}
			if tt.wantCode != 0 {
				if s.err == nil {
					t.Errorf("Saved error: got nil, want the failure to create the file")
				}
				return
			}
			if s.err != nil || s.samples != len(sent) {
				t.Fatalf("Saved: got %d samples, %v; want %d, nil", s.samples, s.err, len(sent))
			}
			f, err := os.Open(s.path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w, err := audiotest.ReadWAV(f)
			if err != nil {
				t.Fatal(err)
			}
			if w.SampleRate != 8000 || !slices.Equal(w.Mono(), sent) {
				t.Errorf("file: got %d samples at %d Hz, want the %d sent at 8000 Hz", len(w.Mono()), w.SampleRate, len(sent))
			}
		})
	}
}

package wav_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/xphone-go/xphone/audio/wav"
	"github.com/xphone-go/xphone/internal/audiotest"
)

// middle drops the first and last tenth of s, where the filter sees the
// silence around the buffer.
func middle(s []int16) []int16 { return s[len(s)/10 : len(s)-len(s)/10] }

func rms(s []int16) float64 { return math.Sqrt(audiotest.Energy(s) / float64(len(s))) }

func TestResampleTone(t *testing.T) {
	tests := []struct {
		from, to int
		freq     float64
	}{
		{8000, 16000, 1000},
		{8000, 16000, 3000},
		{16000, 8000, 440},
		{16000, 8000, 3400},
		{48000, 8000, 1000},
		{44100, 16000, 1000},
		{8000, 44100, 2000},
		{11025, 8000, 300},
	}
	for _, tt := range tests {
		in := audiotest.Tone(tt.freq, tt.from, 10000, tt.from/2) // 0.5 s
		out, err := wav.Resample(nil, in, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		if want := (tt.to + 1) / 2; len(out) != want {
			t.Errorf("%d→%d Hz: got %d samples from 0.5 s, want %d", tt.from, tt.to, len(out), want)
		}
		if err := audiotest.CheckTone(middle(out), tt.to, tt.freq, 2); err != nil {
			t.Errorf("%d→%d Hz, %v Hz tone: %v", tt.from, tt.to, tt.freq, err)
		}
		// The passband is flat: the level stays within 0.1 dB.
		db := 20 * math.Log10(rms(middle(out))/rms(middle(in)))
		t.Logf("%d→%d Hz, %v Hz tone: level %+.3f dB", tt.from, tt.to, tt.freq, db)
		if math.Abs(db) > 0.1 {
			t.Errorf("%d→%d Hz, %v Hz tone: level changed by %.3f dB, want within 0.1 dB", tt.from, tt.to, tt.freq, db)
		}
		if rp := audiotest.RelativePower(middle(out), tt.freq, tt.to); rp < 0.999 {
			t.Errorf("%d→%d Hz, %v Hz tone: %.5f of the energy at the tone, want at least 0.999", tt.from, tt.to, tt.freq, rp)
		}
	}
}

// TestResampleStopband checks that tones above the output's Nyquist
// frequency are removed rather than aliased, and that upsampling adds no
// image above the input's.
func TestResampleStopband(t *testing.T) {
	tests := []struct {
		from, to int
		freq     float64
	}{
		{16000, 8000, 4100}, // would alias to 3900 Hz
		{16000, 8000, 4500}, // would alias to 3500 Hz
		{16000, 8000, 6000}, // would alias to 2000 Hz
		{48000, 8000, 9000}, // would alias to 1000 Hz
		{48000, 16000, 12000},
	}
	for _, tt := range tests {
		in := audiotest.Tone(tt.freq, tt.from, 10000, tt.from)
		out, err := wav.Resample(nil, in, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		db := 20 * math.Log10(rms(middle(out))/rms(middle(in)))
		t.Logf("%d→%d Hz, %v Hz tone: %.1f dB", tt.from, tt.to, tt.freq, db)
		if db > -70 {
			t.Errorf("%d→%d Hz, %v Hz tone: got %.1f dB, want below -70 dB", tt.from, tt.to, tt.freq, db)
		}
	}

	// 8 → 16 kHz: a 3 kHz tone must not bring its 5 kHz image.
	in := audiotest.Tone(3000, 8000, 10000, 8000)
	out, err := wav.Resample(nil, in, 8000, 16000)
	if err != nil {
		t.Fatal(err)
	}
	image := audiotest.Power(middle(out), 5000, 16000) / audiotest.Power(middle(out), 3000, 16000)
	db := 10 * math.Log10(image)
	t.Logf("image at 5 kHz: %.1f dB", db)
	if db > -70 {
		t.Errorf("image at 5 kHz: got %.1f dB below the tone, want below -70 dB", db)
	}
}

func TestResampleRejects(t *testing.T) {
	for _, rates := range [][2]int{{8000, 999}, {999, 8000}, {8000, 400000}, {0, 16000}} {
		_, err := wav.Resample(nil, []int16{1}, rates[0], rates[1])
		if err == nil || !strings.Contains(err.Error(), "cannot resample") {
			t.Errorf("%v: got %v, want a cannot-resample error", rates, err)
		}
	}
	// Same rate: a copy appended to dst.
	got, err := wav.Resample([]int16{9}, []int16{1, 2}, 8000, 8000)
	if err != nil || len(got) != 3 || got[0] != 9 || got[2] != 2 {
		t.Fatalf("got %v, %v, want [9 1 2], nil", got, err)
	}
}

func wavFile(t *testing.T, rate, channels int, samples []int16) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := wav.NewInterleavedWriter(&buf, rate, channels)
	if err := w.WriteSamples(samples); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadAll(t *testing.T) {
	tone16k := audiotest.Tone(1000, 16000, 10000, 16000)
	stereo48k := make([]int16, 2*48000)
	for i, s := range audiotest.Tone(440, 48000, 10000, 48000) {
		stereo48k[2*i], stereo48k[2*i+1] = s, s
	}
	tests := []struct {
		name string
		file []byte
		rate int
		freq float64
	}{
		{"16 kHz at 16 kHz", wavFile(t, 16000, 1, tone16k), 16000, 1000},
		{"16 kHz at 8 kHz", wavFile(t, 16000, 1, tone16k), 8000, 1000},
		{"8 kHz at 16 kHz", wavFile(t, 8000, 1, audiotest.Tone(1000, 8000, 10000, 8000)), 16000, 1000},
		{"48 kHz stereo at 8 kHz", wavFile(t, 48000, 2, stereo48k), 8000, 440},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wav.ReadAll(bytes.NewReader(tt.file), tt.rate)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.rate {
				t.Fatalf("got %d samples, want %d (1 s)", len(got), tt.rate)
			}
			if err := audiotest.CheckTone(middle(got), tt.rate, tt.freq, 2); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestReadAllErrors(t *testing.T) {
	f := wavFile(t, 8000, 1, []int16{1, 2, 3, 4})
	if _, err := wav.ReadAll(bytes.NewReader(f), 500); err == nil || !strings.Contains(err.Error(), "500 Hz") {
		t.Fatalf("rate 500: got %v, want an error naming 500 Hz", err)
	}
	if _, err := wav.ReadAll(strings.NewReader("not a wave file"), 8000); !errors.Is(err, wav.ErrMalformed) {
		t.Fatalf("got %v, want %v", err, wav.ErrMalformed)
	}
	// A file cut inside a sample: the whole samples and io.ErrUnexpectedEOF.
	got, err := wav.ReadAll(bytes.NewReader(f[:len(f)-1]), 8000)
	if err != io.ErrUnexpectedEOF || len(got) != 3 || got[2] != 3 {
		t.Fatalf("got %v, %v, want [1 2 3], %v", got, err, io.ErrUnexpectedEOF)
	}
}

package audiotest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/xphone-go/xphone/audio/wav"
)

func TestWAVRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		rate     int
		channels int
		samples  []int16
	}{
		{"mono 8 kHz", 8000, 1, Tone(440, 8000, 9000, 1600)},
		{"stereo 48 kHz", 48000, 2, []int16{1, -1, 32767, -32768, 0, 5}},
		{"empty", 16000, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteWAV(&buf, tt.rate, tt.channels, tt.samples); err != nil {
				t.Fatal(err)
			}
			if got, want := buf.Len(), 44+2*len(tt.samples); got != want {
				t.Fatalf("got %d bytes, want %d", got, want)
			}
			w, err := ReadWAV(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if w.SampleRate != tt.rate || w.Channels != tt.channels || !slices.Equal(w.Samples, tt.samples) {
				t.Fatalf("got %d Hz %d ch %d samples, want %d Hz %d ch %d samples",
					w.SampleRate, w.Channels, len(w.Samples), tt.rate, tt.channels, len(tt.samples))
			}
		})
	}
}

func TestWAVMono(t *testing.T) {
	w := WAV{SampleRate: 8000, Channels: 2, Samples: []int16{1, 10, 2, 20, 3, 30}}
	if got, want := w.Mono(), []int16{1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	m := WAV{SampleRate: 8000, Channels: 1, Samples: []int16{4, 5}}
	if got := m.Mono(); !slices.Equal(got, m.Samples) {
		t.Fatalf("got %v, want %v", got, m.Samples)
	}
}

// wavBytes builds a WAV file by hand from its chunks.
func wavBytes(chunks ...[]byte) []byte {
	body := []byte("WAVE")
	for _, c := range chunks {
		body = append(body, c...)
	}
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...)
}

func chunk(id string, size uint32, payload []byte) []byte {
	c := append([]byte(id), binary.LittleEndian.AppendUint32(nil, size)...)
	c = append(c, payload...)
	if len(payload)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

func fmtPayload(format uint16, channels uint16, rate uint32, bits uint16, extra []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, format)
	b = binary.LittleEndian.AppendUint16(b, channels)
	b = binary.LittleEndian.AppendUint32(b, rate)
	b = binary.LittleEndian.AppendUint32(b, rate*uint32(channels)*uint32(bits/8))
	b = binary.LittleEndian.AppendUint16(b, channels*bits/8)
	b = binary.LittleEndian.AppendUint16(b, bits)
	return append(b, extra...)
}

func TestReadWAVVariants(t *testing.T) {
	pcm := fmtPayload(1, 1, 8000, 16, nil)
	data := []byte{1, 0, 0xff, 0xff, 0, 0x80}
	want := []int16{1, -1, -32768}
	// WAVE_FORMAT_EXTENSIBLE: cbSize 22, valid bits, channel mask, GUID
	// starting with the PCM tag.
	ext := binary.LittleEndian.AppendUint16(nil, 22)
	ext = binary.LittleEndian.AppendUint16(ext, 16)
	ext = binary.LittleEndian.AppendUint32(ext, 4)
	ext = append(ext, 1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71)
	tests := []struct {
		name string
		in   []byte
	}{
		{"plain", wavBytes(chunk("fmt ", 16, pcm), chunk("data", 6, data))},
		{"odd LIST chunk first", wavBytes(chunk("LIST", 3, []byte("abc")), chunk("fmt ", 16, pcm), chunk("data", 6, data))},
		{"fmt with cbSize", wavBytes(chunk("fmt ", 18, fmtPayload(1, 1, 8000, 16, []byte{0, 0})), chunk("data", 6, data))},
		{"extensible", wavBytes(chunk("fmt ", 40, fmtPayload(0xFFFE, 1, 8000, 16, ext)), chunk("data", 6, data))},
		{"unfinished recording, size 0", wavBytes(chunk("fmt ", 16, pcm), chunk("data", 0, data))},
		{"size past the end", wavBytes(chunk("fmt ", 16, pcm), chunk("data", 1000, data))},
		{"trailing chunk ignored", wavBytes(chunk("fmt ", 16, pcm), chunk("data", 6, data), chunk("junk", 2, []byte{9, 9}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ReadWAV(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if w.SampleRate != 8000 || w.Channels != 1 || !slices.Equal(w.Samples, want) {
				t.Fatalf("got %+v, want 8000 Hz mono %v", *w, want)
			}
		})
	}
}

func TestReadWAVRejects(t *testing.T) {
	pcm := fmtPayload(1, 1, 8000, 16, nil)
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVE")},
		{"not WAVE", []byte("RIFF\x04\x00\x00\x00AVI ")},
		{"8-bit", wavBytes(chunk("fmt ", 16, fmtPayload(1, 1, 8000, 8, nil)), chunk("data", 2, []byte{1, 2}))},
		{"float", wavBytes(chunk("fmt ", 16, fmtPayload(3, 1, 8000, 16, nil)), chunk("data", 2, []byte{1, 2}))},
		{"zero channels", wavBytes(chunk("fmt ", 16, fmtPayload(1, 0, 8000, 16, nil)), chunk("data", 2, []byte{1, 2}))},
		{"data before fmt", wavBytes(chunk("data", 2, []byte{1, 2}), chunk("fmt ", 16, pcm))},
		{"no data", wavBytes(chunk("fmt ", 16, pcm))},
		{"short fmt", wavBytes(chunk("fmt ", 8, pcm[:8]))},
		{"huge fmt", wavBytes(chunk("fmt ", 1<<30, nil))},
		{"truncated chunk", wavBytes(chunk("LIST", 100, []byte("ab")))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadWAV(bytes.NewReader(tt.in))
			if !errors.Is(err, ErrNotWAV) {
				t.Fatalf("got error %v, want ErrNotWAV", err)
			}
		})
	}
}

// TestReadWAVCause checks that ErrNotWAV comes with audio/wav's reason.
func TestReadWAVCause(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"8-bit", wavBytes(chunk("fmt ", 16, fmtPayload(1, 1, 8000, 8, nil)), chunk("data", 2, []byte{1, 2})), wav.ErrUnsupportedFormat},
		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVE"), wav.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadWAV(bytes.NewReader(tt.in))
			if !errors.Is(err, ErrNotWAV) || !errors.Is(err, tt.want) {
				t.Fatalf("got error %v, want ErrNotWAV and %v", err, tt.want)
			}
		})
	}
}

func TestWriteWAVRejects(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteWAV(&buf, 0, 1, nil); err == nil {
		t.Fatal("got no error for 0 Hz, want one")
	}
	if err := WriteWAV(&buf, 8000, 0, nil); err == nil {
		t.Fatal("got no error for 0 channels, want one")
	}
}

// FuzzReadWAV checks that ReadWAV never panics and that whatever it accepts
// survives a write and a second read unchanged.
func FuzzReadWAV(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteWAV(&buf, 8000, 1, Tone(440, 8000, 9000, 40)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(wavBytes(chunk("LIST", 3, []byte("abc")), chunk("fmt ", 16, fmtPayload(1, 2, 48000, 16, nil)), chunk("data", 0, []byte{1, 2, 3, 4})))
	f.Fuzz(func(t *testing.T, in []byte) {
		w, err := ReadWAV(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteWAV(&out, w.SampleRate, w.Channels, w.Samples); err != nil {
			t.Fatalf("WriteWAV of what ReadWAV accepted: %v", err)
		}
		w2, err := ReadWAV(&out)
		if err != nil {
			t.Fatalf("ReadWAV of what WriteWAV wrote: %v", err)
		}
		if w2.SampleRate != w.SampleRate || w2.Channels != w.Channels || !slices.Equal(w2.Samples, w.Samples) {
			t.Fatalf("round trip changed the audio: got %d Hz %d ch %d samples, want %d Hz %d ch %d samples",
				w2.SampleRate, w2.Channels, len(w2.Samples), w.SampleRate, w.Channels, len(w.Samples))
		}
	})
}

package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// seekBuffer is an in-memory io.WriteSeeker.
type seekBuffer struct {
	b   []byte
	pos int
}

func (s *seekBuffer) Write(p []byte) (int, error) {
	if need := s.pos + len(p); need > len(s.b) {
		s.b = append(s.b, make([]byte, need-len(s.b))...)
	}
	s.pos += copy(s.b[s.pos:], p)
	return len(p), nil
}

func (s *seekBuffer) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += int64(s.pos)
	case io.SeekEnd:
		off += int64(len(s.b))
	}
	if off < 0 {
		return 0, errors.New("negative position")
	}
	s.pos = int(off)
	return off, nil
}

// pipeLike has a Seek method that fails, as *os.File's does on a pipe.
type pipeLike struct{ bytes.Buffer }

func (*pipeLike) Seek(int64, int) (int64, error) { return 0, errors.New("illegal seek") }

func sizes(t *testing.T, b []byte) (riff, data uint32) {
	t.Helper()
	if len(b) < headerSize {
		t.Fatalf("got %d bytes, want at least a %d-byte header", len(b), headerSize)
	}
	return binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[40:])
}

func TestWriterRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		rate    int
		samples []int16
	}{
		{"8 kHz", 8000, sine(1000, 8000, 8000)},
		{"16 kHz", 16000, sine(1000, 16000, 16000)},
		{"extremes", 8000, []int16{-32768, 32767, 0, -1, 1}},
		{"empty", 16000, nil},
	}
	for _, tt := range tests {
		for _, seekable := range []bool{true, false} {
			sb, buf := &seekBuffer{}, &bytes.Buffer{}
			var out io.Writer = buf
			if seekable {
				out = sb
			}
			w := NewWriter(out, tt.rate)
			// Half through WriteSamples, half through Write.
			half := len(tt.samples) / 2
			if err := w.WriteSamples(tt.samples[:half]); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(pcm(tt.samples[half:]...)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			b := buf.Bytes()
			wantRIFF, wantData := uint32(sizeStream), uint32(sizeStream)
			if seekable {
				b = sb.b
				wantRIFF, wantData = uint32(36+2*len(tt.samples)), uint32(2*len(tt.samples))
			}
			if len(b) != headerSize+2*len(tt.samples) {
				t.Fatalf("%s seekable=%v: got %d bytes, want %d", tt.name, seekable, len(b), headerSize+2*len(tt.samples))
			}
			if riff, data := sizes(t, b); riff != wantRIFF || data != wantData {
				t.Fatalf("%s seekable=%v: got sizes %#x, %#x, want %#x, %#x", tt.name, seekable, riff, data, wantRIFF, wantData)
			}
			r, err := NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAllSamples(r)
			if err != nil || r.SampleRate() != tt.rate || r.Channels() != 1 || !slices.Equal(got, tt.samples) {
				t.Fatalf("%s seekable=%v: got %d Hz, %d channels, %d samples, %v, want %d Hz, 1 channel, %d samples equal",
					tt.name, seekable, r.SampleRate(), r.Channels(), len(got), err, tt.rate, len(tt.samples))
			}
		}
	}
}

// TestWriterHeader checks the header byte for byte.
func TestWriterHeader(t *testing.T) {
	var sb seekBuffer
	w := NewInterleavedWriter(&sb, 16000, 2)
	if err := w.WriteSamples([]int16{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := file(fmtChunk(1, 2, 16000, 16, nil), chunk("data", 8, pcm(1, 2, 3, 4)))
	if !bytes.Equal(sb.b, want) {
		t.Fatalf("got % x, want % x", sb.b, want)
	}
}

// TestWriterSeekOffset writes a file after other bytes of a seekable
// stream, then more bytes after it.
func TestWriterSeekOffset(t *testing.T) {
	sb := &seekBuffer{}
	sb.Write([]byte("prefix"))
	w := NewWriter(sb, 8000)
	if err := w.WriteSamples([]int16{5, 6, 7}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sb.Write([]byte("after"))
	want := append([]byte("prefix"), file(fmtChunk(1, 1, 8000, 16, nil), chunk("data", 6, pcm(5, 6, 7)))...)
	want = append(want, "after"...)
	if !bytes.Equal(sb.b, want) {
		t.Fatalf("got % x, want % x", sb.b, want)
	}
}

// TestWriterUnseekable keeps the streaming sizes when Seek fails.
func TestWriterUnseekable(t *testing.T) {
	var p pipeLike
	w := NewWriter(&p, 8000)
	if err := w.WriteSamples([]int16{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if riff, data := sizes(t, p.Bytes()); riff != sizeStream || data != sizeStream {
		t.Fatalf("got sizes %#x, %#x, want %#x, %#x", riff, data, uint32(sizeStream), uint32(sizeStream))
	}
}

func TestWriterErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := NewWriter(&buf, 999).WriteSamples([]int16{1}); err == nil || !strings.Contains(err.Error(), "999 Hz") {
		t.Fatalf("rate 999: got %v, want an error naming 999 Hz", err)
	}
	if err := NewInterleavedWriter(&buf, 8000, 0).Close(); err == nil || !strings.Contains(err.Error(), "0 channels") {
		t.Fatalf("0 channels: got %v, want an error naming 0 channels", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("got %d bytes written by failed writers, want 0", buf.Len())
	}

	w := NewWriter(&buf, 8000)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSamples([]int16{1}); err != errClosed {
		t.Fatalf("write after Close: got %v, want %v", err, errClosed)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: got %v, want nil", err)
	}

	// A file ending inside a sample is padded and reported.
	sb := &seekBuffer{}
	w = NewWriter(sb, 8000)
	if _, err := w.Write([]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("got no error closing after 3 bytes, want one")
	}
	if riff, data := sizes(t, sb.b); len(sb.b) != headerSize+4 || riff != 36+4 || data != 3 {
		t.Fatalf("got %d bytes, sizes %d, %d, want %d bytes, sizes 40, 3", len(sb.b), riff, data, headerSize+4)
	}

	// A write error sticks.
	boom := errors.New("boom")
	w = NewWriter(failWriter{boom}, 8000)
	if err := w.WriteSamples([]int16{1}); err != boom {
		t.Fatalf("got %v, want %v", err, boom)
	}
	if _, err := w.Write([]byte{1, 2}); err != boom {
		t.Fatalf("got %v, want %v", err, boom)
	}
	if err := w.Close(); err != boom {
		t.Fatalf("Close: got %v, want %v", err, boom)
	}

	// The 32-bit sizes bound the data.
	w = NewWriter(io.Discard, 8000)
	w.n = maxDataSize - 2
	if err := w.WriteSamples([]int16{1}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSamples([]int16{1}); err == nil || !strings.Contains(err.Error(), "RIFF limit") {
		t.Fatalf("past 4 GiB: got %v, want the RIFF limit error", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestWriteAllocs(t *testing.T) {
	w := NewWriter(io.Discard, 8000)
	samples := sine(440, 8000, 160)
	p := pcm(samples...)
	tests := []struct {
		name string
		f    func()
	}{
		{"WriteSamples", func() { _ = w.WriteSamples(samples) }},
		{"Write", func() { _, _ = w.Write(p) }},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(100, tt.f); got != 0 {
			t.Errorf("%s: got %v allocations, want 0", tt.name, got)
		}
	}
}

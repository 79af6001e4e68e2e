package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
)

// sine returns n samples of a sine of freq Hz at rate Hz, peak 10000.
func sine(freq float64, rate, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(10000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return s
}

// file builds a WAVE file by hand from its chunks.
func file(chunks ...[]byte) []byte {
	body := []byte("WAVE")
	for _, c := range chunks {
		body = append(body, c...)
	}
	out := binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(body)))
	return append(out, body...)
}

// chunk builds a chunk with the given size field, padding an odd payload.
func chunk(id string, size uint32, payload []byte) []byte {
	c := binary.LittleEndian.AppendUint32([]byte(id), size)
	c = append(c, payload...)
	if len(payload)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

func fmtChunk(tag, channels uint16, rate uint32, bits uint16, extra []byte) []byte {
	le := binary.LittleEndian
	b := le.AppendUint16(nil, tag)
	b = le.AppendUint16(b, channels)
	b = le.AppendUint32(b, rate)
	b = le.AppendUint32(b, rate*uint32(channels)*uint32(bits/8))
	b = le.AppendUint16(b, channels*bits/8)
	b = le.AppendUint16(b, bits)
	b = append(b, extra...)
	return chunk("fmt ", uint32(len(b)), b)
}

// extensible returns the 24 bytes of WAVEFORMATEXTENSIBLE after the
// WAVEFORMATEX fields, with the given subformat tag.
func extensible(validBits, subformat uint16) []byte {
	le := binary.LittleEndian
	b := le.AppendUint16(nil, 22) // cbSize
	b = le.AppendUint16(b, validBits)
	b = le.AppendUint32(b, 4) // channel mask: front centre
	b = le.AppendUint16(b, subformat)
	return append(b, guidTail[:]...)
}

func pcm(samples ...int16) []byte {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// readAllSamples reads r to its end with ReadSamples.
func readAllSamples(r *Reader) ([]int16, error) {
	var out []int16
	buf := make([]int16, 7) // small and odd, to cross buffer boundaries
	for {
		n, err := r.ReadSamples(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestReaderVariants(t *testing.T) {
	mono := fmtChunk(1, 1, 8000, 16, nil)
	data := pcm(1, -1, -32768, 32767)
	want := []int16{1, -1, -32768, 32767}
	tests := []struct {
		name string
		in   []byte
		rate int
	}{
		{"plain", file(mono, chunk("data", 8, data)), 8000},
		{"16 kHz", file(fmtChunk(1, 1, 16000, 16, nil), chunk("data", 8, data)), 16000},
		{"fmt with cbSize", file(fmtChunk(1, 1, 8000, 16, []byte{0, 0}), chunk("data", 8, data)), 8000},
		{"extensible PCM", file(fmtChunk(0xFFFE, 1, 8000, 16, extensible(16, 1)), chunk("data", 8, data)), 8000},
		{"LIST and fact before fmt", file(chunk("LIST", 4, []byte("INFO")), chunk("fact", 4, []byte{4, 0, 0, 0}), mono, chunk("data", 8, data)), 8000},
		{"odd chunk padded", file(chunk("LIST", 3, []byte("abc")), mono, chunk("junk", 1, []byte{7}), chunk("data", 8, data)), 8000},
		{"odd fmt chunk padded", file(fmtChunk(1, 1, 8000, 16, []byte{9}), chunk("data", 8, data)), 8000},
		{"data size 0: read to EOF", file(mono, chunk("data", 0, data)), 8000},
		{"data size 0xFFFFFFFF: read to EOF", file(mono, chunk("data", 0xFFFFFFFF, data)), 8000},
		{"chunk after data not read", file(mono, chunk("data", 8, data), chunk("LIST", 2, []byte{1, 2})), 8000},
		{"RIFF size 0", append([]byte("RIFF\x00\x00\x00\x00"), file(mono, chunk("data", 8, data))[8:]...), 8000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if r.SampleRate() != tt.rate || r.Channels() != 1 {
				t.Fatalf("got %d Hz %d channels, want %d Hz 1 channel", r.SampleRate(), r.Channels(), tt.rate)
			}
			got, err := readAllSamples(r)
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("got %v, %v, want %v, nil", got, err, want)
			}
		})
	}
}

func TestReaderMixdown(t *testing.T) {
	in := file(fmtChunk(1, 2, 16000, 16, nil), chunk("data", 0, pcm(100, 300, -5, 2, 32767, 32767, -32768, -32768, -3, 0)))
	wantMono := []int16{200, -1, 32767, -32768, -1} // averaged, rounded toward zero

	r, err := NewReader(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if r.Channels() != 2 {
		t.Fatalf("got %d channels, want 2", r.Channels())
	}
	if got, err := readAllSamples(r); err != nil || !slices.Equal(got, wantMono) {
		t.Fatalf("ReadSamples: got %v, %v, want %v, nil", got, err, wantMono)
	}

	r, _ = NewReader(bytes.NewReader(in))
	b, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(b, pcm(wantMono...)) {
		t.Fatalf("Read: got % x, %v, want % x, nil", b, err, pcm(wantMono...))
	}

	r, _ = NewReader(bytes.NewReader(in))
	buf := make([]int16, 5) // two whole frames
	var got []int16
	for {
		n, err := r.ReadInterleaved(buf)
		if n%2 != 0 {
			t.Fatalf("ReadInterleaved returned %d samples, want whole frames", n)
		}
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if want := []int16{100, 300, -5, 2, 32767, 32767, -32768, -32768, -3, 0}; !slices.Equal(got, want) {
		t.Fatalf("ReadInterleaved: got %v, want %v", got, want)
	}
	if n, err := r.ReadInterleaved(buf[:1]); n != 0 || err != io.ErrShortBuffer {
		t.Fatalf("ReadInterleaved into 1 sample: got %d, %v, want 0, %v", n, err, io.ErrShortBuffer)
	}
}

// TestReadOddLengths reads the bytes in pieces of 1, 2 and 3 bytes.
func TestReadOddLengths(t *testing.T) {
	samples := sine(440, 8000, 101)
	in := file(fmtChunk(1, 1, 8000, 16, nil), chunk("data", uint32(2*len(samples)), pcm(samples...)))
	for _, size := range []int{1, 2, 3, 4096} {
		r, err := NewReader(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		p := make([]byte, size)
		for {
			n, err := r.Read(p)
			got = append(got, p[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if want := pcm(samples...); !bytes.Equal(got, want) {
			t.Fatalf("reads of %d bytes: got %d bytes, want %d equal to the data", size, len(got), len(want))
		}
	}
}

func TestReaderTruncated(t *testing.T) {
	mono := fmtChunk(1, 1, 8000, 16, nil)
	stereo := fmtChunk(1, 2, 8000, 16, nil)
	tests := []struct {
		name string
		in   []byte
		want []int16
	}{
		{"data shorter than its size", file(mono, chunk("data", 100, pcm(1, 2, 3))), []int16{1, 2, 3}},
		{"odd data size", file(mono, chunk("data", 5, append(pcm(1, 2), 9))), []int16{1, 2}},
		{"stream ends inside a sample", append(file(mono, chunk("data", 0, pcm(1, 2))), 9), []int16{1, 2}},
		{"stream ends inside a frame", file(stereo, chunk("data", 0, pcm(2, 4, 6))), []int16{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAllSamples(r)
			if err != io.ErrUnexpectedEOF || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v, want %v, %v", got, err, tt.want, io.ErrUnexpectedEOF)
			}
			if n, err := r.ReadSamples(make([]int16, 4)); n != 0 || err != io.ErrUnexpectedEOF {
				t.Fatalf("after the end: got %d, %v, want 0, %v", n, err, io.ErrUnexpectedEOF)
			}
		})
	}
}

func TestReaderRejects(t *testing.T) {
	mono := fmtChunk(1, 1, 8000, 16, nil)
	data := chunk("data", 4, pcm(1, 2))
	badAlign := fmtChunk(1, 1, 8000, 16, nil)
	badAlign[8+12] = 4
	tests := []struct {
		name    string
		in      []byte
		want    error
		message string // part of the error's text
	}{
		{"8-bit", file(fmtChunk(1, 1, 8000, 8, nil), data), ErrUnsupportedFormat, "8-bit PCM"},
		{"24-bit", file(fmtChunk(1, 1, 8000, 24, nil), data), ErrUnsupportedFormat, "24-bit PCM"},
		{"32-bit", file(fmtChunk(1, 1, 8000, 32, nil), data), ErrUnsupportedFormat, "32-bit PCM"},
		{"float", file(fmtChunk(3, 1, 8000, 32, nil), data), ErrUnsupportedFormat, "IEEE float"},
		{"µ-law", file(fmtChunk(7, 1, 8000, 8, nil), data), ErrUnsupportedFormat, "µ-law"},
		{"A-law", file(fmtChunk(6, 1, 8000, 8, nil), data), ErrUnsupportedFormat, "A-law"},
		{"IMA ADPCM", file(fmtChunk(0x11, 1, 8000, 4, nil), data), ErrUnsupportedFormat, "IMA ADPCM"},
		{"unknown tag", file(fmtChunk(0x1234, 1, 8000, 16, nil), data), ErrUnsupportedFormat, "format tag 0x1234"},
		{"extensible float", file(fmtChunk(0xFFFE, 1, 8000, 32, extensible(32, 3)), data), ErrUnsupportedFormat, "IEEE float"},
		{"extensible 24-bit", file(fmtChunk(0xFFFE, 1, 8000, 24, extensible(24, 1)), data), ErrUnsupportedFormat, "24-bit PCM"},
		{"extensible other GUID", file(fmtChunk(0xFFFE, 1, 8000, 16, append(extensible(16, 1)[:10], make([]byte, 14)...)), data), ErrUnsupportedFormat, "subformat GUID"},
		{"9 channels", file(fmtChunk(1, 9, 8000, 16, nil), data), ErrUnsupportedFormat, "9 channels"},
		{"rate too low", file(fmtChunk(1, 1, 999, 16, nil), data), ErrUnsupportedFormat, "999 Hz"},
		{"rate too high", file(fmtChunk(1, 1, 400000, 16, nil), data), ErrUnsupportedFormat, "400000 Hz"},
		{"RF64", append([]byte("RF64\xff\xff\xff\xffWAVE"), mono...), ErrUnsupportedFormat, "RF64"},

		{"empty", nil, ErrMalformed, "RIFF header"},
		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVE"), ErrMalformed, "not RIFF"},
		{"not WAVE", []byte("RIFF\x04\x00\x00\x00AVI "), ErrMalformed, "not WAVE"},
		{"zero channels", file(fmtChunk(1, 0, 8000, 16, nil), data), ErrMalformed, "0 channels"},
		{"block align", file(badAlign, data), ErrMalformed, "block align 4"},
		{"data before fmt", file(data, mono), ErrMalformed, "before fmt"},
		{"no data", file(mono), ErrMalformed, "no data chunk"},
		{"short fmt", file(chunk("fmt ", 8, make([]byte, 8))), ErrMalformed, "fmt chunk of 8 bytes"},
		{"huge fmt", file(chunk("fmt ", 1<<30, nil)), ErrMalformed, "fmt chunk of 1073741824 bytes"},
		{"fmt cut short", file(chunk("fmt ", 16, make([]byte, 6))), ErrMalformed, "reading fmt chunk"},
		{"chunk cut short", file(chunk("LIST", 100, []byte("ab"))), ErrMalformed, `"LIST" chunk of 100 bytes cut short at 2`},
		{"huge chunk cut short", file(chunk("LIST", 0xFFFFFFF0, []byte("ab"))), ErrMalformed, "cut short"},
		{"extensible too short", file(fmtChunk(0xFFFE, 1, 8000, 16, []byte{0, 0}), data), ErrMalformed, "EXTENSIBLE fmt chunk of 18 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("got error %v, want %v with %q", err, tt.want, tt.message)
			}
		})
	}
}

// TestReaderReadError passes on an error from the underlying reader.
func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	in := file(fmtChunk(1, 1, 8000, 16, nil), chunk("data", 0, pcm(1, 2)))
	r, err := NewReader(io.MultiReader(bytes.NewReader(in), errReader{boom}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAllSamples(r)
	if err != boom || !slices.Equal(got, []int16{1, 2}) {
		t.Fatalf("got %v, %v, want [1 2], %v", got, err, boom)
	}
	if _, err := NewReader(io.MultiReader(bytes.NewReader(in[:20]), errReader{boom})); !errors.Is(err, boom) {
		t.Fatalf("header: got %v, want %v", err, boom)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestReadAllocs(t *testing.T) {
	hdr := file(fmtChunk(1, 2, 8000, 16, nil), chunk("data", 0xFFFFFFFF, nil))
	r, err := NewReader(io.MultiReader(bytes.NewReader(hdr), zeros{}))
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]int16, 160)
	p := make([]byte, 320)
	tests := []struct {
		name string
		f    func()
	}{
		{"ReadSamples", func() { _, _ = r.ReadSamples(dst) }},
		{"ReadInterleaved", func() { _, _ = r.ReadInterleaved(dst) }},
		{"Read", func() { _, _ = r.Read(p) }},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(100, tt.f); got != 0 {
			t.Errorf("%s: got %v allocations, want 0", tt.name, got)
		}
	}
}

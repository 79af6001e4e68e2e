package wav

import (
	"bytes"
	"io"
	"slices"
	"testing"
)

// FuzzReader checks that a Reader never panics, reads no more than its
// input holds, and that what it accepts survives a write and a second read
// unchanged, interleaved and mixed down alike.
func FuzzReader(f *testing.F) {
	f.Add(file(fmtChunk(1, 1, 8000, 16, nil), chunk("data", 8, pcm(1, -1, 300, -300))))
	f.Add(file(chunk("LIST", 3, []byte("abc")), fmtChunk(1, 2, 48000, 16, nil), chunk("data", 0, pcm(1, 2, 3, 4, 5))))
	f.Add(file(fmtChunk(0xFFFE, 1, 16000, 16, extensible(16, 1)), chunk("data", 0xFFFFFFFF, pcm(sine(440, 16000, 40)...))))
	f.Add(file(fmtChunk(1, 1, 8000, 8, nil), chunk("data", 2, []byte{1, 2})))
	f.Add(file(fmtChunk(1, 3, 8000, 16, nil), chunk("data", 100, pcm(1, 2, 3, 4))))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewReader(bytes.NewReader(in))
		if err != nil {
			return
		}
		inter, err := readInterleaved(r)
		if err != nil && err != io.ErrUnexpectedEOF {
			t.Fatalf("reading from memory: %v", err)
		}
		if len(inter) > len(in)/2 {
			t.Fatalf("got %d samples from %d bytes of input", len(inter), len(in))
		}
		if len(inter)%r.Channels() != 0 {
			t.Fatalf("got %d samples of %d channels, want whole frames", len(inter), r.Channels())
		}

		var out bytes.Buffer
		w := NewInterleavedWriter(&out, r.SampleRate(), r.Channels())
		if err := w.WriteSamples(inter); err != nil {
			t.Fatalf("writing what was read: %v", err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("closing: %v", err)
		}
		written := out.Bytes()

		r2, err := NewReader(bytes.NewReader(written))
		if err != nil {
			t.Fatalf("reading what was written: %v", err)
		}
		inter2, err := readInterleaved(r2)
		if err != nil {
			t.Fatalf("reading what was written: %v", err)
		}
		if r2.SampleRate() != r.SampleRate() || r2.Channels() != r.Channels() || !slices.Equal(inter2, inter) {
			t.Fatalf("round trip changed the audio: got %d Hz %d channels %d samples, want %d Hz %d channels %d samples",
				r2.SampleRate(), r2.Channels(), len(inter2), r.SampleRate(), r.Channels(), len(inter))
		}

		r3, _ := NewReader(bytes.NewReader(written))
		mono, err := readAllSamples(r3)
		if err != nil {
			t.Fatalf("reading mono: %v", err)
		}
		c := r.Channels()
		if len(mono) != len(inter)/c {
			t.Fatalf("got %d mono samples, want %d", len(mono), len(inter)/c)
		}
		for i, s := range mono {
			var sum int
			for _, x := range inter[i*c : (i+1)*c] {
				sum += int(x)
			}
			if want := int16(sum / c); s != want {
				t.Fatalf("mono sample %d: got %d, want %d", i, s, want)
			}
		}
	})
}

// readInterleaved reads r to its end with ReadInterleaved.
func readInterleaved(r *Reader) ([]int16, error) {
	var out []int16
	buf := make([]int16, 3*r.Channels())
	for {
		n, err := r.ReadInterleaved(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

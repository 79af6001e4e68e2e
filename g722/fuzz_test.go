package g722

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzG722Decode: any octet stream decodes, in every mode, without panic to
// exactly two samples per octet, and decoding it in two calls gives the same
// samples as one call.
func FuzzG722Decode(f *testing.F) {
	f.Add(readFile(f, filepath.Join(vectors, "signal16k.g722"))[:320], uint16(100))
	f.Add(readFile(f, filepath.Join(workloads, "speech-16k.g722"))[16000:16160], uint16(7))
	f.Add([]byte{0x00, 0xff, 0x3f, 0xc0}, uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		cut := int(split) % (len(data) + 1)
		for _, rate := range []int{64000, 56000, 48000} {
			d, err := NewDecoderRate(rate)
			if err != nil {
				t.Fatal(err)
			}
			whole := d.Decode(nil, data)
			if len(whole) != 2*len(data) {
				t.Fatalf("%d: got %d samples, want %d", rate, len(whole), 2*len(data))
			}
			d.Reset()
			parts := d.Decode(d.Decode(nil, data[:cut]), data[cut:])
			if !slices.Equal(parts, whole) {
				t.Fatalf("%d: split at %d decodes differently", rate, cut)
			}
		}
	})
}

// FuzzG722Encode: any PCM (little-endian pairs of bytes) encodes to
// len/2 octets, the same whatever the split between calls, and the result
// decodes to as many samples as were encoded (an odd one held back).
func FuzzG722Encode(f *testing.F) {
	f.Add(readFile(f, filepath.Join(vectors, "signal16k.s16le"))[64000:65000], uint16(33))
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80, 0xff, 0x7f}, uint16(1))
	f.Fuzz(func(t *testing.T, raw []byte, split uint16) {
		pcm := make([]int16, len(raw)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
		cut := int(split) % (len(pcm) + 1)
		e := NewEncoder()
		whole := e.Encode(nil, pcm)
		if len(whole) != len(pcm)/2 {
			t.Fatalf("got %d octets, want %d", len(whole), len(pcm)/2)
		}
		e.Reset()
		parts := e.Encode(e.Encode(nil, pcm[:cut]), pcm[cut:])
		if !bytes.Equal(parts, whole) {
			t.Fatalf("split at %d encodes differently", cut)
		}
		if got := NewDecoder().Decode(nil, whole); len(got) != 2*len(whole) {
			t.Fatalf("got %d samples, want %d", len(got), 2*len(whole))
		}
	})
}

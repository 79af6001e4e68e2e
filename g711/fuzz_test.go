package g711

import (
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzG711 checks, for both laws and any input: a decoded frame is a fixed
// point of encode∘decode (decode(encode(decode(b))) == decode(b)), encoding
// quantising any PCM twice equals quantising it once, lengths are preserved, and
// transcoding keeps the length and the sign.
func FuzzG711(f *testing.F) {
	f.Add(readFile(f, filepath.Join(vectors, "tables/all_codes.u8")))
	f.Add(readFile(f, filepath.Join(vectors, "signal8k.g191.ulaw"))[:320])
	f.Add(readFile(f, filepath.Join(vectors, "signal8k.g191.alaw"))[8000:8320])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		pcm := make([]int16, len(data)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
		for _, l := range laws {
			dec := l.decode(nil, data)
			if len(dec) != len(data) {
				t.Fatalf("%s: got %d samples, want %d", l.name, len(dec), len(data))
			}
			again := l.decode(nil, l.encode(nil, dec))
			if !slices.Equal(again, dec) {
				t.Fatalf("%s: decode(encode(decode(b))) = %v, want %v", l.name, again, dec)
			}
			// Quantisation q = decode∘encode is idempotent: q(q(x)) == q(x).
			q := l.decode(nil, l.encode(nil, pcm))
			if qq := l.decode(nil, l.encode(nil, q)); !slices.Equal(qq, q) {
				t.Fatalf("%s: q(q(x)) = %v, want %v", l.name, qq, q)
			}
		}
		u2a := UlawToAlaw(nil, data)
		a2u := AlawToUlaw(nil, data)
		if len(u2a) != len(data) || len(a2u) != len(data) {
			t.Fatalf("transcoding changed the length")
		}
		for i, c := range data {
			if c&0x80 != u2a[i]&0x80 || c&0x80 != a2u[i]&0x80 {
				t.Fatalf("transcoding 0x%02x changed the sign bit", c)
			}
		}
	})
}

package g711

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

const (
	vectors   = "../testdata/vectors/g711"
	workloads = "../testdata/workloads/audio"
)

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func readPCM(tb testing.TB, path string) []int16 {
	tb.Helper()
	b := readFile(tb, path)
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

type law struct {
	name   string
	ext    string
	encode func([]byte, []int16) []byte
	decode func([]int16, []byte) []int16
}

var laws = []law{
	{"ulaw", "ulaw", EncodeUlaw, DecodeUlaw},
	{"alaw", "alaw", EncodeAlaw, DecodeAlaw},
}

// TestEncodeAllInputsG191 checks every one of the 65 536 int16 inputs
// against the ITU-T G.191 reference encoding.
func TestEncodeAllInputsG191(t *testing.T) {
	all := readPCM(t, filepath.Join(vectors, "tables/all_int16.s16le"))
	if len(all) != 65536 {
		t.Fatalf("got %d inputs, want 65536", len(all))
	}
	for _, l := range laws {
		t.Run(l.name, func(t *testing.T) {
			want := readFile(t, filepath.Join(vectors, "tables/all_int16.g191."+l.ext))
			got := l.encode(nil, all)
			bad := 0
			for i := range want {
				if got[i] != want[i] {
					if bad < 5 {
						t.Errorf("input %d: got 0x%02x, want 0x%02x", all[i], got[i], want[i])
					}
					bad++
				}
			}
			if bad != 0 {
				t.Errorf("got %d mismatches, want 0", bad)
			}
		})
	}
}

// TestDecodeAllCodes checks the 256 codes of each law against the decode
// table on which SoX, FFmpeg and spandsp agree.
func TestDecodeAllCodes(t *testing.T) {
	codes := readFile(t, filepath.Join(vectors, "tables/all_codes.u8"))
	for _, l := range laws {
		t.Run(l.name, func(t *testing.T) {
			want := readPCM(t, filepath.Join(vectors, "tables/all_codes."+l.ext+".decoded.s16le"))
			got := l.decode(nil, codes)
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("code 0x%02x: got %d, want %d", codes[i], got[i], want[i])
				}
			}
		})
	}
}

// TestSignal runs the 4 s test signal through both laws: the encoding equals
// G.191 byte for byte, its decoding equals the stored decode, and against
// SoX (which rounds instead of truncating) every sample decodes to the same
// or an adjacent quantisation level.
func TestSignal(t *testing.T) {
	pcm := readPCM(t, filepath.Join(vectors, "signal8k.s16le"))
	for _, l := range laws {
		t.Run(l.name, func(t *testing.T) {
			want := readFile(t, filepath.Join(vectors, "signal8k.g191."+l.ext))
			got := l.encode(nil, pcm)
			if !bytes.Equal(got, want) {
				t.Fatalf("encoding differs from G.191")
			}
			wantPCM := readPCM(t, filepath.Join(vectors, "signal8k.g191."+l.ext+".decoded.s16le"))
			gotPCM := l.decode(nil, got)
			for i := range wantPCM {
				if gotPCM[i] != wantPCM[i] {
					t.Fatalf("sample %d: got %d, want %d", i, gotPCM[i], wantPCM[i])
				}
			}
			sox := readFile(t, filepath.Join(vectors, "signal8k.sox."+l.ext))
			for i := range sox {
				if got[i] == sox[i] {
					continue
				}
				// Adjacent levels: re-encoding the SoX level one LSB
				// toward ours must give our code, or the codes are
				// neighbours in magnitude.
				if !adjacent(l, got[i], sox[i]) {
					t.Fatalf("sample %d (%d): got 0x%02x, SoX 0x%02x: not adjacent", i, pcm[i], got[i], sox[i])
				}
			}
		})
	}
}

// adjacent reports whether codes a and b are neighbouring quantisation
// levels of law l.
func adjacent(l law, a, b byte) bool {
	levels := l.decode(nil, []byte{a, b})
	lo, hi := min(levels[0], levels[1]), max(levels[0], levels[1])
	for c := range 256 {
		v := l.decode(nil, []byte{byte(c)})[0]
		if v > lo && v < hi {
			return false
		}
	}
	return true
}

// TestWorkloads checks the benchmark workloads, which zaf/g711 (G.191-style)
// encoded.
func TestWorkloads(t *testing.T) {
	pcm := readPCM(t, filepath.Join(workloads, "speech-8k-s16le.raw"))
	for _, tc := range []struct {
		file   string
		encode func([]byte, []int16) []byte
	}{
		{"speech-8k.pcmu", EncodeUlaw},
		{"speech-8k.pcma", EncodeAlaw},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want := readFile(t, filepath.Join(workloads, tc.file))
			if got := tc.encode(nil, pcm); !bytes.Equal(got, want) {
				t.Errorf("encoding of the speech workload differs from %s", tc.file)
			}
		})
	}
}

// TestTranscodeTables checks the direct conversions against rows of G.711
// Tables 3 and 4 and against their defining properties.
func TestTranscodeTables(t *testing.T) {
	tests := []struct {
		name string
		conv func(dst, data []byte) []byte
		in   byte
		want byte
	}{
		// µ-law +0 (0xFF) and -0 (0x7F) both go to the smallest A-law
		// magnitude of their sign (0xD5, 0x55).
		{"u2a +0", UlawToAlaw, 0xff, 0xd5},
		{"u2a -0", UlawToAlaw, 0x7f, 0x55},
		{"u2a max+", UlawToAlaw, 0x80, 0xaa},
		{"u2a max-", UlawToAlaw, 0x00, 0x2a},
		// Table 3: µ magnitude index 32 -> A index 24, 33 -> 26.
		{"u2a 0xdf", UlawToAlaw, 0xdf, 0x18 ^ 0xd5},
		{"u2a 0xde", UlawToAlaw, 0xde, 0x1a ^ 0xd5},
		{"u2a 0x20", UlawToAlaw, 0x20, 0x0a},
		{"a2u 0xd5", AlawToUlaw, 0xd5, 0xfe},
		{"a2u 0x55", AlawToUlaw, 0x55, 0x7e},
		{"a2u max+", AlawToUlaw, 0xaa, 0x80},
		{"a2u max-", AlawToUlaw, 0x2a, 0x00},
		// Table 4: A magnitude indexes 24 and 25 both -> µ index 32.
		{"a2u idx24", AlawToUlaw, 24 ^ 0xd5, 0xff ^ 32},
		{"a2u idx25", AlawToUlaw, 25 ^ 0xd5, 0xff ^ 32},
		{"a2u 0x00", AlawToUlaw, 0x00, 0x2a},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.conv(nil, []byte{tc.in})[0]; got != tc.want {
				t.Errorf("got 0x%02x, want 0x%02x", got, tc.want)
			}
		})
	}

	// Properties: the sign is kept, the magnitude never decreases as the
	// input magnitude grows, and the output level is within one A-law
	// (resp. µ-law) step of the input level.
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	u2a := UlawToAlaw(nil, all)
	a2u := AlawToUlaw(nil, all)
	uLin := DecodeUlaw(nil, all)
	aLin := DecodeAlaw(nil, all)
	for c := range 256 {
		if (uLin[c] < 0) != (aLin[u2a[c]] < 0) && uLin[c] != 0 {
			t.Errorf("u2a 0x%02x: sign of %d changed to %d", c, uLin[c], aLin[u2a[c]])
		}
		if (aLin[c] < 0) != (uLin[a2u[c]] < 0) {
			t.Errorf("a2u 0x%02x: sign of %d changed to %d", c, aLin[c], uLin[a2u[c]])
		}
		if !adjacentOrEqualLevel(aLin[:], aLin[u2a[c]], uLin[c]) {
			t.Errorf("u2a 0x%02x: %d -> %d is more than one A-law step", c, uLin[c], aLin[u2a[c]])
		}
		if !adjacentOrEqualLevel(uLin[:], uLin[a2u[c]], aLin[c]) {
			t.Errorf("a2u 0x%02x: %d -> %d is more than one µ-law step", c, aLin[c], uLin[a2u[c]])
		}
	}
	for m := 1; m < 128; m++ {
		if ulawToAlawMag[m] < ulawToAlawMag[m-1] || alawToUlawMag[m] < alawToUlawMag[m-1] {
			t.Errorf("magnitude map not monotonic at %d", m)
		}
	}
	// A -> µ -> A is the identity except where Table 4 merges two A-law
	// levels into one µ-law level (the µ-law step is coarser there).
	merged := 0
	for c := range 256 {
		if u2a[a2u[c]] != byte(c) {
			merged++
		}
	}
	if merged != 16 {
		t.Errorf("got %d A-law codes changed by A->µ->A, want 16", merged)
	}
}

// adjacentOrEqualLevel reports whether no level of the table lies strictly
// between got and the input value in, other than got itself.
func adjacentOrEqualLevel(levels []int16, got, in int16) bool {
	lo, hi := min(got, in), max(got, in)
	n := 0
	for _, v := range levels {
		if v > lo && v < hi {
			n++
		}
	}
	return n == 0
}

func TestAppend(t *testing.T) {
	pcm := []int16{0, 1000, -1000, 32767, -32768}
	for _, l := range laws {
		t.Run(l.name, func(t *testing.T) {
			prefix := []byte{0xAA, 0xBB}
			got := l.encode(prefix, pcm)
			want := append([]byte{0xAA, 0xBB}, l.encode(nil, pcm)...)
			if !bytes.Equal(got, want) {
				t.Errorf("got %x, want %x", got, want)
			}
			dec := l.decode([]int16{7}, got[2:])
			if len(dec) != 1+len(pcm) || dec[0] != 7 {
				t.Errorf("got %v, want prefix 7 and %d samples", dec, len(pcm))
			}
		})
	}
}

func TestZeroAllocs(t *testing.T) {
	pcm := readPCM(t, filepath.Join(workloads, "speech-8k-s16le.raw"))[:160]
	codes := make([]byte, 0, 160)
	out := make([]int16, 0, 160)
	conv := make([]byte, 0, 160)
	tests := []struct {
		name string
		f    func()
	}{
		{"EncodeUlaw", func() { codes = EncodeUlaw(codes[:0], pcm) }},
		{"EncodeAlaw", func() { codes = EncodeAlaw(codes[:0], pcm) }},
		{"DecodeUlaw", func() { out = DecodeUlaw(out[:0], codes) }},
		{"DecodeAlaw", func() { out = DecodeAlaw(out[:0], codes) }},
		{"UlawToAlaw", func() { conv = UlawToAlaw(conv[:0], codes) }},
		{"AlawToUlaw", func() { conv = AlawToUlaw(conv[:0], codes) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tc.f); got != 0 {
				t.Errorf("got %v allocs per frame, want 0", got)
			}
		})
	}
}

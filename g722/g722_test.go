package g722

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

const (
	vectors   = "../testdata/vectors/g722"
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

func TestEncodeVectors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"signal16k", filepath.Join(vectors, "signal16k.s16le"), filepath.Join(vectors, "signal16k.g722")},
		{"speech", filepath.Join(workloads, "speech-16k-s16le.raw"), filepath.Join(workloads, "speech-16k.g722")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pcm := readPCM(t, tc.in)
			want := readFile(t, tc.want)
			got := NewEncoder().Encode(nil, pcm)
			if len(got) != len(want) {
				t.Fatalf("got %d octets, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("octet %d: got 0x%02x, want 0x%02x", i, got[i], want[i])
				}
			}
		})
	}
}

func TestDecodeVectors(t *testing.T) {
	data := readFile(t, filepath.Join(vectors, "signal16k.g722"))
	want := readPCM(t, filepath.Join(vectors, "signal16k.g722.decoded.ffmpeg.s16le"))
	got := NewDecoder().Decode(nil, data)
	if len(got) != len(want) {
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	bad := 0
	for i := range want {
		if got[i] != want[i] {
			if bad < 5 {
				t.Errorf("sample %d: got %d, want %d", i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("got %d mismatches, want 0", bad)
	}
	_ = bytes.Equal
}

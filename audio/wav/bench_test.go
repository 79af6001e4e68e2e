package wav_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"testing"

	"github.com/xphone-go/xphone/audio/wav"
)

// speech reads the 10 s speech workload at rate Hz (8000 or 16000).
func speech(b *testing.B, rate int) []int16 {
	b.Helper()
	name := "../../testdata/workloads/audio/speech-8k-s16le.raw"
	if rate == 16000 {
		name = "../../testdata/workloads/audio/speech-16k-s16le.raw"
	}
	raw, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	s := make([]int16, len(raw)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return s
}

// BenchmarkWAVRead reads 10 s of 16 kHz speech from a WAVE file in memory,
// 20 ms at a time.
func BenchmarkWAVRead(b *testing.B) {
	s := speech(b, 16000)
	var file bytes.Buffer
	w := wav.NewWriter(&file, 16000)
	if err := w.WriteSamples(s); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(2 * len(s)))
		frame := make([]int16, 320)
		for b.Loop() {
			r, err := wav.NewReader(bytes.NewReader(file.Bytes()))
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := r.ReadSamples(frame); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkWAVResample converts 10 s of 16 kHz speech to 8 kHz.
func BenchmarkWAVResample(b *testing.B) {
	s := speech(b, 16000)
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(2 * len(s)))
		dst := make([]int16, 0, len(s)/2)
		for b.Loop() {
			if _, err := wav.Resample(dst[:0], s, 16000, 8000); err != nil {
				b.Fatal(err)
			}
		}
	})
}

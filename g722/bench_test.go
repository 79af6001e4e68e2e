package g722

import (
	"path/filepath"
	"testing"
)

// Benchmarks named and shaped as in the peer harness (peerbench
// codec_test.go): one op is one 20 ms frame (320 samples at 16 kHz ↔ 160
// octets), frames taken cyclically from the 10 s speech workload, one codec
// state kept across frames, output buffer reused, SetBytes = 640 PCM bytes.

func BenchmarkG722Encode(b *testing.B) {
	pcm := readPCM(b, filepath.Join(workloads, "speech-16k-s16le.raw"))
	var frames [][]int16
	for i := 0; i+320 <= len(pcm); i += 320 {
		frames = append(frames, pcm[i:i+320])
	}
	b.Run("impl=ours", func(b *testing.B) {
		enc := NewEncoder()
		out := make([]byte, 0, 160)
		b.ReportAllocs()
		b.SetBytes(640)
		i := 0
		for b.Loop() {
			out = enc.Encode(out[:0], frames[i%len(frames)])
			if len(out) != 160 {
				b.Fatalf("encoded %d octets", len(out))
			}
			i++
		}
	})
}

func BenchmarkG722Decode(b *testing.B) {
	data := readFile(b, filepath.Join(workloads, "speech-16k.g722"))
	var frames [][]byte
	for i := 0; i+160 <= len(data); i += 160 {
		frames = append(frames, data[i:i+160])
	}
	b.Run("impl=ours", func(b *testing.B) {
		dec := NewDecoder()
		out := make([]int16, 0, 320)
		b.ReportAllocs()
		b.SetBytes(640)
		i := 0
		for b.Loop() {
			out = dec.Decode(out[:0], frames[i%len(frames)])
			if len(out) != 320 {
				b.Fatalf("decoded %d samples", len(out))
			}
			i++
		}
	})
}

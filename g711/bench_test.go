package g711

import (
	"path/filepath"
	"testing"
)

// Benchmarks named and shaped as in the peer harness (peerbench
// codec_test.go): one op is one 20 ms frame (160 samples at 8 kHz), frames
// taken cyclically from the 10 s speech workload, output buffer reused,
// SetBytes = 320 PCM bytes.

func pcmFrames(b *testing.B) [][]int16 {
	pcm := readPCM(b, filepath.Join(workloads, "speech-8k-s16le.raw"))
	var frames [][]int16
	for i := 0; i+160 <= len(pcm); i += 160 {
		frames = append(frames, pcm[i:i+160])
	}
	return frames
}

func codedFrames(b *testing.B, file string) [][]byte {
	data := readFile(b, filepath.Join(workloads, file))
	var frames [][]byte
	for i := 0; i+160 <= len(data); i += 160 {
		frames = append(frames, data[i:i+160])
	}
	return frames
}

func benchEncode(b *testing.B, encode func([]byte, []int16) []byte) {
	frames := pcmFrames(b)
	b.Run("impl=ours", func(b *testing.B) {
		out := make([]byte, 0, 160)
		b.ReportAllocs()
		b.SetBytes(320)
		i := 0
		for b.Loop() {
			out = encode(out[:0], frames[i%len(frames)])
			i++
		}
	})
}

func benchDecode(b *testing.B, file string, decode func([]int16, []byte) []int16) {
	frames := codedFrames(b, file)
	b.Run("impl=ours", func(b *testing.B) {
		out := make([]int16, 0, 160)
		b.ReportAllocs()
		b.SetBytes(320)
		i := 0
		for b.Loop() {
			out = decode(out[:0], frames[i%len(frames)])
			i++
		}
	})
}

func BenchmarkG711EncodePCMU(b *testing.B) { benchEncode(b, EncodeUlaw) }
func BenchmarkG711EncodePCMA(b *testing.B) { benchEncode(b, EncodeAlaw) }
func BenchmarkG711DecodePCMU(b *testing.B) { benchDecode(b, "speech-8k.pcmu", DecodeUlaw) }
func BenchmarkG711DecodePCMA(b *testing.B) { benchDecode(b, "speech-8k.pcma", DecodeAlaw) }

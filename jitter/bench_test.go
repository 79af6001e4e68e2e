package jitter

import (
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"
)

// readHex reads a workload .hex file, ignoring whitespace.
func readHex(tb testing.TB, name string) []byte {
	tb.Helper()
	raw, err := os.ReadFile("../testdata/workloads/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkJitterPushPop measures one 20 ms PCMU frame through the buffer:
// a Push of the 160-byte workload payload, with every fourth pair of
// packets swapped, and the Pop of the tick. No peer has a comparable unit
// of work (the peer harness README says so).
func BenchmarkJitterPushPop(b *testing.B) {
	payload := readHex(b, "rtp/pcmu-payload.hex")
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		buf := New(Config{})
		epoch := time.Unix(1000, 0)
		k := 0
		for b.Loop() {
			seq := k
			switch k % 4 {
			case 1:
				seq = k + 1
			case 2:
				seq = k - 1
			}
			buf.Push(Packet{SSRC: 7, Seq: uint16(seq), Timestamp: uint32(seq * 160), Payload: payload},
				epoch.Add(time.Duration(k)*20*time.Millisecond+35*time.Millisecond))
			if _, st := buf.Pop(epoch.Add(time.Duration(k) * 20 * time.Millisecond)); st == Silence && k > 10 {
				b.Fatalf("tick %d: silence in a steady stream", k)
			}
			k++
		}
	})
}

// BenchmarkPCMConceal measures concealing one 20 ms frame at 8 kHz,
// alternating first and second lost frames.
func BenchmarkPCMConceal(b *testing.B) {
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		c := primed(150)
		frame := tone(150, 0, 160)
		dst := make([]int16, 0, 160)
		for b.Loop() {
			dst = c.Conceal(dst[:0], 160)
			dst = c.Conceal(dst[:0], 160)
			c.Decoded(frame)
		}
	})
}

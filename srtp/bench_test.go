package srtp

import (
	"encoding/binary"
	"os"
	"testing"
)

const workloadDir = "../testdata/workloads/rtp/"

func readHex(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(workloadDir + name)
	if err != nil {
		tb.Fatal(err)
	}
	return unhex(tb, string(data))
}

func workloadContext(tb testing.TB, opts ...Option) *Context {
	tb.Helper()
	return mustContext(tb, ProfileAES128CMSHA1_80, readHex(tb, "srtp-master-key.hex"), readHex(tb, "srtp-master-salt.hex"), opts...)
}

// protectedRun returns n SRTP packets protecting the 172-byte workload packet
// with consecutive sequence numbers from its own (so the first one is
// srtp-pcmu-packet.hex), as a receiver would see them.
func protectedRun(tb testing.TB, p Profile, n int) [][]byte {
	tb.Helper()
	var enc *Context
	if p == ProfileAES128CMSHA1_80 {
		enc = workloadContext(tb)
	} else {
		enc = mustContext(tb, p, make([]byte, p.KeyLen()), make([]byte, p.SaltLen()))
	}
	pkt := readHex(tb, "pcmu-packet.hex")
	seq := binary.BigEndian.Uint16(pkt[2:])
	out := make([][]byte, n)
	for i := range out {
		binary.BigEndian.PutUint16(pkt[2:], seq+uint16(i))
		var err error
		if out[i], err = enc.EncryptRTP(nil, pkt); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func protectedRTCPRun(tb testing.TB, p Profile, n int) [][]byte {
	tb.Helper()
	enc := workloadContext(tb)
	if p != ProfileAES128CMSHA1_80 {
		enc = mustContext(tb, p, make([]byte, p.KeyLen()), make([]byte, p.SaltLen()))
	}
	pkt := readHex(tb, "rtcp-sr-sdes.hex")
	out := make([][]byte, n)
	for i := range out {
		var err error
		if out[i], err = enc.EncryptRTCP(nil, pkt); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// resetReplay forgets every index the Context has received, so a benchmark
// can feed the same packets again with the replay check still running.
func (c *Context) resetReplay() {
	for _, s := range c.rtpStreams {
		s.started, s.roc = false, uint32(s.index>>16)
		s.replay.valid = false
	}
	for _, s := range c.rtcpStreams {
		s.replay.valid = false
	}
}

func benchProtect(b *testing.B, p Profile) {
	c := workloadContext(b)
	if p != ProfileAES128CMSHA1_80 {
		c = mustContext(b, p, make([]byte, p.KeyLen()), make([]byte, p.SaltLen()))
	}
	pkt := readHex(b, "pcmu-packet.hex")
	dst := make([]byte, 0, 1500)
	seq := binary.BigEndian.Uint16(pkt[2:])
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		seq++
		binary.BigEndian.PutUint16(pkt[2:], seq)
		var err error
		if dst, err = c.EncryptRTP(dst[:0], pkt); err != nil {
			b.Fatal(err)
		}
	}
}

// benchUnprotect decrypts a run of 64 packets with consecutive sequence
// numbers, replay check on; after each run the replay state is reset
// (cheap, once per 64 ops) so the same packets are fresh again.
func benchUnprotect(b *testing.B, p Profile) {
	pkts := protectedRun(b, p, 64)
	c := workloadContext(b)
	if p != ProfileAES128CMSHA1_80 {
		c = mustContext(b, p, make([]byte, p.KeyLen()), make([]byte, p.SaltLen()))
	}
	dst := make([]byte, 0, 1500)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkts[0])))
	i := 0
	for b.Loop() {
		if i == len(pkts) {
			i = 0
			c.resetReplay()
		}
		var err error
		if dst, err = c.DecryptRTP(dst[:0], pkts[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkSRTPProtect(b *testing.B) {
	b.Run("impl=ours", func(b *testing.B) { benchProtect(b, ProfileAES128CMSHA1_80) })
}

func BenchmarkSRTPUnprotect(b *testing.B) {
	b.Run("impl=ours", func(b *testing.B) { benchUnprotect(b, ProfileAES128CMSHA1_80) })
	// The peers' exact unit of work: the same packet every op, no replay check.
	b.Run("impl=ours-noreplay", func(b *testing.B) {
		c := workloadContext(b, WithReplayWindow(0))
		in := readHex(b, "srtp-pcmu-packet.hex")
		dst := make([]byte, 0, 1500)
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			var err error
			if dst, err = c.DecryptRTP(dst[:0], in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSRTPProtectGCM(b *testing.B) {
	b.Run("impl=ours", func(b *testing.B) { benchProtect(b, ProfileAEADAES128GCM) })
}

func BenchmarkSRTPUnprotectGCM(b *testing.B) {
	b.Run("impl=ours", func(b *testing.B) { benchUnprotect(b, ProfileAEADAES128GCM) })
}

func BenchmarkSRTCPProtect(b *testing.B) {
	b.Run("impl=ours", func(b *testing.B) {
		c := workloadContext(b)
		pkt := readHex(b, "rtcp-sr-sdes.hex")
		dst := make([]byte, 0, 1500)
		b.ReportAllocs()
		b.SetBytes(int64(len(pkt)))
		for b.Loop() {
			var err error
			if dst, err = c.EncryptRTCP(dst[:0], pkt); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSRTCPUnprotect(b *testing.B) {
	// Replay check on: a run of 64 packets with indices 1..64 (the first is
	// srtcp-sr-sdes.hex), the window reset after each run.
	b.Run("impl=ours", func(b *testing.B) {
		pkts := protectedRTCPRun(b, ProfileAES128CMSHA1_80, 64)
		c := workloadContext(b)
		dst := make([]byte, 0, 1500)
		b.ReportAllocs()
		b.SetBytes(int64(len(pkts[0])))
		i := 0
		for b.Loop() {
			if i == len(pkts) {
				i = 0
				c.resetReplay()
			}
			var err error
			if dst, err = c.DecryptRTCP(dst[:0], pkts[i]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("impl=ours-noreplay", func(b *testing.B) {
		c := workloadContext(b, WithReplayWindow(0))
		in := readHex(b, "srtcp-sr-sdes.hex")
		dst := make([]byte, 0, 1500)
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			var err error
			if dst, err = c.DecryptRTCP(dst[:0], in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

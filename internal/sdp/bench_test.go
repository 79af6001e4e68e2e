package sdp

import (
	"net/netip"
	"testing"
)

// BenchmarkSDPParse parses a typical trunk offer (Telnyx) into a new
// Description: one op is one body.
func BenchmarkSDPParse(b *testing.B) {
	raw := readVector(b, "telnyx-offer.sdp")
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := Parse(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSDPAnswer answers the same offer and formats the answer: the
// SDP work of an incoming call.
func BenchmarkSDPAnswer(b *testing.B) {
	raw := readVector(b, "telnyx-offer.sdp")
	s, err := NewSession(Config{Address: netip.MustParseAddr("192.0.2.10"), Port: 40000, Rand: &countReader{}})
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1024)
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			offer, err := Parse(raw)
			if err != nil {
				b.Fatal(err)
			}
			ans, _, err := s.Answer(offer)
			if err != nil {
				b.Fatal(err)
			}
			buf = ans.AppendTo(buf[:0])
		}
	})
}

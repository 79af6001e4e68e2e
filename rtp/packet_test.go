package rtp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
)

// readHex reads a workload or vector .hex file, ignoring whitespace.
func readHex(tb testing.TB, name string) []byte {
	tb.Helper()
	raw, err := os.ReadFile("../testdata/workloads/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return mustHex(tb, string(raw))
}

// mustHex decodes hex, ignoring whitespace; tb may be nil in package
// level tables, where a bad literal panics.
func mustHex(tb testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		if tb == nil {
			panic(err)
		}
		tb.Helper()
		tb.Fatal(err)
	}
	return b
}

func TestUnmarshalWorkload(t *testing.T) {
	raw := readHex(t, "rtp/pcmu-packet.hex")
	var p Packet
	if err := p.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	want := Packet{
		Header:  Header{PayloadType: 0, SequenceNumber: 0x1234, Timestamp: 123456, SSRC: 0xDECAFBAD},
		Payload: readHex(t, "rtp/pcmu-payload.hex"),
	}
	if !packetsEqual(&p, &want) {
		t.Errorf("got %+v, want %+v", p, want)
	}
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, raw) {
		t.Errorf("got %x, want %x", out, raw)
	}
}

func TestPacketRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want Packet
	}{
		{
			name: "marker csrc padding",
			hex:  "a2 88 0001 00000002 00000003  00000011 00000022  aabb 000003",
			want: Packet{
				Header:      Header{Marker: true, PayloadType: 8, SequenceNumber: 1, Timestamp: 2, SSRC: 3, CSRC: []uint32{0x11, 0x22}},
				Payload:     []byte{0xaa, 0xbb},
				PaddingSize: 3,
			},
		},
		{
			// RFC 8285 §4.2 one-byte form: ID 1 len 1, ID 2 len 3, then padding.
			name: "one-byte extension",
			hex:  "90 60 0001 00000002 00000003 bede 0002 10aa 22bbccdd 0000 ff",
			want: Packet{
				Header: Header{PayloadType: 96, SequenceNumber: 1, Timestamp: 2, SSRC: 3, Extension: true,
					ExtensionProfile: ExtensionProfileOneByte,
					Extensions:       []Extension{{1, []byte{0xaa}}, {2, []byte{0xbb, 0xcc, 0xdd}}}},
				Payload: []byte{0xff},
			},
		},
		{
			// RFC 8285 §4.3 two-byte form with appbits 5, an empty element.
			name: "two-byte extension",
			hex:  "90 60 0001 00000002 00000003 1005 0002 1000 2003aabbcc 00 ff",
			want: Packet{
				Header: Header{PayloadType: 96, SequenceNumber: 1, Timestamp: 2, SSRC: 3, Extension: true,
					ExtensionProfile: 0x1005,
					Extensions:       []Extension{{0x10, []byte{}}, {0x20, []byte{0xaa, 0xbb, 0xcc}}}},
				Payload: []byte{0xff},
			},
		},
		{
			name: "profile-specific extension",
			hex:  "90 60 0001 00000002 00000003 abcd 0001 01020304",
			want: Packet{
				Header: Header{PayloadType: 96, SequenceNumber: 1, Timestamp: 2, SSRC: 3, Extension: true,
					ExtensionProfile: 0xabcd, ExtensionData: []byte{1, 2, 3, 4}},
				Payload: []byte{},
			},
		},
		{
			name: "plain, after packets with extensions",
			hex:  "80 00 0001 00000002 00000003 ff",
			want: Packet{Header: Header{SequenceNumber: 1, Timestamp: 2, SSRC: 3}, Payload: []byte{0xff}},
		},
	}
	var p Packet // reused on purpose: no state may leak between packets
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := mustHex(t, tt.hex)
			if err := p.Unmarshal(raw); err != nil {
				t.Fatal(err)
			}
			if !packetsEqual(&p, &tt.want) {
				t.Errorf("got %+v, want %+v", p, tt.want)
			}
			if got, want := p.MarshalSize(), len(raw); got != want {
				t.Errorf("MarshalSize: got %v, want %v", got, want)
			}
			out, err := p.AppendTo(make([]byte, 0, 4))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, raw) {
				t.Errorf("got %x, want %x", out, raw)
			}
			c := p.Clone()
			clear(raw)
			if !packetsEqual(c, &tt.want) {
				t.Errorf("clone: got %+v, want %+v", c, tt.want)
			}
		})
	}
}

// packetsEqual compares packets treating nil and empty slices alike.
func packetsEqual(a, b *Packet) bool {
	if a.Marker != b.Marker || a.PayloadType != b.PayloadType || a.SequenceNumber != b.SequenceNumber ||
		a.Timestamp != b.Timestamp || a.SSRC != b.SSRC || a.Extension != b.Extension ||
		a.PaddingSize != b.PaddingSize || !bytes.Equal(a.Payload, b.Payload) ||
		len(a.CSRC) != len(b.CSRC) || len(a.Extensions) != len(b.Extensions) ||
		!bytes.Equal(a.ExtensionData, b.ExtensionData) || (a.ExtensionData == nil) != (b.ExtensionData == nil) {
		return false
	}
	if a.Extension && a.ExtensionProfile != b.ExtensionProfile {
		return false
	}
	for i := range a.CSRC {
		if a.CSRC[i] != b.CSRC[i] {
			return false
		}
	}
	for i := range a.Extensions {
		if a.Extensions[i].ID != b.Extensions[i].ID || !bytes.Equal(a.Extensions[i].Payload, b.Extensions[i].Payload) {
			return false
		}
	}
	return true
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want error
	}{
		{"short", "8000000100000002000000", ErrShortPacket},
		{"version 1", "400000010000000200000003", ErrVersion},
		{"csrc missing", "810000010000000200000003", ErrShortPacket},
		{"extension header missing", "90000001000000020000000300", ErrShortPacket},
		{"extension body missing", "900000010000000200000003bede0001", ErrShortPacket},
		{"one-byte element overruns", "900000010000000200000003bede000130aabbcc", ErrShortPacket},
		{"two-byte element overruns", "90000001000000020000000310000001 0105aabb", ErrShortPacket},
		{"padding zero", "a0000001000000020000000300", errPadding},
		{"padding too long", "a000000100000002000000030005", errPadding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			err := p.Unmarshal(mustHex(t, tt.hex))
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSetExtension(t *testing.T) {
	var p Packet
	p.SSRC = 1
	if err := p.SetExtension(3, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if got, want := p.ExtensionProfile, uint16(ExtensionProfileOneByte); got != want {
		t.Errorf("profile: got %#x, want %#x", got, want)
	}
	if err := p.SetExtension(3, []byte{9}); err != nil {
		t.Fatal(err)
	}
	if err := p.SetExtension(20, []byte{7, 7}); err != nil {
		t.Fatal(err)
	}
	if got, want := p.ExtensionProfile, uint16(ExtensionProfileTwoByte); got != want {
		t.Errorf("profile: got %#x, want %#x", got, want)
	}
	raw, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var q Packet
	if err := q.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id   uint8
		want []byte
	}{{3, []byte{9}}, {20, []byte{7, 7}}} {
		got, ok := q.FindExtension(tt.id)
		if !ok || !bytes.Equal(got, tt.want) {
			t.Errorf("extension %d: got %x %v, want %x", tt.id, got, ok, tt.want)
		}
	}
	if _, ok := q.FindExtension(4); ok {
		t.Errorf("extension 4: got present, want absent")
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
		buf  int
		want error
	}{
		{"short buffer", Packet{Payload: make([]byte, 10)}, 20, ErrBufferTooSmall},
		{"short buffer for header", Packet{}, 11, ErrBufferTooSmall},
		{"one-byte id 15", Packet{Header: Header{Extension: true, ExtensionProfile: ExtensionProfileOneByte,
			Extensions: []Extension{{15, []byte{1}}}}}, 100, errExtensionID},
		{"one-byte empty", Packet{Header: Header{Extension: true, ExtensionProfile: ExtensionProfileOneByte,
			Extensions: []Extension{{1, nil}}}}, 100, errExtensionLen},
		{"raw not aligned", Packet{Header: Header{Extension: true, ExtensionProfile: 1,
			ExtensionData: []byte{1}}}, 100, errExtensionSize},
		{"16 csrc", Packet{Header: Header{CSRC: make([]uint32, 16)}}, 100, errTooManyCSRC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.MarshalTo(make([]byte, tt.buf))
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPacketAllocs(t *testing.T) {
	raw := mustHex(t, "92 60 0001 00000002 00000003 00000011 00000022 bede 0002 10aa 22bbccdd 0000 ff")
	var p Packet
	buf := make([]byte, 1500)
	if err := p.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := p.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		if _, err := p.MarshalTo(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := p.AppendTo(buf[:0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocs, want 0", allocs)
	}
}

func FuzzUnmarshalRTP(f *testing.F) {
	f.Add(readHex(f, "rtp/pcmu-packet.hex"))
	f.Add(mustHex(f, "a2 88 0001 00000002 00000003  00000011 00000022  aabb 000003"))
	f.Add(mustHex(f, "90 60 0001 00000002 00000003 bede 0002 10aa 22bbccdd 0000 ff"))
	f.Add(mustHex(f, "90 60 0001 00000002 00000003 1005 0002 1000 2003aabbcc 00 ff"))
	f.Add(mustHex(f, "90 60 0001 00000002 00000003 abcd 0001 01020304"))
	rtpPkts, _ := libsrtpPlain(f)
	for _, raw := range rtpPkts {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var p Packet
		if err := p.Unmarshal(raw); err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("marshal of parsed packet: %v", err)
		}
		if len(out) != p.MarshalSize() {
			t.Fatalf("got %v bytes, want MarshalSize %v", len(out), p.MarshalSize())
		}
		var q Packet
		if err := q.Unmarshal(out); err != nil {
			t.Fatalf("reparse: %v", err)
		}
		if !packetsEqual(&p, &q) {
			t.Fatalf("round trip: got %+v, want %+v", q, p)
		}
		// Canonical input (no padding between extension elements, zero
		// padding bytes) must come back byte for byte.
		if isCanonical(raw, &p) && !bytes.Equal(out, raw) {
			t.Fatalf("canonical input not reproduced: got %x, want %x", out, raw)
		}
		out2, err := q.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("second marshal: got %x %v, want %x", out2, err, out)
		}
	})
}

// isCanonical reports whether raw is the form Marshal produces for p:
// same length and all-zero padding.
func isCanonical(raw []byte, p *Packet) bool {
	if len(raw) != p.MarshalSize() {
		return false
	}
	if p.PaddingSize > 1 {
		for _, b := range raw[len(raw)-int(p.PaddingSize) : len(raw)-1] {
			if b != 0 {
				return false
			}
		}
	}
	if p.Extension && p.ExtensionData == nil {
		// Elements must be contiguous; the trailing padding must be zero.
		n := 16 + 4*len(p.CSRC)
		for _, e := range p.Extensions {
			if p.ExtensionProfile == ExtensionProfileOneByte {
				if raw[n] != e.ID<<4|byte(len(e.Payload)-1) {
					return false
				}
				n++
			} else {
				if raw[n] != e.ID || raw[n+1] != byte(len(e.Payload)) {
					return false
				}
				n += 2
			}
			n += len(e.Payload)
		}
		for ; n < p.Header.MarshalSize(); n++ {
			if raw[n] != 0 {
				return false
			}
		}
	}
	return true
}

func BenchmarkRTPUnmarshal(b *testing.B) {
	raw := readHex(b, "rtp/pcmu-packet.hex")
	b.Run("impl=ours", func(b *testing.B) {
		var p Packet
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if err := p.Unmarshal(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRTPMarshal(b *testing.B) {
	raw := readHex(b, "rtp/pcmu-packet.hex")
	var p Packet
	if err := p.Unmarshal(raw); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1500)
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := p.MarshalTo(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package rtp

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// sameValue is reflect.DeepEqual except that nil and empty slices are
// equal, as they are on the wire.
func sameValue(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	}
	return a.Interface() == b.Interface()
}

func same[T any](a, b T) bool { return sameValue(reflect.ValueOf(a), reflect.ValueOf(b)) }

func TestCompoundWorkload(t *testing.T) {
	raw := readHex(t, "rtp/rtcp-sr-sdes.hex")
	var c Compound
	if err := c.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	want := Compound{
		SenderReports: []SenderReport{{
			SSRC: 0xDECAFBAD, NTPTime: 0xE8B5A1C240000000, RTPTime: 123456, PacketCount: 500, OctetCount: 80000,
			Reports: []ReceptionReport{{SSRC: 0x0BADCAFE, FractionLost: 3, PacketsLost: 12, HighestSequence: 0x00011234,
				Jitter: 37, LastSR: 0xA1C24000, DelaySinceLastSR: 0x00010000}},
		}},
		SourceDescriptions: []SourceDescription{{Chunks: []SDESChunk{{Source: 0xDECAFBAD,
			Items: []SDESItem{{SDESCNAME, []byte("alice@192.0.2.101")}}}}}},
	}
	if !same(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if cname, ok := c.CNAME(0xDECAFBAD); !ok || string(cname) != "alice@192.0.2.101" {
		t.Errorf("CNAME: got %q %v, want alice@192.0.2.101", cname, ok)
	}
	// Build the same compound from the struct literal.
	out, err := want.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, raw) {
		t.Errorf("got %x, want %x", out, raw)
	}
	if got := want.MarshalSize(); got != len(raw) {
		t.Errorf("MarshalSize: got %v, want %v", got, len(raw))
	}
}

// rtcpCases are compounds built by hand from the RFC 3550 §6 and RFC 3611
// §4.7 layouts; each is canonical, so marshal reproduces it.
var rtcpCases = []struct {
	name string
	hex  string
	want Compound
}{
	{
		name: "rr two reports with negative loss",
		hex: "82c9000d 00000001" +
			"00000002 05fffffe 00010010 00000020 00000030 00000040" +
			"00000003 00000001 00000011 00000021 00000031 00000041",
		want: Compound{ReceiverReports: []ReceiverReport{{SSRC: 1, Reports: []ReceptionReport{
			{2, 5, -2, 0x10010, 0x20, 0x30, 0x40},
			{3, 0, 1, 0x11, 0x21, 0x31, 0x41},
		}}}},
	},
	{
		name: "rr empty then sdes two chunks and bye with reason",
		hex: "80c90001 00000001" +
			"82ca0006 00000001 0103616263 02026e6e 000000 00000002 0000 0000" +
			"81cb0003 00000001 04627965 21000000",
		want: Compound{
			ReceiverReports: []ReceiverReport{{SSRC: 1}},
			SourceDescriptions: []SourceDescription{{Chunks: []SDESChunk{
				{Source: 1, Items: []SDESItem{{SDESCNAME, []byte("abc")}, {SDESName, []byte("nn")}}},
				{Source: 2},
			}}},
			Goodbyes: []Goodbye{{Sources: []uint32{1}, Reason: []byte("bye!")}},
		},
	},
	{
		name: "app",
		hex:  "85cc0003 00000009 74657374 01020304",
		want: Compound{Apps: []App{{Subtype: 5, SSRC: 9, Name: [4]byte{'t', 'e', 's', 't'}, Data: []byte{1, 2, 3, 4}}}},
	},
	{
		name: "xr voip metrics and an unknown block",
		hex: "80cf000c 11223344" +
			"07000008 55667788 0a141e28 006400c8 00320028 ecc47f10 5d7f292a 80000028 00500078" +
			"04000001 0000abcd",
		want: Compound{ExtendedReports: []ExtendedReport{{SSRC: 0x11223344,
			VoIPMetrics: []VoIPMetrics{{
				SSRC: 0x55667788, LossRate: 10, DiscardRate: 20, BurstDensity: 30, GapDensity: 40,
				BurstDuration: 100, GapDuration: 200, RoundTripDelay: 50, EndSystemDelay: 40,
				SignalLevel: -20, NoiseLevel: -60, RERL: 127, Gmin: 16, RFactor: 93, ExtRFactor: 127,
				MOSLQ: 41, MOSCQ: 42, RXConfig: 0x80, JBNominal: 40, JBMaximum: 80, JBAbsoluteMaximum: 120,
			}},
			Blocks: []XRBlock{{Type: 4, Body: []byte{0, 0, 0xab, 0xcd}}},
		}}},
	},
	{
		name: "unknown type kept (RTPFB generic NACK)",
		hex:  "80c90001 00000001 81cd0003 00000001 00000002 00100000",
		want: Compound{
			ReceiverReports: []ReceiverReport{{SSRC: 1}},
			Unknown:         []RawPacket{{Type: 205, Count: 1, Body: mustHex(nil, "00000001 00000002 00100000")}},
		},
	},
}

func TestCompoundRoundTrip(t *testing.T) {
	var c Compound // reused across cases on purpose
	for _, tt := range rtcpCases {
		t.Run(tt.name, func(t *testing.T) {
			raw := mustHex(t, tt.hex)
			if err := c.Unmarshal(raw); err != nil {
				t.Fatal(err)
			}
			if !same(c, tt.want) {
				t.Errorf("got %+v, want %+v", c, tt.want)
			}
			out, err := tt.want.AppendTo(nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, raw) {
				t.Errorf("got %x, want %x", out, raw)
			}
		})
	}
}

func TestCompoundPadding(t *testing.T) {
	// An RR with 4 bytes of padding (P bit) as an SRTCP sender may add.
	raw := mustHex(t, "a0c90002 00000001 00000004")
	var c Compound
	if err := c.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	want := Compound{ReceiverReports: []ReceiverReport{{SSRC: 1}}}
	if !same(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}
}

func TestCompoundErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want error
	}{
		{"empty", "", ErrShortPacket},
		{"short header", "80c900", ErrShortPacket},
		{"version 0", "00c90001 00000001", ErrVersion},
		{"length beyond buffer", "80c90002 00000001", ErrShortPacket},
		{"second packet truncated", "80c90001 00000001 80c9", ErrShortPacket},
		{"report count too large", "81c90001 00000001", errRTCPCount},
		{"padding zero", "a0c90002 00000001 00000000", errRTCPPadding},
		{"padding not multiple of 4", "a0c90002 00000001 00000003", errRTCPPadding},
		{"padding too long", "a0c90001 00000010", errRTCPPadding},
		{"sdes item overruns", "81ca0002 00000001 01090000", errRTCPSDES},
		{"sdes no terminator", "81ca0002 00000001 01026162", errRTCPSDES},
		{"sr too short", "80c80001 00000001", ErrShortPacket},
		{"xr block overruns", "80cf0002 00000001 07000008", errRTCPXR},
		{"bye reason overruns", "81cb0002 00000001 09616263", ErrShortPacket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Compound
			if err := c.Unmarshal(mustHex(t, tt.hex)); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCompoundMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		c    Compound
		want error
	}{
		{"32 reports", Compound{ReceiverReports: []ReceiverReport{{Reports: make([]ReceptionReport, 32)}}}, errRTCPTooMany},
		{"long sdes text", Compound{SourceDescriptions: []SourceDescription{{Chunks: []SDESChunk{{Items: []SDESItem{{SDESNote, make([]byte, 256)}}}}}}}, errRTCPTextLen},
		{"app data unaligned", Compound{Apps: []App{{Data: []byte{1}}}}, errRTCPAlign},
		{"app subtype", Compound{Apps: []App{{Subtype: 32}}}, errRTCPSubtype},
		{"long bye reason", Compound{Goodbyes: []Goodbye{{Reason: make([]byte, 256)}}}, errRTCPTextLen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.c.AppendTo(nil); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCompoundAllocs(t *testing.T) {
	raws := [][]byte{readHex(t, "rtp/rtcp-sr-sdes.hex")}
	for _, tt := range rtcpCases {
		raws = append(raws, mustHex(t, tt.hex))
	}
	var c Compound
	buf := make([]byte, 0, 1500)
	run := func() {
		for _, raw := range raws {
			if err := c.Unmarshal(raw); err != nil {
				t.Fatal(err)
			}
			if _, err := c.AppendTo(buf[:0]); err != nil {
				t.Fatal(err)
			}
		}
	}
	run() // grow the reused slices
	if allocs := testing.AllocsPerRun(100, run); allocs != 0 {
		t.Errorf("got %v allocs, want 0", allocs)
	}
}

func FuzzUnmarshalRTCP(f *testing.F) {
	f.Add(readHex(f, "rtp/rtcp-sr-sdes.hex"))
	for _, tt := range rtcpCases {
		f.Add(mustHex(f, tt.hex))
	}
	f.Add(mustHex(f, "a0c90002 00000001 00000004"))
	_, rtcpPkts := libsrtpPlain(f)
	for _, raw := range rtcpPkts {
		f.Add(raw)
	}
	var c, d Compound
	f.Fuzz(func(t *testing.T, raw []byte) {
		if err := c.Unmarshal(raw); err != nil {
			return
		}
		out, err := c.AppendTo(nil)
		if err != nil {
			t.Fatalf("marshal of parsed compound: %v", err)
		}
		if len(out) != c.MarshalSize() {
			t.Fatalf("got %v bytes, want MarshalSize %v", len(out), c.MarshalSize())
		}
		if err := d.Unmarshal(out); err != nil {
			t.Fatalf("reparse of %x: %v", out, err)
		}
		if !same(c, d) {
			t.Fatalf("round trip: got %+v, want %+v", d, c)
		}
		out2, err := d.AppendTo(nil)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("second marshal: got %x %v, want %x", out2, err, out)
		}
	})
}

func BenchmarkRTCPUnmarshal(b *testing.B) {
	raw := readHex(b, "rtp/rtcp-sr-sdes.hex")
	b.Run("impl=ours", func(b *testing.B) {
		var c Compound
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if err := c.Unmarshal(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRTCPMarshal(b *testing.B) {
	raw := readHex(b, "rtp/rtcp-sr-sdes.hex")
	var c Compound
	if err := c.Unmarshal(raw); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1500)
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := c.AppendTo(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestIsRTCP(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want bool
	}{
		{"sr", "80c8", true},
		{"rr", "81c9000700000001", true},
		{"xr", "80cf", true},
		{"fir 192", "80c0", true},
		{"rtp pcmu", "8000", false},
		{"rtp pt 96 with marker", "80e0", false},
		{"rtp pt 127 with marker", "80ff", false},
		{"version 0", "00c8", false},
		{"one byte", "80", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsRTCP(mustHex(t, tt.hex)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

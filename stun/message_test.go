package stun

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

var (
	testAddr4 = netip.MustParseAddrPort("192.0.2.1:32853")
	testAddr6 = netip.MustParseAddrPort("[2001:db8:1234:5678:11:2233:4455:6677]:32853")
	testID    = TransactionID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
)

func TestType(t *testing.T) {
	tests := []struct {
		m    Method
		c    Class
		want Type
		str  string
	}{
		{MethodBinding, ClassRequest, 0x0001, "Binding request"},
		{MethodBinding, ClassIndication, 0x0011, "Binding indication"},
		{MethodBinding, ClassSuccess, 0x0101, "Binding success response"},
		{MethodBinding, ClassError, 0x0111, "Binding error response"},
		{MethodAllocate, ClassRequest, 0x0003, "Allocate request"},
		{MethodAllocate, ClassError, 0x0113, "Allocate error response"},
		{MethodData, ClassIndication, 0x0017, "Data indication"},
		{MethodChannelBind, ClassSuccess, 0x0109, "ChannelBind success response"},
		// RFC 8489 §5 Figure 3: every method bit lands where the figure says.
		{0xFFF, ClassRequest, 0x3EEF, "method(0xfff) request"},
		{0xFFF, ClassError, 0x3FFF, "method(0xfff) error response"},
		{0x080, ClassRequest, 0x0200, "method(0x080) request"},
		{0x010, ClassRequest, 0x0020, "method(0x010) request"},
	}
	for _, tt := range tests {
		got := NewType(tt.m, tt.c)
		if got != tt.want {
			t.Errorf("NewType(%v, %v): got %#04x, want %#04x", tt.m, tt.c, uint16(got), uint16(tt.want))
		}
		if got.Method() != tt.m || got.Class() != tt.c {
			t.Errorf("%#04x: got %v %v, want %v %v", uint16(got), got.Method(), got.Class(), tt.m, tt.c)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("String: got %q, want %q", s, tt.str)
		}
	}
	// Every type round-trips through Method and Class.
	for v := range Type(0x4000) {
		if got := NewType(v.Method(), v.Class()); got != v {
			t.Fatalf("round trip of %#04x: got %#04x", uint16(v), uint16(got))
		}
	}
}

func hdr(typ, length uint16) []byte {
	b := []byte{byte(typ >> 8), byte(typ), byte(length >> 8), byte(length), 0x21, 0x12, 0xa4, 0x42}
	return append(b, testID[:]...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		wantErr error  // sentinel, if any
		errText string // substring otherwise
	}{
		{"empty", nil, ErrNotSTUN, ""},
		{"short header", hdr(1, 0)[:19], ErrNotSTUN, ""},
		{"top bits set", cat([]byte{0x80}, hdr(1, 0)[1:]), ErrNotSTUN, ""},
		{"bad cookie", cat(hdr(1, 0)[:4], []byte{0x21, 0x12, 0xa4, 0x43}, testID[:]), ErrNotSTUN, ""},
		{"length not multiple of 4", cat(hdr(1, 2), []byte{0, 0}), nil, "multiple of 4"},
		{"length beyond buffer", hdr(1, 8), nil, "exceeds"},
		{"attribute longer than the message", cat(hdr(1, 4), []byte{0, 6, 0, 8}), nil, "overruns"},
		{"value overruns", cat(hdr(1, 8), []byte{0, 6, 0, 5, 'a', 'b', 'c', 'd'}), nil, "overruns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Message
			err := m.Decode(tt.in)
			if err == nil {
				t.Fatalf("got nil error, want one")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			if tt.errText != "" && !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("got %q, want it to contain %q", err, tt.errText)
			}
			if !strings.HasPrefix(err.Error(), "stun: ") {
				t.Errorf("got %q, want the stun: prefix", err)
			}
		})
	}
}

func TestDecodeTrailingBytesAndIgnoredAttributes(t *testing.T) {
	i := NewShortTermIntegrity("pw")
	var b Builder
	b.Reset(nil, BindingRequest, testID)
	b.AddString(AttrUsername, "alice")
	b.AddIntegrity(i)
	msg, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	// An attacker appends a second USERNAME after MESSAGE-INTEGRITY
	// (fixing the length): it must be ignored (RFC 8489 §14.5). FINGERPRINT
	// still counts, and anything after it is ignored.
	tail := []byte{0, 6, 0, 3, 'e', 'v', 'e', 0}
	msg = append(msg, tail...)
	msg = append(msg, 0x80, 0x28, 0, 4, 0, 0, 0, 0)
	msg = append(msg, 0, 0x20, 0, 0) // after FINGERPRINT
	msg[3] = byte(len(msg) - HeaderSize)
	in := append(bytes.Clone(msg), 0xde, 0xad) // trailing garbage beyond the length
	var m Message
	if err := m.Decode(in); err != nil {
		t.Fatal(err)
	}
	if len(m.Raw) != len(msg) {
		t.Errorf("Raw: got %d bytes, want %d", len(m.Raw), len(msg))
	}
	var types []AttrType
	for _, a := range m.Attributes {
		types = append(types, a.Type)
	}
	want := []AttrType{AttrUsername, AttrMessageIntegrity, AttrFingerprint}
	if !slices.Equal(types, want) {
		t.Errorf("attributes: got %v, want %v", types, want)
	}
	if u, _ := m.Get(AttrUsername); string(u) != "alice" {
		t.Errorf("USERNAME: got %q, want %q", u, "alice")
	}
	// The integrity covers the message up to MESSAGE-INTEGRITY only.
	if err := m.CheckIntegrity(i); err != nil {
		t.Errorf("CheckIntegrity: got %v, want nil", err)
	}
}

func TestUnknownRequired(t *testing.T) {
	var b Builder
	b.Reset(nil, BindingRequest, testID)
	b.AddString(AttrSoftware, "x")
	b.Add(0x7FFE, []byte{1})      // unknown, required
	b.Add(0xC001, []byte{1, 2})   // unknown, optional
	b.Add(0x0031, nil)            // unknown, required, empty
	b.AddUint32(AttrPriority, 99) // known
	msg, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	var m Message
	if err := m.Decode(msg); err != nil {
		t.Fatal(err)
	}
	got := m.UnknownRequired(nil)
	if want := []AttrType{0x7FFE, 0x0031}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// A server answers with 420 and UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1.1).
	b.Reset(nil, BindingError, m.TransactionID)
	b.AddErrorCode(420, "Unknown Attribute")
	b.AddUnknownAttributes(got)
	resp, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Decode(resp); err != nil {
		t.Fatal(err)
	}
	code, reason, err := m.ErrorCode()
	if err != nil || code != 420 || string(reason) != "Unknown Attribute" {
		t.Errorf("ERROR-CODE: got %d %q %v, want 420 Unknown Attribute", code, reason, err)
	}
	list, err := m.UnknownAttributes(nil)
	if err != nil || !slices.Equal(list, got) {
		t.Errorf("UNKNOWN-ATTRIBUTES: got %v %v, want %v", list, err, got)
	}
}

// TestAttributes builds each attribute kind, decodes it back and compares.
func TestAttributes(t *testing.T) {
	var b Builder
	b.Reset(nil, BindingSuccess, testID)
	b.AddXORMappedAddress(testAddr6)
	b.AddMappedAddress(testAddr4)
	b.AddXORAddress(AttrXORPeerAddress, testAddr4)
	b.AddXORAddress(AttrXORRelayedAddress, netip.MustParseAddrPort("[::ffff:10.0.0.1]:9"))
	b.AddErrorCode(699, "")
	b.AddUint64(AttrICEControlling, 1<<63+5)
	b.AddPasswordAlgorithms([]PasswordAlgorithm{PasswordAlgorithmMD5, PasswordAlgorithmSHA256})
	b.AddPasswordAlgorithm(PasswordAlgorithmSHA256)
	b.AddString(AttrNonce, "n0nce")
	msg, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	var m Message
	if err := m.Decode(msg); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		get  func() (netip.AddrPort, error)
		want netip.AddrPort
	}{
		{"XOR-MAPPED-ADDRESS", m.XORMappedAddress, testAddr6},
		{"MAPPED-ADDRESS", m.MappedAddress, testAddr4},
		{"XOR-PEER-ADDRESS", func() (netip.AddrPort, error) { return m.XORAddress(AttrXORPeerAddress) }, testAddr4},
		{"XOR-RELAYED-ADDRESS (4in6 sent as IPv4)", func() (netip.AddrPort, error) { return m.XORAddress(AttrXORRelayedAddress) }, netip.MustParseAddrPort("10.0.0.1:9")},
	} {
		got, err := tc.get()
		if err != nil || got != tc.want {
			t.Errorf("%s: got %v, %v, want %v", tc.name, got, err, tc.want)
		}
	}
	if code, reason, err := m.ErrorCode(); code != 699 || len(reason) != 0 || err != nil {
		t.Errorf("ERROR-CODE: got %d %q %v, want 699", code, reason, err)
	}
	if v, err := m.Uint64(AttrICEControlling); v != 1<<63+5 || err != nil {
		t.Errorf("ICE-CONTROLLING: got %d %v", v, err)
	}
	algs, err := m.PasswordAlgorithms(nil)
	if want := []PasswordAlgorithm{PasswordAlgorithmMD5, PasswordAlgorithmSHA256}; err != nil || !slices.Equal(algs, want) {
		t.Errorf("PASSWORD-ALGORITHMS: got %v %v, want %v", algs, err, want)
	}
	if a, err := m.PasswordAlgorithm(); a != PasswordAlgorithmSHA256 || err != nil {
		t.Errorf("PASSWORD-ALGORITHM: got %v %v", a, err)
	}
	if v, ok := m.Get(AttrNonce); !ok || string(v) != "n0nce" {
		t.Errorf("NONCE: got %q %v", v, ok)
	}
	// Absent attributes report ErrNoAttribute.
	var empty Message
	b.Reset(nil, BindingRequest, testID)
	msg, _ = b.Build()
	if err := empty.Decode(msg); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"XORMappedAddress":  second(empty.XORMappedAddress()),
		"MappedAddress":     second(empty.MappedAddress()),
		"Uint32":            second(empty.Uint32(AttrPriority)),
		"UnknownAttributes": second(empty.UnknownAttributes(nil)),
		"CheckIntegrity":    empty.CheckIntegrity(NewShortTermIntegrity("x")),
		"CheckFingerprint":  empty.CheckFingerprint(),
	} {
		if !errors.Is(err, ErrNoAttribute) {
			t.Errorf("%s: got %v, want %v", name, err, ErrNoAttribute)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestBadAttributeValues(t *testing.T) {
	tests := []struct {
		name string
		t    AttrType
		v    []byte
		get  func(m *Message) error
	}{
		{"XOR-MAPPED-ADDRESS short", AttrXORMappedAddress, []byte{0, 1, 0}, func(m *Message) error { return second(m.XORMappedAddress()) }},
		{"XOR-MAPPED-ADDRESS v4 with 16 bytes", AttrXORMappedAddress, make([]byte, 4+16), func(m *Message) error { return second(m.XORMappedAddress()) }},
		{"MAPPED-ADDRESS family 3", AttrMappedAddress, []byte{0, 3, 0, 1, 1, 2, 3, 4}, func(m *Message) error { return second(m.MappedAddress()) }},
		{"ERROR-CODE class 2", AttrErrorCode, []byte{0, 0, 2, 0}, func(m *Message) error { _, _, err := m.ErrorCode(); return err }},
		{"ERROR-CODE number 100", AttrErrorCode, []byte{0, 0, 4, 100}, func(m *Message) error { _, _, err := m.ErrorCode(); return err }},
		{"ERROR-CODE short", AttrErrorCode, []byte{0, 0, 4}, func(m *Message) error { _, _, err := m.ErrorCode(); return err }},
		{"UNKNOWN-ATTRIBUTES odd", AttrUnknownAttributes, []byte{0, 1, 0}, func(m *Message) error { return second(m.UnknownAttributes(nil)) }},
		{"PASSWORD-ALGORITHMS params overrun", AttrPasswordAlgorithms, []byte{0, 1, 0, 8, 0, 0}, func(m *Message) error { return second(m.PasswordAlgorithms(nil)) }},
		{"PRIORITY 3 bytes", AttrPriority, []byte{1, 2, 3}, func(m *Message) error { return second(m.Uint32(AttrPriority)) }},
		{"MESSAGE-INTEGRITY 19 bytes", AttrMessageIntegrity, make([]byte, 19), func(m *Message) error { return m.CheckIntegrity(NewShortTermIntegrity("x")) }},
		{"MESSAGE-INTEGRITY-SHA256 12 bytes", AttrMessageIntegritySHA256, make([]byte, 12), func(m *Message) error { return m.CheckIntegritySHA256(NewShortTermIntegrity("x")) }},
		{"FINGERPRINT 8 bytes", AttrFingerprint, make([]byte, 8), func(m *Message) error { return m.CheckFingerprint() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Builder
			b.Reset(nil, BindingSuccess, testID)
			b.Add(tt.t, tt.v)
			msg, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			var m Message
			if err := m.Decode(msg); err != nil {
				t.Fatal(err)
			}
			err = tt.get(&m)
			if err == nil || errors.Is(err, ErrNoAttribute) || !strings.HasPrefix(err.Error(), "stun: ") {
				t.Errorf("got %v, want a stun: error about the value", err)
			}
		})
	}
}

func TestBuilderErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *Builder)
	}{
		{"value too long", func(b *Builder) { b.Add(AttrData, make([]byte, 0x10000)) }},
		{"message too long", func(b *Builder) {
			b.Add(AttrData, make([]byte, 0x8000))
			b.Add(AttrData, make([]byte, 0x8000))
		}},
		{"after FINGERPRINT", func(b *Builder) { b.AddFingerprint(); b.AddString(AttrSoftware, "x") }},
		{"invalid address", func(b *Builder) { b.AddXORMappedAddress(netip.AddrPort{}) }},
		{"error code 200", func(b *Builder) { b.AddErrorCode(200, "OK") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Builder
			b.Reset(nil, BindingRequest, testID)
			tt.build(&b)
			if _, err := b.Build(); err == nil {
				t.Errorf("got nil error, want one")
			}
		})
	}
	var b Builder
	if _, err := b.Build(); err == nil {
		t.Errorf("Build before Reset: got nil error, want one")
	}
}

// TestIntegritySHA256 checks MESSAGE-INTEGRITY-SHA256 and FINGERPRINT
// against values computed independently (Python hmac/hashlib/zlib) for a
// long-term SHA-256 credential user/interop.lab/pass.
func TestIntegritySHA256(t *testing.T) {
	const want = "0001004c2112a4420102030405060708090a0b0c00060004757365720014000b696e7465726f702e6c616200001d00040002" +
		"0000001c0020902e77699e83b20b36fc1a93a76edc29afbe42d88a7fff0785550785914e02cc8028000471e82b26"
	if got := hex.EncodeToString(LongTermKey(PasswordAlgorithmSHA256, "user", "interop.lab", "pass")); got != "6f59025de71ada8a8832bb4c0899f86e076164688ee9b5c124c38f118a462c78" {
		t.Errorf("SHA-256 long-term key: got %v", got)
	}
	if got := hex.EncodeToString(LongTermKey(PasswordAlgorithmMD5, "user", "interop.lab", "pass")); got != "e1d91ee33a6cd4b07006dd637a554d7b" {
		t.Errorf("MD5 long-term key: got %v", got)
	}
	if LongTermKey(7, "u", "r", "p") != nil {
		t.Errorf("unknown algorithm: got a key, want nil")
	}
	i := NewLongTermIntegrity(PasswordAlgorithmSHA256, "user", "interop.lab", "pass")
	var b Builder
	b.Reset(nil, BindingRequest, testID)
	b.AddString(AttrUsername, "user")
	b.AddString(AttrRealm, "interop.lab")
	b.AddPasswordAlgorithm(PasswordAlgorithmSHA256)
	b.AddIntegritySHA256(i)
	b.AddFingerprint()
	msg, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(msg); got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	var m Message
	if err := m.Decode(msg); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckIntegritySHA256(i.Clone()); err != nil {
		t.Errorf("CheckIntegritySHA256: got %v, want nil", err)
	}
	if err := m.CheckIntegritySHA256(NewShortTermIntegrity("pass")); !errors.Is(err, ErrIntegrity) {
		t.Errorf("wrong key: got %v, want %v", err, ErrIntegrity)
	}
	// A value truncated to 16 bytes is accepted (RFC 8489 §14.6).
	b.Reset(nil, BindingRequest, testID)
	b.AddString(AttrUsername, "user")
	end := b.Len()
	b.Add(AttrMessageIntegritySHA256, make([]byte, 16))
	short, _ := b.Build()
	sum := i.mac(short, end, len(short)-HeaderSize, true)
	copy(short[end+4:], sum[:16])
	if err := m.Decode(short); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckIntegritySHA256(i); err != nil {
		t.Errorf("truncated: got %v, want nil", err)
	}
}

func TestUnmarshalAndClone(t *testing.T) {
	var b Builder
	b.Reset(nil, BindingSuccess, testID)
	b.AddXORMappedAddress(testAddr4)
	b.AddFingerprint()
	msg, _ := b.Build()
	var m Message
	if err := m.Unmarshal(msg); err != nil {
		t.Fatal(err)
	}
	c := m.Clone()
	clear(msg) // the caller reuses its buffer
	for _, mm := range []*Message{&m, c} {
		if ap, err := mm.XORMappedAddress(); err != nil || ap != testAddr4 {
			t.Errorf("got %v %v, want %v", ap, err, testAddr4)
		}
		if err := mm.CheckFingerprint(); err != nil {
			t.Errorf("fingerprint: got %v, want nil", err)
		}
	}
	out, err := c.AppendTo([]byte("prefix"))
	if err != nil || !bytes.Equal(out[6:], c.Raw) || string(out[:6]) != "prefix" {
		t.Errorf("AppendTo: got %x %v, want prefix+%x", out, err, c.Raw)
	}
}

func TestIsMessage(t *testing.T) {
	raw := mustHex(t, loadVectors(t)[0].Hex)
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"RFC 5769 request", raw, true},
		{"truncated", raw[:len(raw)-1], false},
		{"RTP", []byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, false},
		{"header only", hdr(1, 0), true},
	}
	for _, tt := range tests {
		if got := IsMessage(tt.in); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{AttrXORMappedAddress.String(), "XOR-MAPPED-ADDRESS"},
		{AttrType(0xABCD).String(), "0xabcd"},
		{Class(7).String(), "class(7)"},
		{PasswordAlgorithmSHA256.String(), "SHA-256"},
		{PasswordAlgorithm(9).String(), "algorithm(9)"},
		{(&ResponseError{Code: 401, Reason: "Unauthorized"}).Error(), "stun: error response 401 Unauthorized"},
		{KindRTCP.String(), "RTCP"},
		{Kind(99).String(), "unknown"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

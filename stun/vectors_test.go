package stun

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const vectorDir = "../testdata/vectors/stun"

// vector is one entry of rfc5769.json.
type vector struct {
	Name             string `json:"name"`
	Section          string `json:"section"`
	Hex              string `json:"hex"`
	Length           int    `json:"length"`
	TransactionID    string `json:"transaction_id"`
	Software         string `json:"software"`
	Username         string `json:"username"`
	Password         string `json:"password"`
	Realm            string `json:"realm"`
	Nonce            string `json:"nonce"`
	Priority         uint32 `json:"priority"`
	Tiebreaker       string `json:"ice_controlled_tiebreaker"`
	XORMappedAddress string `json:"xor_mapped_address"`
	LongTermKey      string `json:"long_term_key"`
	IntegrityOK      bool   `json:"message_integrity_ok"`
	FingerprintOK    bool   `json:"fingerprint_ok"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorDir, "rfc5769.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) != 4 {
		t.Fatalf("got %d vectors, want 4", len(f.Vectors))
	}
	return f.Vectors
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vectorIntegrity returns the Integrity of v's credentials: short-term for
// RFC 5769 §2.1–2.3, long-term (MD5) for §2.4.
func vectorIntegrity(v vector) *Integrity {
	if v.Realm != "" {
		return NewLongTermIntegrity(PasswordAlgorithmMD5, v.Username, v.Realm, v.Password)
	}
	return NewShortTermIntegrity(v.Password)
}

func TestRFC5769Vectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			raw := mustHex(t, v.Hex)
			// The .hex and .bin files carry the same bytes as the JSON.
			if fh := mustHex(t, string(mustRead(t, v.Name+".hex"))); !bytes.Equal(fh, raw) {
				t.Fatalf("%s.hex differs from the JSON", v.Name)
			}
			if fb := mustRead(t, v.Name+".bin"); !bytes.Equal(fb, raw) {
				t.Fatalf("%s.bin differs from the JSON", v.Name)
			}
			if len(raw) != v.Length {
				t.Fatalf("got %d bytes, want %d", len(raw), v.Length)
			}
			var m Message
			if err := m.Decode(raw); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got, want := hex.EncodeToString(m.TransactionID[:]), v.TransactionID; got != want {
				t.Errorf("transaction ID: got %v, want %v", got, want)
			}
			wantType := BindingRequest
			if strings.Contains(v.Name, "response") {
				wantType = BindingSuccess
			}
			if m.Type != wantType {
				t.Errorf("type: got %v, want %v", m.Type, wantType)
			}
			if u := m.UnknownRequired(nil); len(u) != 0 {
				t.Errorf("unknown required: got %v, want none", u)
			}
			checkString := func(at AttrType, want string) {
				t.Helper()
				got, ok := m.Get(at)
				if want == "" {
					if ok {
						t.Errorf("%v: got %q, want absent", at, got)
					}
					return
				}
				if string(got) != want {
					t.Errorf("%v: got %q, want %q", at, got, want)
				}
			}
			checkString(AttrSoftware, v.Software)
			checkString(AttrUsername, v.Username)
			checkString(AttrRealm, v.Realm)
			checkString(AttrNonce, v.Nonce)
			if v.Priority != 0 {
				got, err := m.Uint32(AttrPriority)
				if err != nil || got != v.Priority {
					t.Errorf("PRIORITY: got %v (%v), want %v", got, err, v.Priority)
				}
				tb, err := m.Uint64(AttrICEControlled)
				if err != nil || hex.EncodeToString(be64(tb)) != v.Tiebreaker {
					t.Errorf("ICE-CONTROLLED: got %x (%v), want %v", tb, err, v.Tiebreaker)
				}
			}
			if v.XORMappedAddress != "" {
				got, err := m.XORMappedAddress()
				want := netip.MustParseAddrPort(v.XORMappedAddress)
				if err != nil || got != want {
					t.Errorf("XOR-MAPPED-ADDRESS: got %v (%v), want %v", got, err, want)
				}
			}
			if v.LongTermKey != "" {
				got := hex.EncodeToString(LongTermKey(PasswordAlgorithmMD5, v.Username, v.Realm, v.Password))
				if got != v.LongTermKey {
					t.Errorf("long-term key: got %v, want %v", got, v.LongTermKey)
				}
			}
			i := vectorIntegrity(v)
			if err := m.CheckIntegrity(i); (err == nil) != v.IntegrityOK {
				t.Errorf("CheckIntegrity: got %v, want ok=%v", err, v.IntegrityOK)
			}
			if err := m.CheckIntegrity(NewShortTermIntegrity("wrong")); !errors.Is(err, ErrIntegrity) {
				t.Errorf("CheckIntegrity with a wrong key: got %v, want %v", err, ErrIntegrity)
			}
			err := m.CheckFingerprint()
			if v.FingerprintOK && err != nil {
				t.Errorf("CheckFingerprint: got %v, want nil", err)
			}
			if !v.FingerprintOK && !errors.Is(err, ErrNoAttribute) {
				t.Errorf("CheckFingerprint: got %v, want %v", err, ErrNoAttribute)
			}
		})
	}
}

// TestRFC5769TamperedVectors flips one bit in each byte of each vector in
// turn: the change must make the message undecodable or fail FINGERPRINT or
// MESSAGE-INTEGRITY. Padding bytes are covered too, as both are computed
// over the raw bytes.
func TestRFC5769TamperedVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		raw := mustHex(t, v.Hex)
		i := vectorIntegrity(v)
		var m Message
		for k := range raw {
			b := bytes.Clone(raw)
			b[k] ^= 0x01
			if m.Decode(b) != nil {
				continue
			}
			fpErr, miErr := m.CheckFingerprint(), m.CheckIntegrity(i)
			if v.FingerprintOK && fpErr == nil && miErr == nil {
				t.Errorf("%s: flipping byte %d went unnoticed", v.Name, k)
			}
			if !v.FingerprintOK && miErr == nil {
				t.Errorf("%s: flipping byte %d went unnoticed", v.Name, k)
			}
		}
	}
}

// TestBuildRFC5769LongTerm rebuilds RFC 5769 §2.4 byte for byte: it pads
// with zeros, as the Builder does.
func TestBuildRFC5769LongTerm(t *testing.T) {
	v := loadVectors(t)[3]
	want := mustHex(t, v.Hex)
	var id TransactionID
	copy(id[:], mustHex(t, v.TransactionID))
	var b Builder
	b.Reset(nil, BindingRequest, id)
	b.AddString(AttrUsername, v.Username)
	b.AddString(AttrNonce, v.Nonce)
	b.AddString(AttrRealm, v.Realm)
	b.AddIntegrity(vectorIntegrity(v))
	got, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
}

// TestBuildRFC5769Responses rebuilds §2.2 and §2.3 with zero padding: the
// bytes differ from the RFC only in SOFTWARE's padding, MESSAGE-INTEGRITY
// and FINGERPRINT, and the result verifies.
func TestBuildRFC5769Responses(t *testing.T) {
	for _, v := range loadVectors(t)[1:3] {
		t.Run(v.Name, func(t *testing.T) {
			want := mustHex(t, v.Hex)
			var id TransactionID
			copy(id[:], mustHex(t, v.TransactionID))
			i := vectorIntegrity(v)
			var b Builder
			b.Reset(make([]byte, 0, 128), BindingSuccess, id)
			b.AddString(AttrSoftware, v.Software)
			b.AddXORMappedAddress(netip.MustParseAddrPort(v.XORMappedAddress))
			b.AddIntegrity(i)
			b.AddFingerprint()
			got, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("length: got %d, want %d", len(got), len(want))
			}
			// Header and SOFTWARE up to its padding byte, then the address.
			if !bytes.Equal(got[:20+4+11], want[:20+4+11]) || got[35] != 0 || want[35] != ' ' {
				t.Errorf("header/SOFTWARE: got %x, want %x", got[:36], want[:36])
			}
			xa := 36
			xl := 4 + 8
			if strings.Contains(v.XORMappedAddress, "[") {
				xl = 4 + 20
			}
			if !bytes.Equal(got[xa:xa+xl], want[xa:xa+xl]) {
				t.Errorf("XOR-MAPPED-ADDRESS: got %x, want %x", got[xa:xa+xl], want[xa:xa+xl])
			}
			var m Message
			if err := m.Decode(got); err != nil {
				t.Fatal(err)
			}
			if err := m.CheckIntegrity(i); err != nil {
				t.Errorf("CheckIntegrity: got %v, want nil", err)
			}
			if err := m.CheckFingerprint(); err != nil {
				t.Errorf("CheckFingerprint: got %v, want nil", err)
			}
		})
	}
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func be64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
	return b
}

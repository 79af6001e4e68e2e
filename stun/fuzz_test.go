package stun

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeSTUN decodes arbitrary input. For input that decodes, it checks
// the round trip: re-encoding the attributes (AppendTo) and decoding again
// gives the same type, transaction ID and attributes, and re-encoding that
// gives the same bytes. The getters and checks must not panic.
func FuzzDecodeSTUN(f *testing.F) {
	names, err := filepath.Glob(filepath.Join(vectorDir, "*.bin"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no seed vectors: %v", err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(readWorkload(f))
	f.Add(hdr(1, 0))
	i := NewShortTermIntegrity("VOkJxbRl1RmTxUk/WvJxBt")
	f.Fuzz(func(t *testing.T, in []byte) {
		var m Message
		if err := m.Decode(in); err != nil {
			return
		}
		// RFC 7983 §7 gives STUN the first bytes 0–3 only, though message
		// types of methods above 0x0FF start with up to 0x3F.
		if !IsMessage(in) || (in[0] <= 3 && Classify(in) != KindSTUN) {
			t.Fatalf("decoded, but IsMessage %v Classify %v", IsMessage(in), Classify(in))
		}
		// Exercise every reader; none may panic.
		m.XORMappedAddress()
		m.MappedAddress()
		m.ErrorCode()
		m.UnknownAttributes(nil)
		m.PasswordAlgorithms(nil)
		m.PasswordAlgorithm()
		m.UnknownRequired(nil)
		m.CheckFingerprint()
		m.CheckIntegrity(i)
		m.CheckIntegritySHA256(i)

		out, err := m.AppendTo(nil)
		if err != nil {
			t.Fatalf("AppendTo: %v", err)
		}
		var m2 Message
		if err := m2.Decode(out); err != nil {
			t.Fatalf("decode of re-encoded %x: %v", out, err)
		}
		if m2.Type != m.Type || m2.TransactionID != m.TransactionID {
			t.Fatalf("header: got %v %x, want %v %x", m2.Type, m2.TransactionID, m.Type, m.TransactionID)
		}
		if len(m2.Attributes) != len(m.Attributes) {
			t.Fatalf("attributes: got %d, want %d", len(m2.Attributes), len(m.Attributes))
		}
		for k := range m.Attributes {
			a, b := m.Attributes[k], m2.Attributes[k]
			if a.Type != b.Type || !bytes.Equal(a.Value, b.Value) {
				t.Fatalf("attribute %d: got %v %x, want %v %x", k, b.Type, b.Value, a.Type, a.Value)
			}
		}
		out2, err := m2.AppendTo(nil)
		if err != nil || !bytes.Equal(out2, out) {
			t.Fatalf("second re-encode: got %x %v, want %x", out2, err, out)
		}
	})
}

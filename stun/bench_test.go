package stun

import (
	"bytes"
	"os"
	"testing"
)

// The STUN workload of ../testdata/workloads/stun (RFC 5769 §2.1), with the
// unit of work of the peer benchmarks (shared/peerbench/stun_test.go).
const (
	workloadFile     = "../testdata/workloads/stun/binding-request-rfc5769.hex"
	workloadUsername = "evtj:h6vY"
	workloadPassword = "VOkJxbRl1RmTxUk/WvJxBt"
	workloadSoftware = "STUN test client"
	workloadPriority = 0x6e0001ff
	workloadTieBrk   = 0x932ff9b151263b36
)

var workloadTxID = TransactionID{0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae}

func readWorkload(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(workloadFile)
	if err != nil {
		tb.Fatal(err)
	}
	return mustHex(tb, string(b))
}

// buildWorkload builds the workload request into dst[:0]: Binding request,
// fixed transaction ID, SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
// MESSAGE-INTEGRITY, FINGERPRINT.
func buildWorkload(b *Builder, dst []byte, i *Integrity) ([]byte, error) {
	b.Reset(dst[:0], BindingRequest, workloadTxID)
	b.AddString(AttrSoftware, workloadSoftware)
	b.AddUint32(AttrPriority, workloadPriority)
	b.AddUint64(AttrICEControlled, workloadTieBrk)
	b.AddString(AttrUsername, workloadUsername)
	b.AddIntegrity(i)
	b.AddFingerprint()
	return b.Build()
}

// parseWorkload copies raw into buf, decodes it into m, checks FINGERPRINT
// and MESSAGE-INTEGRITY and returns USERNAME.
func parseWorkload(m *Message, buf *[]byte, raw []byte, i *Integrity) ([]byte, error) {
	*buf = append((*buf)[:0], raw...)
	if err := m.Decode(*buf); err != nil {
		return nil, err
	}
	if err := m.CheckFingerprint(); err != nil {
		return nil, err
	}
	if err := m.CheckIntegrity(i); err != nil {
		return nil, err
	}
	u, ok := m.Get(AttrUsername)
	if !ok {
		return nil, ErrNoAttribute
	}
	return u, nil
}

func TestWorkload(t *testing.T) {
	raw := readWorkload(t)
	i := NewShortTermIntegrity(workloadPassword)
	var m Message
	var buf []byte
	u, err := parseWorkload(&m, &buf, raw, i)
	if err != nil || string(u) != workloadUsername {
		t.Fatalf("parse: got %q, %v, want %q", u, err, workloadUsername)
	}
	var b Builder
	built, err := buildWorkload(&b, make([]byte, 0, 128), i)
	if err != nil {
		t.Fatal(err)
	}
	if len(built) != len(raw) {
		t.Fatalf("built %d bytes, want %d", len(built), len(raw))
	}
	// Only USERNAME's padding (spaces in the RFC, zeros here), MI and
	// FINGERPRINT may differ.
	usernamePad := bytes.Index(raw, []byte(workloadUsername)) + len(workloadUsername)
	for k := range raw {
		inPad := k >= usernamePad && k < usernamePad+3
		inTail := k >= len(raw)-32+4 && k < len(raw)-8 || k >= len(raw)-4
		if raw[k] != built[k] && !inPad && !inTail {
			t.Errorf("byte %d: got %#x, want %#x", k, built[k], raw[k])
		}
	}
	if _, err := parseWorkload(&m, &buf, built, i); err != nil {
		t.Errorf("parse of built message: got %v, want nil", err)
	}
}

// TestZeroAllocs asserts that parse+verify and building into a sized buffer
// do not allocate.
func TestZeroAllocs(t *testing.T) {
	raw := readWorkload(t)
	i := NewShortTermIntegrity(workloadPassword)
	var m Message
	var buf []byte
	var b Builder
	dst := make([]byte, 0, 256)
	tests := []struct {
		name string
		f    func()
	}{
		{"parse+verify", func() {
			if _, err := parseWorkload(&m, &buf, raw, i); err != nil {
				t.Fatal(err)
			}
		}},
		{"build", func() {
			if _, err := buildWorkload(&b, dst, i); err != nil {
				t.Fatal(err)
			}
		}},
		{"xor-mapped-address", func() {
			b.Reset(dst[:0], BindingSuccess, workloadTxID)
			b.AddXORMappedAddress(testAddr6)
			out, _ := b.Build()
			if m.Decode(out) != nil {
				t.Fatal("decode")
			}
			if ap, err := m.XORMappedAddress(); err != nil || ap != testAddr6 {
				t.Fatal(ap, err)
			}
		}},
		{"classify", func() {
			if Classify(raw) != KindSTUN {
				t.Fatal("classify")
			}
		}},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(100, tt.f); got != 0 {
			t.Errorf("%s: got %v allocs, want 0", tt.name, got)
		}
	}
}

func BenchmarkSTUNBuild(b *testing.B) {
	raw := readWorkload(b)
	b.Run("impl=ours", func(b *testing.B) {
		i := NewShortTermIntegrity(workloadPassword)
		var bld Builder
		dst := make([]byte, 0, 256)
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := buildWorkload(&bld, dst, i); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSTUNParse(b *testing.B) {
	raw := readWorkload(b)
	b.Run("impl=ours", func(b *testing.B) {
		i := NewShortTermIntegrity(workloadPassword)
		var m Message
		var buf []byte
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := parseWorkload(&m, &buf, raw, i); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package sipmsg

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

func seedFiles(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	for _, pat := range []string{
		"../testdata/vectors/sip/rfc4475/*.dat",
		"../testdata/vectors/sip/rfc5118/*.dat",
		"../testdata/vectors/sip/rfc5118/wire/*.dat",
		"../testdata/workloads/sip/*.sip",
	} {
		files, err := filepath.Glob(pat)
		if err != nil || len(files) == 0 {
			f.Fatalf("no seed files for %s", pat)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

// relaxed reparses serialized output: serialization writes "Name: Value",
// which can be a byte longer per line than the input it came from.
var relaxed = Parser{MaxMessageSize: 1 << 20, MaxLineLength: 1 << 20, MaxHeaders: 1 << 16}

// FuzzParse checks that Parse never panics and that a parsed message
// serializes to bytes that parse to the same message, which serializes to
// the same bytes again.
func FuzzParse(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	// Headers the vectors lack that typed accessors parse (exercise).
	f.Add([]byte("BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=2\r\n" +
		"Call-ID: c\r\nCSeq: 2 BYE\r\nReason: SIP ;cause=200 ;text=\"Call completed elsewhere\", Q.850;cause=16\r\n" +
		"Replaces: 9@h;to-tag=1;from-tag=2;early-only\r\nContent-Length: 0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		exercise(m)
		out := m.AppendTo(nil)
		if n := m.WireLen(); n != len(out) {
			t.Fatalf("WireLen %d, AppendTo %d bytes: %q", n, len(out), out)
		}
		m2, err := relaxed.Parse(out)
		if err != nil {
			t.Fatalf("reparse failed: %v\ninput %q\noutput %q", err, b, out)
		}
		if d := diffMessages(m, m2); d != "" {
			t.Fatalf("round trip differs: %s\ninput %q\noutput %q", d, b, out)
		}
		if out2 := m2.AppendTo(nil); !bytes.Equal(out, out2) {
			t.Fatalf("second serialization differs:\n%q\n%q", out, out2)
		}
	})
}

// FuzzParseURI checks that a parsed URI prints to text that parses to the
// same URI, and that Equal is reflexive.
func FuzzParseURI(f *testing.F) {
	for _, s := range uriSeeds {
		f.Add(s)
	}
	for _, b := range seedFiles(f) {
		if m, err := Parse(b); err == nil && m.IsRequest() {
			f.Add(m.RequestURI.String())
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			return
		}
		out := u.String()
		u2, err := ParseURI(out)
		if err != nil {
			t.Fatalf("reparse %q (from %q): %v", out, s, err)
		}
		if u != u2 {
			t.Fatalf("round trip differs: %#v / %#v", u, u2)
		}
		if !u.Equal(u2) || !u2.Equal(u) {
			t.Fatalf("Equal not reflexive for %q", s)
		}
		if out2 := u2.String(); out2 != out {
			t.Fatalf("second String differs: %q / %q", out, out2)
		}
	})
}

var uriSeeds = []string{
	"sip:alice@atlanta.example.com",
	"sips:bob:secret@[2001:db8::1]:5061;transport=tls?subject=x&priority=urgent",
	"sip:%75se%72@example.com;maddr=239.255.255.1;ttl=15",
	"sip:user;par=u%40example.net@example.com",
	"tel:+1-201-555-0123;phone-context=example.com",
	"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
	"sip:192.0.2.1:5060;lr",
}

// FuzzReader feeds a byte stream to a Reader, in small reads, and checks
// that every message it frames round-trips and that it stops with an error
// at the end instead of looping.
func FuzzReader(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(append(append([]byte("\r\n\r\n"), b...), b...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(iotest.HalfReader(bytes.NewReader(b)), &Parser{MaxMessageSize: 4096})
		for i := 0; ; i++ {
			if i > len(b) {
				t.Fatalf("more reads than input bytes")
			}
			m, _, err := r.Read()
			if err != nil {
				var pe *ParseError
				if errors.As(err, &pe) && !errors.Is(err, ErrFraming) && !errors.Is(err, ErrTooLarge) {
					continue // one bad message; the stream goes on
				}
				return
			}
			if m == nil {
				continue
			}
			m2, err := relaxed.Parse(m.AppendTo(nil))
			if err != nil {
				t.Fatalf("reparse: %v", err)
			}
			if d := diffMessages(m, m2); d != "" {
				t.Fatalf("round trip differs: %s", d)
			}
		}
	})
}

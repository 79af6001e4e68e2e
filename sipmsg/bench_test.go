package sipmsg

import (
	"os"
	"testing"
)

// Workloads of testdata/workloads/sip (see its README), named as
// /work/shared/peerbench/README.md "Naming the project's benchmarks" says.
var workloads = []struct{ name, file string }{
	{"INVITE", "invite.sip"},
	{"200OK", "200ok-invite.sip"},
	{"REGISTER", "register-auth.sip"},
	{"401", "401-register.sip"},
	{"BYE", "bye.sip"},
	{"OPTIONS", "options.sip"},
	{"LargeINVITE", "invite-large.sip"},
}

func readWorkload(tb testing.TB, file string) []byte {
	tb.Helper()
	b, err := os.ReadFile("../testdata/workloads/sip/" + file)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// readCommon reads the headers a transaction layer and a UA read on every
// message. It returns a value derived from all of them so nothing is
// optimized away.
func readCommon(m *Message) (int, error) {
	v, err := m.Via()
	if err != nil {
		return 0, err
	}
	f, err := m.From()
	if err != nil {
		return 0, err
	}
	t, err := m.To()
	if err != nil {
		return 0, err
	}
	c, err := m.CSeq()
	if err != nil {
		return 0, err
	}
	n := len(v.Branch()) + len(f.Tag()) + len(t.Tag()) + len(m.CallID()) + int(c.Seq)
	if m.Has("Contact") {
		ct, err := m.Contact()
		if err != nil {
			return 0, err
		}
		n += len(ct.URI.Host)
	}
	cl, err := m.ContentLength()
	if err != nil {
		return 0, err
	}
	return n + cl, nil
}

func benchParse(b *testing.B, file string) {
	raw := readWorkload(b, file)
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := Parse(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=ours-headers", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			m, err := Parse(raw)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := readCommon(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchSerialize(b *testing.B, file string) {
	raw := readWorkload(b, file)
	m, err := Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	buf := m.AppendTo(nil)
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			buf = m.AppendTo(buf[:0])
		}
	})
}

func BenchmarkParseINVITE(b *testing.B)      { benchParse(b, "invite.sip") }
func BenchmarkParse200OK(b *testing.B)       { benchParse(b, "200ok-invite.sip") }
func BenchmarkParseREGISTER(b *testing.B)    { benchParse(b, "register-auth.sip") }
func BenchmarkParse401(b *testing.B)         { benchParse(b, "401-register.sip") }
func BenchmarkParseBYE(b *testing.B)         { benchParse(b, "bye.sip") }
func BenchmarkParseOPTIONS(b *testing.B)     { benchParse(b, "options.sip") }
func BenchmarkParseLargeINVITE(b *testing.B) { benchParse(b, "invite-large.sip") }

func BenchmarkSerializeINVITE(b *testing.B)      { benchSerialize(b, "invite.sip") }
func BenchmarkSerialize200OK(b *testing.B)       { benchSerialize(b, "200ok-invite.sip") }
func BenchmarkSerializeREGISTER(b *testing.B)    { benchSerialize(b, "register-auth.sip") }
func BenchmarkSerialize401(b *testing.B)         { benchSerialize(b, "401-register.sip") }
func BenchmarkSerializeBYE(b *testing.B)         { benchSerialize(b, "bye.sip") }
func BenchmarkSerializeOPTIONS(b *testing.B)     { benchSerialize(b, "options.sip") }
func BenchmarkSerializeLargeINVITE(b *testing.B) { benchSerialize(b, "invite-large.sip") }

// BenchmarkValidate: the checks a transport runs on every parsed request
// before it is handled (Message.Validate), on the INVITE workload.
func BenchmarkValidate(b *testing.B) {
	m, err := Parse(readWorkload(b, "invite.sip"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseAddress: the From, To and Contact forms SIPp and most
// phones send.
func BenchmarkParseAddress(b *testing.B) {
	in := []string{
		`sipp <sip:sipp@192.0.2.1:5061>;tag=1`,
		`"Alice Liddell" <sip:alice@atlanta.example.com>;tag=1928301774`,
		`sip:sipp@192.0.2.1:5061`,
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range in {
			if _, err := ParseAddress(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRespond: what a UA and its transport do to answer a request
// that was parsed and validated: build the 200 (NewResponse, SetToTag),
// read its top Via to route it (RFC 3261 §18.2.2), serialize it; on the
// INVITE workload.
func BenchmarkRespond(b *testing.B) {
	req, err := Parse(readWorkload(b, "invite.sip"))
	if err != nil {
		b.Fatal(err)
	}
	if err := req.Validate(); err != nil {
		b.Fatal(err)
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		r := NewResponse(req, 200, "")
		if err := r.SetToTag("as1"); err != nil {
			b.Fatal(err)
		}
		if _, err := r.Via(); err != nil {
			b.Fatal(err)
		}
		buf = r.AppendTo(buf[:0])
	}
}

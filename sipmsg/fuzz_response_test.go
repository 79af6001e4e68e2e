package sipmsg

import (
	"slices"
	"testing"
)

// FuzzNewResponse checks, for every request that parses and validates,
// that NewResponse plus SetToTag builds a response whose wire form parses
// and validates again, carries the request's Via values, From, Call-ID and
// CSeq unchanged (RFC 3261 §8.2.6.2), a To with the request's URI and the
// tag (the request's own when it had one), and does not change the
// request.
func FuzzNewResponse(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b, uint16(200))
	}
	f.Fuzz(func(t *testing.T, b []byte, code uint16) {
		req, err := Parse(b)
		if err != nil || !req.IsRequest() || req.Validate() != nil {
			return
		}
		c := 100 + int(code)%600
		before := req.String()
		resp := NewResponse(req, c, "")
		if err := resp.SetToTag("fz1"); err != nil {
			t.Fatalf("SetToTag: %v", err)
		}
		if got := req.String(); got != before {
			t.Fatalf("request changed:\n%q\n%q", before, got)
		}
		top, _ := resp.first(hVia)
		if v, err := resp.Via(); err != nil || v != mustVia(t, top) {
			t.Fatalf("Via: got %+v, %v; want %+v", v, err, mustVia(t, top))
		}
		out := resp.AppendTo(nil)
		r2, err := relaxed.Parse(out)
		if err != nil {
			t.Fatalf("response does not parse: %v\n%q", err, out)
		}
		if err := r2.Validate(); err != nil {
			t.Fatalf("response does not validate: %v\n%q", err, out)
		}
		if r2.StatusCode != c {
			t.Fatalf("status: got %d, want %d", r2.StatusCode, c)
		}
		for _, name := range []string{"Via", "From", "Call-ID", "CSeq"} {
			if got, want := r2.Values(name), req.Values(name); !slices.Equal(got, want) {
				t.Fatalf("%s: got %q, want %q", name, got, want)
			}
		}
		to, _ := req.To()
		to2, err := r2.To()
		if err != nil {
			t.Fatalf("To: %v", err)
		}
		wantTag := to.Tag()
		if !to.Params.Has("tag") {
			wantTag = "fz1"
		}
		if to2.Tag() != wantTag || !to2.URI.Equal(to.URI) {
			t.Fatalf("To: got %q, want the request's %q with tag %q", r2.Get("To"), req.Get("To"), wantTag)
		}
	})
}

// TestValidateRejects: requests Validate must refuse (RFC 3261 §8.1.1),
// among them the empty From and To, and a To of "*" (only Contact may be
// "*"), that fuzzers found accepted.
func TestValidateRejects(t *testing.T) {
	const ok = "Via: SIP/2.0/UDP h:5060;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n"
	tests := []struct {
		name    string
		headers string
		valid   bool
	}{
		{"valid", ok, true},
		{"empty From", "Via: SIP/2.0/UDP h:5060;branch=z9hG4bK1\r\nFrom:\r\nTo: <sip:b@h>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n", false},
		{"empty To", "Via: SIP/2.0/UDP h:5060;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo:\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n", false},
		{"To *", "Via: SIP/2.0/UDP h:5060;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: *\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n", false},
		{"From *", "Via: SIP/2.0/UDP h:5060;branch=z9hG4bK1\r\nFrom: *\r\nTo: <sip:b@h>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n", false},
		{"Contact * kept", ok + "Contact: *\r\n", true},
		{"bad second Via", ok + "Via: SIP/2.0/UDP\r\n", false},
		{"bad Contact", ok + "Contact: <sip:a@h\r\n", false},
		{"no Via", "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte("OPTIONS sip:b@h SIP/2.0\r\n" + tt.headers + "Content-Length: 0\r\n\r\n"))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Validate() == nil; got != tt.valid {
				t.Errorf("valid: got %v, want %v (%v)", got, tt.valid, m.Validate())
			}
		})
	}
}

package sipmsg

import (
	"strings"
	"testing"
	"unsafe"
)

func mustVia(t *testing.T, s string) Via {
	t.Helper()
	v, err := ParseVia(s)
	if err != nil {
		t.Fatalf("ParseVia(%q): %v", s, err)
	}
	return v
}

// within reports whether s is a view of the memory of one of m's
// strings: its header section or a value set later.
func within(m *Message, s string) bool {
	in := func(base string) bool {
		b := uintptr(unsafe.Pointer(unsafe.StringData(base)))
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return p >= b && p+uintptr(len(s)) <= b+uintptr(len(base))
	}
	if in(m.raw) {
		return true
	}
	for _, e := range m.extra {
		if in(e) {
			return true
		}
	}
	return false
}

// TestResponseKeepsVia: a response built from a request whose top Via was
// parsed has that Via parsed already, as views of the response's own
// copy (the request may be collected), and keeps it through changes to
// other headers; a change to Via drops it.
func TestResponseKeepsVia(t *testing.T) {
	const top = "SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK77;rport;received=198.51.100.7"
	long := "SIP/2.0/TCP h.example.com;branch=z9hG4bK9;x=" + strings.Repeat("a", 0x10000) // too long for the inline field form
	for _, via := range []string{top, top + ", SIP/2.0/UDP 192.0.2.9", long} {
		req := NewRequest("INVITE", URI{Scheme: "sip", User: "b", Host: "h"})
		for _, h := range [][2]string{{"Via", via}, {"From", "<sip:a@h>;tag=1"}, {"To", "<sip:b@h>"},
			{"Call-ID", "c1"}, {"CSeq", "1 INVITE"}, {"Content-Length", "0"}} {
			req.Add(h[0], h[1])
		}
		if via != long { // parsed: views of the header section, not of values set
			var err error
			if req, err = Parse([]byte(req.String())); err != nil {
				t.Fatal(err)
			}
		}
		if err := req.Validate(); err != nil {
			t.Fatal(err)
		}
		resp := NewResponse(req, 200, "")
		if resp.cached&cVia == 0 {
			t.Fatalf("Via %.40q: response has no parsed Via", via)
		}
		if err := resp.SetToTag("t1"); err != nil {
			t.Fatal(err)
		}
		resp.Add("Contact", "<sip:b@192.0.2.2>")
		resp.SetContentLength()
		first, _ := resp.first(hVia)
		want := mustVia(t, first)
		got, err := resp.Via()
		if err != nil || got != want {
			t.Fatalf("Via %.40q: got %+v, %v; want %+v", via, got, err, want)
		}
		if resp.cached&cVia == 0 {
			t.Fatalf("Via %.40q: a change to To or Contact dropped the parsed Via", via)
		}
		for _, s := range []string{got.Transport, got.Host, string(got.Params)} {
			// A long value is one string both share; a short one is copied.
			if !within(resp, s) || via != long && within(req, s) {
				t.Fatalf("Via %.40q: %.40q is not a view of the response's own copy", via, s)
			}
		}
		if c := resp.Clone(); c.cached&cVia == 0 || mustViaOf(t, c) != want {
			t.Fatalf("Via %.40q: the clone's Via differs", via)
		}
	}
}

func mustViaOf(t *testing.T, m *Message) Via {
	t.Helper()
	v, err := m.Via()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestViaChangeDropsCache: every way of changing Via makes Via() read
// the new top value.
func TestViaChangeDropsCache(t *testing.T) {
	other := mustVia(t, "SIP/2.0/TCP 203.0.113.5:5070;branch=z9hG4bK2")
	tests := []struct {
		name string
		f    func(m *Message)
		want string // the new top Via, "" when there is none
	}{
		{"Set", func(m *Message) { m.Set("Via", other.String()) }, other.String()},
		{"Set compact", func(m *Message) { m.Set("v", other.String()) }, other.String()},
		{"Prepend", func(m *Message) { m.Prepend("Via", other.String()) }, other.String()},
		{"PrependVia", func(m *Message) { m.PrependVia(other) }, other.String()},
		{"SetVia", func(m *Message) { _ = m.SetVia(other) }, other.String()},
		{"RemoveVia", func(m *Message) { m.RemoveVia() }, "SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK3"},
		{"Del", func(m *Message) { m.Del("Via") }, ""},
	}
	for _, tt := range tests {
		m, err := Parse([]byte("OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK3\r\n" +
			"Content-Length: 0\r\n\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		mustViaOf(t, m) // fill the cache
		tt.f(m)
		got, err := m.Via()
		if tt.want == "" {
			if err != ErrMissingHeader {
				t.Errorf("%s: got %+v, %v; want ErrMissingHeader", tt.name, got, err)
			}
			continue
		}
		if want := mustVia(t, tt.want); err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, want)
		}
	}
}

// TestAnswerAllocs: building a 200 to an INVITE as a UA does (NewResponse,
// SetToTag, a Contact, an SDP body and its Content-Length) makes five
// allocations: the message, its copy of the request's headers, the To
// value with the tag, the room for the fields set afterwards and the
// Content-Length digits.
func TestAnswerAllocs(t *testing.T) {
	req, err := Parse(readWorkload(t, "invite.sip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	if req.ToTag() != "" {
		t.Fatal("the workload's To has a tag")
	}
	body := req.Body // an SDP offer of 129 bytes
	if len(body) < 100 {
		t.Fatalf("the workload's body has %d bytes, want 100 or more", len(body))
	}
	allocs := testing.AllocsPerRun(100, func() {
		r := NewResponse(req, 200, "")
		if err := r.SetToTag("as1"); err != nil {
			t.Fatal(err)
		}
		r.Add("Contact", "<sip:uas@192.0.2.2>")
		r.Add("Content-Type", "application/sdp")
		r.Body = body
		r.SetContentLength()
	})
	if allocs > 5 {
		t.Errorf("got %v allocations, want 5", allocs)
	}
}

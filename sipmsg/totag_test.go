package sipmsg

import "testing"

func TestToTag(t *testing.T) {
	for _, tc := range []struct{ to, tag string }{
		{"<sip:bob@example.com>;tag=abc", "abc"},
		{`"Bob; <Smith>" <sip:bob@example.com;tag=uri>;tag=hdr`, "hdr"},
		{"Bob <sip:bob@example.com;tag=uri>", ""},
		{"sip:bob@example.com;tag=x1", "x1"},
		{"sip:bob@example.com ; TAG = x2", "x2"},
		{" <sip:bob@example.com> ;foo;tag=x3;bar=1 ", "x3"},
		{"<sip:bob@example.com>", ""},
		{"<sip:bob@example.com", ""},
	} {
		m := NewRequest("BYE", URI{Scheme: "sip", Host: "example.com"})
		m.Add("To", tc.to)
		if got := m.ToTag(); got != tc.tag {
			t.Errorf("ToTag of To %q: got %q, want %q", tc.to, got, tc.tag)
		}
		if a, err := m.To(); err == nil { // now from the cache
			if got := m.ToTag(); got != a.Tag() {
				t.Errorf("ToTag of To %q after To: got %q, want %q", tc.to, got, a.Tag())
			}
		}
	}
	if got := NewRequest("BYE", URI{Scheme: "sip", Host: "example.com"}).ToTag(); got != "" {
		t.Errorf("ToTag without To: got %q", got)
	}
}

// FuzzAddressParams checks that addressParams, which only looks for the
// parameters, finds what ParseAddress finds in every address it accepts.
func FuzzAddressParams(f *testing.F) {
	for _, b := range seedFiles(f) {
		m, err := Parse(b)
		if err != nil {
			continue
		}
		for _, name := range []string{"From", "To", "Contact"} {
			if v := m.Get(name); v != "" {
				f.Add(v)
			}
		}
	}
	f.Add(`"a\"<b;" <sip:x@y;tag=1>;tag=2`)
	f.Fuzz(func(t *testing.T, s string) {
		got := addressParams(s)
		a, err := ParseAddress(s)
		if err != nil {
			return
		}
		if got != a.Params {
			t.Fatalf("addressParams(%q) = %q, ParseAddress found %q", s, got, a.Params)
		}
	})
}

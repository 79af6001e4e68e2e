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

// TestCacheThenShare: after Cache, goroutines may read the typed headers
// of one message at once (go test -race tells).
func TestCacheThenShare(t *testing.T) {
	m, err := Parse([]byte("INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h:5060;branch=z9hG4bK1\r\n" +
		"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:a@192.0.2.1>\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	m.Cache()
	done := make(chan string, 4)
	for range 4 {
		go func() {
			c, _ := m.Contact()
			cs, _ := m.CSeq()
			f, _ := m.From()
			to, _ := m.To()
			v, _ := m.Via()
			done <- c.URI.Host + f.Tag() + to.Tag() + cs.Method + v.Branch()
		}()
	}
	for range 4 {
		if got := <-done; got != "192.0.2.1"+"1"+""+"INVITE"+"z9hG4bK1" {
			t.Errorf("read %q", got)
		}
	}
}

// TestSetToTagAfterChange: SetToTag trusts a To that Validate (or To)
// parsed only until the To header changes; a response takes that trust
// from its request.
func TestSetToTagAfterChange(t *testing.T) {
	valid := func(t *testing.T) *Message {
		t.Helper()
		m, err := Parse([]byte("BYE sip:bob@example.com SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n" +
			"From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\n" +
			"Call-ID: c1\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		change func(*Message)
		ok     bool
	}{
		{"unchanged", func(*Message) {}, true},
		{"other headers changed", func(m *Message) {
			m.Set("Max-Forwards", "69")
			m.Add("Subject", "x")
			_ = m.SetVia(Via{Transport: "UDP", Host: "192.0.2.1", Port: 5060})
		}, true},
		{"Set To", func(m *Message) { m.Set("To", "<sip:bob@example.com") }, false},
		{"Del and Add To", func(m *Message) { m.Del("To"); m.Add("To", "sip:a@b, sip:c@d") }, false},
		{"Prepend t", func(m *Message) { m.Prepend("t", "<sip:bob") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := valid(t)
			tc.change(req)
			for _, m := range []*Message{NewResponse(req, 200, ""), req.Clone()} {
				err := m.SetToTag("x1")
				if (err == nil) != tc.ok {
					t.Fatalf("SetToTag: %v, want ok=%v", err, tc.ok)
				}
				if tc.ok && m.ToTag() != "x1" {
					t.Fatalf("To after SetToTag: %q", m.Get("To"))
				}
			}
		})
	}
	// After SetToTag the tag, which is not checked, takes the trust away.
	resp := NewResponse(valid(t), 200, "")
	if err := resp.SetToTag("bad<"); err != nil {
		t.Fatal(err)
	}
	if err := resp.SetToTag("x2"); err == nil || resp.ToTag() != "bad<" {
		t.Errorf("SetToTag after a bad tag: %v, To %q; want an error and the first tag", err, resp.Get("To"))
	}
}

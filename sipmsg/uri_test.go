package sipmsg

import "testing"

func TestParseURI(t *testing.T) {
	tests := []struct {
		in   string
		want URI
	}{
		{"sip:alice@atlanta.com", URI{Scheme: "sip", User: "alice", Host: "atlanta.com"}},
		{"sip:alice:secretword@atlanta.com;transport=tcp", URI{Scheme: "sip", User: "alice", Password: "secretword", Host: "atlanta.com", Params: "transport=tcp"}},
		{"sips:alice@atlanta.com?subject=project%20x&priority=urgent", URI{Scheme: "sips", User: "alice", Host: "atlanta.com", Headers: "subject=project%20x&priority=urgent"}},
		{"sip:+1-212-555-1212:1234@gateway.com;user=phone", URI{Scheme: "sip", User: "+1-212-555-1212", Password: "1234", Host: "gateway.com", Params: "user=phone"}},
		{"sips:1212@gateway.com", URI{Scheme: "sips", User: "1212", Host: "gateway.com"}},
		{"sip:alice@192.0.2.4", URI{Scheme: "sip", User: "alice", Host: "192.0.2.4"}},
		{"sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com", URI{Scheme: "sip", Host: "atlanta.com", Params: "method=REGISTER", Headers: "to=alice%40atlanta.com"}},
		{"sip:alice;day=tuesday@atlanta.com", URI{Scheme: "sip", User: "alice;day=tuesday", Host: "atlanta.com"}},
		{"sip:[2001:db8::10]:5070", URI{Scheme: "sip", Host: "2001:db8::10", Port: 5070}},
		{"SIP:Bob@Biloxi.COM:5060", URI{Scheme: "SIP", User: "Bob", Host: "Biloxi.COM", Port: 5060}},
		{"tel:+1-201-555-0123", URI{Scheme: "tel", User: "+1-201-555-0123"}},
		{"tel:7042;phone-context=example.com", URI{Scheme: "tel", User: "7042", Params: "phone-context=example.com"}},
		{"urn:service:sos", URI{Scheme: "urn", Opaque: "service:sos"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseURI(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "uri", got, tt.want)
			eq(t, "string", got.String(), tt.in)
		})
	}
}

func TestParseURIErrors(t *testing.T) {
	for _, in := range []string{
		"", "sip", ":x", "<sip:a@b>", "sip:", "sip:@host", "sip:a@b@c", "sip:user@2001:db8::10",
		"sip:host:", "sip:host:0", "sip:host:65536", "sip:host:5x", "sip:[2001:db8::1", "sip:[zz::1]",
		"sip:a b@host", "sip:host;;lr", "sip:host;=x", "sip:host;a=", "sip:ho%st", "sip:a%4@host",
		"sip:host?a<b", "tel:", "tel:+1 2", "1sip:a", "foo:a b",
	} {
		t.Run(in, func(t *testing.T) {
			if u, err := ParseURI(in); err == nil {
				t.Errorf("got %#v, want an error", u)
			}
		})
	}
}

// TestURIEqual uses the examples of RFC 3261 §19.1.4.
func TestURIEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp", true},
		{"sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", true},
		{"sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true},
		{"sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on", true},
		{"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com", "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com", true},
		{"sip:alice@atlanta.com?subject=project%20x&priority=urgent", "sip:alice@atlanta.com?priority=urgent&subject=project%20x", true},
		{"SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP", false},
		{"sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", false},
		{"sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", false},
		{"sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp", false},
		{"sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting", false},
		{"sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", false},
		{"sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off", false},
		{"sip:alice@atlanta.com", "sips:alice@atlanta.com", false},
		{"sip:alice:pw@atlanta.com", "sip:alice@atlanta.com", false},
		{"tel:+1-201-555-0123", "tel:+12015550123", true},
		{"tel:7042;phone-context=a.com", "tel:7042", false},
		{"urn:x:y", "urn:x:y", true},
	}
	for _, tt := range tests {
		t.Run(tt.a+" "+tt.b, func(t *testing.T) {
			a := get(ParseURI(tt.a)).ok(t)
			b := get(ParseURI(tt.b)).ok(t)
			eq(t, "a==b", a.Equal(b), tt.want)
			eq(t, "b==a", b.Equal(a), tt.want)
		})
	}
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in                    string
		display, uri, params  string
		wildcard, ok, bracket bool
	}{
		{`"Alice" <sip:alice@a.com>;tag=1`, `"Alice"`, "sip:alice@a.com", "tag=1", false, true, true},
		{`Bob Smith<sip:bob@b.com>`, "Bob Smith", "sip:bob@b.com", "", false, true, true},
		{`sip:carol@c.com;tag=3;expires=60`, "", "sip:carol@c.com", "tag=3;expires=60", false, true, false},
		{`<sip:d@d.com;lr>`, "", "sip:d@d.com;lr", "", false, true, true},
		{` * `, "", "", "", true, true, false},
		{`<tel:+15551234>;q=0.5`, "", "tel:+15551234", "q=0.5", false, true, true},
		{`"Unterminated <sip:a@b>`, "", "", "", false, false, false},
		{`Bell, Alexander <sip:a.g.bell@example.com>`, "", "", "", false, false, false},
		{`< sip:a@b >`, "", "", "", false, false, false},
		{`<sip:a@b`, "", "", "", false, false, false},
		{`sip:a@b?x=y`, "", "", "", false, false, false},
		{`<sip:a@b>;;`, "", "", "", false, false, false},
		{`<sip:a@b> junk`, "", "", "", false, false, false},
		{``, "", "", "", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := ParseAddress(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("got error %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			eq(t, "display", a.Display, tt.display)
			eq(t, "params", string(a.Params), tt.params)
			eq(t, "wildcard", a.Wildcard, tt.wildcard)
			eq(t, "bracketed", a.Bracketed, tt.bracket)
			if !tt.wildcard {
				eq(t, "uri", a.URI.String(), tt.uri)
			}
			b := get(ParseAddress(a.String())).ok(t)
			eq(t, "round trip", b, a)
		})
	}
}

func TestParams(t *testing.T) {
	p := Params(`tag = 1 ; lr;+sip.instance="<urn:a;b>";Q=0.5`)
	v, ok := p.Get("TAG")
	eq(t, "tag", v, "1")
	eq(t, "tag ok", ok, true)
	eq(t, "lr", p.Has("lr"), true)
	eq(t, "instance", Unquote(p.Value("+sip.instance")), "<urn:a;b>")
	eq(t, "q", p.Value("q"), "0.5")
	eq(t, "missing", p.Has("x"), false)
	eq(t, "set", string(Params("a=1;b").Set("a", "2").Set("c", "")), "a=2;b;c")
	eq(t, "del", string(Params("a=1;b;a=3").Del("a")), "b")
	eq(t, "unquote", Unquote(`"a\"b\\c"`), `a"b\c`)
	eq(t, "quote", Quote(`a"b\c`), `"a\"b\\c"`)
	eq(t, "unescape", Unescape("%41b%zz%4"), "Ab%zz%4")
}

package xmldoc

import "testing"

func TestDecodeCharsets(t *testing.T) {
	type doc struct {
		Text string `xml:"t"`
	}
	for _, tc := range []struct {
		body string
		want string
		ok   bool
	}{
		{`<?xml version="1.0" encoding="UTF-8"?><d><t>caf` + "\u00e9" + `</t></d>`, "caf\u00e9", true},
		{`<?xml version="1.0" encoding="ISO-8859-1"?><d><t>caf` + "\xe9" + `</t></d>`, "caf\u00e9", true},
		{`<?xml version="1.0" encoding="US-ASCII"?><d><t>cafe</t></d>`, "cafe", true},
		{`<?xml version="1.0" encoding="EBCDIC"?><d><t>x</t></d>`, "", false},
	} {
		var d doc
		err := Decode([]byte(tc.body), &d)
		if (err == nil) != tc.ok || d.Text != tc.want {
			t.Errorf("Decode(%q): got %q, %v; want %q, ok %v", tc.body, d.Text, err, tc.want, tc.ok)
		}
	}
}

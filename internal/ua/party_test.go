package ua

import (
	"testing"

	"github.com/xphone-go/xphone/sipmsg"
)

// TestIdentify: who the other end of a call is, from an INVITE (the
// caller) or an answer (the called party), per RFC 3325, RFC 3323 and
// Remote-Party-ID.
func TestIdentify(t *testing.T) {
	const from = `"Front Desk" <sip:+15550001001;npdi@trunk.example.com;user=phone>;tag=1`
	tests := []struct {
		name    string
		inbound bool
		headers string // besides From, To, Via, Call-ID and CSeq
		from    string
		want    Party
	}{
		{"From only", true, "", from,
			Party{Name: "Front Desk", URI: "sip:+15550001001;npdi@trunk.example.com;user=phone", Number: "+15550001001"}},
		{"escaped user", true, "", `<sip:alice%40home@example.com>;tag=1`,
			Party{URI: "sip:alice%40home@example.com", Number: "alice@home"}},
		{"P-Asserted-Identity over From", true,
			"P-Asserted-Identity: \"Alice Smith\" <sip:alice@example.com>\r\nP-Asserted-Identity: <tel:+1-555-000-2000>\r\n", from,
			Party{Name: "Alice Smith", URI: "sip:alice@example.com", Number: "+1-555-000-2000", Asserted: true}},
		{"two identities in one header, tel first", true,
			"P-Asserted-Identity: <tel:+15550002000>, \"Alice\" <sip:alice@example.com>\r\n", from,
			Party{Name: "Alice", URI: "tel:+15550002000", Number: "+15550002000", Asserted: true}},
		{"anonymous From, asserted, Privacy id", true,
			"P-Asserted-Identity: <sip:+15550003000@trunk.example.com>\r\nPrivacy: id\r\n",
			`"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1`,
			Party{URI: "sip:+15550003000@trunk.example.com", Number: "+15550003000", Asserted: true, Private: true}},
		{"anonymous From alone", true, "", `"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1`,
			Party{Name: "Anonymous", URI: "sip:anonymous@anonymous.invalid", Number: "anonymous", Private: true}},
		{"Privacy none", true, "Privacy: none\r\n", from,
			Party{Name: "Front Desk", URI: "sip:+15550001001;npdi@trunk.example.com;user=phone", Number: "+15550001001"}},
		{"Privacy header;user on From", true, "Privacy: header; user\r\n", from,
			Party{Name: "Front Desk", URI: "sip:+15550001001;npdi@trunk.example.com;user=phone", Number: "+15550001001", Private: true}},
		{"Remote-Party-ID calling", true,
			"Remote-Party-ID: \"Bob\" <sip:2000@pbx.example.com>;party=calling;screen=yes;privacy=off\r\n", from,
			Party{Name: "Bob", URI: "sip:2000@pbx.example.com", Number: "2000", Asserted: true}},
		{"Remote-Party-ID privacy full", true,
			"Remote-Party-ID: <sip:2000@pbx.example.com>;party=calling;privacy=full\r\n", from,
			Party{URI: "sip:2000@pbx.example.com", Number: "2000", Asserted: true, Private: true}},
		{"Remote-Party-ID of the called party ignored inbound", true,
			"Remote-Party-ID: <sip:3000@pbx.example.com>;party=called\r\n", from,
			Party{Name: "Front Desk", URI: "sip:+15550001001;npdi@trunk.example.com;user=phone", Number: "+15550001001"}},
		{"P-Asserted-Identity before Remote-Party-ID", true,
			"Remote-Party-ID: <sip:2000@pbx.example.com>;party=calling\r\nP-Asserted-Identity: <sip:4000@pbx.example.com>\r\n", from,
			Party{URI: "sip:4000@pbx.example.com", Number: "4000", Asserted: true}},
		{"unparsable P-Asserted-Identity: From", true, "P-Asserted-Identity: <sip:broken\r\n", from,
			Party{Name: "Front Desk", URI: "sip:+15550001001;npdi@trunk.example.com;user=phone", Number: "+15550001001"}},
		{"answer with connected identity", false,
			"Remote-Party-ID: <sip:5000@pbx.example.com>;party=called\r\n", "",
			Party{URI: "sip:5000@pbx.example.com", Number: "5000", Asserted: true}},
		{"answer without identity", false, "", "", Party{URI: "sip:sales@example.com", Number: "sales"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := "INVITE sip:me@192.0.2.1 SIP/2.0\r\n"
			if !tt.inbound {
				start = "SIP/2.0 200 OK\r\n"
			}
			f := tt.from
			if f == "" {
				f = "<sip:me@192.0.2.1>;tag=9"
			}
			m, err := sipmsg.Parse([]byte(start + "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\r\nFrom: " + f +
				"\r\nTo: <sip:sales@example.com>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n" + tt.headers + "Content-Length: 0\r\n\r\n"))
			if err != nil {
				t.Fatal(err)
			}
			var fallback Party
			if tt.inbound {
				a, err := m.From()
				if err != nil {
					t.Fatal(err)
				}
				fallback = partyOf(a)
			} else {
				to, _ := sipmsg.ParseAddress("<sip:sales@example.com>")
				fallback = partyOf(to)
			}
			if got := identify(m, tt.inbound, fallback); got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

package xphone

import "github.com/xphone-go/xphone/internal/ua"

// Party is who the other end of a call is, as signalling names it: the
// caller of an inbound call, the called party of an outbound one.
//
// A caller writes its own From. A trunk or PBX that authenticated it
// vouches for its identity in P-Asserted-Identity (RFC 3325), or in the
// older Remote-Party-ID that many trunks still send, and may name the
// party that answered an outbound call the same way in its answer. Party
// takes the asserted identity when there is one (Asserted), else From
// (inbound) or the To of our INVITE (outbound).
type Party struct {
	// Name is the display name, unquoted, or "".
	Name string
	// URI is the party's URI ("sip:+15551230000@trunk.example.com",
	// "tel:+15551230000").
	URI string
	// Number is the user part of a SIP URI, or the number of a tel URI,
	// unescaped and without its parameters ("+15551230000"); "" when there
	// is none.
	Number string
	// Asserted is set when the identity came from P-Asserted-Identity or
	// Remote-Party-ID: a server vouches for it.
	Asserted bool
	// Private is set when the peer asked that the identity be kept from
	// others (Privacy id, header or user, RFC 3323 and RFC 3325; a
	// Remote-Party-ID privacy other than off; an anonymous From, RFC 3323
	// §4.1.1.3): show it to no one else, log it with care.
	Private bool
}

func party(p ua.Party) Party {
	return Party{Name: p.Name, URI: p.URI, Number: p.Number, Asserted: p.Asserted, Private: p.Private}
}

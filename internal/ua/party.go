package ua

import (
	"strings"

	"github.com/xphone-go/xphone/sipmsg"
)

// The other end of a call, as signalling names it. A caller writes its own
// From; a trunk or PBX that has authenticated it vouches for who it is in
// P-Asserted-Identity (RFC 3325 §9.1), or in the older Remote-Party-ID
// (draft-ietf-sip-privacy-04, which Asterisk and many trunks still send),
// and may put the same in its answer for the party that answered (the
// connected line). Privacy (RFC 3323 §4.2, RFC 3325 §9.3) asks that the
// identity go no further than a trusted party: we got it, so we are one,
// and the application is told, not refused.

// Party is who the other end of a call is; the fields are those of
// xphone.Party, which documents them.
type Party struct {
	Name, URI, Number string
	Asserted, Private bool
}

// identify returns who m says the other end of a call is: m is an
// inbound call's INVITE (the caller) or an outbound call's answer (the
// party that answered). Without an asserted identity in m it is
// fallback, the address signalling gives anyway (partyOf the INVITE's
// From, or of the To of ours), marked private if m asks for privacy.
func identify(m *sipmsg.Message, inbound bool, fallback Party) Party {
	p := assertedParty(m, inbound)
	private := p.Private || privacyAsked(m)
	if !p.Asserted {
		p = fallback
	}
	p.Private = p.Private || private
	return p
}

// assertedParty returns the identity m asserts: its P-Asserted-Identity
// (up to one SIP and one tel URI, RFC 3325 §9.1: the first gives the URI,
// a tel URI the number, the first display name the name), else its
// Remote-Party-ID for the calling party (inbound) or the called one.
// Asserted is unset when there is neither.
func assertedParty(m *sipmsg.Message, inbound bool) Party {
	if ids, err := m.Addresses("P-Asserted-Identity"); err == nil && len(ids) > 0 {
		p := partyOf(ids[0])
		for _, a := range ids[1:] {
			if p.Name == "" {
				p.Name = a.DisplayName()
			}
			if a.URI.IsTel() {
				p.Number = number(a.URI)
			}
		}
		p.Asserted = true
		return p
	}
	rpids, err := m.Addresses("Remote-Party-ID")
	if err != nil {
		return Party{}
	}
	want := "called"
	if inbound {
		want = "calling"
	}
	for _, a := range rpids {
		if party := a.Params.Value("party"); party != "" && !strings.EqualFold(party, want) {
			continue
		}
		p := partyOf(a)
		p.Asserted = true
		if v, ok := a.Params.Get("privacy"); ok && v != "" && !strings.EqualFold(v, "off") {
			p.Private = true
		}
		return p
	}
	return Party{}
}

// partyOf returns the identity an address names, private when it is the
// anonymous URI of RFC 3323 §4.1.1.3 (host anonymous.invalid, or user
// anonymous as many servers write it).
func partyOf(a sipmsg.Address) Party {
	return Party{Name: a.DisplayName(), URI: a.URI.String(), Number: number(a.URI),
		Private: strings.EqualFold(a.URI.Host, "anonymous.invalid") || strings.EqualFold(a.URI.User, "anonymous")}
}

// number returns the user part of a SIP URI or the number of a tel URI,
// unescaped, without the parameters a telephone-subscriber user part may
// carry (RFC 3261 §19.1.1, RFC 3966 §3).
func number(u sipmsg.URI) string {
	if !u.IsSIP() && !u.IsTel() {
		return ""
	}
	n, _, _ := strings.Cut(u.User, ";")
	return sipmsg.Unescape(n)
}

// privacyAsked reports whether m's Privacy header asks to keep the
// identity private (RFC 3323 §4.2: user, header; RFC 3325 §9.3: id).
func privacyAsked(m *sipmsg.Message) bool {
	for _, v := range m.Values("Privacy") {
		for tok := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '\t' }) {
			switch strings.ToLower(tok) {
			case "id", "header", "user":
				return true
			}
		}
	}
	return false
}

package digest

import (
	"strings"
)

// Challenge is a Digest challenge: the value of a WWW-Authenticate (401) or
// Proxy-Authenticate (407) header (RFC 7616 §3.3, RFC 3261 §22.2, §22.3).
//
// ParseChallenge fills it with strings that share memory with the parsed
// value (a quoted-string with escapes is copied). Strings are immutable, so
// a Challenge stays valid for as long as it is kept; strings.Clone a field
// to keep it without the rest of the header value.
type Challenge struct {
	Realm     string
	Domain    string // space-separated URIs, as sent
	Nonce     string
	Opaque    string
	Stale     bool // the previous nonce expired; retry with the same password (RFC 7616 §3.3)
	Algorithm Algorithm
	QOP       string // the qop-options list as sent, e.g. "auth,auth-int"
	Charset   string // "UTF-8" or empty (RFC 7616 §4)
	Userhash  bool   // the server accepts a hashed username (RFC 7616 §3.4.4)
	Params    []Param
}

// Known challenge parameters, as bits of a set used to refuse duplicates.
const (
	cRealm = 1 << iota
	cDomain
	cNonce
	cOpaque
	cStale
	cAlgorithm
	cQOP
	cCharset
	cUserhash
)

// ParseChallenge parses the value of a WWW-Authenticate or
// Proxy-Authenticate header holding one Digest challenge (SIP sends one
// challenge per header line, RFC 3261 §20.44). It accepts whitespace and
// empty list elements where RFC 7235 allows them, tokens or quoted-strings
// for every value, and parameter names in any case; unknown parameters go to
// Params. A parameter this package knows may appear only once. Errors are
// *ParseError. Safe for concurrent use; does not allocate unless a value
// has escapes or there are unknown parameters.
func ParseChallenge(value string) (Challenge, error) {
	var c Challenge
	l := lexer{s: value}
	if err := l.scheme(); err != nil {
		return c, err
	}
	seen := 0
	for {
		start := l.i
		name, v, quoted, err := l.next()
		if err != nil {
			return Challenge{}, err
		}
		if name == "" {
			return c, nil
		}
		bit := challengeParam(name)
		switch bit {
		case cRealm:
			c.Realm = v
		case cDomain:
			c.Domain = v
		case cNonce:
			c.Nonce = v
		case cOpaque:
			c.Opaque = v
		case cStale:
			c.Stale = parseBool(v)
		case cAlgorithm:
			c.Algorithm = Algorithm(v)
		case cQOP:
			c.QOP = v
		case cCharset:
			c.Charset = v
		case cUserhash:
			c.Userhash = parseBool(v)
		default:
			c.Params = append(c.Params, Param{Name: name, Value: v, Quoted: quoted})
			continue
		}
		if seen&bit != 0 {
			return Challenge{}, &ParseError{Offset: skipSpaceFrom(value, start), Reason: "duplicate " + strings.ToLower(name)}
		}
		seen |= bit
	}
}

// challengeParam returns the bit of the challenge parameter called name
// (in any case), or 0 for one this package does not interpret. The length
// and first letter pick the one candidate to compare.
func challengeParam(name string) int {
	switch name { // the usual lower-case spellings, compared inline
	case "realm":
		return cRealm
	case "nonce":
		return cNonce
	case "opaque":
		return cOpaque
	case "algorithm":
		return cAlgorithm
	case "qop":
		return cQOP
	case "":
		return 0
	}
	var lit string
	var bit int
	switch c := name[0] | 0x20; len(name) {
	case 3:
		lit, bit = "qop", cQOP
	case 5:
		switch c {
		case 'r':
			lit, bit = "realm", cRealm
		case 'n':
			lit, bit = "nonce", cNonce
		case 's':
			lit, bit = "stale", cStale
		}
	case 6:
		switch c {
		case 'd':
			lit, bit = "domain", cDomain
		case 'o':
			lit, bit = "opaque", cOpaque
		}
	case 7:
		lit, bit = "charset", cCharset
	case 8:
		lit, bit = "userhash", cUserhash
	case 9:
		lit, bit = "algorithm", cAlgorithm
	}
	if bit == 0 || !is(name, lit) {
		return 0
	}
	return bit
}

// skipSpaceFrom returns the offset of the first byte at or after i that is
// neither whitespace nor a comma.
func skipSpaceFrom(s string, i int) int {
	for i < len(s) && (isSpace(s[i]) || s[i] == ',') {
		i++
	}
	return i
}

// AppendTo appends the challenge as a header value ("Digest realm=...") to
// b and returns the extended slice. Realm, domain, nonce, opaque and qop are
// quoted-strings, the other values tokens (RFC 7616 §3.3); empty values and
// false flags are left out. Parsing the result gives c back. Safe for
// concurrent use if nothing modifies c.
func (c *Challenge) AppendTo(b []byte) []byte {
	b = append(b, "Digest"...)
	n := len(b)
	if c.Realm != "" {
		b = appendQuotedParam(b, ` realm="`, c.Realm)
	}
	if c.Domain != "" {
		b = appendQuotedParam(b, ` domain="`, c.Domain)
	}
	if c.Nonce != "" {
		b = appendQuotedParam(b, ` nonce="`, c.Nonce)
	}
	if c.Opaque != "" {
		b = appendQuotedParam(b, ` opaque="`, c.Opaque)
	}
	if c.Stale {
		b = append(b, " stale=true,"...)
	}
	if c.Algorithm != "" {
		b = appendTokenParam(b, " algorithm=", string(c.Algorithm))
	}
	if c.QOP != "" {
		b = appendQuotedParam(b, ` qop="`, c.QOP)
	}
	if c.Charset != "" {
		b = appendTokenParam(b, " charset=", c.Charset)
	}
	if c.Userhash {
		b = append(b, " userhash=true,"...)
	}
	return endParams(appendParams(b, c.Params), n)
}

// String returns the header value AppendTo would append. It makes one
// allocation, the result, for values up to 512 bytes.
func (c *Challenge) String() string {
	var buf [512]byte
	return string(c.AppendTo(buf[:0]))
}

// HasQOP reports whether the challenge offers the quality of protection q
// ("auth" or "auth-int") in its qop list; the comparison ignores case.
func (c *Challenge) HasQOP(q string) bool {
	list := c.QOP
	if list == q {
		return true
	}
	for list != "" {
		var item string
		item, list, _ = strings.Cut(list, ",")
		if strings.EqualFold(strings.TrimSpace(item), q) {
			return true
		}
	}
	return false
}

// Supported reports whether this package can answer c: its algorithm is
// known, and it either offers auth or auth-int or has no qop at all.
func (c *Challenge) Supported() bool {
	return c.Algorithm.Supported() && (c.QOP == "" || c.HasQOP("auth") || c.HasQOP("auth-int"))
}

// Strongest returns the index of the challenge to answer among several that
// a 401 or 407 offers for the same realm: the supported one with the
// strongest algorithm (SHA-512-256, then SHA-256, then MD5, the order of
// RFC 8760 §2.3), the first one on a tie. It returns -1 when none is supported. A response
// that challenges for several realms (a proxy and a registrar) needs one
// answer per realm: group the challenges by Realm first.
func Strongest(chals []Challenge) int {
	best, bestStrength := -1, 0
	for i := range chals {
		if !chals[i].Supported() {
			continue
		}
		if s := chals[i].Algorithm.strength(); s > bestStrength {
			best, bestStrength = i, s
		}
	}
	return best
}

// Rejects reports whether c, received in answer to a request that carried
// sent, means the credentials were refused (a wrong username or password)
// rather than that the nonce expired: it is true when c is for the same
// realm and is not stale. A stale challenge asks for the same request again
// with the new nonce and the same password (RFC 7616 §3.3); it must not be
// reported to the user as a bad password.
func (c *Challenge) Rejects(sent *Credentials) bool {
	return !c.Stale && c.Realm == sent.Realm
}

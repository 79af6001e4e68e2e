package digest

import "strings"

// Credentials is a Digest answer: the value of an Authorization or
// Proxy-Authorization header (RFC 7616 §3.4, RFC 3261 §22.2, §22.3).
//
// ParseCredentials fills it with strings that share memory with the parsed
// value (a quoted-string with escapes is copied).
type Credentials struct {
	Username  string // the username, or its userhash when Userhash is set
	Realm     string
	Nonce     string
	URI       string // the digest-uri: in SIP, the Request-URI (RFC 3261 §22.4)
	Response  string // the request-digest, lower-case hex
	Algorithm Algorithm
	Cnonce    string
	Opaque    string
	QOP       string // "auth", "auth-int" or empty
	NC        uint32 // the nonce count; written as 8 hex digits, left out when 0
	Userhash  bool   // Username is H(username ":" realm) (RFC 7616 §3.4.4)
	Params    []Param
}

const (
	kUsername = 1 << iota
	kRealm
	kNonce
	kURI
	kResponse
	kAlgorithm
	kCnonce
	kOpaque
	kQOP
	kNC
	kUserhash
)

// ParseCredentials parses the value of an Authorization or
// Proxy-Authorization header holding Digest credentials, with the same
// tolerance as ParseChallenge. The nc value must be 1 to 8 hex digits.
// Unknown parameters (username* among them) go to Params. Errors are
// *ParseError. Safe for concurrent use; does not allocate unless a value
// has escapes or there are unknown parameters.
func ParseCredentials(value string) (Credentials, error) {
	var c Credentials
	l := lexer{s: value}
	if err := l.scheme(); err != nil {
		return c, err
	}
	seen := 0
	for {
		start := l.i
		p, ok, err := l.next()
		if err != nil {
			return Credentials{}, err
		}
		if !ok {
			return c, nil
		}
		bit := 0
		switch {
		case is(p.Name, "username"):
			bit, c.Username = kUsername, p.Value
		case is(p.Name, "realm"):
			bit, c.Realm = kRealm, p.Value
		case is(p.Name, "nonce"):
			bit, c.Nonce = kNonce, p.Value
		case is(p.Name, "uri"):
			bit, c.URI = kURI, p.Value
		case is(p.Name, "response"):
			bit, c.Response = kResponse, p.Value
		case is(p.Name, "algorithm"):
			bit, c.Algorithm = kAlgorithm, Algorithm(p.Value)
		case is(p.Name, "cnonce"):
			bit, c.Cnonce = kCnonce, p.Value
		case is(p.Name, "opaque"):
			bit, c.Opaque = kOpaque, p.Value
		case is(p.Name, "qop"):
			bit, c.QOP = kQOP, p.Value
		case is(p.Name, "nc"):
			bit = kNC
			if c.NC, ok = parseNC(p.Value); !ok {
				return Credentials{}, &ParseError{Offset: skipSpaceFrom(value, start), Reason: "nc is not 1 to 8 hex digits"}
			}
		case is(p.Name, "userhash"):
			bit, c.Userhash = kUserhash, parseBool(p.Value)
		default:
			c.Params = append(c.Params, p)
			continue
		}
		if seen&bit != 0 {
			return Credentials{}, &ParseError{Offset: skipSpaceFrom(value, start), Reason: "duplicate " + strings.ToLower(p.Name)}
		}
		seen |= bit
	}
}

// AppendTo appends the credentials as a header value ("Digest
// username=...") to b and returns the extended slice. Username, realm,
// nonce, uri, response, cnonce and opaque are quoted-strings; algorithm,
// qop, nc and userhash are tokens (RFC 7616 §3.4); empty values, a zero nc
// and a false userhash are left out. Parsing the result gives c back. Safe
// for concurrent use if nothing modifies c.
func (c *Credentials) AppendTo(b []byte) []byte {
	b = append(b, "Digest"...)
	first := true
	if c.Username != "" {
		b = appendParam(b, &first, "username", c.Username, true)
	}
	if c.Realm != "" {
		b = appendParam(b, &first, "realm", c.Realm, true)
	}
	if c.Nonce != "" {
		b = appendParam(b, &first, "nonce", c.Nonce, true)
	}
	if c.URI != "" {
		b = appendParam(b, &first, "uri", c.URI, true)
	}
	if c.Response != "" {
		b = appendParam(b, &first, "response", c.Response, true)
	}
	if c.Algorithm != "" {
		b = appendParam(b, &first, "algorithm", string(c.Algorithm), false)
	}
	if c.QOP != "" {
		b = appendParam(b, &first, "qop", c.QOP, false)
	}
	if c.NC != 0 {
		var nc [8]byte
		b = appendParam(b, &first, "nc", string(appendNC(nc[:0], c.NC)), false)
	}
	if c.Cnonce != "" {
		b = appendParam(b, &first, "cnonce", c.Cnonce, true)
	}
	if c.Opaque != "" {
		b = appendParam(b, &first, "opaque", c.Opaque, true)
	}
	if c.Userhash {
		b = appendParam(b, &first, "userhash", "true", false)
	}
	return appendParams(b, &first, c.Params)
}

// String returns the header value AppendTo would append.
func (c *Credentials) String() string {
	var buf [512]byte
	return string(c.AppendTo(buf[:0]))
}

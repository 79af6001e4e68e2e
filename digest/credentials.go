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
		name, v, quoted, err := l.next()
		if err != nil {
			return Credentials{}, err
		}
		if name == "" {
			return c, nil
		}
		bit := credentialsParam(name)
		switch bit {
		case kUsername:
			c.Username = v
		case kRealm:
			c.Realm = v
		case kNonce:
			c.Nonce = v
		case kURI:
			c.URI = v
		case kResponse:
			c.Response = v
		case kAlgorithm:
			c.Algorithm = Algorithm(v)
		case kCnonce:
			c.Cnonce = v
		case kOpaque:
			c.Opaque = v
		case kQOP:
			c.QOP = v
		case kNC:
			var ok bool
			if c.NC, ok = parseNC(v); !ok {
				return Credentials{}, &ParseError{Offset: skipSpaceFrom(value, start), Reason: "nc is not 1 to 8 hex digits"}
			}
		case kUserhash:
			c.Userhash = parseBool(v)
		default:
			c.Params = append(c.Params, Param{Name: name, Value: v, Quoted: quoted})
			continue
		}
		if seen&bit != 0 {
			return Credentials{}, &ParseError{Offset: skipSpaceFrom(value, start), Reason: "duplicate " + strings.ToLower(name)}
		}
		seen |= bit
	}
}

// credentialsParam returns the bit of the credentials parameter called
// name (in any case), or 0 for one this package does not interpret.
func credentialsParam(name string) int {
	switch name { // the usual lower-case spellings, compared inline
	case "username":
		return kUsername
	case "realm":
		return kRealm
	case "nonce":
		return kNonce
	case "uri":
		return kURI
	case "response":
		return kResponse
	case "algorithm":
		return kAlgorithm
	case "cnonce":
		return kCnonce
	case "opaque":
		return kOpaque
	case "qop":
		return kQOP
	case "nc":
		return kNC
	case "":
		return 0
	}
	var lit string
	var bit int
	switch c := name[0] | 0x20; len(name) {
	case 2:
		lit, bit = "nc", kNC
	case 3:
		switch c {
		case 'u':
			lit, bit = "uri", kURI
		case 'q':
			lit, bit = "qop", kQOP
		}
	case 5:
		switch c {
		case 'r':
			lit, bit = "realm", kRealm
		case 'n':
			lit, bit = "nonce", kNonce
		}
	case 6:
		switch c {
		case 'c':
			lit, bit = "cnonce", kCnonce
		case 'o':
			lit, bit = "opaque", kOpaque
		}
	case 8:
		switch c {
		case 'u':
			// username or userhash
			lit, bit = "username", kUsername
			if name[4]|0x20 == 'h' {
				lit, bit = "userhash", kUserhash
			}
		case 'r':
			lit, bit = "response", kResponse
		}
	case 9:
		lit, bit = "algorithm", kAlgorithm
	}
	if bit == 0 || !is(name, lit) {
		return 0
	}
	return bit
}

// AppendTo appends the credentials as a header value ("Digest
// username=...") to b and returns the extended slice. Username, realm,
// nonce, uri, response, cnonce and opaque are quoted-strings; algorithm,
// qop, nc and userhash are tokens (RFC 7616 §3.4); empty values, a zero nc
// and a false userhash are left out. Parsing the result gives c back. Safe
// for concurrent use if nothing modifies c.
func (c *Credentials) AppendTo(b []byte) []byte {
	b = append(b, "Digest"...)
	n := len(b)
	if c.Username != "" {
		b = appendQuotedParam(b, ` username="`, c.Username)
	}
	if c.Realm != "" {
		b = appendQuotedParam(b, ` realm="`, c.Realm)
	}
	if c.Nonce != "" {
		b = appendQuotedParam(b, ` nonce="`, c.Nonce)
	}
	if c.URI != "" {
		b = appendQuotedParam(b, ` uri="`, c.URI)
	}
	if c.Response != "" {
		b = appendQuotedParam(b, ` response="`, c.Response)
	}
	if c.Algorithm != "" {
		b = appendTokenParam(b, " algorithm=", string(c.Algorithm))
	}
	if c.QOP != "" {
		b = appendTokenParam(b, " qop=", c.QOP)
	}
	if c.NC != 0 {
		b = append(b, " nc="...)
		b = append(appendNC(b, c.NC), ',')
	}
	if c.Cnonce != "" {
		b = appendQuotedParam(b, ` cnonce="`, c.Cnonce)
	}
	if c.Opaque != "" {
		b = appendQuotedParam(b, ` opaque="`, c.Opaque)
	}
	if c.Userhash {
		b = append(b, " userhash=true,"...)
	}
	return endParams(appendParams(b, c.Params), n)
}

// String returns the header value AppendTo would append. It makes one
// allocation, the result, for values up to 512 bytes.
func (c *Credentials) String() string {
	var buf [512]byte
	return string(c.AppendTo(buf[:0]))
}

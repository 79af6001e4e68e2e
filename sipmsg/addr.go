package sipmsg

import "strings"

// Address is a name-addr or addr-spec with header parameters, the value of
// From, To, Contact, Route, Record-Route, Refer-To and similar headers
// (RFC 3261 §20.10, §25.1). Its strings are views of the parsed value.
type Address struct {
	// Display is the display name as written: a quoted-string keeps its
	// quotes (see [Address.DisplayName]); a token sequence is kept as is.
	Display string
	// URI is the address's URI.
	URI URI
	// Params holds the header parameters (tag, expires, q, ...) after the
	// first ';' that follows the URI.
	Params Params
	// Wildcard is set for the Contact value "*" (RFC 3261 §10.2.2).
	Wildcard bool
	// Bracketed records whether the URI was written inside <>. AppendTo
	// always writes <> when there is a display name, or when the URI has
	// parameters or headers.
	Bracketed bool
}

// Tag returns the tag parameter (RFC 3261 §19.3), or "".
func (a Address) Tag() string { return a.Params.Value("tag") }

// DisplayName returns the display name with quotes removed and quoted-pairs
// decoded.
func (a Address) DisplayName() string { return Unquote(a.Display) }

// parsePartyAddress parses a From or To value: an address, never the "*"
// that only Contact may hold (RFC 3261 §20.20, §20.39).
func parsePartyAddress(s string) (Address, error) {
	a, err := ParseAddress(s)
	if err == nil && a.Wildcard {
		return Address{}, newError(s, 0, `"*" is not an address here`)
	}
	return a, err
}

// ParseAddress parses one name-addr or addr-spec followed by header
// parameters, or "*". Whitespace is accepted where RFC 3261 §25.1 allows
// LWS; a URI that carries parameters or headers or contains a comma must be
// inside <> to keep those (RFC 3261 §20), and an addr-spec URI with '?'
// is rejected.
func ParseAddress(s string) (Address, error) {
	var a Address
	v := trimWS(s)
	base := len(s) - len(trimLeftWS(s))
	if v == "*" {
		a.Wildcard = true
		return a, nil
	}
	if v == "" {
		return a, newError(s, 0, "empty address")
	}
	var rest string
	lt := -1
	if v[0] == '"' {
		_, n, ok := scanQuoted(v)
		if !ok {
			return a, newError(s, base, "unterminated quoted display name")
		}
		a.Display = v[:n]
		i := n
		for i < len(v) && isWS(v[i]) {
			i++
		}
		if i == len(v) || v[i] != '<' {
			return a, newError(s, base+i, "expected '<' after display name")
		}
		lt = i
	} else {
		// A '<' before any ';' means name-addr; display-name = *(token LWS).
		for i := 0; i < len(v); i++ {
			if v[i] == '<' {
				lt = i
				break
			}
			if v[i] == ';' {
				break
			}
		}
		if lt >= 0 {
			d := trimWS(v[:lt])
			for f := d; f != ""; {
				var tok string
				tok, f, _ = strings.Cut(f, " ")
				f = trimLeftWS(f)
				if tok != "" && !isToken(trimWS(tok)) {
					return a, newError(s, base, "invalid character in display name")
				}
			}
			a.Display = d
		}
	}
	if lt >= 0 {
		gt := strings.IndexByte(v[lt:], '>')
		if gt < 0 {
			return a, newError(s, base+lt, "missing '>'")
		}
		u, err := ParseURI(v[lt+1 : lt+gt])
		if err != nil {
			return a, shiftError(err, base+lt+1)
		}
		a.URI, a.Bracketed = u, true
		rest = v[lt+gt+1:]
	} else {
		end := len(v)
		for i := 0; i < len(v); i++ {
			if v[i] == ';' || isWS(v[i]) {
				end = i
				break
			}
		}
		spec := v[:end]
		if strings.IndexByte(spec, '?') >= 0 || strings.IndexByte(spec, ',') >= 0 {
			return a, newError(s, base, "URI with '?' or ',' must be enclosed in <>")
		}
		u, err := ParseURI(spec)
		if err != nil {
			return a, shiftError(err, base)
		}
		a.URI = u
		rest = v[end:]
	}
	off := len(s) - len(rest)
	rest = trimLeftWS(rest)
	if rest == "" {
		return a, nil
	}
	if rest[0] != ';' {
		return a, newError(s, off, "unexpected text after address")
	}
	a.Params = Params(rest[1:])
	if i := validHeaderParams(a.Params); i >= 0 {
		return a, newError(s, len(s)-len(rest)+1+i, "invalid header parameter")
	}
	return a, nil
}

// addressParams returns the header parameters of s, a name-addr or
// addr-spec, found where ParseAddress finds them but without parsing the
// URI or checking the rest: for an address ParseAddress accepts, the
// same Params.
func addressParams(s string) Params {
	v := trimWS(s)
	var rest string
	i := 0
	if v != "" && v[0] == '"' {
		_, n, ok := scanQuoted(v)
		if !ok {
			return ""
		}
		i = n
	}
	for ; i < len(v) && v[i] != '<' && v[i] != ';'; i++ {
	}
	if i < len(v) && v[i] == '<' {
		gt := strings.IndexByte(v[i:], '>')
		if gt < 0 {
			return ""
		}
		rest = v[i+gt+1:]
	} else {
		end := len(v)
		for j := range len(v) {
			if v[j] == ';' || isWS(v[j]) {
				end = j
				break
			}
		}
		rest = v[end:]
	}
	rest = trimLeftWS(rest)
	if rest == "" || rest[0] != ';' {
		return ""
	}
	return Params(rest[1:])
}

func shiftError(err error, by int) error {
	if pe, ok := err.(*ParseError); ok {
		pe.Offset += by
	}
	return err
}

// String returns the address as text.
func (a Address) String() string { return string(a.AppendTo(nil)) }

// AppendTo appends the address's text form to dst.
func (a *Address) AppendTo(dst []byte) []byte {
	if a.Wildcard {
		return append(dst, '*')
	}
	br := a.Bracketed || a.Display != "" || a.URI.Params != "" || a.URI.Headers != "" || strings.IndexByte(a.URI.User, ',') >= 0 || strings.IndexByte(a.URI.User, ';') >= 0 || strings.IndexByte(a.URI.User, '?') >= 0
	if a.Display != "" {
		dst = append(dst, a.Display...)
		dst = append(dst, ' ')
	}
	if br {
		dst = append(dst, '<')
	}
	dst = a.URI.AppendTo(dst)
	if br {
		dst = append(dst, '>')
	}
	if a.Params != "" {
		dst = append(dst, ';')
		dst = append(dst, a.Params...)
	}
	return dst
}

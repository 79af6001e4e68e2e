package sipmsg

import "strings"

// Params is a raw parameter list as written after the first ';' of a URI,
// Via or header value: "branch=z9hG4bK1;rport". Lookups scan the string and
// do not allocate. Whitespace around ';' and '=' (allowed in header
// parameters by RFC 3261 §25.1 SEMI/EQUAL) is ignored by lookups and kept
// on serialization. Names compare case-insensitively.
type Params string

// Next returns the first parameter of p and the rest of the list. ok is
// false when p holds no more parameters. Empty elements are returned with
// an empty name.
func (p Params) Next() (name, value string, rest Params, ok bool) {
	s := string(p)
	if s == "" {
		return "", "", "", false
	}
	end := strings.IndexByte(s, ';')
	if end < 0 {
		end = len(s)
	}
	if q := strings.IndexByte(s[:end], '"'); q >= 0 {
		end = len(s) // a quoted value may hold ';': scan with quotes in mind
		inQuote := false
		for i := q; i < len(s); i++ {
			c := s[i]
			if inQuote {
				if c == '\\' {
					i++
				} else if c == '"' {
					inQuote = false
				}
			} else if c == '"' {
				inQuote = true
			} else if c == ';' {
				end = i
				break
			}
		}
	}
	elem := s[:end]
	if end < len(s) {
		rest = Params(s[end+1:])
	}
	eq := strings.IndexByte(elem, '=')
	if q := strings.IndexByte(elem, '"'); eq < 0 || (q >= 0 && q < eq) {
		return trimWS(elem), "", rest, true
	}
	return trimWS(elem[:eq]), trimWS(elem[eq+1:]), rest, true
}

// Get returns the value of the parameter called name (as written: a quoted
// value keeps its quotes, see [Unquote]) and whether it is present. A
// parameter without a value is present with value "".
func (p Params) Get(name string) (string, bool) {
	for rest := p; ; {
		n, v, r, ok := rest.Next()
		if !ok {
			return "", false
		}
		if equalFold(n, name) {
			return v, true
		}
		rest = r
	}
}

// Value returns the value of the parameter called name, or "".
func (p Params) Value(name string) string {
	v, _ := p.Get(name)
	return v
}

// Has reports whether the parameter called name is present.
func (p Params) Has(name string) bool {
	_, ok := p.Get(name)
	return ok
}

// Set returns p with the parameter called name set to value (a flag
// parameter when value is ""), replacing the first occurrence or appending.
func (p Params) Set(name, value string) Params {
	out := make([]byte, 0, len(p)+len(name)+len(value)+2)
	done := false
	for rest := p; ; {
		n, v, r, ok := rest.Next()
		if !ok {
			break
		}
		if equalFold(n, name) {
			if done {
				rest = r
				continue
			}
			n, v, done = name, value, true
		}
		out = appendParam(out, n, v)
		rest = r
	}
	if !done {
		out = appendParam(out, name, value)
	}
	return Params(out)
}

// Del returns p without any parameter called name.
func (p Params) Del(name string) Params {
	if !p.Has(name) {
		return p
	}
	out := make([]byte, 0, len(p))
	for rest := p; ; {
		n, v, r, ok := rest.Next()
		if !ok {
			break
		}
		if !equalFold(n, name) {
			out = appendParam(out, n, v)
		}
		rest = r
	}
	return Params(out)
}

func appendParam(out []byte, n, v string) []byte {
	if len(out) > 0 {
		out = append(out, ';')
	}
	out = append(out, n...)
	if v != "" {
		out = append(out, '=')
		out = append(out, v...)
	}
	return out
}

// validHeaderParams checks generic-param syntax (RFC 3261 §25.1): every
// element has a token name and a token, host or quoted-string value.
// It returns the offset of the first bad element or -1.
func validHeaderParams(p Params) int {
	off := 0
	for rest := p; ; {
		n, v, r, ok := rest.Next()
		if !ok {
			return -1
		}
		if !isToken(n) {
			return off
		}
		if v != "" && !validGenValue(v) {
			return off
		}
		off += len(rest) - len(r)
		rest = r
	}
}

// validGenValue accepts gen-value = token / host / quoted-string.
func validGenValue(v string) bool {
	if v[0] == '"' {
		_, n, ok := scanQuoted(v)
		return ok && n == len(v)
	}
	if v[0] == '[' {
		return len(v) > 2 && v[len(v)-1] == ']' && checkChars(v[1:len(v)-1], cIPv6) < 0
	}
	for i := 0; i < len(v); i++ {
		if !is(v[i], cToken) && v[i] != ':' { // ':' for unbracketed IPv6 in received= (RFC 5118 §4.5)
			return false
		}
	}
	return true
}

// scanQuoted scans a quoted-string at the start of s (RFC 3261 §25.1),
// returning its content (without quotes, escapes not decoded), its length
// including the quotes, and whether it is terminated.
func scanQuoted(s string) (content string, n int, ok bool) {
	if s == "" || s[0] != '"' {
		return "", 0, false
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[1:i], i + 1, true
		}
	}
	return "", 0, false
}

// Unquote returns the content of a quoted-string with quoted-pairs decoded;
// a string that is not quoted is returned unchanged.
func Unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	i := 0
	for i < len(s) && s[i] != '\\' {
		i++
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i = 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b = append(b, s[i])
	}
	return string(b)
}

// Quote returns s as a quoted-string, escaping '"' and '\'.
func Quote(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(append(b, '"'))
}

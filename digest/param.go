package digest

import (
	"errors"
	"strconv"
	"strings"
)

// Param is an auth-param this package does not interpret (RFC 7235 §2.1),
// kept so that it survives a round trip.
type Param struct {
	Name   string
	Value  string
	Quoted bool // the value was (or is to be) a quoted-string
}

// ErrMalformed is wrapped by every parse error: the header value does not
// follow the auth-param syntax of RFC 7235 §2.1. A server answers such a
// request with 400, not with a new challenge.
var ErrMalformed = errors.New("digest: malformed header")

// ParseError is the error of ParseChallenge and ParseCredentials. It
// unwraps to ErrMalformed.
type ParseError struct {
	Offset int    // byte offset in the header value
	Reason string // what was wrong there
}

// Error returns "digest: malformed header at offset N: reason".
func (e *ParseError) Error() string {
	return "digest: malformed header at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// Unwrap returns ErrMalformed.
func (e *ParseError) Unwrap() error { return ErrMalformed }

// lexer walks the value of an Authenticate or Authorization header.
type lexer struct {
	s string
	i int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// Character classes of the header grammar, one bit each in charClass.
const (
	classTchar   = 1 << iota // token character (RFC 7230 §3.2.6, RFC 3261 §25.1)
	classBare                // may appear in an unquoted value
	classSpecial             // '"' or '\\': escaped inside a quoted-string
)

var charClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0 {
			t[c] |= classTchar
		}
		// Wider than tchar, to accept what real peers send (base64 nonces
		// with '/' and '=', for instance), and narrow enough that a value
		// made of these bytes always reads back the same.
		if b > ' ' && b != 0x7f && b != ',' && b != '"' && b != '\\' {
			t[c] |= classBare
		}
		if b == '"' || b == '\\' {
			t[c] |= classSpecial
		}
	}
	return t
}()

func isTchar(c byte) bool { return charClass[c]&classTchar != 0 }
func isBare(c byte) bool  { return charClass[c]&classBare != 0 }

func (l *lexer) skipSpace() {
	for l.i < len(l.s) && isSpace(l.s[l.i]) {
		l.i++
	}
}

func (l *lexer) fail(reason string) error { return &ParseError{Offset: l.i, Reason: reason} }

// scheme reads the auth-scheme and checks that it is Digest.
func (l *lexer) scheme() error {
	l.skipSpace()
	start := l.i
	for l.i < len(l.s) && isTchar(l.s[l.i]) {
		l.i++
	}
	if start == l.i {
		return l.fail("missing auth-scheme")
	}
	if !strings.EqualFold(l.s[start:l.i], "Digest") {
		l.i = start
		return &ParseError{Offset: start, Reason: "auth-scheme is not Digest"}
	}
	if l.i < len(l.s) && !isSpace(l.s[l.i]) {
		return l.fail("no space after auth-scheme")
	}
	return nil
}

// next reads the next name=value pair. It skips empty list elements (RFC
// 7230 §7) and returns ok=false at the end of the input.
func (l *lexer) next() (p Param, ok bool, err error) {
	for {
		l.skipSpace()
		if l.i == len(l.s) {
			return p, false, nil
		}
		if l.s[l.i] != ',' {
			break
		}
		l.i++
	}
	start := l.i
	for l.i < len(l.s) && isTchar(l.s[l.i]) {
		l.i++
	}
	if start == l.i {
		return p, false, l.fail("expected a parameter name")
	}
	p.Name = l.s[start:l.i]
	l.skipSpace()
	if l.i == len(l.s) || l.s[l.i] != '=' {
		return p, false, l.fail("expected '=' after " + strconv.Quote(p.Name))
	}
	l.i++
	l.skipSpace()
	if l.i < len(l.s) && l.s[l.i] == '"' {
		p.Quoted = true
		if p.Value, err = l.quoted(); err != nil {
			return p, false, err
		}
	} else {
		start = l.i
		for l.i < len(l.s) && isBare(l.s[l.i]) {
			l.i++
		}
		p.Value = l.s[start:l.i]
	}
	l.skipSpace()
	if l.i < len(l.s) {
		if l.s[l.i] != ',' {
			return p, false, l.fail("expected ',' between parameters")
		}
		l.i++
	}
	return p, true, nil
}

// quoted reads a quoted-string at l.i (RFC 7230 §3.2.6) and returns its
// content without the escapes. Without escapes the result shares memory
// with the input; with escapes it is a new string.
func (l *lexer) quoted() (string, error) {
	open := l.i
	l.i++ // opening quote
	start := l.i
	// Fast path: no backslash before the closing quote.
	if j := strings.IndexByte(l.s[start:], '"'); j >= 0 && strings.IndexByte(l.s[start:start+j], '\\') < 0 {
		l.i = start + j + 1
		return l.s[start : start+j], nil
	}
	for l.i < len(l.s) {
		switch l.s[l.i] {
		case '"':
			v := unescape(l.s[start:l.i])
			l.i++
			return v, nil
		case '\\':
			l.i++
		}
		l.i++
	}
	return "", &ParseError{Offset: open, Reason: "unterminated quoted-string"}
}

// unescape removes the quoted-pair backslashes of a quoted-string body.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// appendQuoted appends v as a quoted-string, escaping '"' and '\'.
func appendQuoted(b []byte, v string) []byte {
	b = append(b, '"')
	if strings.IndexByte(v, '"') < 0 && strings.IndexByte(v, '\\') < 0 {
		b = append(b, v...)
		return append(b, '"')
	}
	start := 0
	for i := 0; i < len(v); i++ {
		if charClass[v[i]]&classSpecial != 0 {
			b = append(b, v[start:i]...)
			b = append(b, '\\')
			start = i
		}
	}
	b = append(b, v[start:]...)
	return append(b, '"')
}

// bare reports whether v can be written without quotes and read back.
func bare(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isBare(v[i]) {
			return false
		}
	}
	return true
}

// appendParam appends `, name=value` (no comma for the first parameter),
// quoting value when quoted is set or when it could not be read back bare.
func appendParam(b []byte, first *bool, name, value string, quoted bool) []byte {
	if *first {
		b = append(b, ' ')
		*first = false
	} else {
		b = append(b, ", "...)
	}
	b = append(b, name...)
	b = append(b, '=')
	if quoted || !bare(value) && value != "" {
		return appendQuoted(b, value)
	}
	return append(b, value...)
}

// appendParams appends the uninterpreted parameters.
func appendParams(b []byte, first *bool, ps []Param) []byte {
	for _, p := range ps {
		if p.Name == "" || !validName(p.Name) {
			continue
		}
		b = appendParam(b, first, p.Name, p.Value, p.Quoted)
	}
	return b
}

func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// is reports whether the token name equals lit, a lower-case parameter
// name, ignoring ASCII case. Setting bit 5 lower-cases a letter and maps no
// other token character onto a letter, a digit or '-'.
func is(name, lit string) bool {
	if len(name) != len(lit) {
		return false
	}
	for i := 0; i < len(lit); i++ {
		if name[i]|0x20 != lit[i] {
			return false
		}
	}
	return true
}

// parseBool reads the value of stale or userhash: "true" in any case is
// true, anything else false (RFC 7616 §3.3).
func parseBool(v string) bool { return strings.EqualFold(v, "true") }

// parseNC reads an nc value: up to 8 hex digits (RFC 7616 §3.4).
func parseNC(v string) (uint32, bool) {
	if v == "" || len(v) > 8 {
		return 0, false
	}
	var n uint32
	for i := 0; i < len(v); i++ {
		d := unhex(v[i])
		if d < 0 {
			return 0, false
		}
		n = n<<4 | uint32(d)
	}
	return n, true
}

package digest

import (
	"errors"
	"math/bits"
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
	classSpace               // whitespace, line folding included
	classSep                 // whitespace or ',': between list elements
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
		if isSpace(b) {
			t[c] |= classSpace | classSep
		}
		if b == ',' {
			t[c] |= classSep
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
	// Locals rather than l.s and l.i keep the loops in registers.
	s, i := l.s, l.i
	for i < len(s) && charClass[s[i]]&classSep != 0 {
		i++
	}
	if i == len(s) {
		l.i = i
		return p, false, nil
	}
	start := i
	for i < len(s) && charClass[s[i]]&classTchar != 0 {
		i++
	}
	if start == i {
		l.i = i
		return p, false, l.fail("expected a parameter name")
	}
	p.Name = s[start:i]
	for i < len(s) && charClass[s[i]]&classSpace != 0 {
		i++
	}
	if i == len(s) || s[i] != '=' {
		l.i = i
		return p, false, l.fail("expected '=' after " + strconv.Quote(p.Name))
	}
	i++
	for i < len(s) && charClass[s[i]]&classSpace != 0 {
		i++
	}
	if i < len(s) && s[i] == '"' {
		p.Quoted = true
		l.i = i
		if p.Value, err = l.quoted(); err != nil {
			return p, false, err
		}
		i = l.i
	} else {
		start = i
		for i < len(s) && charClass[s[i]]&classBare != 0 {
			i++
		}
		p.Value = s[start:i]
	}
	for i < len(s) && charClass[s[i]]&classSpace != 0 {
		i++
	}
	if i < len(s) {
		if s[i] != ',' {
			l.i = i
			return p, false, l.fail("expected ',' between parameters")
		}
		i++
	}
	l.i = i
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
	if j := indexSpecial(l.s[start:]); j >= 0 && l.s[start+j] == '"' {
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
	for {
		i := indexSpecial(v)
		if i < 0 {
			break
		}
		b = append(b, v[:i]...)
		b = append(b, '\\', v[i])
		v = v[i+1:]
	}
	b = append(b, v...)
	return append(b, '"')
}

// indexSpecial returns the index of the first '"' or '\\' in s, or -1. It
// tests eight bytes at a time: header values are too short for IndexByte's
// setup to pay, and it would need two passes.
func indexSpecial(s string) int {
	const (
		ones   = 0x0101010101010101
		highs  = 0x8080808080808080
		quote  = '"' * ones
		bslash = '\\' * ones
	)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// A byte of x^c is zero where x has c; (y-ones)&^y&highs flags
		// the lowest zero byte exactly (higher flags may be false).
		q, b := x^quote, x^bslash
		if t := ((q-ones)&^q | (b-ones)&^b) & highs; t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
	}
	for ; i < len(s); i++ {
		if charClass[s[i]]&classSpecial != 0 {
			return i
		}
	}
	return -1
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

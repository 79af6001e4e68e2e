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
	if !is(l.s[start:l.i], "digest") {
		l.i = start
		return &ParseError{Offset: start, Reason: "auth-scheme is not Digest"}
	}
	if l.i < len(l.s) && !isSpace(l.s[l.i]) {
		return l.fail("no space after auth-scheme")
	}
	return nil
}

// next reads the next name=value pair. It skips empty list elements (RFC
// 7230 §7) and returns an empty name at the end of the input. It returns
// the pair rather than storing it in l: stores through l would need write
// barriers.
func (l *lexer) next() (name, value string, quoted bool, err error) {
	// Locals rather than l.s and l.i keep the loops in registers.
	s, i := l.s, l.i
	for i < len(s) && charClass[s[i]]&classSep != 0 {
		i++
	}
	if i == len(s) {
		l.i = i
		return "", "", false, nil
	}
	start := i
	for i < len(s) && charClass[s[i]]&classTchar != 0 {
		i++
	}
	if start == i {
		l.i = i
		return "", "", false, l.fail("expected a parameter name")
	}
	name = s[start:i]
	for i < len(s) && charClass[s[i]]&classSpace != 0 {
		i++
	}
	if i == len(s) || s[i] != '=' {
		l.i = i
		return "", "", false, l.fail("expected '=' after " + strconv.Quote(name))
	}
	i++
	for i < len(s) && charClass[s[i]]&classSpace != 0 {
		i++
	}
	if i < len(s) && s[i] == '"' {
		quoted = true
		// Fast path: no backslash before the closing quote.
		if j := indexSpecial(s[i+1:]); j >= 0 && s[i+1+j] == '"' {
			value = s[i+1 : i+1+j]
			i += j + 2
		} else {
			l.i = i
			if value, err = l.quotedSlow(); err != nil {
				return "", "", false, err
			}
			i = l.i
		}
	} else {
		start = i
		for i < len(s) && charClass[s[i]]&classBare != 0 {
			i++
		}
		value = s[start:i]
	}
	for i < len(s) && charClass[s[i]]&classSpace != 0 {
		i++
	}
	if i < len(s) {
		if s[i] != ',' {
			l.i = i
			return "", "", false, l.fail("expected ',' between parameters")
		}
		i++
	}
	l.i = i
	return name, value, quoted, nil
}

// quotedSlow reads a quoted-string with escapes at l.i (RFC 7230 §3.2.6)
// and returns its content without them, in a new string.
func (l *lexer) quotedSlow() (string, error) {
	open := l.i
	start := open + 1
	for i := start; i < len(l.s); i++ {
		switch l.s[i] {
		case '"':
			l.i = i + 1
			return unescape(l.s[start:i]), nil
		case '\\':
			i++
		}
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

// The serializers append every parameter as ` name=value,` and drop the
// comma after the last one with endParams. The key arguments below are the
// ` name=` part (with the opening quote for appendQuotedParam).

// appendQuotedParam appends key, v as the rest of a quoted-string and a
// comma.
func appendQuotedParam(b []byte, key, v string) []byte {
	b = append(b, key...)
	b = appendEscaped(b, v)
	return append(b, '"', ',')
}

// appendTokenParam appends key, v and a comma, with v quoted when it could
// not be read back bare.
func appendTokenParam(b []byte, key, v string) []byte {
	b = append(b, key...)
	if !bare(v) && v != "" {
		b = append(b, '"')
		b = appendEscaped(b, v)
		return append(b, '"', ',')
	}
	b = append(b, v...)
	return append(b, ',')
}

// appendParams appends the uninterpreted parameters, quoting a value when
// its Quoted is set or when it could not be read back bare. Parameters
// without a valid name are left out.
func appendParams(b []byte, ps []Param) []byte {
	for _, p := range ps {
		if p.Name == "" || !validName(p.Name) {
			continue
		}
		b = append(b, ' ')
		b = append(b, p.Name...)
		if p.Quoted {
			b = appendQuotedParam(b, `="`, p.Value)
		} else {
			b = appendTokenParam(b, "=", p.Value)
		}
	}
	return b
}

// endParams drops the comma after the last parameter, if there is one
// after b[:n].
func endParams(b []byte, n int) []byte {
	if len(b) > n {
		return b[:len(b)-1]
	}
	return b
}

// appendEscaped appends v with a backslash before each '"' and '\\': the
// content of a quoted-string (RFC 7230 §3.2.6).
func appendEscaped(b []byte, v string) []byte {
	for {
		i := indexSpecial(v)
		if i < 0 {
			return append(b, v...)
		}
		b = append(b, v[:i]...)
		b = append(b, '\\', v[i])
		v = v[i+1:]
	}
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
	for ; len(s)-i >= 8; i += 8 {
		w := s[i : i+8] // one bounds check; the loads below combine into one
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
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

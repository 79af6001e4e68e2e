package sipmsg

import (
	"bytes"
	"strings"
)

// Default limits of a zero [Parser].
const (
	DefaultMaxMessageSize = 64 << 10 // bytes of one message, body included
	DefaultMaxHeaders     = 256      // header field lines
	DefaultMaxLineLength  = 8 << 10  // bytes of one header field, folding included
)

// Parser parses SIP messages under limits. The zero value uses the
// defaults above. A Parser is not modified by parsing and is safe for
// concurrent use.
type Parser struct {
	MaxMessageSize int // 0 means DefaultMaxMessageSize
	MaxHeaders     int // 0 means DefaultMaxHeaders
	MaxLineLength  int // 0 means DefaultMaxLineLength
}

func (p *Parser) limits() (size, headers, line int) {
	size, headers, line = p.MaxMessageSize, p.MaxHeaders, p.MaxLineLength
	if size <= 0 {
		size = DefaultMaxMessageSize
	}
	if headers <= 0 {
		headers = DefaultMaxHeaders
	}
	if line <= 0 {
		line = DefaultMaxLineLength
	}
	return
}

// Parse parses one whole SIP message, such as a UDP datagram, with the
// default limits. See [Parser.Parse].
func Parse(b []byte) (*Message, error) {
	var p Parser
	return p.Parse(b)
}

// Parse parses one whole SIP message, such as a UDP datagram (RFC 3261 §7).
//
// It checks the start line, the header field syntax (names are tokens,
// lines end in CRLF, folded lines are joined), Content-Length (one
// non-negative value no larger than the bytes present; octets after the
// body are ignored as RFC 3261 §18.3 says for datagrams; without
// Content-Length the body is the rest of the input) and CSeq (a 32-bit
// number and, in a request, the request's method). Other headers are
// parsed on first use by the typed accessors; [Message.Validate] checks the
// ones a UA or proxy relies on.
//
// The message does not reference b after Parse returns. Errors are
// [*ParseError]. Parse never panics.
func (p *Parser) Parse(b []byte) (*Message, error) {
	m := new(Message)
	if err := p.parse(m, b); err != nil {
		return nil, err
	}
	return m, nil
}

func (p *Parser) parse(m *Message, b []byte) error {
	maxSize, maxHeaders, maxLine := p.limits()
	if len(b) > maxSize {
		return wrapError(b, maxSize, "message larger than limit", ErrTooLarge)
	}
	// RFC 3261 §7.5: CRLFs before the start line are ignored.
	start := 0
	for start+1 < len(b) && b[start] == '\r' && b[start+1] == '\n' {
		start += 2
	}
	end := bytes.Index(b[start:], []byte("\r\n\r\n"))
	if end < 0 {
		return newError(b, start, "header section not terminated by an empty line")
	}
	end += start
	s := string(b[start : end+2])
	bodyStart := end + 4

	// Start line.
	eol := strings.IndexByte(s, '\n')
	if eol <= 0 || s[eol-1] != '\r' {
		return newError(b, start, "start line not terminated by CRLF")
	}
	if err := m.parseStartLine(s[:eol-1]); err != nil {
		return shiftError(err, start)
	}
	pos := eol + 1

	m.raw = s
	n := strings.Count(s[pos:], "\n")
	if n > maxHeaders {
		n = maxHeaders
	}
	m.fields = make([]field, 0, n)
	cl := -1
	for pos < len(s) {
		if len(m.fields) == maxHeaders {
			return wrapError(b, start+pos, "too many header fields", ErrTooLarge)
		}
		lineStart := pos
		folded := false
		var e int
		for {
			i := strings.IndexByte(s[pos:], '\n')
			if i <= 0 || s[pos+i-1] != '\r' {
				return newError(b, start+pos, "header line not terminated by CRLF")
			}
			e = pos + i - 1
			pos = e + 2
			if pos < len(s) && (s[pos] == ' ' || s[pos] == '\t') {
				folded = true
				continue
			}
			break
		}
		line := s[lineStart:e]
		if len(line) > maxLine {
			return wrapError(b, start+lineStart, "header line longer than limit", ErrTooLarge)
		}
		if line[0] == ' ' || line[0] == '\t' {
			return newError(b, start+lineStart, "continuation line without a header")
		}
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			return newError(b, start+lineStart, "header line without ':'")
		}
		name := line[:colon]
		j := len(name)
		for j > 0 && (name[j-1] == ' ' || name[j-1] == '\t') {
			j--
		}
		name = name[:j]
		if !isToken(name) {
			return newError(b, start+lineStart, "invalid header name")
		}
		value := line[colon+1:]
		id := lookupHeader(name)
		if folded {
			value = trimWS(unfold(value))
			m.fields = append(m.fields, m.newField(name, value, id))
		} else {
			vs := colon + 1
			for vs < len(line) && (line[vs] == ' ' || line[vs] == '\t') {
				vs++
			}
			ve := len(line)
			for ve > vs && (line[ve-1] == ' ' || line[ve-1] == '\t') {
				ve--
			}
			value = line[vs:ve]
			if len(name) > 0xffff {
				return newError(b, start+lineStart, "header name too long")
			}
			m.fields = append(m.fields, field{nOff: uint32(lineStart), nLen: uint16(len(name)),
				vOff: uint32(lineStart + vs), vLen: uint32(len(value)), id: id})
		}
		switch id {
		case hContentLength:
			// RFC 4475 §3.3.9: several Content-Length values make the framing unknowable.
			if cl >= 0 {
				return newError(b, start+lineStart, "more than one Content-Length")
			}
			n, ok := parseUint(value, uint64(maxSize))
			if !ok {
				return newError(b, start+lineStart, "invalid Content-Length")
			}
			cl = int(n)
		case hCSeq:
			if m.cached&cCSeq == 0 {
				c, err := ParseCSeq(value)
				if err != nil {
					return shiftError(err, start+lineStart+colon+1)
				}
				m.cseq = c
				m.cached |= cCSeq
			}
		}
	}
	if m.IsRequest() && m.cached&cCSeq != 0 && m.cseq.Method != m.Method {
		// RFC 3261 §8.1.1.5 / RFC 4475 §3.1.2.17.
		return newError(b, start, "CSeq method does not match the request method")
	}
	rest := b[bodyStart:]
	if cl >= 0 {
		if cl > len(rest) {
			return newError(b, bodyStart, "Content-Length larger than the body")
		}
		rest = rest[:cl]
	}
	if len(rest) > 0 {
		m.Body = append([]byte(nil), rest...)
	}
	return nil
}

// unfold replaces each CRLF and the whitespace after it with one space
// (RFC 3261 §7.3.1).
func unfold(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\r' && i+1 < len(v) && v[i+1] == '\n' {
			b.WriteByte(' ')
			i += 2
			for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
				i++
			}
			i--
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && equalFold(s[:len(prefix)], prefix)
}

// parseStartLine parses a Request-Line or a Status-Line (RFC 3261 §7.1,
// §7.2). Exactly one SP separates the elements: RFC 4475 §3.1.2.9 and
// §3.1.2.10 allow rejecting extra SP, and this parser does.
func (m *Message) parseStartLine(line string) error {
	if hasPrefixFold(line, "SIP/") {
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			return newError(line, 0, "malformed status line")
		}
		if !equalFold(line[:sp], "SIP/2.0") {
			return wrapError(line, 0, "unsupported SIP version", ErrUnsupportedVersion)
		}
		if len(line) < sp+4 || (len(line) > sp+4 && line[sp+4] != ' ') {
			return newError(line, sp+1, "status code is not three digits")
		}
		code, ok := parseUint(line[sp+1:sp+4], 999)
		if !ok || code < 100 || code > 699 {
			return newError(line, sp+1, "invalid status code")
		}
		m.StatusCode = int(code)
		if len(line) > sp+4 {
			m.Reason = line[sp+5:]
		}
		return nil
	}
	sp1 := strings.IndexByte(line, ' ')
	sp2 := strings.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 == sp1 {
		return newError(line, 0, "malformed request line")
	}
	method := line[:sp1]
	if !isToken(method) {
		return newError(line, 0, "invalid method")
	}
	ver := line[sp2+1:]
	if !equalFold(ver, "SIP/2.0") {
		if hasPrefixFold(ver, "SIP/") {
			return wrapError(line, sp2+1, "unsupported SIP version", ErrUnsupportedVersion)
		}
		return newError(line, sp2+1, "invalid SIP version")
	}
	uri := line[sp1+1 : sp2]
	if uri == "" || strings.IndexByte(uri, ' ') >= 0 || strings.IndexByte(uri, '\t') >= 0 {
		return newError(line, sp1+1, "whitespace in Request-URI")
	}
	u, err := ParseURI(uri)
	if err != nil {
		return shiftError(err, sp1+1)
	}
	if u.Headers != "" {
		// RFC 3261 §19.1.1 (table): headers are not allowed in a Request-URI;
		// RFC 4475 §3.1.2.11 lets a parser reject them.
		return newError(line, sp1+1, "headers in Request-URI")
	}
	m.Method, m.RequestURI = method, u
	return nil
}

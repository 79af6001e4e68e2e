package sipmsg

import (
	"bytes"
	"strings"
	"unsafe"
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
	MaxLineLength  int // 0 means DefaultMaxLineLength; at most 65535
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
	line = min(line, 0xffff) // field records hold 16-bit lengths
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
	eol := bytes.IndexByte(b[start:], '\n')
	if eol <= 0 || b[start+eol-1] != '\r' {
		return newError(b, start, "start line not terminated by CRLF")
	}
	lineEnd := start + eol - 1 // end of the start line
	pos := start + eol + 1

	// Pass 1 over the input: find the header lines and the empty line.
	// Fields record offsets relative to start, valid in the copy below.
	fields := m.inline[:0] // a local slice: no write barrier per append
	var special []pending  // folded lines and long names, rare
	cl, cseq, cseqOff := -1, -1, 0
	hl := lineEnd - start // bytes of the copy holding the start line, names and values
	for {
		if pos+1 < len(b) && b[pos] == '\r' && b[pos+1] == '\n' {
			pos += 2
			break
		}
		if pos >= len(b) {
			return newError(b, start, "header section not terminated by an empty line")
		}
		if len(fields) == maxHeaders {
			return wrapError(b, pos, "too many header fields", ErrTooLarge)
		}
		if len(fields) == cap(fields) {
			rest := b[pos:]
			if e := bytes.Index(rest, []byte("\r\n\r\n")); e >= 0 {
				rest = rest[:e+2] // count header lines, not body lines
			}
			n := len(fields) + bytes.Count(rest, []byte("\n"))
			if n > maxHeaders {
				n = maxHeaders
			}
			fields = append(make([]field, 0, n), fields...)
		}
		lineStart := pos
		isFolded := false
		var e int
		for {
			i := bytes.IndexByte(b[pos:], '\n')
			if i < 0 {
				return newError(b, start, "header section not terminated by an empty line")
			}
			if i == 0 || b[pos+i-1] != '\r' {
				return newError(b, lineStart, "header line not terminated by CRLF")
			}
			e = pos + i - 1
			pos = e + 2
			if pos < len(b) && (b[pos] == ' ' || b[pos] == '\t') {
				isFolded = true
				continue
			}
			break
		}
		line := b[lineStart:e]
		if len(line) > maxLine {
			return wrapError(b, lineStart, "header line longer than limit", ErrTooLarge)
		}
		if line[0] == ' ' || line[0] == '\t' {
			return newError(b, lineStart, "continuation line without a header")
		}
		// field-name HCOLON: a token, optional SP/HT, then ':' (RFC 3261 §7.3.1).
		j := 0
		for j < len(line) && is(line[j], cToken) {
			j++
		}
		colon := j
		for colon < len(line) && (line[colon] == ' ' || line[colon] == '\t') {
			colon++
		}
		if colon == len(line) {
			return newError(b, lineStart, "header line without ':'")
		}
		if j == 0 || line[colon] != ':' {
			return newError(b, lineStart, "invalid header name")
		}
		name := line[:j]
		vs := colon + 1
		for vs < len(line) && (line[vs] == ' ' || line[vs] == '\t') {
			vs++
		}
		ve := len(line)
		for ve > vs && (line[ve-1] == ' ' || line[ve-1] == '\t') {
			ve--
		}
		id := lookupHeader(name)
		f := field{nOff: uint32(lineStart - start), nLen: uint8(len(name)),
			vOff: uint32(lineStart + vs - start), vLen: uint16(ve - vs), id: id}
		if isFolded || len(name) > 0xff {
			special = append(special, pending{i: len(fields), nOff: lineStart - start, nLen: len(name),
				vOff: lineStart + vs - start, vLen: ve - vs, folded: isFolded})
		}
		hl += len(name) + ve - vs
		switch id {
		case hContentLength:
			// RFC 4475 §3.3.9: several Content-Length values make the framing unknowable.
			if cl >= 0 {
				return newError(b, lineStart, "more than one Content-Length")
			}
			n, ok := parseUint(trimWS(line[vs:ve]), uint64(maxSize))
			if !ok {
				return newError(b, lineStart, "invalid Content-Length")
			}
			cl = int(n)
		case hCSeq:
			if cseq < 0 {
				cseq, cseqOff = len(fields), lineStart+vs
			}
		}
		fields = append(fields, f)
	}
	m.fields = fields
	bodyStart := pos
	n := len(b) - bodyStart
	if cl >= 0 {
		if cl > n {
			return newError(b, bodyStart, "Content-Length larger than the body")
		}
		n = cl
	}

	// One copy of the input holds the start line, then each header name and
	// value back to back (no ": ", no CRLF: fewer bytes), read through
	// strings, then the body, handed out as a []byte. Field offsets move to
	// the copy. The header bytes are never written after this copy and no
	// slice of them escapes, so viewing them as a string is sound; Body is
	// capped so it cannot reach them.
	buf := make([]byte, hl+n)
	w := copy(buf, b[start:lineEnd])
	pi := 0
	for i := range m.fields {
		f := &m.fields[i]
		nl, vl := int(f.nLen), int(f.vLen)
		var p *pending
		if pi < len(special) && special[pi].i == i {
			p = &special[pi]
			pi++
			nl, vl = p.nLen, p.vLen
		}
		o := start + int(f.nOff)
		copy(buf[w:], b[o:o+nl])
		f.nOff = uint32(w)
		w += nl
		o = start + int(f.vOff)
		copy(buf[w:], b[o:o+vl])
		f.vOff = uint32(w)
		w += vl
		if p != nil {
			p.nOff, p.vOff = int(f.nOff), int(f.vOff)
		}
	}
	copy(buf[w:], b[bodyStart:bodyStart+n])
	s := unsafe.String(&buf[0], hl)
	m.raw = s
	if n > 0 {
		m.Body = buf[hl : hl+n : hl+n]
	}
	if err := m.parseStartLine(s[:lineEnd-start]); err != nil {
		return shiftError(err, start)
	}
	for _, p := range special {
		v := s[p.vOff : p.vOff+p.vLen]
		if p.folded {
			v = trimWS(unfold(v))
		}
		m.fields[p.i] = m.newField(s[p.nOff:p.nOff+p.nLen], v, m.fields[p.i].id)
	}
	if cseq >= 0 {
		c, err := ParseCSeq(m.value(cseq))
		if err != nil {
			return shiftError(err, cseqOff)
		}
		m.setCSeq(c)
		if m.IsRequest() && c.Method != m.Method {
			// RFC 3261 §8.1.1.5 / RFC 4475 §3.1.2.17.
			return newError(b, start, "CSeq method does not match the request method")
		}
	}
	return nil
}

// pending locates a header line that needs a string of its own.
type pending struct {
	i, nOff, nLen, vOff, vLen int
	folded                    bool
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
	if uri == "" || strings.IndexByte(uri, ' ') >= 0 {
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

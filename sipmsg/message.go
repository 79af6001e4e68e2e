package sipmsg

import (
	"strconv"
	"strings"
)

// Field is one header field line: its name as written (or as given to
// [Message.Add]) and its value with surrounding whitespace removed and line
// folding replaced by a single space.
type Field struct {
	Name  string
	Value string
}

// field records one header line in 12 bytes without pointers: offsets
// into m.raw, or, when nLen is 0 (parsed names are never empty), indexes
// into m.extra, which holds names and values added by mutation,
// unfolded values and names longer than 255 bytes. Small pointer-free
// records keep parsing cheap for the allocator and the GC.
type field struct {
	nOff, vOff uint32
	vLen       uint16
	nLen       uint8
	id         hdrID
}

func (f *field) ext() bool { return f.nLen == 0 }

// Message is a SIP request or response (RFC 3261 §7).
//
// A Message returned by [Parse] holds strings that share one copy of the
// input, so it stays valid after the input buffer is reused. Typed header
// views ([Message.Via], [Message.From], ...) are parsed on first use and
// cached; any mutation through the Message's methods drops the cache.
// A Message is not safe for concurrent use while it is being mutated or
// while a typed accessor fills its cache; use [Message.Clone] to hand a copy
// to another goroutine. Do not copy a Message by value: use Clone.
type Message struct {
	// Method is the request method ("INVITE"); empty for a response.
	Method string
	// RequestURI is the Request-URI of a request.
	RequestURI URI
	// StatusCode is the status of a response (100-699); 0 for a request.
	StatusCode int
	// Reason is the reason phrase of a response (may be empty).
	Reason string
	// Body is the message body: exactly Content-Length bytes when the
	// message carried a Content-Length header.
	Body []byte

	raw    string    // the parsed header section
	fields []field   // header lines in order; may point into inline
	inline [12]field // storage for the usual number of fields

	cseqSeq    uint32 // cached CSeq, split so that it packs with cached
	cached     cacheBits
	cseqMethod string
	via        Via      // cached top Via, inline: every message that is handled reads it
	extra      []string // names and values not in raw
	views      *views
}

// views caches the typed address headers; allocated on first use so that
// parsing and validating alone stay small.
type views struct {
	from    Address
	to      Address
	contact Address
}

func (m *Message) setCSeq(c CSeq) {
	m.cseqSeq, m.cseqMethod = c.Seq, c.Method
	m.cached |= cCSeq
}

func (m *Message) view() *views {
	if m.views == nil {
		m.views = new(views)
	}
	return m.views
}

type cacheBits uint8

const (
	cVia cacheBits = 1 << iota
	cFrom
	cTo
	cCSeq
	cContact
	cToValid // the first To value parses as an address (no cache: SetToTag need not parse it again)
)

// sticky are the cache bits that a change to another header keeps: each
// is cleared by changed only when its own header changes. (The Via cache
// holds views of the top Via's own text, which a change elsewhere leaves
// as it was.)
const sticky = cVia | cCSeq | cToValid

func (m *Message) fname(f *field) string {
	if f.ext() {
		return m.extra[f.nOff]
	}
	return m.raw[f.nOff : f.nOff+uint32(f.nLen)]
}

func (m *Message) fvalue(f *field) string {
	if f.ext() {
		return m.extra[f.vOff]
	}
	return m.raw[f.vOff : f.vOff+uint32(f.vLen)]
}

// value returns the value of field i.
func (m *Message) value(i int) string { return m.fvalue(&m.fields[i]) }

// setValue replaces the value of field i.
func (m *Message) setValue(i int, v string) {
	f := &m.fields[i]
	if !f.ext() {
		*f = m.newField(m.fname(f), v, f.id)
		return
	}
	m.extra[f.vOff] = v
}

// extraFields is how many set fields the first one makes room for: a
// response usually gets a To tag, a Contact, a Content-Type and its
// Content-Length.
const extraFields = 4

func (m *Message) newField(name, value string, id hdrID) field {
	f := field{id: id, nOff: uint32(len(m.extra)), vOff: uint32(len(m.extra) + 1)}
	if m.extra == nil {
		m.extra = make([]string, 0, 2*extraFields)
	}
	m.extra = append(m.extra, name, value)
	return f
}

// NumFields returns the number of header field lines.
func (m *Message) NumFields() int { return len(m.fields) }

// Field returns header field line i (0 <= i < NumFields) without
// allocating.
func (m *Message) Field(i int) Field {
	f := &m.fields[i]
	return Field{Name: m.fname(f), Value: m.fvalue(f)}
}

// Fields returns a new slice of the header fields in order.
func (m *Message) Fields() []Field {
	out := make([]Field, len(m.fields))
	for i := range m.fields {
		out[i] = m.Field(i)
	}
	return out
}

// IsRequest reports whether m is a request.
func (m *Message) IsRequest() bool { return m.Method != "" }

func (m *Message) index(name string, from int) int {
	id := lookupHeader(name)
	for i := from; i < len(m.fields); i++ {
		if m.fieldIs(&m.fields[i], id, name) {
			return i
		}
	}
	return -1
}

func (m *Message) fieldIs(f *field, id hdrID, name string) bool {
	if id != hOther {
		return f.id == id
	}
	return f.id == hOther && equalFold(m.fname(f), name)
}

func (m *Message) indexID(id hdrID, from int) int {
	for i := from; i < len(m.fields); i++ {
		if m.fields[i].id == id {
			return i
		}
	}
	return -1
}

// Has reports whether m has a header field called name (case-insensitive,
// compact forms match their long forms).
func (m *Message) Has(name string) bool { return m.index(name, 0) >= 0 }

// Get returns the value of the first header field called name, as written
// (it may hold several comma-separated values), or "" when there is none.
// Names are case-insensitive and compact forms match ("i" finds Call-ID).
func (m *Message) Get(name string) string {
	if i := m.index(name, 0); i >= 0 {
		return m.value(i)
	}
	return ""
}

// Values returns every value of the header called name, in order. For
// headers whose grammar is a comma-separated list (Via, Contact, Route,
// Allow, ... RFC 3261 §7.3.1) each field line is split at commas outside
// quoted strings and angle brackets; other headers (the Authorization
// family, Date, unknown extension headers, ...) yield one value per line.
func (m *Message) Values(name string) []string { return m.AppendValues(nil, name) }

// AppendValues appends the values [Message.Values] would return to dst.
func (m *Message) AppendValues(dst []string, name string) []string {
	for i := m.index(name, 0); i >= 0; i = m.index(name, i+1) {
		f := &m.fields[i]
		if !hdrTable[f.id].list || f.id == hOther {
			dst = append(dst, m.fvalue(f))
			continue
		}
		rest := m.fvalue(f)
		for rest != "" {
			var item string
			item, rest = nextListItem(rest)
			if item != "" {
				dst = append(dst, item)
			}
		}
	}
	return dst
}

// nextListItem splits s at the first comma outside quotes and <>, returning
// the trimmed item and the rest after the comma.
func nextListItem(s string) (item, rest string) {
	c := strings.IndexByte(s, ',')
	if c < 0 {
		return trimWS(s), ""
	}
	if strings.IndexByte(s[:c], '"') < 0 && strings.IndexByte(s[:c], '<') < 0 {
		return trimWS(s[:c]), s[c+1:]
	}
	inQuote, inAngle := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote:
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
		case c == '"':
			inQuote = true
		case c == '<':
			inAngle = true
		case c == '>':
			inAngle = false
		case c == ',' && !inAngle:
			return trimWS(s[:i]), s[i+1:]
		}
	}
	return trimWS(s), ""
}

// changed drops the cached views after a change to header id.
func (m *Message) changed(id hdrID) {
	m.cached &= sticky
	switch id {
	case hVia:
		m.cached &^= cVia
	case hCSeq:
		m.cached &^= cCSeq
	case hTo:
		m.cached &^= cToValid
	}
}

// Add appends a header field. It does not check the value.
func (m *Message) Add(name, value string) {
	id := lookupHeader(name)
	m.changed(id)
	m.fields = append(m.fields, m.newField(name, value, id))
}

// Prepend inserts a header field before all others, as a proxy or a
// client transport does with its Via (RFC 3261 §8.1.1.7, §16.6).
func (m *Message) Prepend(name, value string) {
	id := lookupHeader(name)
	m.changed(id)
	m.fields = append(m.fields, field{})
	copy(m.fields[1:], m.fields)
	m.fields[0] = m.newField(name, value, id)
}

// Set replaces the first header field called name with value and removes
// the others of that name; if there is none, it appends one.
func (m *Message) Set(name, value string) {
	i := m.index(name, 0)
	if i < 0 {
		m.Add(name, value)
		return
	}
	m.changed(m.fields[i].id)
	m.setValue(i, value)
	m.delFrom(name, i+1)
}

// Del removes every header field called name.
func (m *Message) Del(name string) {
	m.changed(lookupHeader(name))
	m.delFrom(name, 0)
}

func (m *Message) delFrom(name string, from int) {
	id := lookupHeader(name)
	j := from
	for i := from; i < len(m.fields); i++ {
		if m.fieldIs(&m.fields[i], id, name) {
			continue
		}
		m.fields[j] = m.fields[i]
		j++
	}
	m.fields = m.fields[:j]
}

// SetContentLength sets the Content-Length header to len(m.Body).
func (m *Message) SetContentLength() {
	m.Set("Content-Length", strconv.Itoa(len(m.Body)))
}

// Clone returns a deep copy of m that shares no mutable memory with it.
func (m *Message) Clone() *Message {
	c := &Message{Method: m.Method, RequestURI: m.RequestURI, StatusCode: m.StatusCode,
		Reason: m.Reason, raw: m.raw,
		cseqSeq: m.cseqSeq, cseqMethod: m.cseqMethod, via: m.via, cached: m.cached & sticky}
	if m.Body != nil {
		c.Body = append([]byte(nil), m.Body...)
	}
	c.fields = append([]field(nil), m.fields...)
	if len(m.extra) > 0 {
		c.extra = append([]string(nil), m.extra...)
	}
	return c
}

// String returns the wire form of m.
func (m *Message) String() string { return string(m.AppendTo(nil)) }

// AppendTo appends the wire form of m to dst and returns the extended
// slice. It writes the start line, each header field as "Name: Value" in
// order, an empty line and the body; it neither adds nor fixes
// Content-Length (see [Message.SetContentLength]). A message parsed from
// canonical input (one field per line, one space after the colon)
// serializes back byte for byte. It does not allocate when dst has room.
func (m *Message) AppendTo(dst []byte) []byte {
	if m.IsRequest() {
		dst = append(dst, m.Method...)
		dst = append(dst, ' ')
		dst = m.RequestURI.AppendTo(dst)
		dst = append(dst, " SIP/2.0\r\n"...)
	} else {
		dst = append(dst, "SIP/2.0 "...)
		dst = appendInt(dst, m.StatusCode)
		dst = append(dst, ' ')
		dst = append(dst, m.Reason...)
		dst = append(dst, "\r\n"...)
	}
	for i := range m.fields {
		f := &m.fields[i]
		dst = append(dst, m.fname(f)...)
		dst = append(dst, ": "...)
		dst = append(dst, m.fvalue(f)...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, m.Body...)
}

// WireLen returns the length of m's wire form, what AppendTo appends,
// without building it.
func (m *Message) WireLen() int {
	var n int
	if m.IsRequest() {
		var uri [128]byte
		n = len(m.Method) + 1 + len(m.RequestURI.AppendTo(uri[:0])) + len(" SIP/2.0\r\n")
	} else {
		var code [8]byte
		n = len("SIP/2.0 ") + len(appendInt(code[:0], m.StatusCode)) + 1 + len(m.Reason) + 2
	}
	for i := range m.fields {
		f := &m.fields[i]
		n += len(m.fname(f)) + 2 + len(m.fvalue(f)) + 2
	}
	return n + 2 + len(m.Body)
}

func trimWS[T string | []byte](s T) T {
	i, j := 0, len(s)
	for i < j && isWS(s[i]) {
		i++
	}
	for j > i && isWS(s[j-1]) {
		j--
	}
	return s[i:j]
}

// trimLeftWS drops the whitespace isWS accepts from the start of s (a loop:
// strings.TrimLeft builds its byte set on every call).
func trimLeftWS(s string) string {
	i := 0
	for i < len(s) && isWS(s[i]) {
		i++
	}
	return s[i:]
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func appendInt(dst []byte, n int) []byte {
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

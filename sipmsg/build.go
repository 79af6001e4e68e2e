package sipmsg

import (
	"strings"
	"unsafe"
)

// NewRequest returns a request with the given method and Request-URI and
// no header fields. Add the mandatory headers (RFC 3261 §8.1.1: To, From,
// CSeq, Call-ID, Max-Forwards, Via) with [Message.Add] or the typed
// setters, then set the body and call [Message.SetContentLength].
func NewRequest(method string, uri URI) *Message {
	return &Message{Method: method, RequestURI: uri}
}

// NewResponse builds a response to req as RFC 3261 §8.2.6.2 says: it copies
// every Via (in order), From, To, Call-ID and CSeq, and Timestamp for a 100
// (§8.2.6.1). For a 101-299 response to a dialog-creating request (INVITE,
// SUBSCRIBE, REFER) it copies Record-Route too (§12.1.1). reason "" means
// the default phrase for code. It ends with "Content-Length: 0". Add a To
// tag with [Message.SetToTag]. The response shares no memory with req: it
// holds one copy of the header values it took.
func NewResponse(req *Message, code int, reason string) *Message {
	if reason == "" {
		reason = ReasonPhrase(code)
	}
	m := &Message{StatusCode: code, Reason: reason}
	m.fields = m.inline[:0]
	dialog := code > 100 && code < 300 && (req.Method == "INVITE" || req.Method == "SUBSCRIBE" || req.Method == "REFER")
	keep := func(id hdrID) bool {
		switch id {
		case hVia, hFrom, hTo, hCallID, hCSeq:
			return true
		case hRecordRoute:
			return dialog
		case hTimestamp:
			return code == 100
		}
		return false
	}
	// The copied names and values go into one new buffer, so that the
	// response does not keep the request (and its body) alive.
	n := len("Content-Length0")
	for i := range req.fields {
		f := &req.fields[i]
		if keep(f.id) {
			n += len(req.fname(f)) + len(req.fvalue(f))
		}
	}
	buf := make([]byte, 0, n)
	for i := range req.fields {
		f := &req.fields[i]
		if !keep(f.id) {
			continue
		}
		name, value := req.fname(f), req.fvalue(f)
		if len(name) > 0xff || len(value) > 0xffff {
			m.fields = append(m.fields, m.newField(name, value, f.id))
			continue
		}
		nf := field{nOff: uint32(len(buf)), nLen: uint8(len(name)), id: f.id}
		buf = append(buf, name...)
		nf.vOff, nf.vLen = uint32(len(buf)), uint16(len(value))
		buf = append(buf, value...)
		m.fields = append(m.fields, nf)
	}
	cl := field{nOff: uint32(len(buf)), nLen: uint8(len("Content-Length")), id: hContentLength}
	buf = append(buf, "Content-Length"...)
	cl.vOff, cl.vLen = uint32(len(buf)), 1
	buf = append(buf, '0')
	m.fields = append(m.fields, cl)
	// buf is not written again and no slice of it escapes.
	m.raw = unsafe.String(unsafe.SliceData(buf), len(buf))
	m.cached = req.cached & cToValid // To is the request's, as it was
	if req.cached&cVia != 0 {
		// The top Via is the request's, byte for byte: its parsed views,
		// moved onto the copy, spare the transport parsing it again.
		m.via, m.cached = req.via, m.cached|cVia
		from, to := req.value(req.indexID(hVia, 0)), m.value(m.indexID(hVia, 0))
		for _, s := range []*string{&m.via.Transport, &m.via.Host, (*string)(&m.via.Params)} {
			var ok bool
			if *s, ok = rebase(*s, from, to); !ok {
				m.via, m.cached = Via{}, m.cached&^cVia
				break
			}
		}
	}
	return m
}

// rebase returns the view of to that s is of from, which holds the same
// text as to; ok is false when s is not a view of from.
func rebase(s, from, to string) (_ string, ok bool) {
	if s == "" {
		return "", true
	}
	off := uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(unsafe.StringData(from)))
	if off > uintptr(len(from)) || uintptr(len(s)) > uintptr(len(from))-off || len(from) != len(to) {
		return "", false
	}
	return to[off : off+uintptr(len(s))], true
}

// NewCancel builds a CANCEL for req as RFC 3261 §9.1 says: same
// Request-URI, Call-ID, From, To and CSeq number, the request's top Via
// only, its Route headers, Max-Forwards 70 and Content-Length 0.
func NewCancel(req *Message) (*Message, error) {
	return newHopRequest(req, "CANCEL", nil)
}

// NewAck builds the ACK for a non-2xx final response resp to the INVITE
// req (RFC 3261 §17.1.1.3): like a CANCEL, but with To taken from resp so
// it carries the response's tag. The ACK for a 2xx is a new request of
// the dialog (§13.2.2.4) and is built by the dialog layer instead.
func NewAck(req, resp *Message) (*Message, error) {
	if _, err := resp.To(); err != nil {
		return nil, err
	}
	return newHopRequest(req, "ACK", resp)
}

func newHopRequest(req *Message, method string, resp *Message) (*Message, error) {
	via, ok := req.first(hVia)
	if !ok {
		return nil, &ParseError{Reason: "request has no Via", Err: ErrMissingHeader}
	}
	cseq, err := req.CSeq()
	if err != nil {
		return nil, err
	}
	m := NewRequest(method, req.RequestURI)
	m.fields = append(m.fields, m.newField("Via", via, hVia))
	for i := range req.fields {
		f := &req.fields[i]
		switch f.id {
		case hFrom, hCallID, hRoute:
		case hTo:
			if resp != nil {
				continue
			}
		default:
			continue
		}
		m.fields = append(m.fields, m.newField(req.fname(f), req.fvalue(f), f.id))
	}
	if resp != nil {
		i := resp.indexID(hTo, 0)
		m.fields = append(m.fields, m.newField(resp.fname(&resp.fields[i]), resp.value(i), hTo))
	}
	m.Add("CSeq", CSeq{Seq: cseq.Seq, Method: method}.String())
	m.Add("Max-Forwards", "70")
	m.Add("Content-Length", "0")
	return m, nil
}

// SetToTag adds tag to the To header unless it already has one
// (RFC 3261 §8.2.6.2). It returns an error when To is missing or invalid.
func (m *Message) SetToTag(tag string) error {
	i := m.indexID(hTo, 0)
	if i < 0 {
		return ErrMissingHeader
	}
	v := m.value(i)
	var params Params
	if m.cached&cToValid != 0 {
		params = addressParams(v) // what ParseAddress finds in a valid To
	} else {
		to, err := ParseAddress(v)
		if err != nil {
			return err
		}
		params = to.Params
	}
	if params.Has("tag") {
		return nil
	}
	// The value as written, then ";tag=": one string, and the parsed
	// views of the others stay valid (no cache is filled).
	v = trimWS(v)
	for strings.HasSuffix(v, ";") { // an empty parameter list: "<sip:b@h>;"
		v = trimWS(v[:len(v)-1])
	}
	m.changed(hTo) // tag is not checked
	m.setValue(i, v+";tag="+tag)
	m.delFrom("To", i+1)
	return nil
}

// SetVia replaces the topmost Via value with v (for example to add
// received and rport, RFC 3261 §18.2.1, RFC 3581 §4), keeping the other
// values on the same line.
func (m *Message) SetVia(v Via) error {
	i := m.indexID(hVia, 0)
	if i < 0 {
		return ErrMissingHeader
	}
	_, rest := nextListItem(m.value(i))
	val := v.String()
	if rest = trimWS(rest); rest != "" {
		val += ", " + rest
	}
	m.changed(hVia)
	m.setValue(i, val)
	return nil
}

// PrependVia adds v as the new topmost Via (RFC 3261 §8.1.1.7, §16.6).
func (m *Message) PrependVia(v Via) { m.Prepend("Via", v.String()) }

// RemoveVia removes the topmost Via value (RFC 3261 §16.7 step 3) and
// reports whether there was one.
func (m *Message) RemoveVia() bool {
	i := m.indexID(hVia, 0)
	if i < 0 {
		return false
	}
	m.changed(hVia)
	_, rest := nextListItem(m.value(i))
	if rest = trimWS(rest); rest != "" {
		m.setValue(i, rest)
		return true
	}
	copy(m.fields[i:], m.fields[i+1:])
	m.fields = m.fields[:len(m.fields)-1]
	return true
}

// Validate checks what RFC 3261 §8.1.1, §8.2 and §16.3 require of a
// message before a UA or proxy acts on it: Via, From, To, Call-ID and
// CSeq present and well formed, From, To, Call-ID, CSeq and Max-Forwards
// not repeated, Max-Forwards in 0-255, every Via and Contact well formed.
// A request that fails answers 400 Bad Request. Validate caches the top
// Via and CSeq; it does not allocate.
func (m *Message) Validate() error {
	for _, id := range [...]hdrID{hFrom, hTo, hCallID, hCSeq, hMaxForwards} {
		i := m.indexID(id, 0)
		if i < 0 {
			if id == hMaxForwards {
				continue // optional for RFC 2543 peers (RFC 4475 §3.4.1)
			}
			return &ParseError{Reason: "missing " + hdrTable[id].name + " header", Err: ErrMissingHeader}
		}
		if m.indexID(id, i+1) >= 0 {
			return &ParseError{Reason: "more than one " + hdrTable[id].name + " header"}
		}
		if id == hCallID {
			continue // not a list header: its value is checked below
		}
		if _, rest := nextListItem(m.value(i)); rest != "" {
			return &ParseError{Reason: "more than one " + hdrTable[id].name + " value"}
		}
	}
	if strings.ContainsAny(m.CallID(), " \t") {
		return newError(m.CallID(), 0, "invalid Call-ID")
	}
	if _, err := m.Via(); err != nil {
		if err == ErrMissingHeader {
			return &ParseError{Reason: "missing Via header", Err: err}
		}
		return err
	}
	// The top Via was parsed just above; checkList starts after it.
	if err := m.checkList(hVia, checkVia, 1); err != nil {
		return err
	}
	// From and To are parsed, not cached: most messages are handled
	// without reading them, and the cache is the larger part of a message.
	for _, id := range [...]hdrID{hFrom, hTo} {
		if _, err := parsePartyAddress(m.value(m.indexID(id, 0))); err != nil {
			return err // present once, checked above; "" is an error too
		}
	}
	m.cached |= cToValid
	if _, err := m.CSeq(); err != nil {
		return err
	}
	if _, err := m.MaxForwards(); err != nil && err != ErrMissingHeader {
		return err
	}
	return m.checkList(hContact, checkAddress, 0)
}

// checkList applies check to every value of every field with id but the
// first skip list items, without allocating.
func (m *Message) checkList(id hdrID, check func(string) error, skip int) error {
	for i := m.indexID(id, 0); i >= 0; i = m.indexID(id, i+1) {
		for rest := m.value(i); rest != ""; {
			var item string
			item, rest = nextListItem(rest)
			if skip > 0 {
				skip--
				continue
			}
			if item == "" {
				continue
			}
			if err := check(item); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkVia(s string) error {
	_, err := ParseVia(s)
	return err
}

func checkAddress(s string) error {
	_, err := ParseAddress(s)
	return err
}

// ReasonPhrase returns the RFC 3261 §21 reason phrase for code, or "" for
// codes it does not know.
func ReasonPhrase(code int) string {
	switch code {
	case 100:
		return "Trying"
	case 180:
		return "Ringing"
	case 181:
		return "Call Is Being Forwarded"
	case 182:
		return "Queued"
	case 183:
		return "Session Progress"
	case 200:
		return "OK"
	case 202:
		return "Accepted"
	case 300:
		return "Multiple Choices"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Moved Temporarily"
	case 305:
		return "Use Proxy"
	case 380:
		return "Alternative Service"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 402:
		return "Payment Required"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 406:
		return "Not Acceptable"
	case 407:
		return "Proxy Authentication Required"
	case 408:
		return "Request Timeout"
	case 410:
		return "Gone"
	case 413:
		return "Request Entity Too Large"
	case 414:
		return "Request-URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Unsupported URI Scheme"
	case 420:
		return "Bad Extension"
	case 421:
		return "Extension Required"
	case 422:
		return "Session Interval Too Small"
	case 423:
		return "Interval Too Brief"
	case 480:
		return "Temporarily Unavailable"
	case 481:
		return "Call/Transaction Does Not Exist"
	case 482:
		return "Loop Detected"
	case 483:
		return "Too Many Hops"
	case 484:
		return "Address Incomplete"
	case 485:
		return "Ambiguous"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 489:
		return "Bad Event"
	case 491:
		return "Request Pending"
	case 493:
		return "Undecipherable"
	case 500:
		return "Server Internal Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Server Time-out"
	case 505:
		return "Version Not Supported"
	case 513:
		return "Message Too Large"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	case 604:
		return "Does Not Exist Anywhere"
	case 606:
		return "Not Acceptable"
	}
	return ""
}

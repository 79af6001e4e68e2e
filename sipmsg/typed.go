package sipmsg

import (
	"strings"
	"time"
)

// CSeq is the value of a CSeq header (RFC 3261 §20.16).
type CSeq struct {
	Seq    uint32
	Method string
}

// ParseCSeq parses "1*DIGIT LWS Method". The number must fit in 32 bits
// (RFC 3261 §8.1.1.5; RFC 4475 §3.1.2.4).
func ParseCSeq(s string) (CSeq, error) {
	var c CSeq
	v := trimWS(s)
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	n, ok := parseUint(v[:i], 1<<32-1)
	if !ok {
		return c, newError(s, 0, "invalid CSeq number")
	}
	j := skipWS(v, i)
	if j == i || !isToken(v[j:]) {
		return c, newError(s, j, "invalid CSeq method")
	}
	c.Seq, c.Method = uint32(n), v[j:]
	return c, nil
}

// String returns "Seq Method".
func (c CSeq) String() string {
	return string(append(append(appendInt(nil, int(c.Seq)), ' '), c.Method...))
}

// first returns the first list item of the first field with id.
func (m *Message) first(id hdrID) (string, bool) {
	i := m.indexID(id, 0)
	if i < 0 {
		return "", false
	}
	item, _ := nextListItem(m.value(i))
	return item, true
}

// Cache parses the typed headers the accessors below cache (Via, From,
// To, CSeq, Contact) now. The accessors fill their cache on first use,
// which writes to the message; after Cache they only read it, so several
// goroutines may call them at once on a message none of them modifies.
func (m *Message) Cache() {
	m.Via()     //nolint:errcheck // a header that does not parse stays uncached: reading it writes nothing
	m.From()    //nolint:errcheck
	m.To()      //nolint:errcheck
	m.CSeq()    //nolint:errcheck
	m.Contact() //nolint:errcheck
}

// Via returns the topmost Via value, parsed and cached.
func (m *Message) Via() (Via, error) {
	if m.cached&cVia != 0 {
		return m.via, nil
	}
	s, ok := m.first(hVia)
	if !ok {
		return Via{}, ErrMissingHeader
	}
	v, err := ParseVia(s)
	if err != nil {
		return v, err
	}
	m.via = v
	m.cached |= cVia
	return v, nil
}

// Vias returns every Via value in order (RFC 3261 §20.42).
func (m *Message) Vias() ([]Via, error) {
	var out []Via
	for _, s := range m.AppendValues(nil, "Via") {
		v, err := ParseVia(s)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (m *Message) addr(id hdrID, bit cacheBits) (Address, error) {
	if m.cached&bit != 0 {
		return *m.addrCache(bit), nil
	}
	i := m.indexID(id, 0)
	if i < 0 {
		return Address{}, ErrMissingHeader
	}
	s := m.value(i)
	var a Address
	var err error
	if id == hContact {
		s, _ = nextListItem(s)
		a, err = ParseAddress(s)
	} else {
		a, err = parsePartyAddress(s)
	}
	if err != nil {
		return a, err
	}
	*m.addrCache(bit) = a
	m.cached |= bit
	if id == hTo {
		m.cached |= cToValid
	}
	return a, nil
}

func (m *Message) addrCache(bit cacheBits) *Address {
	v := m.view()
	switch bit {
	case cFrom:
		return &v.from
	case cTo:
		return &v.to
	}
	return &v.contact
}

// From returns the From header, parsed and cached.
func (m *Message) From() (Address, error) { return m.addr(hFrom, cFrom) }

// To returns the To header, parsed and cached.
func (m *Message) To() (Address, error) { return m.addr(hTo, cTo) }

// ToTag returns the tag parameter of the To header, "" when there is none.
// Unlike To, it neither parses the URI nor fills the cache: it is for a
// message about to be sent, such as a response a transaction records.
func (m *Message) ToTag() string {
	if m.cached&cTo != 0 {
		return m.views.to.Tag()
	}
	i := m.indexID(hTo, 0)
	if i < 0 {
		return ""
	}
	return addressParams(m.value(i)).Value("tag")
}

// Contact returns the first Contact value, parsed and cached. A Contact of
// "*" has Wildcard set.
func (m *Message) Contact() (Address, error) { return m.addr(hContact, cContact) }

// Addresses parses every value of a header whose values are name-addrs
// (Contact, Route, Record-Route, Path, P-Asserted-Identity, ...).
func (m *Message) Addresses(name string) ([]Address, error) {
	var out []Address
	for _, s := range m.AppendValues(nil, name) {
		a, err := ParseAddress(s)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Contacts returns every Contact value.
func (m *Message) Contacts() ([]Address, error) { return m.Addresses("Contact") }

// Route returns the Route set in order (RFC 3261 §20.34).
func (m *Message) Route() ([]Address, error) { return m.Addresses("Route") }

// RecordRoute returns the Record-Route values in order (RFC 3261 §20.30).
func (m *Message) RecordRoute() ([]Address, error) { return m.Addresses("Record-Route") }

// CallID returns the Call-ID, or "" when absent.
func (m *Message) CallID() string {
	if i := m.indexID(hCallID, 0); i >= 0 {
		return m.value(i)
	}
	return ""
}

// CSeq returns the CSeq header, parsed and cached.
func (m *Message) CSeq() (CSeq, error) {
	if m.cached&cCSeq != 0 {
		return CSeq{Seq: m.cseqSeq, Method: m.cseqMethod}, nil
	}
	i := m.indexID(hCSeq, 0)
	if i < 0 {
		return CSeq{}, ErrMissingHeader
	}
	c, err := ParseCSeq(m.value(i))
	if err != nil {
		return c, err
	}
	m.setCSeq(c)
	return c, nil
}

func (m *Message) uintHeader(id hdrID, max uint64) (uint64, error) {
	i := m.indexID(id, 0)
	if i < 0 {
		return 0, ErrMissingHeader
	}
	v := m.value(i)
	num := v
	if j := strings.IndexByte(v, ';'); j >= 0 { // Session-Expires, Min-SE carry params
		num = trimWS(v[:j])
	}
	n, ok := parseUint(num, max)
	if !ok {
		return 0, newError(v, 0, "invalid "+hdrTable[id].name)
	}
	return n, nil
}

// MaxForwards returns Max-Forwards (0-255, RFC 3261 §20.22).
func (m *Message) MaxForwards() (int, error) {
	n, err := m.uintHeader(hMaxForwards, 255)
	return int(n), err
}

// ContentLength returns Content-Length.
func (m *Message) ContentLength() (int, error) {
	n, err := m.uintHeader(hContentLength, 1<<31-1)
	return int(n), err
}

// Expires returns the Expires header in seconds (RFC 3261 §20.19).
func (m *Message) Expires() (uint32, error) {
	n, err := m.uintHeader(hExpires, 1<<32-1)
	return uint32(n), err
}

// MinExpires returns Min-Expires in seconds (RFC 3261 §20.23).
func (m *Message) MinExpires() (uint32, error) {
	n, err := m.uintHeader(hMinExpires, 1<<32-1)
	return uint32(n), err
}

// RetryAfter returns the delta-seconds of Retry-After (RFC 3261 §20.33):
// how long the sender of a 503, 486, 480 or 600 expects to be
// unavailable. A comment and parameters after the number are ignored.
func (m *Message) RetryAfter() (time.Duration, error) {
	i := m.indexID(hRetryAfter, 0)
	if i < 0 {
		return 0, ErrMissingHeader
	}
	v := trimWS(m.value(i))
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	n, ok := parseUint(v[:end], 1<<31-1)
	if !ok || (end < len(v) && v[end] != ' ' && v[end] != '\t' && v[end] != '(' && v[end] != ';') {
		return 0, newError(v, end, "invalid Retry-After")
	}
	return time.Duration(n) * time.Second, nil
}

// MinSE returns Min-SE in seconds (RFC 4028 §5).
func (m *Message) MinSE() (uint32, error) {
	n, err := m.uintHeader(hMinSE, 1<<32-1)
	return uint32(n), err
}

// RSeq returns RSeq (RFC 3262 §7.1).
func (m *Message) RSeq() (uint32, error) {
	n, err := m.uintHeader(hRSeq, 1<<32-1)
	return uint32(n), err
}

// SessionExpires is the Session-Expires header (RFC 4028 §4).
type SessionExpires struct {
	Delta     uint32 // seconds
	Refresher string // "uac", "uas" or ""
	Params    Params
}

// SessionExpires returns the Session-Expires header.
func (m *Message) SessionExpires() (SessionExpires, error) {
	var se SessionExpires
	n, err := m.uintHeader(hSessionExpires, 1<<32-1)
	if err != nil {
		return se, err
	}
	se.Delta = uint32(n)
	v := m.Get("Session-Expires")
	if j := strings.IndexByte(v, ';'); j >= 0 {
		se.Params = Params(v[j+1:])
		se.Refresher = se.Params.Value("refresher")
	}
	return se, nil
}

// MediaType is a Content-Type value (RFC 3261 §20.15).
type MediaType struct {
	Type, Subtype string
	Params        Params
}

// ContentType returns the Content-Type header.
func (m *Message) ContentType() (MediaType, error) {
	var mt MediaType
	i := m.indexID(hContentType, 0)
	if i < 0 {
		return mt, ErrMissingHeader
	}
	v := m.value(i)
	main, params, _ := strings.Cut(v, ";")
	t, sub, ok := strings.Cut(main, "/")
	t, sub = trimWS(t), trimWS(sub)
	if !ok || !isToken(t) || !isToken(sub) {
		return mt, newError(v, 0, "invalid Content-Type")
	}
	mt.Type, mt.Subtype, mt.Params = t, sub, Params(params)
	return mt, nil
}

// HasToken reports whether the comma-separated token list in the headers
// called name (Require, Supported, Allow, Proxy-Require, ...) contains tok,
// compared case-insensitively. It does not allocate.
func (m *Message) HasToken(name, tok string) bool {
	id := lookupHeader(name)
	for i := range m.fields {
		if !m.fieldIs(&m.fields[i], id, name) {
			continue
		}
		for rest := m.value(i); rest != ""; {
			var item string
			item, rest = nextListItem(rest)
			if equalFold(item, tok) {
				return true
			}
		}
	}
	return false
}

// Require returns the option tags of Require (RFC 3261 §20.32).
func (m *Message) Require() []string { return m.Values("Require") }

// Supported returns the option tags of Supported (RFC 3261 §20.37).
func (m *Message) Supported() []string { return m.Values("Supported") }

// Allow returns the methods of Allow (RFC 3261 §20.5).
func (m *Message) Allow() []string { return m.Values("Allow") }

// ReferTo returns the Refer-To address (RFC 3515 §2.1).
func (m *Message) ReferTo() (Address, error) {
	i := m.indexID(hReferTo, 0)
	if i < 0 {
		return Address{}, ErrMissingHeader
	}
	return ParseAddress(m.value(i))
}

// Replaces is the Replaces header (RFC 3891 §6.1).
type Replaces struct {
	CallID    string
	ToTag     string
	FromTag   string
	EarlyOnly bool
	Params    Params
}

// Replaces returns the Replaces header.
func (m *Message) Replaces() (Replaces, error) {
	var r Replaces
	i := m.indexID(hReplaces, 0)
	if i < 0 {
		return r, ErrMissingHeader
	}
	v := m.value(i)
	id, params, _ := strings.Cut(v, ";")
	r.CallID = trimWS(id)
	r.Params = Params(params)
	r.ToTag, r.FromTag = r.Params.Value("to-tag"), r.Params.Value("from-tag")
	r.EarlyOnly = r.Params.Has("early-only")
	if r.CallID == "" || !r.Params.Has("to-tag") || !r.Params.Has("from-tag") {
		return r, newError(v, 0, "invalid Replaces")
	}
	return r, nil
}

// Event is the Event header (RFC 6665 §8.2.1).
type Event struct {
	Type   string // event package, e.g. "refer", "dialog"
	ID     string // id parameter
	Params Params
}

// Event returns the Event header.
func (m *Message) Event() (Event, error) {
	var e Event
	i := m.indexID(hEvent, 0)
	if i < 0 {
		return e, ErrMissingHeader
	}
	v := m.value(i)
	t, params, _ := strings.Cut(v, ";")
	e.Type, e.Params = trimWS(t), Params(params)
	e.ID = e.Params.Value("id")
	if !isToken(e.Type) {
		return e, newError(v, 0, "invalid Event")
	}
	return e, nil
}

// SubscriptionState is the Subscription-State header (RFC 6665 §8.2.3).
type SubscriptionState struct {
	State   string // "active", "pending", "terminated" or an extension
	Reason  string
	Expires int // -1 when absent
	Params  Params
}

// Reason is one value of a Reason header (RFC 3326): why a request such as
// BYE or CANCEL was sent, in the terms of a protocol.
type Reason struct {
	// Protocol is "SIP", "Q.850" or another token, as written.
	Protocol string
	// Cause is the protocol's cause code (a SIP status code, an ITU-T
	// Q.850 cause value), or -1 when the value gives none.
	Cause int
	// Text is the text parameter, unquoted, or "".
	Text string
}

// Reasons returns the values of the Reason headers (RFC 3326 §2), in
// order; none is not an error.
func (m *Message) Reasons() ([]Reason, error) {
	var out []Reason
	for i := m.index("Reason", 0); i >= 0; i = m.index("Reason", i+1) {
		for rest := m.value(i); rest != ""; {
			var item string
			item, rest = nextListItem(rest)
			if item == "" {
				continue
			}
			proto, params, _ := strings.Cut(item, ";")
			r := Reason{Protocol: trimWS(proto), Cause: -1}
			if !isToken(r.Protocol) {
				return out, newError(item, 0, "invalid Reason protocol")
			}
			ps := Params(params)
			if c, ok := ps.Get("cause"); ok {
				n, ok := parseUint(c, 1<<31-1)
				if !ok {
					return out, newError(item, 0, "invalid Reason cause")
				}
				r.Cause = int(n)
			}
			if t, ok := ps.Get("text"); ok {
				r.Text = Unquote(t)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// SubscriptionState returns the Subscription-State header. An expires
// parameter that is not a number is an error, except with terminated,
// where it means nothing (RFC 6665 §4.1.3) and must not hide that the
// subscription ended: Expires is then -1, as when it is absent.
func (m *Message) SubscriptionState() (SubscriptionState, error) {
	ss := SubscriptionState{Expires: -1}
	i := m.indexID(hSubscriptionState, 0)
	if i < 0 {
		return ss, ErrMissingHeader
	}
	v := m.value(i)
	st, params, _ := strings.Cut(v, ";")
	ss.State, ss.Params = trimWS(st), Params(params)
	if !isToken(ss.State) {
		return ss, newError(v, 0, "invalid Subscription-State")
	}
	ss.Reason = ss.Params.Value("reason")
	if e, ok := ss.Params.Get("expires"); ok {
		n, ok := parseUint(e, 1<<31-1)
		switch {
		case ok:
			ss.Expires = int(n)
		case !strings.EqualFold(ss.State, "terminated"):
			return ss, newError(v, 0, "invalid Subscription-State expires")
		}
	}
	return ss, nil
}

// RAck is the RAck header (RFC 3262 §7.2).
type RAck struct {
	RSeq   uint32
	CSeq   uint32
	Method string
}

// RAck returns the RAck header.
func (m *Message) RAck() (RAck, error) {
	var r RAck
	i := m.indexID(hRAck, 0)
	if i < 0 {
		return r, ErrMissingHeader
	}
	v := m.value(i)
	f := strings.Fields(v)
	if len(f) != 3 {
		return r, newError(v, 0, "invalid RAck")
	}
	a, ok1 := parseUint(f[0], 1<<32-1)
	b, ok2 := parseUint(f[1], 1<<32-1)
	if !ok1 || !ok2 || !isToken(f[2]) {
		return r, newError(v, 0, "invalid RAck")
	}
	r.RSeq, r.CSeq, r.Method = uint32(a), uint32(b), f[2]
	return r, nil
}

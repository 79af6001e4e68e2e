package stun

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MagicCookie is the fixed value in bytes 4–7 of every STUN message
// (RFC 8489 §5). It is also the XOR mask of XOR-MAPPED-ADDRESS.
const MagicCookie = 0x2112A442

// HeaderSize is the length of the STUN message header (RFC 8489 §5).
const HeaderSize = 20

// attrHeaderSize is the length of an attribute's type and length fields
// (RFC 8489 §14).
const attrHeaderSize = 4

// maxMessageSize is the largest message the 16-bit length field allows.
const maxMessageSize = HeaderSize + 0xFFFF

// Errors that callers branch on. Decode errors other than these are plain
// "stun: ..." errors describing the malformation.
var (
	// ErrNotSTUN reports input that is not a STUN message: too short, the
	// two most significant bits are not zero, or the magic cookie is wrong
	// (RFC 8489 §5). Such input may be RTP, DTLS or a classic RFC 3489
	// message; see Classify.
	ErrNotSTUN = errors.New("stun: not a STUN message")

	// ErrNoAttribute reports that a requested attribute is absent.
	ErrNoAttribute = errors.New("stun: attribute not present")

	// ErrIntegrity reports a MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256
	// value that does not match the key (RFC 8489 §14.5, §14.6).
	ErrIntegrity = errors.New("stun: message integrity check failed")

	// ErrFingerprint reports a FINGERPRINT value that does not match the
	// message (RFC 8489 §14.7).
	ErrFingerprint = errors.New("stun: fingerprint check failed")
)

// Class is the class of a STUN message: request, indication, success
// response or error response (RFC 8489 §5).
type Class uint8

// Message classes (RFC 8489 §5). The two bits C1 C0 are spread over the
// message type at bit positions 8 and 4.
const (
	ClassRequest    Class = 0b00
	ClassIndication Class = 0b01
	ClassSuccess    Class = 0b10
	ClassError      Class = 0b11
)

// String returns the class name as the RFC writes it.
func (c Class) String() string {
	switch c {
	case ClassRequest:
		return "request"
	case ClassIndication:
		return "indication"
	case ClassSuccess:
		return "success response"
	case ClassError:
		return "error response"
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Method is the 12-bit STUN method (RFC 8489 §5, §18.2).
type Method uint16

// Methods registered by RFC 8489 §18.2 and RFC 8656 (TURN).
const (
	MethodBinding          Method = 0x001
	MethodAllocate         Method = 0x003
	MethodRefresh          Method = 0x004
	MethodSend             Method = 0x006
	MethodData             Method = 0x007
	MethodCreatePermission Method = 0x008
	MethodChannelBind      Method = 0x009
)

// String returns the method name, or its number in hex when unknown.
func (m Method) String() string {
	switch m {
	case MethodBinding:
		return "Binding"
	case MethodAllocate:
		return "Allocate"
	case MethodRefresh:
		return "Refresh"
	case MethodSend:
		return "Send"
	case MethodData:
		return "Data"
	case MethodCreatePermission:
		return "CreatePermission"
	case MethodChannelBind:
		return "ChannelBind"
	}
	return fmt.Sprintf("method(0x%03x)", uint16(m))
}

// Type is the 14-bit STUN message type: a method and a class interleaved as
// RFC 8489 §5 Figure 3 shows (M11..M7 C1 M6..M4 C0 M3..M0).
type Type uint16

// Message types used most often.
const (
	BindingRequest    Type = 0x0001
	BindingIndication Type = 0x0011
	BindingSuccess    Type = 0x0101
	BindingError      Type = 0x0111
)

// NewType interleaves a method and a class into a message type
// (RFC 8489 §5). Bits of m above the 12th are dropped.
func NewType(m Method, c Class) Type {
	mv := uint16(m) & 0x0FFF
	cv := uint16(c) & 0b11
	t := mv&0x000F | (mv&0x0070)<<1 | (mv&0x0F80)<<2
	t |= (cv&0b01)<<4 | (cv&0b10)<<7
	return Type(t)
}

// Method returns the method bits of t.
func (t Type) Method() Method {
	v := uint16(t)
	return Method(v&0x000F | (v&0x00E0)>>1 | (v&0x3E00)>>2)
}

// Class returns the class bits of t.
func (t Type) Class() Class {
	v := uint16(t)
	return Class((v>>4)&0b01 | (v>>7)&0b10)
}

// String returns e.g. "Binding request".
func (t Type) String() string {
	return t.Method().String() + " " + t.Class().String()
}

// TransactionID is the 96-bit transaction ID of a message (RFC 8489 §5).
type TransactionID [12]byte

// Attribute is one attribute of a decoded Message. Value is a view into the
// message's buffer without padding; it is valid until that buffer is reused.
type Attribute struct {
	Type  AttrType
	Value []byte
	// Offset is the position of the attribute's type field from the start of
	// the message.
	Offset int
}

// Message is a STUN message decoded from a buffer (RFC 8489 §5, §14).
//
// A Message is meant to be reused: Decode fills it without allocating once
// its Attributes slice has grown to the number of attributes seen. The
// attribute values are views into Raw, which is the caller's buffer for
// Decode and the Message's own buffer for Unmarshal. A Message is not safe
// for concurrent use.
type Message struct {
	Type          Type
	TransactionID TransactionID
	// Raw is the whole message, header included (20 + length bytes).
	Raw []byte
	// Attributes are the attributes in wire order. Attributes that follow
	// MESSAGE-INTEGRITY, other than MESSAGE-INTEGRITY-SHA256 and
	// FINGERPRINT, and anything after FINGERPRINT, are not listed: RFC 8489
	// §14.5 says to ignore them, as they are not covered by the integrity
	// check.
	Attributes []Attribute

	own []byte // backing storage for Unmarshal
}

// IsMessage reports whether b starts with something that looks like a STUN
// message: two zero bits, the magic cookie, and a length that is a multiple
// of four and fits in b. It does not look at the attributes.
func IsMessage(b []byte) bool {
	if len(b) < HeaderSize || b[0]&0xC0 != 0 {
		return false
	}
	if binary.BigEndian.Uint32(b[4:8]) != MagicCookie {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	return n%4 == 0 && HeaderSize+n <= len(b)
}

// Decode parses the STUN message at the start of b into m. Bytes of b after
// the length the header gives are ignored. The attribute values and m.Raw are
// views into b: they are valid while b is not modified. Decode does not
// allocate once m has been used for a message with as many attributes.
//
// Decode checks the header (RFC 8489 §5) and the attribute framing (§14)
// but neither MESSAGE-INTEGRITY nor FINGERPRINT: use CheckFingerprint and
// CheckIntegrity for those.
func (m *Message) Decode(b []byte) error {
	m.Attributes = m.Attributes[:0]
	m.Raw = nil
	if len(b) < HeaderSize || b[0]&0xC0 != 0 || binary.BigEndian.Uint32(b[4:8]) != MagicCookie {
		return ErrNotSTUN
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n%4 != 0 {
		return fmt.Errorf("stun: message length %d is not a multiple of 4", n)
	}
	if HeaderSize+n > len(b) {
		return fmt.Errorf("stun: message length %d exceeds the %d bytes given", n, len(b)-HeaderSize)
	}
	raw := b[:HeaderSize+n]
	m.Type = Type(binary.BigEndian.Uint16(raw[0:2]))
	copy(m.TransactionID[:], raw[8:20])
	// RFC 8489 §14: each attribute is type, length, value, padded to a
	// multiple of 4 bytes; the padding is not counted in length. The
	// offsets and len(raw) are multiples of 4, so every header fits and
	// the padding ends within raw.
	attrs := m.Attributes[:0]
	seenMI, seenFP := false, false
	for off := HeaderSize; off+attrHeaderSize <= len(raw); {
		h := raw[off : off+attrHeaderSize]
		t := AttrType(h[0])<<8 | AttrType(h[1])
		l := int(h[2])<<8 | int(h[3])
		v := off + attrHeaderSize
		end := v + l
		if end > len(raw) {
			m.Attributes = attrs
			return fmt.Errorf("stun: attribute 0x%04x length %d overruns the message at offset %d", uint16(t), l, off)
		}
		// RFC 8489 §14.5, §14.7: after MESSAGE-INTEGRITY only
		// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count; nothing after
		// FINGERPRINT does.
		if !seenFP && (!seenMI || t == AttrMessageIntegritySHA256 || t == AttrFingerprint) {
			attrs = append(attrs, Attribute{Type: t, Value: raw[v:end:end], Offset: off})
			switch t {
			case AttrMessageIntegrity, AttrMessageIntegritySHA256:
				seenMI = true
			case AttrFingerprint:
				seenFP = true
			}
		}
		off = v + (l+3)&^3
	}
	m.Attributes = attrs
	m.Raw = raw
	return nil
}

// Unmarshal copies b into storage owned by m and decodes it, so that m stays
// valid after b is reused. It allocates only when the message is larger than
// any m has held before.
func (m *Message) Unmarshal(b []byte) error {
	if len(b) > maxMessageSize {
		b = b[:maxMessageSize]
	}
	m.own = append(m.own[:0], b...)
	return m.Decode(m.own)
}

// Get returns the value of the first attribute of type t, a view into m.Raw,
// and whether it was present.
func (m *Message) Get(t AttrType) ([]byte, bool) {
	for i := range m.Attributes {
		if m.Attributes[i].Type == t {
			return m.Attributes[i].Value, true
		}
	}
	return nil, false
}

// find returns the index of the first attribute of type t, or -1.
func (m *Message) find(t AttrType) int {
	for i := range m.Attributes {
		if m.Attributes[i].Type == t {
			return i
		}
	}
	return -1
}

// Has reports whether m has an attribute of type t.
func (m *Message) Has(t AttrType) bool { return m.find(t) >= 0 }

// Clone returns a deep copy of m that owns its bytes.
func (m *Message) Clone() *Message {
	c := &Message{}
	if m.Raw == nil {
		c.Type, c.TransactionID = m.Type, m.TransactionID
		return c
	}
	// m.Raw was decoded before; if the caller has since modified it so that
	// it no longer decodes, keep at least the header fields.
	if err := c.Unmarshal(m.Raw); err != nil {
		c.Type, c.TransactionID = m.Type, m.TransactionID
	}
	return c
}

// UnknownRequired appends to dst the types of the comprehension-required
// attributes (0x0000–0x7FFF) of m that this package does not know, and
// returns the extended slice. A server answers a request that has any with a
// 420 error listing them in UNKNOWN-ATTRIBUTES; a client discards such a
// response (RFC 8489 §6.3.1.1, §6.3.3.1). Callers that handle further
// attributes themselves filter the result.
func (m *Message) UnknownRequired(dst []AttrType) []AttrType {
	for i := range m.Attributes {
		t := m.Attributes[i].Type
		if t.Required() && !t.known() {
			dst = append(dst, t)
		}
	}
	return dst
}

package stun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Builder appends one STUN message to a caller's buffer, attribute by
// attribute, keeping the header's length field current (RFC 8489 §5, §14).
// Attribute values are padded with zero bytes to a multiple of four.
//
// The zero Builder is not ready: call Reset first. With a dst of enough
// capacity, building does not allocate. Errors (a value too long for the
// 16-bit length, an attribute after FINGERPRINT, an invalid address) are
// sticky and returned by Build. A Builder is not safe for concurrent use.
//
//	var b stun.Builder
//	b.Reset(buf[:0], stun.BindingRequest, id)
//	b.AddString(stun.AttrSoftware, "xphone")
//	b.AddFingerprint()
//	msg, err := b.Build()
type Builder struct {
	buf    []byte
	start  int
	err    error
	closed bool // FINGERPRINT added
}

// Reset starts a new message of type t with transaction id, appended to dst.
func (b *Builder) Reset(dst []byte, t Type, id TransactionID) {
	b.start = len(dst)
	b.err = nil
	b.closed = false
	var h [HeaderSize]byte
	binary.BigEndian.PutUint16(h[0:2], uint16(t)&0x3FFF)
	binary.BigEndian.PutUint32(h[4:8], MagicCookie)
	copy(h[8:], id[:])
	b.buf = append(dst, h[:]...)
}

// Build returns dst with the message appended, or the first error met while
// building. The result aliases the dst given to Reset when it had room.
func (b *Builder) Build() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	if b.buf == nil {
		return nil, errors.New("stun: Build before Reset")
	}
	return b.buf, nil
}

// Len returns the length of the message built so far, header included.
func (b *Builder) Len() int { return len(b.buf) - b.start }

// grow appends an attribute header for type t with value length n and
// returns the offset of the value. The padding is appended too, zeroed.
func (b *Builder) grow(t AttrType, n int) (int, bool) {
	if b.err != nil {
		return 0, false
	}
	if b.buf == nil {
		b.err = errors.New("stun: attribute added before Reset")
		return 0, false
	}
	if b.closed {
		b.err = fmt.Errorf("stun: %v added after FINGERPRINT", t)
		return 0, false
	}
	padded := (n + 3) &^ 3
	if n > 0xFFFF || b.Len()-HeaderSize+attrHeaderSize+padded > 0xFFFF {
		b.err = fmt.Errorf("stun: %v of %d bytes makes the message too long", t, n)
		return 0, false
	}
	off := len(b.buf)
	b.buf = append(b.buf, byte(t>>8), byte(t), byte(n>>8), byte(n))
	b.buf = append(b.buf, make([]byte, padded)...)
	binary.BigEndian.PutUint16(b.buf[b.start+2:], uint16(b.Len()-HeaderSize))
	return off + attrHeaderSize, true
}

// Add appends an attribute with the given value.
func (b *Builder) Add(t AttrType, v []byte) {
	if off, ok := b.grow(t, len(v)); ok {
		copy(b.buf[off:], v)
	}
}

// AddString appends an attribute whose value is the bytes of s, e.g.
// USERNAME, REALM, NONCE or SOFTWARE (RFC 8489 §14.3, §14.9, §14.10,
// §14.14). The RFC limits those to 513, 763, 763 and 763 bytes; that is the
// caller's to respect.
func (b *Builder) AddString(t AttrType, s string) {
	if off, ok := b.grow(t, len(s)); ok {
		copy(b.buf[off:], s)
	}
}

// AddUint32 appends a 4-byte attribute such as PRIORITY.
func (b *Builder) AddUint32(t AttrType, v uint32) {
	if off, ok := b.grow(t, 4); ok {
		binary.BigEndian.PutUint32(b.buf[off:], v)
	}
}

// AddUint64 appends an 8-byte attribute such as ICE-CONTROLLED.
func (b *Builder) AddUint64(t AttrType, v uint64) {
	if off, ok := b.grow(t, 8); ok {
		binary.BigEndian.PutUint64(b.buf[off:], v)
	}
}

// AddXORMappedAddress appends XOR-MAPPED-ADDRESS (RFC 8489 §14.2).
func (b *Builder) AddXORMappedAddress(ap netip.AddrPort) {
	b.addAddress(AttrXORMappedAddress, ap, true)
}

// AddXORAddress appends an attribute of type t in the XOR-MAPPED-ADDRESS
// format, such as XOR-PEER-ADDRESS (RFC 8656 §18.3).
func (b *Builder) AddXORAddress(t AttrType, ap netip.AddrPort) {
	b.addAddress(t, ap, true)
}

// AddMappedAddress appends MAPPED-ADDRESS (RFC 8489 §14.1).
func (b *Builder) AddMappedAddress(ap netip.AddrPort) {
	b.addAddress(AttrMappedAddress, ap, false)
}

func (b *Builder) addAddress(t AttrType, ap netip.AddrPort, xor bool) {
	a := ap.Addr().Unmap()
	if !a.IsValid() {
		if b.err == nil {
			b.err = fmt.Errorf("stun: %v: invalid address", t)
		}
		return
	}
	n, family := 8, byte(familyIPv4)
	if a.Is6() {
		n, family = 20, familyIPv6
	}
	off, ok := b.grow(t, n)
	if !ok {
		return
	}
	v := b.buf[off : off+n]
	v[1] = family
	port := ap.Port()
	if xor {
		port ^= MagicCookie >> 16
	}
	binary.BigEndian.PutUint16(v[2:4], port)
	if family == familyIPv4 {
		a4 := a.As4()
		x := binary.BigEndian.Uint32(a4[:])
		if xor {
			x ^= MagicCookie
		}
		binary.BigEndian.PutUint32(v[4:8], x)
		return
	}
	a16 := a.As16()
	copy(v[4:20], a16[:])
	if xor {
		var id TransactionID
		copy(id[:], b.buf[b.start+8:b.start+HeaderSize])
		mask := xorMask(&id)
		for i := range 16 {
			v[4+i] ^= mask[i]
		}
	}
}

// AddErrorCode appends ERROR-CODE (RFC 8489 §14.8) with a code of 300–699
// and a reason phrase.
func (b *Builder) AddErrorCode(code int, reason string) {
	if code < 300 || code > 699 {
		if b.err == nil {
			b.err = fmt.Errorf("stun: error code %d out of range 300-699", code)
		}
		return
	}
	if off, ok := b.grow(AttrErrorCode, 4+len(reason)); ok {
		b.buf[off+2] = byte(code / 100)
		b.buf[off+3] = byte(code % 100)
		copy(b.buf[off+4:], reason)
	}
}

// AddUnknownAttributes appends UNKNOWN-ATTRIBUTES listing types
// (RFC 8489 §14.13).
func (b *Builder) AddUnknownAttributes(types []AttrType) {
	if off, ok := b.grow(AttrUnknownAttributes, 2*len(types)); ok {
		for i, t := range types {
			binary.BigEndian.PutUint16(b.buf[off+2*i:], uint16(t))
		}
	}
}

// AddPasswordAlgorithm appends PASSWORD-ALGORITHM (RFC 8489 §14.12) with no
// parameters.
func (b *Builder) AddPasswordAlgorithm(a PasswordAlgorithm) {
	if off, ok := b.grow(AttrPasswordAlgorithm, 4); ok {
		binary.BigEndian.PutUint16(b.buf[off:], uint16(a))
	}
}

// AddPasswordAlgorithms appends PASSWORD-ALGORITHMS (RFC 8489 §14.11)
// listing algs, each without parameters.
func (b *Builder) AddPasswordAlgorithms(algs []PasswordAlgorithm) {
	if off, ok := b.grow(AttrPasswordAlgorithms, 4*len(algs)); ok {
		for i, a := range algs {
			binary.BigEndian.PutUint16(b.buf[off+4*i:], uint16(a))
		}
	}
}

// AddIntegrity appends MESSAGE-INTEGRITY, the HMAC-SHA1 under i's key of
// the message so far (RFC 8489 §14.5). Only MESSAGE-INTEGRITY-SHA256 and
// FINGERPRINT may follow it.
func (b *Builder) AddIntegrity(i *Integrity) {
	b.addIntegrity(AttrMessageIntegrity, i, integritySize)
}

// AddIntegritySHA256 appends MESSAGE-INTEGRITY-SHA256, the full 32-byte
// HMAC-SHA256 under i's key of the message so far (RFC 8489 §14.6).
func (b *Builder) AddIntegritySHA256(i *Integrity) {
	b.addIntegrity(AttrMessageIntegritySHA256, i, integritySHA256Size)
}

func (b *Builder) addIntegrity(t AttrType, i *Integrity, n int) {
	end := len(b.buf)
	off, ok := b.grow(t, n)
	if !ok {
		return
	}
	// grow has set the length field to include this attribute, as the
	// HMAC input requires.
	msg := b.buf[b.start:]
	sum := i.mac(msg, end-b.start, len(msg)-HeaderSize, t == AttrMessageIntegritySHA256)
	copy(b.buf[off:], sum[:n])
}

// AddFingerprint appends FINGERPRINT (RFC 8489 §14.7), which must be the
// last attribute.
func (b *Builder) AddFingerprint() {
	end := len(b.buf)
	off, ok := b.grow(AttrFingerprint, fingerprintSize)
	if !ok {
		return
	}
	msg := b.buf[b.start:]
	binary.BigEndian.PutUint32(b.buf[off:], fingerprint(msg, end-b.start, len(msg)-HeaderSize))
	b.closed = true
}

// AppendTo appends the message m.Raw describes to dst: header and
// attributes as decoded, with zero padding. It is the inverse of Decode up
// to padding bytes and ignored trailing attributes, which is what a relay or
// a test needs; integrity values are copied, not recomputed.
func (m *Message) AppendTo(dst []byte) ([]byte, error) {
	var b Builder
	b.Reset(dst, m.Type, m.TransactionID)
	for i := range m.Attributes {
		b.Add(m.Attributes[i].Type, m.Attributes[i].Value)
	}
	return b.Build()
}

package rtp

import (
	"encoding/binary"
	"errors"
)

// Errors returned by the RTP and RTCP parsers. Callers branch on
// ErrShortPacket and ErrVersion (for example to demultiplex); other
// malformations return errors with the "rtp: " prefix.
var (
	// ErrShortPacket means the buffer ends before a length it declares.
	ErrShortPacket = errors.New("rtp: packet too short")
	// ErrVersion means the version field is not 2 (RFC 3550 §5.1).
	ErrVersion = errors.New("rtp: version is not 2")
	// ErrBufferTooSmall means MarshalTo was given a buffer shorter than
	// MarshalSize.
	ErrBufferTooSmall = errors.New("rtp: buffer too small")
)

var (
	errPadding        = errors.New("rtp: invalid padding length")
	errExtensionSize  = errors.New("rtp: header extension data is not a multiple of 4 bytes")
	errExtensionID    = errors.New("rtp: header extension ID out of range for its form")
	errExtensionLen   = errors.New("rtp: header extension element length out of range for its form")
	errTooManyCSRC    = errors.New("rtp: more than 15 CSRCs")
	errExtensionMixed = errors.New("rtp: header extension has both elements and raw data")
)

// Header extension profiles (RFC 8285 §4.2 and §4.3).
const (
	// ExtensionProfileOneByte is the "defined by profile" value of the
	// one-byte header extension form (RFC 8285 §4.2).
	ExtensionProfileOneByte = 0xBEDE
	// ExtensionProfileTwoByte is the two-byte form (RFC 8285 §4.3); the
	// low 4 bits ("appbits") may be nonzero.
	ExtensionProfileTwoByte = 0x1000
)

const headerLen = 12

// Extension is one element of an RFC 8285 header extension.
type Extension struct {
	// ID is the local identifier: 1–14 in the one-byte form, 1–255 in
	// the two-byte form.
	ID uint8
	// Payload is the element data: 1–16 bytes in the one-byte form,
	// 0–255 in the two-byte form. After Unmarshal it is a view of the
	// input buffer.
	Payload []byte
}

// Header is the fixed RTP header with its CSRC list and header extension
// (RFC 3550 §5.1, §5.3.1; RFC 8285). The version is always 2.
//
// A Header is not safe for concurrent use; reuse one per goroutine so
// that Unmarshal does not allocate.
type Header struct {
	Marker         bool
	PayloadType    uint8 // 7 bits
	SequenceNumber uint16
	Timestamp      uint32
	SSRC           uint32
	// CSRC lists the contributing sources (at most 15).
	CSRC []uint32

	// Extension says whether the X bit is set.
	Extension bool
	// ExtensionProfile is the 16-bit "defined by profile" field:
	// ExtensionProfileOneByte, ExtensionProfileTwoByte|appbits, or
	// anything else for a profile-specific extension kept in
	// ExtensionData.
	ExtensionProfile uint16
	// Extensions are the parsed elements of a one-byte or two-byte
	// header extension, in wire order, without padding.
	Extensions []Extension
	// ExtensionData is the raw body of a header extension that uses
	// neither RFC 8285 form (its length is a multiple of 4). After
	// Unmarshal it is a view of the input buffer.
	ExtensionData []byte
}

// Packet is an RTP packet: header, payload and padding (RFC 3550 §5.1).
//
// After Unmarshal, Payload, ExtensionData and each Extension's Payload
// are views of the buffer given to Unmarshal: they are valid until that
// buffer is reused. Use Clone to keep a packet. A Packet is not safe for
// concurrent use.
type Packet struct {
	Header
	// Payload is the data after the header, without padding.
	Payload []byte
	// PaddingSize is the number of padding bytes at the end of the
	// packet, including the final count byte; 0 means the P bit is
	// clear. Marshal writes zero bytes followed by the count.
	PaddingSize uint8
}

// Unmarshal parses buf into p, reusing p's slices. It does not copy:
// Payload and the extension data are views of buf. Unmarshal does not
// allocate once p's CSRC and Extensions slices have grown to the sizes
// seen in the stream.
func (p *Packet) Unmarshal(buf []byte) error {
	n, err := p.Header.unmarshal(buf)
	if err != nil {
		return err
	}
	end := len(buf)
	p.PaddingSize = 0
	if buf[0]&0x20 != 0 {
		// RFC 3550 §5.1: the last octet counts the padding octets,
		// itself included.
		pad := int(buf[end-1])
		if pad == 0 || pad > end-n {
			return errPadding
		}
		p.PaddingSize = uint8(pad)
		end -= pad
	}
	p.Payload = buf[n:end:end] // appending never overwrites the padding
	return nil
}

// Unmarshal parses the header at the start of buf into h and returns the
// header's length in bytes. The payload follows at buf[n:], padding
// included (Packet.Unmarshal removes it). SRTP uses this to find where
// the encrypted portion starts.
func (h *Header) Unmarshal(buf []byte) (n int, err error) {
	return h.unmarshal(buf)
}

func (h *Header) unmarshal(buf []byte) (int, error) {
	if len(buf) < headerLen {
		return 0, ErrShortPacket
	}
	b0 := buf[0]
	if b0>>6 != 2 {
		return 0, ErrVersion
	}
	cc := int(b0 & 0x0f)
	n := headerLen + 4*cc
	if len(buf) < n {
		return 0, ErrShortPacket
	}
	h.Marker = buf[1]&0x80 != 0
	h.PayloadType = buf[1] & 0x7f
	h.SequenceNumber = binary.BigEndian.Uint16(buf[2:])
	h.Timestamp = binary.BigEndian.Uint32(buf[4:])
	h.SSRC = binary.BigEndian.Uint32(buf[8:])
	h.CSRC = h.CSRC[:0]
	for i := headerLen; i < n; i += 4 {
		h.CSRC = append(h.CSRC, binary.BigEndian.Uint32(buf[i:]))
	}
	h.Extensions = h.Extensions[:0]
	h.ExtensionData = nil
	h.ExtensionProfile = 0
	h.Extension = b0&0x10 != 0
	if !h.Extension {
		return n, nil
	}
	// RFC 3550 §5.3.1: profile (16 bits), length in 32-bit words (16 bits).
	if len(buf) < n+4 {
		return 0, ErrShortPacket
	}
	h.ExtensionProfile = binary.BigEndian.Uint16(buf[n:])
	extLen := 4 * int(binary.BigEndian.Uint16(buf[n+2:]))
	n += 4
	if len(buf)-n < extLen {
		return 0, ErrShortPacket
	}
	data := buf[n : n+extLen : n+extLen]
	n += extLen
	switch {
	case h.ExtensionProfile == ExtensionProfileOneByte:
		return n, h.parseOneByte(data)
	case h.ExtensionProfile&0xfff0 == ExtensionProfileTwoByte:
		return n, h.parseTwoByte(data)
	}
	h.ExtensionData = data
	return n, nil
}

// parseOneByte walks RFC 8285 §4.2 elements: 4-bit ID, 4-bit length-1.
func (h *Header) parseOneByte(data []byte) error {
	for i := 0; i < len(data); {
		b := data[i]
		id := b >> 4
		if id == 0 {
			// Padding is a zero byte; ID 0 is reserved for it, so a
			// nonzero length is ignored with the byte.
			i++
			continue
		}
		if id == 15 {
			// ID 15 is reserved: stop processing the extension.
			return nil
		}
		l := int(b&0x0f) + 1
		i++
		if len(data)-i < l {
			return ErrShortPacket
		}
		h.Extensions = append(h.Extensions, Extension{ID: id, Payload: data[i : i+l : i+l]})
		i += l
	}
	return nil
}

// parseTwoByte walks RFC 8285 §4.3 elements: 8-bit ID, 8-bit length.
func (h *Header) parseTwoByte(data []byte) error {
	for i := 0; i < len(data); {
		id := data[i]
		if id == 0 { // padding
			i++
			continue
		}
		if len(data)-i < 2 {
			return ErrShortPacket
		}
		l := int(data[i+1])
		i += 2
		if len(data)-i < l {
			return ErrShortPacket
		}
		h.Extensions = append(h.Extensions, Extension{ID: id, Payload: data[i : i+l : i+l]})
		i += l
	}
	return nil
}

// extBodyLen returns the length of the extension body, padded to 4 bytes.
func (h *Header) extBodyLen() int {
	switch {
	case h.ExtensionProfile == ExtensionProfileOneByte:
		n := 0
		for i := range h.Extensions {
			n += 1 + len(h.Extensions[i].Payload)
		}
		return (n + 3) &^ 3
	case h.ExtensionProfile&0xfff0 == ExtensionProfileTwoByte:
		n := 0
		for i := range h.Extensions {
			n += 2 + len(h.Extensions[i].Payload)
		}
		return (n + 3) &^ 3
	}
	return len(h.ExtensionData)
}

// MarshalSize returns the length of the marshaled header in bytes.
func (h *Header) MarshalSize() int {
	n := headerLen + 4*len(h.CSRC)
	if h.Extension {
		n += 4 + h.extBodyLen()
	}
	return n
}

// MarshalSize returns the length of the marshaled packet in bytes.
func (p *Packet) MarshalSize() int {
	return p.Header.MarshalSize() + len(p.Payload) + int(p.PaddingSize)
}

// MarshalTo writes the header into buf and returns the number of bytes
// written, or ErrBufferTooSmall when len(buf) < MarshalSize().
func (h *Header) MarshalTo(buf []byte) (int, error) {
	return h.marshalTo(buf, false)
}

func (h *Header) marshalTo(buf []byte, padding bool) (int, error) {
	if len(h.CSRC) > 15 {
		return 0, errTooManyCSRC
	}
	if len(buf) < headerLen+4*len(h.CSRC) {
		return 0, ErrBufferTooSmall
	}
	b0 := byte(0x80) | byte(len(h.CSRC))
	if padding {
		b0 |= 0x20
	}
	if h.Extension {
		b0 |= 0x10
	}
	buf[0] = b0
	b1 := h.PayloadType & 0x7f
	if h.Marker {
		b1 |= 0x80
	}
	buf[1] = b1
	binary.BigEndian.PutUint16(buf[2:], h.SequenceNumber)
	binary.BigEndian.PutUint32(buf[4:], h.Timestamp)
	binary.BigEndian.PutUint32(buf[8:], h.SSRC)
	n := headerLen
	for _, c := range h.CSRC {
		binary.BigEndian.PutUint32(buf[n:], c)
		n += 4
	}
	if !h.Extension {
		return n, nil
	}
	return h.marshalExtension(buf, n)
}

func (h *Header) marshalExtension(buf []byte, n int) (int, error) {
	body := h.extBodyLen()
	if len(buf)-n < 4+body {
		return 0, ErrBufferTooSmall
	}
	if body > 0xffff*4 {
		return 0, errExtensionLen
	}
	binary.BigEndian.PutUint16(buf[n:], h.ExtensionProfile)
	binary.BigEndian.PutUint16(buf[n+2:], uint16(body/4))
	n += 4
	end := n + body
	switch {
	case h.ExtensionProfile == ExtensionProfileOneByte:
		if h.ExtensionData != nil {
			return 0, errExtensionMixed
		}
		for _, e := range h.Extensions {
			if e.ID < 1 || e.ID > 14 {
				return 0, errExtensionID
			}
			if len(e.Payload) < 1 || len(e.Payload) > 16 {
				return 0, errExtensionLen
			}
			buf[n] = e.ID<<4 | byte(len(e.Payload)-1)
			n += 1 + copy(buf[n+1:], e.Payload)
		}
	case h.ExtensionProfile&0xfff0 == ExtensionProfileTwoByte:
		if h.ExtensionData != nil {
			return 0, errExtensionMixed
		}
		for _, e := range h.Extensions {
			if e.ID == 0 {
				return 0, errExtensionID
			}
			if len(e.Payload) > 255 {
				return 0, errExtensionLen
			}
			buf[n] = e.ID
			buf[n+1] = byte(len(e.Payload))
			n += 2 + copy(buf[n+2:], e.Payload)
		}
	default:
		if len(h.Extensions) != 0 {
			return 0, errExtensionMixed
		}
		if len(h.ExtensionData)%4 != 0 {
			return 0, errExtensionSize
		}
		n += copy(buf[n:], h.ExtensionData)
	}
	clear(buf[n:end]) // RFC 8285 §4.1: padding after the last element is zero
	return end, nil
}

// MarshalTo writes the packet into buf and returns the number of bytes
// written, or ErrBufferTooSmall when len(buf) < MarshalSize(). It does
// not allocate.
func (p *Packet) MarshalTo(buf []byte) (int, error) {
	n, err := p.Header.marshalTo(buf, p.PaddingSize != 0)
	if err != nil {
		return 0, err
	}
	if len(buf)-n < len(p.Payload)+int(p.PaddingSize) {
		return 0, ErrBufferTooSmall
	}
	n += copy(buf[n:], p.Payload)
	if p.PaddingSize != 0 {
		pad := int(p.PaddingSize)
		clear(buf[n : n+pad-1])
		buf[n+pad-1] = p.PaddingSize
		n += pad
	}
	return n, nil
}

// AppendTo appends the marshaled packet to dst and returns the extended
// slice. It allocates only when dst lacks capacity.
func (p *Packet) AppendTo(dst []byte) ([]byte, error) {
	size := p.MarshalSize()
	dst = grow(dst, size)
	n, err := p.MarshalTo(dst[len(dst) : len(dst)+size])
	if err != nil {
		return dst, err
	}
	return dst[:len(dst)+n], nil
}

// grow returns dst with room for n more bytes beyond len(dst).
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	out := make([]byte, len(dst), len(dst)+n)
	copy(out, dst)
	return out
}

// Marshal returns the packet in a new buffer.
func (p *Packet) Marshal() ([]byte, error) {
	return p.AppendTo(nil)
}

// Clone returns a deep copy of p that shares no memory with p or with the
// buffer p was parsed from.
func (p *Packet) Clone() *Packet {
	c := &Packet{Header: p.Header.Clone(), PaddingSize: p.PaddingSize}
	if p.Payload != nil {
		c.Payload = append([]byte{}, p.Payload...)
	}
	return c
}

// Clone returns a deep copy of h.
func (h *Header) Clone() Header {
	c := *h
	if h.CSRC != nil {
		c.CSRC = append([]uint32{}, h.CSRC...)
	}
	if h.ExtensionData != nil {
		c.ExtensionData = append([]byte{}, h.ExtensionData...)
	}
	if h.Extensions != nil {
		c.Extensions = make([]Extension, len(h.Extensions))
		for i, e := range h.Extensions {
			c.Extensions[i] = Extension{ID: e.ID, Payload: append([]byte{}, e.Payload...)}
		}
	}
	return c
}

// FindExtension returns the payload of the first header extension element
// with the given ID, and whether there was one.
func (h *Header) FindExtension(id uint8) ([]byte, bool) {
	for i := range h.Extensions {
		if h.Extensions[i].ID == id {
			return h.Extensions[i].Payload, true
		}
	}
	return nil, false
}

// SetExtension sets (replacing or adding) the header extension element
// with the given ID. It keeps payload, not a copy. When the packet has no
// RFC 8285 extension yet, it picks the one-byte form if ID and length fit
// it, else the two-byte form; it switches a one-byte extension to the
// two-byte form when the new element does not fit the one-byte form
// (RFC 8285 §4.1.2).
func (h *Header) SetExtension(id uint8, payload []byte) error {
	if id == 0 {
		return errExtensionID
	}
	if len(payload) > 255 {
		return errExtensionLen
	}
	oneByteOK := id <= 14 && len(payload) >= 1 && len(payload) <= 16
	switch {
	case !h.Extension || (h.ExtensionProfile != ExtensionProfileOneByte && h.ExtensionProfile&0xfff0 != ExtensionProfileTwoByte):
		if h.Extension && h.ExtensionData != nil {
			return errExtensionMixed
		}
		h.Extension = true
		h.ExtensionData = nil
		h.ExtensionProfile = ExtensionProfileOneByte
		if !oneByteOK {
			h.ExtensionProfile = ExtensionProfileTwoByte
		}
	case h.ExtensionProfile == ExtensionProfileOneByte && !oneByteOK:
		h.ExtensionProfile = ExtensionProfileTwoByte
	}
	for i := range h.Extensions {
		if h.Extensions[i].ID == id {
			h.Extensions[i].Payload = payload
			return nil
		}
	}
	h.Extensions = append(h.Extensions, Extension{ID: id, Payload: payload})
	return nil
}

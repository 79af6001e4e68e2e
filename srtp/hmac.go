package srtp

import (
	"crypto/sha1"
	"encoding"
	"hash"
)

// hmacSHA1 is HMAC-SHA1 (RFC 2104) with the hash states after the inner and
// outer padded key blocks saved once per session, so that each packet costs
// only the compression of its own data (RFC 3711 §4.2.1).
type hmacSHA1 struct {
	inner, outer hash.Hash
	ipad, opad   [128]byte // marshaled SHA-1 states after (K^ipad), (K^opad)
	n            int       // length of the marshaled states
	sum          [sha1.Size]byte
}

type sha1State interface {
	encoding.BinaryAppender
	encoding.BinaryUnmarshaler
}

func (m *hmacSHA1) init(key []byte) {
	var pad [sha1.BlockSize]byte
	m.inner, m.outer = sha1.New(), sha1.New()
	copy(pad[:], key)
	for i := range pad {
		pad[i] ^= 0x36
	}
	m.inner.Write(pad[:])
	st, _ := m.inner.(sha1State).AppendBinary(m.ipad[:0])
	m.n = len(st)
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	m.outer.Write(pad[:])
	m.outer.(sha1State).AppendBinary(m.opad[:0])
	clear(pad[:])
}

// mac returns the 20-octet HMAC of data followed by the 4 octets of suffix
// (the ROC for SRTP, nothing for SRTCP). The result is valid until the next call.
func (m *hmacSHA1) mac(data []byte, suffix []byte) []byte {
	m.inner.(sha1State).UnmarshalBinary(m.ipad[:m.n])
	m.inner.Write(data)
	if len(suffix) > 0 {
		m.inner.Write(suffix)
	}
	s := m.inner.Sum(m.sum[:0])
	m.outer.(sha1State).UnmarshalBinary(m.opad[:m.n])
	m.outer.Write(s)
	return m.outer.Sum(m.sum[:0])
}

func (m *hmacSHA1) zero() {
	clear(m.ipad[:])
	clear(m.opad[:])
	clear(m.sum[:])
	if m.inner != nil {
		m.inner.Reset()
		m.outer.Reset()
	}
}

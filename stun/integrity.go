package stun

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
)

// fingerprintXOR is XORed into the CRC-32 of FINGERPRINT (RFC 8489 §14.7).
const fingerprintXOR = 0x5354554E

// Sizes of the integrity attributes' values (RFC 8489 §14.5, §14.6, §14.7).
const (
	integritySize       = sha1.Size   // 20
	integritySHA256Size = sha256.Size // 32
	fingerprintSize     = 4
)

// ShortTermKey returns the key of the short-term credential mechanism: the
// password (RFC 8489 §9.1.1).
//
// The RFC says OpaqueString(password) (RFC 8265 PRECIS, which replaced the
// SASLprep of RFC 5389). This package uses the UTF-8 bytes of password as
// given, which is the same for the ASCII passwords ICE and most deployments
// use; a caller with other passwords prepares them first.
func ShortTermKey(password string) []byte {
	return []byte(password)
}

// LongTermKey returns the key of the long-term credential mechanism
// (RFC 8489 §9.2.2): MD5 (16 bytes) or SHA-256 (32 bytes) of
// username ":" realm ":" password. As with ShortTermKey, realm and password
// are used as their UTF-8 bytes, without OpaqueString preparation. An
// algorithm other than MD5 and SHA-256 yields nil.
func LongTermKey(alg PasswordAlgorithm, username, realm, password string) []byte {
	var h hash.Hash
	switch alg {
	case PasswordAlgorithmMD5:
		h = md5.New()
	case PasswordAlgorithmSHA256:
		h = sha256.New()
	default:
		return nil
	}
	h.Write([]byte(username))
	h.Write([]byte{':'})
	h.Write([]byte(realm))
	h.Write([]byte{':'})
	h.Write([]byte(password))
	return h.Sum(nil)
}

// Integrity computes and checks MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489
// §14.5) and MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, §14.6) under one key. It
// keeps the HMAC states with the key's pads absorbed, so each use costs only
// the hashing of the message. An Integrity is not safe for concurrent use:
// give each goroutine its own (or Clone one).
type Integrity struct {
	key    []byte
	sha1   hash.Hash
	sha256 hash.Hash
	hdr    [HeaderSize]byte
	sum    [sha256.Size]byte
}

// NewIntegrity returns an Integrity for key, which it copies. Use
// ShortTermKey or LongTermKey to derive key from credentials.
func NewIntegrity(key []byte) *Integrity {
	return &Integrity{key: append([]byte(nil), key...)}
}

// NewShortTermIntegrity is NewIntegrity(ShortTermKey(password)).
func NewShortTermIntegrity(password string) *Integrity {
	return NewIntegrity(ShortTermKey(password))
}

// NewLongTermIntegrity is NewIntegrity(LongTermKey(alg, username, realm,
// password)).
func NewLongTermIntegrity(alg PasswordAlgorithm, username, realm, password string) *Integrity {
	return NewIntegrity(LongTermKey(alg, username, realm, password))
}

// Clone returns an Integrity with the same key and its own state.
func (i *Integrity) Clone() *Integrity { return NewIntegrity(i.key) }

func (i *Integrity) hash(sha256Alg bool) hash.Hash {
	if sha256Alg {
		if i.sha256 == nil {
			i.sha256 = hmac.New(sha256.New, i.key)
		}
		return i.sha256
	}
	if i.sha1 == nil {
		i.sha1 = hmac.New(sha1.New, i.key)
	}
	return i.sha1
}

// mac returns the HMAC of msg[:end] with the header's length field replaced
// by length (RFC 8489 §14.5: the length covers the message up to and
// including the integrity attribute). The result is a view into i, valid
// until i is used again.
func (i *Integrity) mac(msg []byte, end, length int, sha256Alg bool) []byte {
	h := i.hash(sha256Alg)
	h.Reset()
	if int(binary.BigEndian.Uint16(msg[2:4])) == length {
		h.Write(msg[:end])
	} else {
		copy(i.hdr[:], msg[:HeaderSize])
		binary.BigEndian.PutUint16(i.hdr[2:4], uint16(length))
		h.Write(i.hdr[:])
		h.Write(msg[HeaderSize:end])
	}
	return h.Sum(i.sum[:0])
}

// CheckIntegrity verifies the MESSAGE-INTEGRITY attribute of m with the key
// of i (RFC 8489 §14.5). It returns ErrNoAttribute when m has none and
// ErrIntegrity when the value does not match. It does not allocate.
func (m *Message) CheckIntegrity(i *Integrity) error {
	k := m.find(AttrMessageIntegrity)
	if k < 0 {
		return ErrNoAttribute
	}
	a := &m.Attributes[k]
	if len(a.Value) != integritySize {
		return fmt.Errorf("stun: MESSAGE-INTEGRITY length %d, want %d", len(a.Value), integritySize)
	}
	sum := i.mac(m.Raw, a.Offset, a.Offset+attrHeaderSize+integritySize-HeaderSize, false)
	if !hmac.Equal(sum, a.Value) {
		return ErrIntegrity
	}
	return nil
}

// CheckIntegritySHA256 verifies the MESSAGE-INTEGRITY-SHA256 attribute of m
// with the key of i (RFC 8489 §14.6), accepting a value truncated to 16–32
// bytes in steps of 4 as the RFC allows. Errors are as for CheckIntegrity.
func (m *Message) CheckIntegritySHA256(i *Integrity) error {
	k := m.find(AttrMessageIntegritySHA256)
	if k < 0 {
		return ErrNoAttribute
	}
	a := &m.Attributes[k]
	n := len(a.Value)
	if n < 16 || n > integritySHA256Size || n%4 != 0 {
		return fmt.Errorf("stun: MESSAGE-INTEGRITY-SHA256 length %d invalid", n)
	}
	sum := i.mac(m.Raw, a.Offset, a.Offset+attrHeaderSize+n-HeaderSize, true)
	if !hmac.Equal(sum[:n], a.Value) {
		return ErrIntegrity
	}
	return nil
}

// fingerprint computes the FINGERPRINT value of msg[:end] with the length
// field replaced by length (RFC 8489 §14.7).
func fingerprint(msg []byte, end, length int) uint32 {
	var crc uint32
	if int(binary.BigEndian.Uint16(msg[2:4])) == length {
		crc = crc32.ChecksumIEEE(msg[:end])
	} else {
		hdr := [4]byte{msg[0], msg[1], byte(length >> 8), byte(length)}
		crc = crc32.Update(0, crc32.IEEETable, hdr[:])
		crc = crc32.Update(crc, crc32.IEEETable, msg[4:end])
	}
	return crc ^ fingerprintXOR
}

// CheckFingerprint verifies the FINGERPRINT attribute of m (RFC 8489
// §14.7). It returns ErrNoAttribute when m has none and ErrFingerprint when
// the value does not match. It does not allocate.
func (m *Message) CheckFingerprint() error {
	k := m.find(AttrFingerprint)
	if k < 0 {
		return ErrNoAttribute
	}
	a := &m.Attributes[k]
	if len(a.Value) != fingerprintSize {
		return fmt.Errorf("stun: FINGERPRINT length %d, want %d", len(a.Value), fingerprintSize)
	}
	want := fingerprint(m.Raw, a.Offset, a.Offset+attrHeaderSize+fingerprintSize-HeaderSize)
	if binary.BigEndian.Uint32(a.Value) != want {
		return ErrFingerprint
	}
	return nil
}

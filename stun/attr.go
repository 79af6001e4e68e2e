package stun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// AttrType is a STUN attribute type (RFC 8489 §14, §18.3). Types
// 0x0000–0x7FFF are comprehension-required, 0x8000–0xFFFF
// comprehension-optional.
type AttrType uint16

// Attribute types of RFC 8489 §18.3 and the ICE (RFC 8445 §16.1), TURN
// (RFC 8656 §18) and NAT behaviour discovery (RFC 5780 §7) attributes a media
// stack meets. coturn's Binding responses carry RESPONSE-ORIGIN.
const (
	AttrMappedAddress          AttrType = 0x0001 // RFC 8489 §14.1
	AttrUsername               AttrType = 0x0006 // RFC 8489 §14.3
	AttrMessageIntegrity       AttrType = 0x0008 // RFC 8489 §14.5
	AttrErrorCode              AttrType = 0x0009 // RFC 8489 §14.8
	AttrUnknownAttributes      AttrType = 0x000A // RFC 8489 §14.13
	AttrChannelNumber          AttrType = 0x000C // RFC 8656 §18.1
	AttrLifetime               AttrType = 0x000D // RFC 8656 §18.2
	AttrXORPeerAddress         AttrType = 0x0012 // RFC 8656 §18.3
	AttrData                   AttrType = 0x0013 // RFC 8656 §18.4
	AttrRealm                  AttrType = 0x0014 // RFC 8489 §14.9
	AttrNonce                  AttrType = 0x0015 // RFC 8489 §14.10
	AttrXORRelayedAddress      AttrType = 0x0016 // RFC 8656 §18.5
	AttrRequestedAddressFamily AttrType = 0x0017 // RFC 8656 §18.6
	AttrEvenPort               AttrType = 0x0018 // RFC 8656 §18.7
	AttrRequestedTransport     AttrType = 0x0019 // RFC 8656 §18.8
	AttrDontFragment           AttrType = 0x001A // RFC 8656 §18.9
	AttrMessageIntegritySHA256 AttrType = 0x001C // RFC 8489 §14.6
	AttrPasswordAlgorithm      AttrType = 0x001D // RFC 8489 §14.12
	AttrUserhash               AttrType = 0x001E // RFC 8489 §14.4
	AttrXORMappedAddress       AttrType = 0x0020 // RFC 8489 §14.2
	AttrReservationToken       AttrType = 0x0022 // RFC 8656 §18.10
	AttrPriority               AttrType = 0x0024 // RFC 8445 §16.1
	AttrUseCandidate           AttrType = 0x0025 // RFC 8445 §16.1
	AttrPasswordAlgorithms     AttrType = 0x8002 // RFC 8489 §14.11
	AttrAlternateDomain        AttrType = 0x8003 // RFC 8489 §14.16
	AttrSoftware               AttrType = 0x8022 // RFC 8489 §14.14
	AttrAlternateServer        AttrType = 0x8023 // RFC 8489 §14.15
	AttrFingerprint            AttrType = 0x8028 // RFC 8489 §14.7
	AttrICEControlled          AttrType = 0x8029 // RFC 8445 §16.1
	AttrICEControlling         AttrType = 0x802A // RFC 8445 §16.1
	AttrResponseOrigin         AttrType = 0x802B // RFC 5780 §7.3
	AttrOtherAddress           AttrType = 0x802C // RFC 5780 §7.4
)

var attrNames = map[AttrType]string{
	AttrMappedAddress:          "MAPPED-ADDRESS",
	AttrUsername:               "USERNAME",
	AttrMessageIntegrity:       "MESSAGE-INTEGRITY",
	AttrErrorCode:              "ERROR-CODE",
	AttrUnknownAttributes:      "UNKNOWN-ATTRIBUTES",
	AttrChannelNumber:          "CHANNEL-NUMBER",
	AttrLifetime:               "LIFETIME",
	AttrXORPeerAddress:         "XOR-PEER-ADDRESS",
	AttrData:                   "DATA",
	AttrRealm:                  "REALM",
	AttrNonce:                  "NONCE",
	AttrXORRelayedAddress:      "XOR-RELAYED-ADDRESS",
	AttrRequestedAddressFamily: "REQUESTED-ADDRESS-FAMILY",
	AttrEvenPort:               "EVEN-PORT",
	AttrRequestedTransport:     "REQUESTED-TRANSPORT",
	AttrDontFragment:           "DONT-FRAGMENT",
	AttrMessageIntegritySHA256: "MESSAGE-INTEGRITY-SHA256",
	AttrPasswordAlgorithm:      "PASSWORD-ALGORITHM",
	AttrUserhash:               "USERHASH",
	AttrXORMappedAddress:       "XOR-MAPPED-ADDRESS",
	AttrReservationToken:       "RESERVATION-TOKEN",
	AttrPriority:               "PRIORITY",
	AttrUseCandidate:           "USE-CANDIDATE",
	AttrPasswordAlgorithms:     "PASSWORD-ALGORITHMS",
	AttrAlternateDomain:        "ALTERNATE-DOMAIN",
	AttrSoftware:               "SOFTWARE",
	AttrAlternateServer:        "ALTERNATE-SERVER",
	AttrFingerprint:            "FINGERPRINT",
	AttrICEControlled:          "ICE-CONTROLLED",
	AttrICEControlling:         "ICE-CONTROLLING",
	AttrResponseOrigin:         "RESPONSE-ORIGIN",
	AttrOtherAddress:           "OTHER-ADDRESS",
}

// String returns the registered name, or the number in hex.
func (t AttrType) String() string {
	if s, ok := attrNames[t]; ok {
		return s
	}
	return fmt.Sprintf("0x%04x", uint16(t))
}

// Required reports whether t is comprehension-required (RFC 8489 §14).
func (t AttrType) Required() bool { return t < 0x8000 }

// known reports whether this package defines t.
func (t AttrType) known() bool {
	_, ok := attrNames[t]
	return ok
}

// Address families of the address attributes (RFC 8489 §14.1).
const (
	familyIPv4 = 0x01
	familyIPv6 = 0x02
)

// XORMappedAddress returns the XOR-MAPPED-ADDRESS of m (RFC 8489 §14.2).
func (m *Message) XORMappedAddress() (netip.AddrPort, error) {
	return m.xorAddress(AttrXORMappedAddress)
}

// XORAddress decodes any attribute in the XOR-MAPPED-ADDRESS format, such
// as TURN's XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS (RFC 8656 §18).
func (m *Message) XORAddress(t AttrType) (netip.AddrPort, error) {
	return m.xorAddress(t)
}

func (m *Message) xorAddress(t AttrType) (netip.AddrPort, error) {
	v, ok := m.Get(t)
	if !ok {
		return netip.AddrPort{}, ErrNoAttribute
	}
	ap, err := decodeAddress(v, true, &m.TransactionID)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("stun: %v: %w", t, err)
	}
	return ap, nil
}

// MappedAddress returns the MAPPED-ADDRESS of m (RFC 8489 §14.1), which
// servers include for RFC 3489 clients.
func (m *Message) MappedAddress() (netip.AddrPort, error) {
	v, ok := m.Get(AttrMappedAddress)
	if !ok {
		return netip.AddrPort{}, ErrNoAttribute
	}
	ap, err := decodeAddress(v, false, nil)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("stun: MAPPED-ADDRESS: %w", err)
	}
	return ap, nil
}

var errBadAddress = errors.New("bad address value")

// decodeAddress decodes the value of MAPPED-ADDRESS (RFC 8489 §14.1) or, with
// xor set, XOR-MAPPED-ADDRESS (§14.2).
func decodeAddress(v []byte, xor bool, id *TransactionID) (netip.AddrPort, error) {
	if len(v) < 4 {
		return netip.AddrPort{}, errBadAddress
	}
	port := binary.BigEndian.Uint16(v[2:4])
	if xor {
		port ^= MagicCookie >> 16
	}
	switch v[1] {
	case familyIPv4:
		if len(v) != 8 {
			return netip.AddrPort{}, errBadAddress
		}
		var a [4]byte
		copy(a[:], v[4:8])
		if xor {
			binary.BigEndian.PutUint32(a[:], binary.BigEndian.Uint32(a[:])^MagicCookie)
		}
		return netip.AddrPortFrom(netip.AddrFrom4(a), port), nil
	case familyIPv6:
		if len(v) != 20 {
			return netip.AddrPort{}, errBadAddress
		}
		var a [16]byte
		copy(a[:], v[4:20])
		if xor {
			mask := xorMask(id)
			for i := range a {
				a[i] ^= mask[i]
			}
		}
		return netip.AddrPortFrom(netip.AddrFrom16(a), port), nil
	}
	return netip.AddrPort{}, errBadAddress
}

// xorMask is the magic cookie followed by the transaction ID, the mask of an
// IPv6 XOR-MAPPED-ADDRESS (RFC 8489 §14.2).
func xorMask(id *TransactionID) [16]byte {
	var k [16]byte
	binary.BigEndian.PutUint32(k[:4], MagicCookie)
	copy(k[4:], id[:])
	return k
}

// ErrorCode returns the code (300–699) and reason phrase of the ERROR-CODE
// attribute of m (RFC 8489 §14.8). The reason is a view into m.Raw.
func (m *Message) ErrorCode() (code int, reason []byte, err error) {
	v, ok := m.Get(AttrErrorCode)
	if !ok {
		return 0, nil, ErrNoAttribute
	}
	if len(v) < 4 {
		return 0, nil, errors.New("stun: ERROR-CODE shorter than 4 bytes")
	}
	class, number := int(v[2]&0x07), int(v[3])
	if class < 3 || class > 6 || number > 99 {
		return 0, nil, fmt.Errorf("stun: ERROR-CODE class %d number %d out of range", class, number)
	}
	return class*100 + number, v[4:], nil
}

// UnknownAttributes appends the attribute types listed in the
// UNKNOWN-ATTRIBUTES attribute of m (RFC 8489 §14.13) to dst.
func (m *Message) UnknownAttributes(dst []AttrType) ([]AttrType, error) {
	v, ok := m.Get(AttrUnknownAttributes)
	if !ok {
		return dst, ErrNoAttribute
	}
	if len(v)%2 != 0 {
		return dst, errors.New("stun: UNKNOWN-ATTRIBUTES length is odd")
	}
	for i := 0; i+1 < len(v); i += 2 {
		dst = append(dst, AttrType(binary.BigEndian.Uint16(v[i:])))
	}
	return dst, nil
}

// Uint32 returns the value of a 4-byte attribute such as PRIORITY.
func (m *Message) Uint32(t AttrType) (uint32, error) {
	v, ok := m.Get(t)
	if !ok {
		return 0, ErrNoAttribute
	}
	if len(v) != 4 {
		return 0, fmt.Errorf("stun: %v length %d, want 4", t, len(v))
	}
	return binary.BigEndian.Uint32(v), nil
}

// Uint64 returns the value of an 8-byte attribute such as ICE-CONTROLLED.
func (m *Message) Uint64(t AttrType) (uint64, error) {
	v, ok := m.Get(t)
	if !ok {
		return 0, ErrNoAttribute
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("stun: %v length %d, want 8", t, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// PasswordAlgorithm is a value of the PASSWORD-ALGORITHM registry
// (RFC 8489 §18.5).
type PasswordAlgorithm uint16

// Password algorithms (RFC 8489 §18.5).
const (
	PasswordAlgorithmMD5    PasswordAlgorithm = 0x0001
	PasswordAlgorithmSHA256 PasswordAlgorithm = 0x0002
)

// String returns "MD5", "SHA-256" or the number.
func (a PasswordAlgorithm) String() string {
	switch a {
	case PasswordAlgorithmMD5:
		return "MD5"
	case PasswordAlgorithmSHA256:
		return "SHA-256"
	}
	return fmt.Sprintf("algorithm(%d)", uint16(a))
}

// PasswordAlgorithms appends the algorithms listed in PASSWORD-ALGORITHMS
// (RFC 8489 §14.11) to dst. Algorithm parameters are skipped (neither
// registered algorithm has any).
func (m *Message) PasswordAlgorithms(dst []PasswordAlgorithm) ([]PasswordAlgorithm, error) {
	v, ok := m.Get(AttrPasswordAlgorithms)
	if !ok {
		return dst, ErrNoAttribute
	}
	for len(v) > 0 {
		if len(v) < 4 {
			return dst, errors.New("stun: PASSWORD-ALGORITHMS truncated")
		}
		alg := PasswordAlgorithm(binary.BigEndian.Uint16(v))
		n := (int(binary.BigEndian.Uint16(v[2:])) + 3) &^ 3
		if len(v)-4 < n {
			return dst, errors.New("stun: PASSWORD-ALGORITHMS parameters overrun")
		}
		dst = append(dst, alg)
		v = v[4+n:]
	}
	return dst, nil
}

// PasswordAlgorithm returns the algorithm of PASSWORD-ALGORITHM
// (RFC 8489 §14.12).
func (m *Message) PasswordAlgorithm() (PasswordAlgorithm, error) {
	v, ok := m.Get(AttrPasswordAlgorithm)
	if !ok {
		return 0, ErrNoAttribute
	}
	if len(v) < 4 || len(v)-4 < int(binary.BigEndian.Uint16(v[2:])) {
		return 0, errors.New("stun: PASSWORD-ALGORITHM truncated")
	}
	return PasswordAlgorithm(binary.BigEndian.Uint16(v)), nil
}

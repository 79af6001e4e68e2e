package srtp

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"
)

// Crypto is an SDES "a=crypto" attribute value (RFC 4568 §4 and §9.1):
//
//	1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4 KDR=1
//
// Suite is kept as text, so a line with a suite this package does not
// implement still parses (RFC 4568 §6.1: the answerer skips it); use
// [Crypto.Profile] to map it.
type Crypto struct {
	Tag           uint32      // 1 to 999999999 (1*9DIGIT)
	Suite         string      // crypto-suite name, e.g. "AES_CM_128_HMAC_SHA1_80"
	Keys          []CryptoKey // one or more "inline:" key-params, in order
	SessionParams []string    // session-params as given, e.g. "KDR=1", "UNENCRYPTED_SRTCP"
}

// CryptoKey is one "inline:" key-param of an SDES attribute (RFC 4568 §6.1).
type CryptoKey struct {
	KeySalt   []byte // master key followed by master salt
	Lifetime  uint64 // master key lifetime in packets; 0 when not given
	MKI       uint64 // MKI value; meaningful when MKILength > 0
	MKILength int    // MKI field length in octets (1 to 128); 0 when no MKI
}

const maxCryptoTag = 999999999

// ParseCrypto parses the value of an "a=crypto" attribute: the text after
// "a=crypto:" (a leading "a=crypto:" or "crypto:" is accepted too). Key
// lengths are checked against the suite when the suite is one of this
// package's profiles. The result shares no memory with value.
func ParseCrypto(value string) (Crypto, error) {
	var c Crypto
	v, ok := strings.CutPrefix(value, "a=crypto:")
	if !ok {
		v = strings.TrimPrefix(value, "crypto:")
	}
	fields := strings.Fields(v)
	if len(fields) < 3 {
		return c, fmt.Errorf("srtp: crypto attribute %s: want tag, suite and key-params", quote(value))
	}
	tag, err := strconv.ParseUint(fields[0], 10, 32)
	if err != nil || len(fields[0]) > 9 || tag > maxCryptoTag || !allDigits(fields[0]) {
		return c, fmt.Errorf("srtp: crypto attribute tag %s", quote(fields[0]))
	}
	c.Tag = uint32(tag)
	if !validSuiteName(fields[1]) {
		return c, fmt.Errorf("srtp: crypto attribute suite %s", quote(fields[1]))
	}
	c.Suite = fields[1]
	wantLen := 0
	if p, err := ParseProfile(c.Suite); err == nil {
		wantLen = p.KeyLen() + p.SaltLen()
	}
	for kp := range strings.SplitSeq(fields[2], ";") {
		k, err := parseKeyParam(kp, wantLen)
		if err != nil {
			return Crypto{}, err
		}
		c.Keys = append(c.Keys, k)
	}
	if len(fields) > 3 {
		c.SessionParams = append([]string(nil), fields[3:]...)
	}
	return c, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func validSuiteName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

// parseKeyParam parses "inline:" key-salt ["|" lifetime] ["|" mki].
func parseKeyParam(s string, wantLen int) (CryptoKey, error) {
	var k CryptoKey
	info, ok := strings.CutPrefix(s, "inline:")
	if !ok {
		return k, fmt.Errorf("srtp: crypto key-param %s: only the inline method is supported", quote(s))
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return k, fmt.Errorf("srtp: crypto key-param %s: too many fields", quote(s))
	}
	key, err := decodeKey(parts[0])
	if err != nil || len(key) == 0 {
		return k, fmt.Errorf("srtp: crypto key-param %s: bad base64 key", quote(s))
	}
	if wantLen != 0 && len(key) != wantLen {
		return k, fmt.Errorf("srtp: crypto key-param: key and salt are %d octets, want %d", len(key), wantLen)
	}
	k.KeySalt = key
	for i, p := range parts[1:] {
		if mv, ml, isMKI := strings.Cut(p, ":"); isMKI {
			if i != len(parts)-2 {
				return k, fmt.Errorf("srtp: crypto key-param %s: MKI must come last", quote(s))
			}
			val, err1 := strconv.ParseUint(mv, 10, 64)
			n, err2 := strconv.ParseUint(ml, 10, 8)
			if err1 != nil || err2 != nil || !allDigits(mv) || !allDigits(ml) || len(ml) > 3 || n < 1 || n > 128 ||
				n < 8 && val>>(8*n) != 0 {
				return k, fmt.Errorf("srtp: crypto key-param MKI %s", quote(p))
			}
			k.MKI, k.MKILength = val, int(n)
			continue
		}
		if i != 0 {
			return k, fmt.Errorf("srtp: crypto key-param %s: lifetime must come first", quote(s))
		}
		lt, err := parseLifetime(p)
		if err != nil {
			return k, err
		}
		k.Lifetime = lt
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.Strict().DecodeString(s)
	}
	// Some peers drop the padding.
	return base64.RawStdEncoding.Strict().DecodeString(s)
}

// parseLifetime parses "2^n" or a decimal count (RFC 4568 §6.1); 0 is not a
// valid lifetime.
func parseLifetime(s string) (uint64, error) {
	if e, ok := strings.CutPrefix(s, "2^"); ok {
		n, err := strconv.ParseUint(e, 10, 8)
		if err != nil || !allDigits(e) || n > 63 {
			return 0, fmt.Errorf("srtp: crypto lifetime %s", quote(s))
		}
		return 1 << n, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || !allDigits(s) || n == 0 {
		return 0, fmt.Errorf("srtp: crypto lifetime %s", quote(s))
	}
	return n, nil
}

// AppendTo appends the attribute value (without "a=crypto:") to dst. Keys
// are written with base64 padding and powers of two as "2^n".
func (c Crypto) AppendTo(dst []byte) []byte {
	dst = strconv.AppendUint(dst, uint64(c.Tag), 10)
	dst = append(dst, ' ')
	dst = append(dst, c.Suite...)
	dst = append(dst, ' ')
	for i, k := range c.Keys {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, "inline:"...)
		dst = base64.StdEncoding.AppendEncode(dst, k.KeySalt)
		if k.Lifetime != 0 {
			dst = append(dst, '|')
			if k.Lifetime&(k.Lifetime-1) == 0 {
				dst = append(dst, "2^"...)
				dst = strconv.AppendInt(dst, int64(bits.TrailingZeros64(k.Lifetime)), 10)
			} else {
				dst = strconv.AppendUint(dst, k.Lifetime, 10)
			}
		}
		if k.MKILength > 0 {
			dst = append(dst, '|')
			dst = strconv.AppendUint(dst, k.MKI, 10)
			dst = append(dst, ':')
			dst = strconv.AppendInt(dst, int64(k.MKILength), 10)
		}
	}
	for _, p := range c.SessionParams {
		dst = append(dst, ' ')
		dst = append(dst, p...)
	}
	return dst
}

// String returns the attribute value, as AppendTo writes it.
func (c Crypto) String() string { return string(c.AppendTo(nil)) }

// Profile returns the profile named by c.Suite.
func (c Crypto) Profile() (Profile, error) { return ParseProfile(c.Suite) }

// NewCrypto returns an attribute with the given tag and profile and a fresh
// random master key and salt read from rand (crypto/rand when nil), as an
// offerer or answerer sends (RFC 4568 §5.1).
func NewCrypto(tag uint32, p Profile, rand io.Reader) (Crypto, error) {
	if !p.valid() {
		return Crypto{}, fmt.Errorf("%w %s", ErrUnknownProfile, p)
	}
	if tag == 0 || tag > maxCryptoTag {
		return Crypto{}, errors.New("srtp: crypto tag out of range 1..999999999")
	}
	if rand == nil {
		rand = cryptoRand
	}
	ks := make([]byte, p.KeyLen()+p.SaltLen())
	if _, err := io.ReadFull(rand, ks); err != nil {
		return Crypto{}, fmt.Errorf("srtp: reading key: %w", err)
	}
	return Crypto{Tag: tag, Suite: p.String(), Keys: []CryptoKey{{KeySalt: ks}}}, nil
}

var cryptoRand = rand.Reader

// NewContext returns a Context for the attribute's suite and first key,
// with the UNENCRYPTED_SRTP and UNENCRYPTED_SRTCP session parameters
// applied (RFC 4568 §6.3). It refuses what it cannot honour: an MKI, a
// non-zero KDR, UNAUTHENTICATED_SRTP, or any other session parameter.
// Further options are appended after those derived from the attribute.
func (c Crypto) NewContext(opts ...Option) (*Context, error) {
	p, err := c.Profile()
	if err != nil {
		return nil, err
	}
	if len(c.Keys) == 0 {
		return nil, errors.New("srtp: crypto attribute has no key")
	}
	k := c.Keys[0]
	if k.MKILength != 0 {
		return nil, errors.New("srtp: crypto attribute with MKI is not supported")
	}
	var own []Option
	for _, sp := range c.SessionParams {
		switch sp {
		case "UNENCRYPTED_SRTP":
			own = append(own, WithUnencryptedSRTP())
		case "UNENCRYPTED_SRTCP":
			own = append(own, WithUnencryptedSRTCP())
		case "KDR=0":
		default:
			return nil, fmt.Errorf("srtp: crypto session parameter %s is not supported", quote(sp))
		}
	}
	if len(k.KeySalt) != p.KeyLen()+p.SaltLen() {
		return nil, fmt.Errorf("srtp: crypto key and salt are %d octets, want %d", len(k.KeySalt), p.KeyLen()+p.SaltLen())
	}
	return NewContext(p, k.KeySalt[:p.KeyLen()], k.KeySalt[p.KeyLen():], append(own, opts...)...)
}

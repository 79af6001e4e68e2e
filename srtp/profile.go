package srtp

import (
	"errors"
	"fmt"
)

// Profile is an SRTP protection profile: the cipher, the authentication and
// the key sizes used by a [Context]. The zero value is not a valid profile.
type Profile uint8

// The supported profiles, named as in the SDES "a=crypto" attribute.
const (
	// ProfileAES128CMSHA1_80 is AES_CM_128_HMAC_SHA1_80 (RFC 3711, RFC 4568 §6.2.1).
	ProfileAES128CMSHA1_80 Profile = iota + 1
	// ProfileAES128CMSHA1_32 is AES_CM_128_HMAC_SHA1_32: a 32-bit SRTP tag,
	// but SRTCP keeps the 80-bit tag (RFC 4568 §6.2.2).
	ProfileAES128CMSHA1_32
	// ProfileAES256CMSHA1_80 is AES_256_CM_HMAC_SHA1_80 (RFC 6188 §4).
	ProfileAES256CMSHA1_80
	// ProfileAES256CMSHA1_32 is AES_256_CM_HMAC_SHA1_32 (RFC 6188 §4); SRTCP keeps 80 bits.
	ProfileAES256CMSHA1_32
	// ProfileAEADAES128GCM is AEAD_AES_128_GCM (RFC 7714 §14.2, 16-octet tag).
	ProfileAEADAES128GCM
	// ProfileAEADAES256GCM is AEAD_AES_256_GCM (RFC 7714 §14.2, 16-octet tag).
	ProfileAEADAES256GCM
)

// ErrUnknownProfile is returned by [ParseProfile] for a suite name this
// package does not implement (RFC 4568 §6.1 says such a line is ignored).
var ErrUnknownProfile = errors.New("srtp: unknown crypto suite")

var profileNames = [...]string{
	ProfileAES128CMSHA1_80: "AES_CM_128_HMAC_SHA1_80",
	ProfileAES128CMSHA1_32: "AES_CM_128_HMAC_SHA1_32",
	ProfileAES256CMSHA1_80: "AES_256_CM_HMAC_SHA1_80",
	ProfileAES256CMSHA1_32: "AES_256_CM_HMAC_SHA1_32",
	ProfileAEADAES128GCM:   "AEAD_AES_128_GCM",
	ProfileAEADAES256GCM:   "AEAD_AES_256_GCM",
}

// ParseProfile returns the profile with the given crypto-suite name, exactly
// as it appears in an "a=crypto" attribute (e.g. "AES_CM_128_HMAC_SHA1_80").
// It returns an error wrapping [ErrUnknownProfile] for any other name.
func ParseProfile(name string) (Profile, error) {
	for p, n := range profileNames {
		if p != 0 && n == name {
			return Profile(p), nil
		}
	}
	return 0, fmt.Errorf("%w %s", ErrUnknownProfile, quote(name))
}

// Profiles returns every supported profile, strongest first.
func Profiles() []Profile {
	return []Profile{ProfileAEADAES256GCM, ProfileAEADAES128GCM,
		ProfileAES256CMSHA1_80, ProfileAES128CMSHA1_80,
		ProfileAES256CMSHA1_32, ProfileAES128CMSHA1_32}
}

func (p Profile) valid() bool { return p >= ProfileAES128CMSHA1_80 && p <= ProfileAEADAES256GCM }

// String returns the crypto-suite name, or "Profile(n)" for an invalid value.
func (p Profile) String() string {
	if !p.valid() {
		return "Profile(" + itoa(uint64(p)) + ")"
	}
	return profileNames[p]
}

// AEAD reports whether the profile is an AES-GCM suite of RFC 7714.
func (p Profile) AEAD() bool { return p == ProfileAEADAES128GCM || p == ProfileAEADAES256GCM }

// KeyLen returns the master (and session) key length in octets: 16 or 32.
func (p Profile) KeyLen() int {
	switch p {
	case ProfileAES256CMSHA1_80, ProfileAES256CMSHA1_32, ProfileAEADAES256GCM:
		return 32
	case ProfileAES128CMSHA1_80, ProfileAES128CMSHA1_32, ProfileAEADAES128GCM:
		return 16
	}
	return 0
}

// SaltLen returns the master salt length in octets: 14 for AES-CM, 12 for
// AES-GCM (RFC 7714 §12).
func (p Profile) SaltLen() int {
	switch {
	case !p.valid():
		return 0
	case p.AEAD():
		return 12
	}
	return 14
}

// AuthKeyLen returns the session authentication key length in octets: 20 for
// HMAC-SHA1, 0 for AEAD profiles.
func (p Profile) AuthKeyLen() int {
	if !p.valid() || p.AEAD() {
		return 0
	}
	return 20
}

// AuthTagLen returns the length in octets of the tag appended to SRTP
// packets: 10, 4, or 16 (the GCM tag).
func (p Profile) AuthTagLen() int {
	switch p {
	case ProfileAES128CMSHA1_32, ProfileAES256CMSHA1_32:
		return 4
	case ProfileAES128CMSHA1_80, ProfileAES256CMSHA1_80:
		return 10
	case ProfileAEADAES128GCM, ProfileAEADAES256GCM:
		return 16
	}
	return 0
}

// RTCPAuthTagLen returns the length in octets of the SRTCP tag: 10 for every
// HMAC-SHA1 profile (the _32 suites keep 80 bits for SRTCP, RFC 4568 §6.2.2),
// 16 for AEAD profiles.
func (p Profile) RTCPAuthTagLen() int {
	switch {
	case !p.valid():
		return 0
	case p.AEAD():
		return 16
	}
	return 10
}

// MaxOverhead returns the largest number of octets EncryptRTP or EncryptRTCP
// adds to a packet: the SRTCP tag plus the 4-octet E flag and index word.
func (p Profile) MaxOverhead() int { return p.RTCPAuthTagLen() + 4 }

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// quote returns s in double quotes, shortened to about 40 bytes, for errors.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' {
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return string(append(b, '"'))
}

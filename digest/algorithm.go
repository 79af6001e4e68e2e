package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"strings"
)

// Algorithm is the value of the algorithm parameter, kept as it appeared on
// the wire so that unknown algorithms survive a parse and serialize round
// trip. Comparisons are case-insensitive. The empty Algorithm means MD5
// (RFC 7616 §3.3: "If this is not present, it is assumed to be MD5").
type Algorithm string

// The algorithms of the RFC 7616 §6.1 registry that RFC 8760 §2 opens to SIP. The
// -sess variants hash the nonce and cnonce into HA1 (RFC 7616 §3.4.2).
const (
	MD5            Algorithm = "MD5"
	MD5Sess        Algorithm = "MD5-sess"
	SHA256         Algorithm = "SHA-256"
	SHA256Sess     Algorithm = "SHA-256-sess"
	SHA512_256     Algorithm = "SHA-512-256"
	SHA512_256Sess Algorithm = "SHA-512-256-sess"
)

// hashID names the hash function behind an Algorithm.
type hashID uint8

const (
	hashNone hashID = iota
	hashMD5
	hashSHA256
	hashSHA512_256
)

// maxHex is the length of the longest hex digest (SHA-256, SHA-512/256).
const maxHex = 64

// parse splits a into its hash function and the -sess flag.
func (a Algorithm) parse() (h hashID, sess bool) {
	s := string(a)
	switch s { // the usual spellings first
	case "", "MD5":
		return hashMD5, false
	case "SHA-256":
		return hashSHA256, false
	case "SHA-512-256":
		return hashSHA512_256, false
	}
	if n := len(s) - len("-sess"); n > 0 && strings.EqualFold(s[n:], "-sess") {
		s, sess = s[:n], true
	}
	switch {
	case strings.EqualFold(s, "MD5"):
		return hashMD5, sess
	case strings.EqualFold(s, "SHA-256"):
		return hashSHA256, sess
	case strings.EqualFold(s, "SHA-512-256"):
		return hashSHA512_256, sess
	}
	return hashNone, false
}

// Supported reports whether this package can compute responses for a.
func (a Algorithm) Supported() bool {
	h, _ := a.parse()
	return h != hashNone
}

// strength orders supported algorithms: SHA-512-256 > SHA-256 > MD5
// (the order of preference of the RFC 8760 §2.3 example); 0 is unsupported.
func (a Algorithm) strength() int {
	h, _ := a.parse()
	return int(h)
}

// hexSum writes the lower-case hex digest of p with h into dst and returns
// the written part of dst.
func (h hashID) hexSum(dst *[maxHex]byte, p []byte) []byte {
	switch h {
	case hashMD5:
		s := md5.Sum(p)
		return hexTo(dst[:], s[:])
	case hashSHA256:
		s := sha256.Sum256(p)
		return hexTo(dst[:], s[:])
	default:
		s := sha512.Sum512_256(p)
		return hexTo(dst[:], s[:])
	}
}

const hexDigits = "0123456789abcdef"

// hexTo writes the lower-case hex form of src into dst, which must be long
// enough, and returns the written part.
func hexTo(dst, src []byte) []byte {
	dst = dst[:2*len(src)]
	// Walking dst two bytes at a time leaves the compiler one bounds
	// check per byte of src instead of three; this runs three times per
	// response.
	for j := 1; j < len(dst); j += 2 {
		b := src[j>>1]
		dst[j-1] = hexDigits[b>>4]
		dst[j] = hexDigits[b&0x0f]
	}
	return dst
}

// hexValue maps a hex digit, in either case, to its value and every other
// byte to 0xff.
var hexValue = func() (t [256]uint8) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = uint8(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = uint8(c-'a') + 10
		case 'A' <= c && c <= 'F':
			t[c] = uint8(c-'A') + 10
		default:
			t[c] = 0xff
		}
	}
	return t
}()

// unhex returns the value of the hex digit c, or -1.
func unhex(c byte) int {
	if v := hexValue[c]; v != 0xff {
		return int(v)
	}
	return -1
}

// unhexTo decodes the hex string s into dst and reports whether s was valid
// hex of exactly len(dst) bytes.
func unhexTo[T string | []byte](dst []byte, s T) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	bad := uint8(0)
	for i := range dst {
		hi, lo := hexValue[s[2*i]], hexValue[s[2*i+1]]
		bad |= hi | lo // 0xff marks a non-digit
		dst[i] = hi<<4 | lo
	}
	return bad&0xf0 == 0
}

// UserHash returns the userhash of RFC 7616 §3.4.4, H(username ":" realm) in
// lower-case hex, that a client sends instead of its username when the
// challenge says userhash=true. It returns "" for an unsupported algorithm.
// Safe for concurrent use.
func UserHash(alg Algorithm, username, realm string) string {
	h, _ := alg.parse()
	if h == hashNone {
		return ""
	}
	var out [maxHex]byte
	return string(userHash(h, &out, username, realm))
}

func userHash(h hashID, out *[maxHex]byte, username, realm string) []byte {
	var buf [256]byte
	b := append(buf[:0], username...)
	b = append(b, ':')
	b = append(b, realm...)
	return h.hexSum(out, b)
}

// inputs are the values that enter a response computation.
type inputs struct {
	h                               hashID
	sess                            bool
	username, realm, password       string
	nonce, cnonce, qop, method, uri string
	nc                              uint32
	body                            []byte
}

// scratch is the buffer the hash inputs are assembled in; inputs longer
// than it spill to the heap.
type scratch [256]byte

// ha1 computes H(A1) of RFC 7616 §3.4.2 into out and returns its hex.
func (in *inputs) ha1(out *[maxHex]byte, buf *scratch) []byte {
	// A1 = username ":" realm ":" passwd
	b := append(buf[:0], in.username...)
	b = append(b, ':')
	b = append(b, in.realm...)
	b = append(b, ':')
	b = append(b, in.password...)
	h1 := in.h.hexSum(out, b)
	if in.sess {
		// -sess: A1 = H(username ":" realm ":" passwd) ":" nonce ":" cnonce
		b = append(buf[:0], h1...)
		b = append(b, ':')
		b = append(b, in.nonce...)
		b = append(b, ':')
		b = append(b, in.cnonce...)
		h1 = in.h.hexSum(out, b)
	}
	return h1
}

// ha2 computes H(A2) of RFC 7616 §3.4.3 into out and returns its hex. In
// SIP the method is the request's and the entity-body its message body
// (RFC 3261 §22.4, RFC 8760 §2); an empty body hashes the empty string.
func (in *inputs) ha2(out *[maxHex]byte, buf *scratch) []byte {
	// A2 = Method ":" request-uri [":" H(entity-body)] (auth-int)
	b := append(buf[:0], in.method...)
	b = append(b, ':')
	b = append(b, in.uri...)
	if isQOP(in.qop, "auth-int") {
		var bodyHash [maxHex]byte
		b = append(b, ':')
		b = append(b, in.h.hexSum(&bodyHash, in.body)...)
	}
	return in.h.hexSum(out, b)
}

// response computes the request-digest of RFC 7616 §3.4.1 (RFC 2617
// §3.2.2.1 for MD5, RFC 3261 §22.4 for SIP) into out and returns its hex.
func (in *inputs) response(out *[maxHex]byte) []byte {
	var buf scratch
	var ha1, ha2 [maxHex]byte
	h1 := in.ha1(&ha1, &buf)
	h2 := in.ha2(&ha2, &buf)
	// response = KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2)), or
	// KD(H(A1), nonce ":" H(A2)) without qop (RFC 2069 compatibility),
	// where KD(secret, data) = H(secret ":" data).
	b := append(buf[:0], h1...)
	b = append(b, ':')
	b = append(b, in.nonce...)
	b = append(b, ':')
	if in.qop != "" {
		b = appendNC(b, in.nc)
		b = append(b, ':')
		b = append(b, in.cnonce...)
		b = append(b, ':')
		b = append(b, in.qop...)
		b = append(b, ':')
	}
	b = append(b, h2...)
	return in.h.hexSum(out, b)
}

// appendNC appends nc as the 8 lower-case hex digits of RFC 7616 §3.4.
func appendNC(b []byte, nc uint32) []byte {
	var d [8]byte
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = hexDigits[nc&0x0f]
		nc >>= 4
	}
	return append(b, d[:]...)
}

// isQOP reports whether q names the quality of protection want.
func isQOP(q, want string) bool { return strings.EqualFold(q, want) }

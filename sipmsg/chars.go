package sipmsg

// Character classes of RFC 3261 §25.1, as bits in one table.
const (
	cToken  uint16 = 1 << iota // token
	cUnres                     // unreserved = alphanum / mark
	cUser                      // user: unreserved / escaped / user-unreserved
	cPass                      // password characters
	cHost                      // hostname / IPv4 characters
	cParam                     // paramchar (excluding '%', checked apart)
	cHeader                    // hname / hvalue characters
	cScheme                    // scheme after the first ALPHA
	cTel                       // telephone-subscriber characters
	cIPv6                      // inside [ ]
)

var charClass [256]uint16

func init() {
	set := func(chars string, bits uint16) {
		for i := 0; i < len(chars); i++ {
			charClass[chars[i]] |= bits
		}
	}
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	const mark = "-_.!~*'()"
	set(alnum, cToken|cUnres|cUser|cPass|cHost|cParam|cHeader|cScheme)
	set(mark, cUnres|cUser|cPass|cParam|cHeader)
	set("-.!%*_+`'~", cToken)
	set("&=+$,;?/", cUser)
	set("&=+$,", cPass)
	set("-._", cHost)
	set("[]/:&+$", cParam)
	set("[]/?:+$", cHeader)
	set("+-.", cScheme)
	set("0123456789abcdefABCDEF+-.()*#", cTel)
	set("0123456789abcdefABCDEF:.", cIPv6)
}

func is(c byte, class uint16) bool { return charClass[c]&class != 0 }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// checkChars returns the index of the first byte of s that is neither in
// class nor a valid %HH escape, or -1.
func checkChars(s string, class uint16) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if is(c, class) {
			continue
		}
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			i += 2
			continue
		}
		return i
	}
	return -1
}

func isToken[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !is(s[i], cToken) {
			return false
		}
	}
	return true
}

// Unescape decodes %HH escapes in s (RFC 3261 §19.1.2, §25.1). Invalid
// escapes are kept as they are. It returns s itself when there is nothing
// to decode.
func Unescape(s string) string {
	i := 0
	for i < len(s) && s[i] != '%' {
		i++
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// nextUnescaped decodes the byte of s at i, returning it and the index of
// the following one.
func nextUnescaped(s string, i int) (byte, int) {
	if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
		return unhex(s[i+1])<<4 | unhex(s[i+2]), i + 3
	}
	return s[i], i + 1
}

// equalEscaped compares a and b after decoding escapes, optionally folding
// ASCII case (RFC 3261 §19.1.4). It does not allocate.
func equalEscaped(a, b string, fold bool) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		var ca, cb byte
		ca, i = nextUnescaped(a, i)
		cb, j = nextUnescaped(b, j)
		if fold {
			ca, cb = lower(ca), lower(cb)
		}
		if ca != cb {
			return false
		}
	}
	return i == len(a) && j == len(b)
}

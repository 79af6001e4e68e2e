package sipmsg

import "strings"

// URI is a SIP, SIPS or tel URI (RFC 3261 §19.1, RFC 3966), or any other
// absolute URI kept opaque. Parsed fields are views of the input string.
//
// User, Password, Params and Headers keep their %-escapes as written, so a
// URI serializes back as it arrived; [URI.Equal] decodes escapes when
// comparing and [Unescape] decodes them for display.
type URI struct {
	Scheme   string // "sip", "sips", "tel" or another scheme, as written
	User     string // user part, escaped (the number for tel)
	Password string // password, escaped
	Host     string // host name, IPv4 address or IPv6 address without brackets
	Port     int    // port, 0 when absent
	Params   Params // uri-parameters after the first ';', as written
	Headers  string // headers after '?', as written
	Opaque   string // everything after "scheme:" for schemes other than sip, sips, tel
}

// IsSIP reports whether u is a sip or sips URI.
func (u URI) IsSIP() bool { return equalFold(u.Scheme, "sip") || equalFold(u.Scheme, "sips") }

// IsSecure reports whether u is a sips URI.
func (u URI) IsSecure() bool { return equalFold(u.Scheme, "sips") }

// IsTel reports whether u is a tel URI.
func (u URI) IsTel() bool { return equalFold(u.Scheme, "tel") }

// ParseURI parses an absolute URI as found in a Request-URI or inside <>:
// sip, sips and tel URIs are parsed into their parts (RFC 3261 §25.1,
// RFC 3966); other schemes keep everything after the colon in Opaque.
// The result's strings are views of s. It never panics.
func ParseURI(s string) (URI, error) {
	var u URI
	colon := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ':' {
			colon = i
			break
		}
		if i == 0 && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') || i > 0 && !is(c, cScheme) {
			return u, newError(s, i, "invalid URI scheme")
		}
	}
	if colon <= 0 {
		return u, newError(s, 0, "URI has no scheme")
	}
	u.Scheme = s[:colon]
	rest := s[colon+1:]
	switch {
	case u.IsSIP():
		return u, u.parseSIP(s, colon+1)
	case u.IsTel():
		return u, u.parseTel(s, colon+1)
	}
	if rest == "" {
		return u, newError(s, colon, "empty URI")
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' {
			return u, newError(s, colon+1+i, "invalid character in URI")
		}
	}
	u.Opaque = rest
	return u, nil
}

// parseSIP parses s[off:] as the part of a sip/sips URI after the colon.
func (u *URI) parseSIP(s string, off int) error {
	rest := s[off:]
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		if strings.IndexByte(rest[at+1:], '@') >= 0 {
			return newError(s, off+at, "more than one '@' in URI")
		}
		ui := rest[:at]
		user, pass := ui, ""
		if c := strings.IndexByte(ui, ':'); c >= 0 {
			user, pass = ui[:c], ui[c+1:]
			if i := checkChars(pass, cPass); i >= 0 {
				return newError(s, off+c+1+i, "invalid character in URI password")
			}
		}
		if user == "" {
			return newError(s, off, "empty URI user")
		}
		if i := checkChars(user, cUser); i >= 0 {
			return newError(s, off+i, "invalid character in URI user")
		}
		u.User, u.Password = user, pass
		off += at + 1
		rest = rest[at+1:]
	}
	end := len(rest)
	for i := 0; i < len(rest); i++ {
		if rest[i] == ';' || rest[i] == '?' {
			end = i
			break
		}
	}
	host, port, err := splitHostPort(s, off, rest[:end])
	if err != nil {
		return err
	}
	u.Host, u.Port = host, port
	off += end
	rest = rest[end:]
	if rest != "" && rest[0] == ';' {
		q := strings.IndexByte(rest, '?')
		if q < 0 {
			q = len(rest)
		}
		p := rest[1:q]
		if i := checkURIParams(p); i >= 0 {
			return newError(s, off+1+i, "invalid URI parameter")
		}
		u.Params = Params(p)
		off += q
		rest = rest[q:]
	}
	if rest != "" {
		h := rest[1:]
		for i := 0; i < len(h); i++ {
			c := h[i]
			if c == '&' || c == '=' || is(c, cHeader) {
				continue
			}
			if c == '%' && i+2 < len(h) && isHex(h[i+1]) && isHex(h[i+2]) {
				i += 2
				continue
			}
			return newError(s, off+1+i, "invalid character in URI header")
		}
		u.Headers = h
	}
	return nil
}

// checkURIParams checks uri-parameter syntax: pname ["=" pvalue], each a
// non-empty run of paramchar (RFC 3261 §25.1). It returns the offset of
// the first problem or -1.
func checkURIParams(p string) int {
	start, eq := 0, -1
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == ';' {
			if i == start || eq == start || eq == i-1 {
				return i
			}
			start, eq = i+1, -1
			continue
		}
		c := p[i]
		if c == '=' && eq < 0 {
			eq = i
			continue
		}
		if is(c, cParam) {
			continue
		}
		if c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			i += 2
			continue
		}
		return i
	}
	return -1
}

// splitHostPort parses hostport = host [":" port] (RFC 3261 §25.1).
func splitHostPort(s string, off int, hp string) (string, int, error) {
	if hp == "" {
		return "", 0, newError(s, off, "empty host")
	}
	var host, port string
	if hp[0] == '[' {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", 0, newError(s, off, "unterminated IPv6 reference")
		}
		host = hp[1:end]
		if !validIPv6(host) {
			return "", 0, newError(s, off, "invalid IPv6 reference")
		}
		after := hp[end+1:]
		if after != "" {
			if after[0] != ':' {
				return "", 0, newError(s, off+end+1, "junk after IPv6 reference")
			}
			port = after[1:]
			if port == "" {
				return "", 0, newError(s, off+end+1, "empty port")
			}
		}
	} else {
		host = hp
		if c := strings.IndexByte(hp, ':'); c >= 0 {
			host, port = hp[:c], hp[c+1:]
			if port == "" {
				return "", 0, newError(s, off+c, "empty port")
			}
		}
		if host == "" {
			return "", 0, newError(s, off, "empty host")
		}
		for i := 0; i < len(host); i++ {
			if !is(host[i], cHost) {
				return "", 0, newError(s, off+i, "invalid character in host")
			}
		}
	}
	p := 0
	if port != "" {
		var ok bool
		if p, ok = parsePort(port); !ok {
			return "", 0, newError(s, off+len(hp)-len(port), "invalid port")
		}
	}
	return host, p, nil
}

// validIPv6 accepts hex digits, ':' and '.' with at least one ':'. It is
// deliberately lenient: RFC 5118 §4.10 asks receivers to accept the
// three-colon form that RFC 3261's ABNF allows.
func validIPv6(h string) bool {
	return len(h) >= 2 && strings.IndexByte(h, ':') >= 0 && checkChars(h, cIPv6) < 0 && strings.IndexByte(h, '%') < 0
}

func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0 && n <= 65535
}

// parseTel parses telephone-subscriber *( ";" param ) (RFC 3966 §3).
func (u *URI) parseTel(s string, off int) error {
	rest := s[off:]
	end := strings.IndexByte(rest, ';')
	if end < 0 {
		end = len(rest)
	}
	num := rest[:end]
	if num == "" {
		return newError(s, off, "empty telephone number")
	}
	if i := checkChars(num, cTel); i >= 0 {
		return newError(s, off+i, "invalid character in telephone number")
	}
	u.User = num
	if end < len(rest) {
		p := rest[end+1:]
		if i := checkURIParams(p); i >= 0 {
			return newError(s, off+end+1+i, "invalid tel URI parameter")
		}
		u.Params = Params(p)
	}
	return nil
}

// String returns the URI as text.
func (u URI) String() string { return string(u.AppendTo(nil)) }

// AppendTo appends the URI's text form to dst. It does not allocate when dst
// has room.
func (u *URI) AppendTo(dst []byte) []byte {
	dst = append(dst, u.Scheme...)
	dst = append(dst, ':')
	if u.Opaque != "" {
		return append(dst, u.Opaque...)
	}
	if u.IsTel() {
		dst = append(dst, u.User...)
	} else {
		if u.User != "" {
			dst = append(dst, u.User...)
			if u.Password != "" {
				dst = append(dst, ':')
				dst = append(dst, u.Password...)
			}
			dst = append(dst, '@')
		}
		dst = appendHost(dst, u.Host)
		if u.Port != 0 {
			dst = append(dst, ':')
			dst = appendInt(dst, u.Port)
		}
	}
	if u.Params != "" {
		dst = append(dst, ';')
		dst = append(dst, u.Params...)
	}
	if u.Headers != "" {
		dst = append(dst, '?')
		dst = append(dst, u.Headers...)
	}
	return dst
}

func appendHost(dst []byte, host string) []byte {
	if strings.IndexByte(host, ':') >= 0 {
		dst = append(dst, '[')
		dst = append(dst, host...)
		return append(dst, ']')
	}
	return append(dst, host...)
}

// Equal reports whether u and v are equivalent under RFC 3261 §19.1.4:
// schemes and hosts compare case-insensitively, user and password
// case-sensitively, %-escapes compare equal to the characters they encode,
// a port present in only one URI makes them differ, the user, ttl, method,
// maddr and transport parameters must match when present in either, other
// parameters only when present in both, and headers must all match.
// tel URIs compare their numbers without visual separators (RFC 3966 §4).
func (u URI) Equal(v URI) bool {
	if !equalFold(u.Scheme, v.Scheme) {
		return false
	}
	if u.Opaque != "" || v.Opaque != "" {
		return u.Opaque == v.Opaque
	}
	if u.IsTel() {
		return equalTelNumber(u.User, v.User) && equalParams(u.Params, v.Params, false)
	}
	if !equalEscaped(u.User, v.User, false) || !equalEscaped(u.Password, v.Password, false) {
		return false
	}
	if !equalFold(u.Host, v.Host) || u.Port != v.Port {
		return false
	}
	return equalParams(u.Params, v.Params, true) && equalURIHeaders(u.Headers, v.Headers)
}

var strictURIParams = [...]string{"user", "ttl", "method", "maddr", "transport"}

func equalParams(a, b Params, sip bool) bool {
	if sip {
		for _, name := range strictURIParams {
			if a.Has(name) != b.Has(name) {
				return false
			}
		}
	}
	for rest := a; ; {
		n, va, r, ok := rest.Next()
		if !ok {
			break
		}
		seen := paramBefore(a, len(a)-len(rest), n)
		rest = r
		if seen {
			continue // only the first occurrence of a name counts
		}
		for rb := b; ; {
			m, vb, r2, ok := rb.Next()
			if !ok {
				if !sip {
					return false // RFC 3966 §4: parameters must match
				}
				break
			}
			rb = r2
			if equalEscaped(n, m, true) {
				if !equalEscaped(va, vb, true) {
					return false
				}
				break
			}
		}
	}
	if !sip {
		return paramCount(a) == paramCount(b)
	}
	return true
}

// paramBefore reports whether a parameter called name occurs in p[:end].
func paramBefore(p Params, end int, name string) bool {
	for rest := p[:end]; ; {
		n, _, r, ok := rest.Next()
		if !ok {
			return false
		}
		if equalEscaped(n, name, true) {
			return true
		}
		rest = r
	}
}

func paramCount(p Params) int {
	n := 0
	for rest := p; ; n++ {
		_, _, r, ok := rest.Next()
		if !ok {
			return n
		}
		rest = r
	}
}

// equalURIHeaders requires every header in a to be in b with the same value
// and the same number of headers on both sides.
func equalURIHeaders(a, b string) bool {
	count := func(s string) int {
		if s == "" {
			return 0
		}
		return strings.Count(s, "&") + 1
	}
	if count(a) != count(b) {
		return false
	}
	for ra := a; ra != ""; {
		var ha string
		ha, ra, _ = strings.Cut(ra, "&")
		na, va, _ := strings.Cut(ha, "=")
		found := false
		for rb := b; rb != ""; {
			var hb string
			hb, rb, _ = strings.Cut(rb, "&")
			nb, vb, _ := strings.Cut(hb, "=")
			if equalEscaped(na, nb, true) && equalEscaped(va, vb, false) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func equalTelNumber(a, b string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && isVisualSep(a[i]) {
			i++
		}
		for j < len(b) && isVisualSep(b[j]) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if lower(a[i]) != lower(b[j]) {
			return false
		}
		i++
		j++
	}
}

func isVisualSep(c byte) bool { return c == '-' || c == '.' || c == '(' || c == ')' }

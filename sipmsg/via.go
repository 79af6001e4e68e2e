package sipmsg

import "strings"

// Via is one via-parm of a Via header (RFC 3261 §20.42): the transport,
// the sent-by host and port, and the parameters. Its strings are views of
// the parsed value.
type Via struct {
	Transport string // "UDP", "TCP", "TLS", "SCTP", "WS", ... as written
	Host      string // sent-by host; IPv6 without brackets
	Port      int    // sent-by port, 0 when absent
	Params    Params // via-params after the first ';'
}

// Branch returns the branch parameter (RFC 3261 §8.1.1.7), or "".
func (v Via) Branch() string { return v.Params.Value("branch") }

// Received returns the received parameter (RFC 3261 §18.2.1) without
// brackets around an IPv6 address (RFC 5118 §4.5), or "".
func (v Via) Received() string {
	r := v.Params.Value("received")
	if len(r) > 2 && r[0] == '[' && r[len(r)-1] == ']' {
		r = r[1 : len(r)-1]
	}
	return r
}

// RPort returns the rport parameter (RFC 3581): present reports whether it
// appears at all, port is its value or 0 when it has none.
func (v Via) RPort() (port int, present bool) {
	s, ok := v.Params.Get("rport")
	if !ok {
		return 0, false
	}
	p, _ := parsePort(s)
	return p, true
}

// MAddr returns the maddr parameter, or "".
func (v Via) MAddr() string { return v.Params.Value("maddr") }

// TTL returns the ttl parameter, or -1 when absent or invalid.
func (v Via) TTL() int {
	s, ok := v.Params.Get("ttl")
	if !ok {
		return -1
	}
	n, ok := parseUint(s, 255)
	if !ok {
		return -1
	}
	return int(n)
}

// ParseVia parses one via-parm: "SIP/2.0/UDP host:port;params". LWS is
// accepted around '/' and ':' and before ';' as RFC 3261 §25.1 allows.
func ParseVia(s string) (Via, error) {
	var v Via
	i := skipWS(s, 0)
	tok := func(what string) (string, error) {
		start := i
		for i < len(s) && is(s[i], cToken) {
			i++
		}
		if i == start {
			return "", newError(s, start, "invalid Via "+what)
		}
		t := s[start:i]
		i = skipWS(s, i)
		return t, nil
	}
	slash := func() error {
		if i >= len(s) || s[i] != '/' {
			return newError(s, i, "expected '/' in Via")
		}
		i = skipWS(s, i+1)
		return nil
	}
	name, err := tok("protocol name")
	if err != nil {
		return v, err
	}
	if err := slash(); err != nil {
		return v, err
	}
	ver, err := tok("protocol version")
	if err != nil {
		return v, err
	}
	if !equalFold(name, "SIP") || ver != "2.0" {
		return v, newError(s, 0, "unsupported Via protocol")
	}
	if err := slash(); err != nil {
		return v, err
	}
	if v.Transport, err = tok("transport"); err != nil {
		return v, err
	}
	// sent-by = host [ COLON port ]
	start := i
	if i < len(s) && s[i] == '[' {
		end := strings.IndexByte(s[i:], ']')
		if end < 0 {
			return v, newError(s, i, "unterminated IPv6 reference")
		}
		v.Host = s[i+1 : i+end]
		if !validIPv6(v.Host) {
			return v, newError(s, i, "invalid IPv6 reference")
		}
		i += end + 1
	} else {
		for i < len(s) && is(s[i], cHost) {
			i++
		}
		v.Host = s[start:i]
		if v.Host == "" {
			return v, newError(s, start, "missing Via sent-by host")
		}
	}
	i = skipWS(s, i)
	if i < len(s) && s[i] == ':' {
		i = skipWS(s, i+1)
		ps := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		p, ok := parsePort(s[ps:i])
		if !ok {
			return v, newError(s, ps, "invalid Via port")
		}
		v.Port = p
		i = skipWS(s, i)
	}
	if i == len(s) {
		return v, nil
	}
	if s[i] != ';' {
		return v, newError(s, i, "unexpected character in Via")
	}
	v.Params = Params(s[i+1:])
	if j := validHeaderParams(v.Params); j >= 0 {
		return v, newError(s, i+1+j, "invalid Via parameter")
	}
	return v, nil
}

func skipWS(s string, i int) int {
	for i < len(s) && isWS(s[i]) {
		i++
	}
	return i
}

// String returns the via-parm as text.
func (v Via) String() string { return string(v.AppendTo(nil)) }

// AppendTo appends the via-parm's text form to dst.
func (v *Via) AppendTo(dst []byte) []byte {
	dst = append(dst, "SIP/2.0/"...)
	dst = append(dst, v.Transport...)
	dst = append(dst, ' ')
	dst = appendHost(dst, v.Host)
	if v.Port != 0 {
		dst = append(dst, ':')
		dst = appendInt(dst, v.Port)
	}
	if v.Params != "" {
		dst = append(dst, ';')
		dst = append(dst, v.Params...)
	}
	return dst
}

// parseUint parses 1*DIGIT (leading zeros allowed) not above max.
func parseUint[T string | []byte](s T, max uint64) (uint64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > max {
			return 0, false
		}
	}
	return n, true
}

package sdp

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Limits on what Parse accepts, so that a body from the network cannot make
// it allocate without bound. SIP bodies are far smaller in practice: a
// WebRTC offer with a dozen ICE candidates is about 3 KB.
const (
	// MaxSize is the largest body Parse accepts, in bytes.
	MaxSize = 64 << 10
	// MaxLines is the largest number of lines Parse accepts.
	MaxLines = 2048
	// MaxMedia is the largest number of media descriptions (m= lines) Parse accepts.
	MaxMedia = 32
)

// ParseError is returned by Parse for a body that is not valid SDP. Line is
// 1-based (0 when the error concerns the whole body) and Quote holds at most
// 80 bytes of the offending line.
type ParseError struct {
	Line   int
	Reason string
	Quote  string
}

// Error returns "sdp: line N: reason: \"quote\"".
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("sdp: ")
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	if e.Quote != "" {
		b.WriteString(": ")
		b.WriteString(strconv.Quote(e.Quote))
	}
	return b.String()
}

func lineError(n int, line []byte, reason string) *ParseError {
	const max = 80
	q := line
	if len(q) > max {
		q = q[:max]
	}
	return &ParseError{Line: n, Reason: reason, Quote: string(q)}
}

// Description is a session description (RFC 8866 §5): the session-level
// fields followed by zero or more media descriptions. Parse fills one from a
// body and AppendTo writes it back; fields this package does not interpret
// (attributes, unknown line types) are kept verbatim so that a description
// survives a parse and format round trip.
//
// A Description is a plain value: safe to read from several goroutines, not
// to modify concurrently. It shares no memory with the body it was parsed from.
type Description struct {
	Version     int        // v=, always 0 (RFC 8866 §5.1)
	Origin      Origin     // o= (§5.2)
	SessionName string     // s= (§5.3); "-" when the body had no s= line
	Information string     // i= (§5.4), "" when absent
	URI         string     // u= (§5.5), "" when absent
	Emails      []string   // e= lines (§5.6)
	Phones      []string   // p= lines (§5.6)
	Connection  Connection // c= (§5.7); zero when absent
	Bandwidths  []Bandwidth
	Times       []Timing    // t= lines with their r= lines (§5.9, §5.10); never empty after Parse
	TimeZones   string      // z= value (§5.11), kept as text
	Key         string      // k= value (§5.12, obsolete), kept as text
	Attributes  []Attribute // session-level a= lines, in order
	Extra       []Line      // lines of unknown type, in order (written after the attributes)
	Media       []Media
}

// Origin is the o= line (RFC 8866 §5.2). SessionVersion is the number RFC
// 3264 §8 asks to increase by one in each new offer or answer of a session.
type Origin struct {
	Username       string // "-" when there is none
	SessionID      string // numeric text; kept as text because peers send up to 19 digits
	SessionVersion uint64
	NetType        string // "IN"
	AddrType       string // "IP4" or "IP6"
	Address        string
}

// Connection is a c= line (RFC 8866 §5.7). Address is kept as text: an IP
// literal, possibly followed by "/ttl" or "/count" for multicast, or a
// domain name. The zero Connection means the line was absent.
type Connection struct {
	NetType  string // "IN"
	AddrType string // "IP4" or "IP6"
	Address  string
}

// IsZero reports whether c is absent.
func (c Connection) IsZero() bool { return c == Connection{} }

// Addr returns the IP address of c, without any multicast suffix, and
// whether Address is an IP literal of the stated address type.
func (c Connection) Addr() (netip.Addr, bool) {
	s := c.Address
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	if (c.AddrType == "IP4") != a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// Bandwidth is a b= line (RFC 8866 §5.8), e.g. b=AS:64.
type Bandwidth struct {
	Type  string
	Value uint64
}

// Timing is a t= line and the r= lines that follow it (RFC 8866 §5.9, §5.10).
// Repeats are kept as text.
type Timing struct {
	Start, Stop uint64
	Repeats     []string
}

// Attribute is an a= line (RFC 8866 §5.13): a property attribute such as
// "a=sendrecv" has an empty Value. Value is kept verbatim, trailing spaces
// included.
type Attribute struct {
	Key   string
	Value string
}

// Line is a line of a type this package does not know, kept for round trips.
type Line struct {
	Type  byte
	Value string
}

// Media is a media description: an m= line and the lines up to the next one
// (RFC 8866 §5.14).
type Media struct {
	Type        string   // "audio", "video", ...
	Port        int      // 0 means the stream is rejected or disabled (RFC 3264 §6)
	NumPorts    int      // the "/n" after the port; 0 when absent
	Proto       string   // "RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF", ...
	Formats     []string // payload types for RTP, as text, in the offerer's order of preference
	Information string   // i=
	Connection  Connection
	Bandwidths  []Bandwidth
	Key         string
	Attributes  []Attribute
	Extra       []Line
}

// Attr returns the value of the first attribute named key (compared
// case-sensitively, as RFC 8866 §5.13 names are) and whether there was one.
func (m *Media) Attr(key string) (string, bool) { return attr(m.Attributes, key) }

// Attr returns the value of the first session-level attribute named key.
func (d *Description) Attr(key string) (string, bool) { return attr(d.Attributes, key) }

func attr(as []Attribute, key string) (string, bool) {
	for _, a := range as {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// ConnectionFor returns the connection that applies to media i: its own
// c= line, else the session's (RFC 8866 §5.7).
func (d *Description) ConnectionFor(i int) Connection {
	if c := d.Media[i].Connection; !c.IsZero() {
		return c
	}
	return d.Connection
}

// Parse parses an SDP body. Lines may end in CRLF or a bare LF; a final line
// without an ending is accepted. Session-level lines may come in any order
// after v=; lines of unknown type are kept in Extra. Parse fails with a
// *ParseError on a malformed known line, a session-only line inside a media
// description, a repeated single-valued line, or a body over MaxSize bytes,
// MaxLines lines or MaxMedia media descriptions. A missing s= line reads as
// "-" and a missing t= line as "t=0 0", as many endpoints omit them.
//
// The result does not refer to body. Parse is safe for concurrent use.
func Parse(body []byte) (*Description, error) {
	if len(body) > MaxSize {
		return nil, &ParseError{Reason: fmt.Sprintf("body of %d bytes exceeds %d", len(body), MaxSize)}
	}
	d := &Description{}
	var (
		n                   int
		m                   *Media
		seen                uint32 // session-level single lines seen, by letter
		mseen               uint32 // the same for the current media description
		haveV, haveO, haveS bool
	)
	rest := body
	for len(rest) > 0 {
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		n++
		if n > MaxLines {
			return nil, &ParseError{Line: n, Reason: fmt.Sprintf("more than %d lines", MaxLines)}
		}
		if len(line) == 0 {
			// Tolerate blank lines, most often a trailing one.
			continue
		}
		if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			return nil, lineError(n, line, "not a <type>=<value> line")
		}
		if bytes.IndexByte(line, 0) >= 0 || bytes.IndexByte(line, '\r') >= 0 {
			return nil, lineError(n, line, "NUL or CR inside a line")
		}
		typ, val := line[0], string(line[2:])
		if !haveV {
			if typ != 'v' {
				return nil, lineError(n, line, "first line is not v=")
			}
			if val != "0" {
				return nil, lineError(n, line, "unsupported version")
			}
			haveV = true
			seen |= 1 << ('v' - 'a')
			continue
		}
		bit := uint32(1) << (typ - 'a')
		if m != nil {
			switch typ {
			case 'm':
			case 'i', 'c', 'k':
				if mseen&bit != 0 {
					return nil, lineError(n, line, "repeated "+string(typ)+"= line in a media description")
				}
				mseen |= bit
			case 'b', 'a':
			case 'v', 'o', 's', 'u', 'e', 'p', 't', 'r', 'z':
				return nil, lineError(n, line, string(typ)+"= line inside a media description")
			default:
				m.Extra = append(m.Extra, Line{Type: typ, Value: val})
				continue
			}
		} else {
			switch typ {
			case 'v', 'o', 's', 'i', 'u', 'c', 'z', 'k':
				if seen&bit != 0 {
					return nil, lineError(n, line, "repeated "+string(typ)+"= line")
				}
				seen |= bit
			case 'e', 'p', 'b', 't', 'a', 'm':
			case 'r':
				if len(d.Times) == 0 {
					return nil, lineError(n, line, "r= line before any t= line")
				}
			default:
				d.Extra = append(d.Extra, Line{Type: typ, Value: val})
				continue
			}
		}
		var err error
		switch typ {
		case 'o':
			d.Origin, err = parseOrigin(val)
			haveO = true
		case 's':
			d.SessionName = val
			haveS = true
		case 'i':
			if m != nil {
				m.Information = val
			} else {
				d.Information = val
			}
		case 'u':
			d.URI = val
		case 'e':
			d.Emails = append(d.Emails, val)
		case 'p':
			d.Phones = append(d.Phones, val)
		case 'c':
			var c Connection
			c, err = parseConnection(val)
			if m != nil {
				m.Connection = c
			} else {
				d.Connection = c
			}
		case 'b':
			var b Bandwidth
			b, err = parseBandwidth(val)
			if m != nil {
				m.Bandwidths = append(m.Bandwidths, b)
			} else {
				d.Bandwidths = append(d.Bandwidths, b)
			}
		case 't':
			var t Timing
			t, err = parseTiming(val)
			d.Times = append(d.Times, t)
		case 'r':
			t := &d.Times[len(d.Times)-1]
			t.Repeats = append(t.Repeats, val)
		case 'z':
			d.TimeZones = val
		case 'k':
			if m != nil {
				m.Key = val
			} else {
				d.Key = val
			}
		case 'a':
			a := parseAttribute(val)
			if a.Key == "" {
				err = errEmptyAttr
			}
			if m != nil {
				m.Attributes = append(m.Attributes, a)
			} else {
				d.Attributes = append(d.Attributes, a)
			}
		case 'm':
			if len(d.Media) == MaxMedia {
				return nil, lineError(n, line, fmt.Sprintf("more than %d media descriptions", MaxMedia))
			}
			var md Media
			md, err = parseMedia(val)
			d.Media = append(d.Media, md)
			m = &d.Media[len(d.Media)-1]
			mseen = 0
		}
		if err != nil {
			return nil, lineError(n, line, err.Error())
		}
	}
	switch {
	case !haveV:
		return nil, &ParseError{Reason: "empty body"}
	case !haveO:
		return nil, &ParseError{Reason: "no o= line"}
	}
	if !haveS {
		d.SessionName = "-"
	}
	if len(d.Times) == 0 {
		d.Times = []Timing{{}}
	}
	return d, nil
}

type parseErr string

func (e parseErr) Error() string { return string(e) }

const errEmptyAttr = parseErr("empty attribute name")

// fields splits s at runs of spaces. RFC 8866 asks for single spaces;
// several peers send two.
func fields(s string, n int) ([]string, bool) {
	f := strings.Fields(s)
	return f, len(f) == n
}

func parseOrigin(s string) (Origin, error) {
	f, ok := fields(s, 6)
	if !ok {
		return Origin{}, parseErr("o= line needs 6 fields")
	}
	v, err := strconv.ParseUint(f[2], 10, 64)
	if err != nil {
		return Origin{}, parseErr("bad session version")
	}
	if !isDigits(f[1]) {
		return Origin{}, parseErr("bad session id")
	}
	return Origin{Username: f[0], SessionID: f[1], SessionVersion: v, NetType: f[3], AddrType: f[4], Address: f[5]}, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseConnection(s string) (Connection, error) {
	f, ok := fields(s, 3)
	if !ok {
		return Connection{}, parseErr("c= line needs 3 fields")
	}
	return Connection{NetType: f[0], AddrType: f[1], Address: f[2]}, nil
}

func parseBandwidth(s string) (Bandwidth, error) {
	t, v, ok := strings.Cut(s, ":")
	if !ok || t == "" || strings.ContainsAny(t, " \t") {
		return Bandwidth{}, parseErr("bad b= line")
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return Bandwidth{}, parseErr("bad bandwidth value")
	}
	return Bandwidth{Type: t, Value: n}, nil
}

func parseTiming(s string) (Timing, error) {
	f, ok := fields(s, 2)
	if !ok {
		return Timing{}, parseErr("t= line needs 2 fields")
	}
	a, err1 := strconv.ParseUint(f[0], 10, 64)
	b, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return Timing{}, parseErr("bad time")
	}
	return Timing{Start: a, Stop: b}, nil
}

// parseAttribute splits "key:value". RFC 8866 §5.13 does not allow spaces in
// the name; a line such as "a=msid-semantic: WMS x" keeps the space in Value.
func parseAttribute(s string) Attribute {
	k, v, _ := strings.Cut(s, ":")
	return Attribute{Key: k, Value: v}
}

func parseMedia(s string) (Media, error) {
	f := strings.Fields(s)
	if len(f) < 3 {
		return Media{}, parseErr("m= line needs at least 3 fields")
	}
	var md Media
	md.Type = f[0]
	port, num, hasNum := strings.Cut(f[1], "/")
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return Media{}, parseErr("bad port")
	}
	md.Port = int(p)
	if hasNum {
		c, err := strconv.ParseUint(num, 10, 16)
		if err != nil || c == 0 {
			return Media{}, parseErr("bad number of ports")
		}
		md.NumPorts = int(c)
	}
	md.Proto = f[2]
	if len(f) > 3 {
		md.Formats = f[3:]
	}
	return md, nil
}

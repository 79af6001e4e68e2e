package sdp

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/xphone-go/xphone/srtp"
)

// Codec is one RTP payload format of a media description: its payload type
// and what a=rtpmap and a=fmtp say about it (RFC 8866 §6.6, §6.15), or the
// RFC 3551 §6 static assignment when a static payload type has no rtpmap.
type Codec struct {
	PT        uint8
	Name      string // encoding name as written, e.g. "PCMU", "opus", "telephone-event"
	ClockRate uint32 // RTP clock rate in Hz
	Channels  int    // 1 when the rtpmap gives none
	FMTP      string // the a=fmtp parameters, "" when none
}

// staticCodecs are the RFC 3551 §6 (Table 4) audio payload types.
var staticCodecs = [...]struct {
	name  string
	clock uint32
	ch    int
}{
	0: {"PCMU", 8000, 1}, 3: {"GSM", 8000, 1}, 4: {"G723", 8000, 1},
	5: {"DVI4", 8000, 1}, 6: {"DVI4", 16000, 1}, 7: {"LPC", 8000, 1},
	8: {"PCMA", 8000, 1}, 9: {"G722", 8000, 1}, 10: {"L16", 44100, 2},
	11: {"L16", 44100, 1}, 12: {"QCELP", 8000, 1}, 13: {"CN", 8000, 1},
	14: {"MPA", 90000, 1}, 15: {"G728", 8000, 1}, 16: {"DVI4", 11025, 1},
	17: {"DVI4", 22050, 1}, 18: {"G729", 8000, 1},
}

// Codecs returns the payload formats of an RTP media description in the
// order of its m= line. A format that is not a payload type number (0-127,
// without leading zeros)
// is skipped, as is a dynamic payload type without a valid a=rtpmap. The
// slice is newly allocated.
func (m *Media) Codecs() []Codec {
	out := make([]Codec, 0, len(m.Formats))
	for _, f := range m.Formats {
		n, err := strconv.ParseUint(f, 10, 7)
		if err != nil || strconv.Itoa(int(n)) != f {
			continue
		}
		c := Codec{PT: uint8(n)}
		ok := false
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			pt, rest, _ := strings.Cut(a.Value, " ")
			if pt != f {
				continue
			}
			ok = parseRTPMap(strings.TrimSpace(rest), &c)
			break
		}
		if !ok && int(n) < len(staticCodecs) && staticCodecs[n].name != "" {
			s := staticCodecs[n]
			c.Name, c.ClockRate, c.Channels, ok = s.name, s.clock, s.ch, true
		}
		if !ok {
			continue
		}
		c.FMTP = m.fmtp(f)
		out = append(out, c)
	}
	return out
}

// parseRTPMap reads "name/rate[/channels]" (RFC 8866 §6.6).
func parseRTPMap(s string, c *Codec) bool {
	name, rest, ok := strings.Cut(s, "/")
	if !ok || name == "" {
		return false
	}
	rate, ch, hasCh := strings.Cut(rest, "/")
	r, err := strconv.ParseUint(rate, 10, 32)
	if err != nil || r == 0 {
		return false
	}
	c.Name, c.ClockRate, c.Channels = name, uint32(r), 1
	if hasCh {
		n, err := strconv.ParseUint(ch, 10, 8)
		if err != nil || n == 0 {
			return false
		}
		c.Channels = int(n)
	}
	return true
}

func (m *Media) fmtp(pt string) string {
	for _, a := range m.Attributes {
		if a.Key != "fmtp" {
			continue
		}
		p, rest, _ := strings.Cut(a.Value, " ")
		if p == pt {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// Direction is a media stream's direction attribute (RFC 8866 §6.7), seen
// from the side that wrote the description.
type Direction uint8

// The directions. The zero value is SendRecv, the default when a
// description has no direction attribute (RFC 3264 §5.1).
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

var directionNames = [...]string{"sendrecv", "sendonly", "recvonly", "inactive"}

// String returns the attribute name, e.g. "sendonly".
func (d Direction) String() string {
	if int(d) < len(directionNames) {
		return directionNames[d]
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// Sends reports whether the side with direction d sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the side with direction d receives media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Reverse returns the direction of the other side: SendOnly and RecvOnly
// swap, the others stay (RFC 3264 §6.1).
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

func makeDirection(send, recv bool) Direction {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}

// intersect returns the direction allowed by both a and b.
func intersect(a, b Direction) Direction {
	return makeDirection(a.Sends() && b.Sends(), a.Receives() && b.Receives())
}

func directionAttr(as []Attribute) (Direction, bool) {
	for _, a := range as {
		for i, n := range directionNames {
			if a.Key == n {
				return Direction(i), true
			}
		}
	}
	return SendRecv, false
}

// Direction returns the direction of media i: its own direction attribute,
// else the session-level one, else SendRecv (RFC 8866 §6.7). An old-style
// hold (RFC 3264 §8.4: c= address 0.0.0.0, or :: for IPv6) removes receiving:
// a=sendrecv then reads as SendOnly and a=recvonly as Inactive.
func (d *Description) Direction(i int) Direction {
	dir, ok := directionAttr(d.Media[i].Attributes)
	if !ok {
		dir, _ = directionAttr(d.Attributes)
	}
	if a, ok := d.ConnectionFor(i).Addr(); ok && a.IsUnspecified() {
		dir = intersect(dir, SendOnly)
	}
	return dir
}

// Transport classifies an m= line's proto field.
type Transport uint8

// The transports this package tells apart.
const (
	TransportOther    Transport = iota // anything else, e.g. "udp" for T.38
	TransportRTPAVP                    // RTP/AVP (RFC 3551)
	TransportRTPSAVP                   // RTP/SAVP (RFC 3711), SDES keys in a=crypto
	TransportRTPAVPF                   // RTP/AVPF (RFC 4585)
	TransportRTPSAVPF                  // RTP/SAVPF (RFC 5124), as old WebRTC offers use
	TransportDTLS                      // UDP/TLS/RTP/SAVP or UDP/TLS/RTP/SAVPF (RFC 5764): WebRTC
)

// Transport classifies m.Proto (compared case-insensitively).
func (m *Media) Transport() Transport {
	switch strings.ToUpper(m.Proto) {
	case "RTP/AVP":
		return TransportRTPAVP
	case "RTP/SAVP":
		return TransportRTPSAVP
	case "RTP/AVPF":
		return TransportRTPAVPF
	case "RTP/SAVPF":
		return TransportRTPSAVPF
	case "UDP/TLS/RTP/SAVP", "UDP/TLS/RTP/SAVPF":
		return TransportDTLS
	}
	return TransportOther
}

// RTCPMux reports whether m has a=rtcp-mux (RFC 5761 §5.1.1).
func (m *Media) RTCPMux() bool {
	_, ok := m.Attr("rtcp-mux")
	return ok
}

// RTCP returns the RTCP port and address of a=rtcp (RFC 3605 §2.1). The
// address is invalid when the attribute gives none or it is not an IP
// literal; ok is false when there is no valid a=rtcp.
func (m *Media) RTCP() (port int, addr netip.Addr, ok bool) {
	v, has := m.Attr("rtcp")
	if !has {
		return 0, netip.Addr{}, false
	}
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0, netip.Addr{}, false
	}
	p, err := strconv.ParseUint(f[0], 10, 16)
	if err != nil {
		return 0, netip.Addr{}, false
	}
	if len(f) == 4 {
		c := Connection{NetType: f[1], AddrType: f[2], Address: f[3]}
		addr, _ = c.Addr()
	}
	return int(p), addr, true
}

// Ptime returns a=ptime and a=maxptime in milliseconds (RFC 8866 §6.4,
// §6.5), 0 for each one absent or invalid. Fractional values are rounded down.
func (m *Media) Ptime() (ptime, maxptime int) {
	return m.msAttr("ptime"), m.msAttr("maxptime")
}

func (m *Media) msAttr(key string) int {
	v, ok := m.Attr(key)
	if !ok {
		return 0
	}
	v, _, _ = strings.Cut(strings.TrimSpace(v), ".")
	n, err := strconv.ParseUint(v, 10, 16)
	if err != nil {
		return 0
	}
	return int(n)
}

// Cryptos returns the a=crypto attributes of m (RFC 4568 §9.1) that
// srtp.ParseCrypto accepts, in order; malformed ones are skipped, as RFC
// 4568 §6.1 asks of an answerer.
func (m *Media) Cryptos() []srtp.Crypto {
	var out []srtp.Crypto
	for _, a := range m.Attributes {
		if a.Key != "crypto" {
			continue
		}
		if c, err := srtp.ParseCrypto(a.Value); err == nil {
			out = append(out, c)
		}
	}
	return out
}

var transportNames = [...]string{"other", "RTP/AVP", "RTP/SAVP", "RTP/AVPF", "RTP/SAVPF", "UDP/TLS/RTP/SAVPF"}

// String returns the proto name of t ("other" for TransportOther; the
// SAVPF form for TransportDTLS).
func (t Transport) String() string {
	if int(t) < len(transportNames) {
		return transportNames[t]
	}
	return "Transport(" + strconv.Itoa(int(t)) + ")"
}

package stun

// Kind is the protocol of a packet received on a socket that multiplexes
// STUN, DTLS, ZRTP, TURN channel data and RTP/RTCP (RFC 7983 §7).
type Kind uint8

// Kinds returned by Classify.
const (
	KindUnknown     Kind = iota // drop it (RFC 7983 §7)
	KindSTUN                    // first byte 0–3
	KindZRTP                    // first byte 16–19
	KindDTLS                    // first byte 20–63
	KindTURNChannel             // first byte 64–79
	KindRTP                     // first byte 128–191, not RTCP
	KindRTCP                    // first byte 128–191, payload type 64–95 (RFC 5761 §4)
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindSTUN:
		return "STUN"
	case KindZRTP:
		return "ZRTP"
	case KindDTLS:
		return "DTLS"
	case KindTURNChannel:
		return "TURN channel"
	case KindRTP:
		return "RTP"
	case KindRTCP:
		return "RTCP"
	}
	return "unknown"
}

// Classify tells which protocol b belongs to from its first byte, as
// RFC 7983 §7 prescribes for a socket that carries several, and splits RTP
// from RTCP by the second byte as RFC 5761 §4 does (RTCP packet types
// 192–223 fall where RTP payload types 64–95 with the marker bit would).
// An empty b is KindUnknown. Classify only looks at one or two bytes; use
// Message.Decode to validate a STUN message. It is safe for concurrent use.
func Classify(b []byte) Kind {
	if len(b) == 0 {
		return KindUnknown
	}
	switch c := b[0]; {
	case c <= 3:
		return KindSTUN
	case c >= 16 && c <= 19:
		return KindZRTP
	case c >= 20 && c <= 63:
		return KindDTLS
	case c >= 64 && c <= 79:
		return KindTURNChannel
	case c >= 128 && c <= 191:
		if len(b) >= 2 && b[1] >= 192 && b[1] <= 223 {
			return KindRTCP
		}
		return KindRTP
	}
	return KindUnknown
}

package srtp

import "encoding/binary"

// rtpHeaderLen returns the length of the RTP header of pkt (fixed header,
// CSRC list and header extension, RFC 3550 §5.1 and §5.3.1), which SRTP
// leaves in the clear and authenticates (RFC 3711 §3.1). ok is false when
// pkt is not a well-formed RTP version 2 header.
func rtpHeaderLen(pkt []byte) (n int, ok bool) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		return 0, false
	}
	n = 12 + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 {
		if len(pkt) < n+4 {
			return 0, false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(pkt[n+2:]))
	}
	if len(pkt) < n {
		return 0, false
	}
	return n, true
}

// rtcpHeaderLen is the part of an RTCP packet SRTCP leaves in the clear: the
// first header and the sender SSRC (RFC 3711 §3.4).
const rtcpHeaderLen = 8

func validRTCP(pkt []byte) bool {
	return len(pkt) >= rtcpHeaderLen && pkt[0]>>6 == 2
}

package srtp

import (
	"crypto/subtle"
	"encoding/binary"
)

const srtcpIndexMask = 0x7fffffff

// EncryptRTCP protects the RTCP (compound) packet and appends the SRTCP
// packet to dst, returning the extended slice (RFC 3711 §3.4; RFC 7714 §9):
// the first 8 octets stay in the clear, the rest is encrypted, and the E flag
// with the 31-bit SRTCP index (counting from 1 per sender SSRC) and the tag
// are appended. It adds profile.MaxOverhead() octets; with that much spare
// capacity in dst it does not allocate.
//
// dst may be packet[:0] to protect in place; otherwise they must not overlap.
func (c *Context) EncryptRTCP(dst, packet []byte) ([]byte, error) {
	if c.closed {
		return dst, ErrClosed
	}
	if !validRTCP(packet) {
		return dst, errShortRTCP
	}
	ssrc := binary.BigEndian.Uint32(packet[4:])
	s := c.rtcpStream(ssrc)
	if s.index >= srtcpIndexMask {
		return dst, errExhausted
	}
	idx := s.index + 1
	t := &c.rtcp
	n := len(packet)
	ret := grow(dst, n+4+t.tagLen)
	out := ret[len(dst):]
	eIndex := 1<<31 | idx
	if c.plainSRTCP {
		eIndex = idx
	}
	switch {
	case t.gcm != nil && c.plainSRTCP:
		// Tag only (RFC 7714 §9.2): AAD = packet || ESRTCP word.
		c.aad = binary.BigEndian.AppendUint32(append(c.aad[:0], packet...), eIndex)
		copy(out, packet)
		iv := t.gcmIV(ssrc, uint64(idx))
		t.gcm.Seal(out[n:n], iv, nil, c.aad)
		binary.BigEndian.PutUint32(out[n+t.tagLen:], eIndex)
	case t.gcm != nil:
		// AAD = first 8 octets || ESRTCP word; the word follows the tag.
		aad := &t.aad
		copy(aad[:8], packet[:8])
		binary.BigEndian.PutUint32(aad[8:], eIndex)
		iv := t.gcmIV(ssrc, uint64(idx))
		t.gcm.Seal(out[8:8], iv, packet[8:], aad[:])
		copy(out[:8], aad[:8])
		binary.BigEndian.PutUint32(out[n+t.tagLen:], eIndex)
	default:
		copy(out[:8], packet[:8])
		if c.plainSRTCP {
			copy(out[8:n], packet[8:n])
		} else {
			t.xorCM(out[8:n], packet[8:n], ssrc, uint64(idx))
		}
		binary.BigEndian.PutUint32(out[n:], eIndex)
		copy(out[n+4:], t.mac.mac(out[:n+4], nil))
	}
	s.index = idx
	return ret, nil
}

// DecryptRTCP verifies and, when its E flag is set, decrypts the SRTCP packet
// and appends the RTCP packet to dst, returning the extended slice. Errors
// and buffer rules are those of [Context.DecryptRTP].
func (c *Context) DecryptRTCP(dst, packet []byte) ([]byte, error) {
	if c.closed {
		return dst, ErrClosed
	}
	t := &c.rtcp
	n := len(packet) - 4 - t.tagLen // length of the RTCP packet
	if !validRTCP(packet) || n < rtcpHeaderLen {
		return dst, errShortRTCP
	}
	ssrc := binary.BigEndian.Uint32(packet[4:])
	var eIndex uint32
	if t.gcm != nil {
		eIndex = binary.BigEndian.Uint32(packet[len(packet)-4:])
	} else {
		eIndex = binary.BigEndian.Uint32(packet[n:])
	}
	encrypted, idx := eIndex>>31 == 1, eIndex&srtcpIndexMask
	s := c.rtcpStreams[ssrc]
	if s != nil && !s.replay.check(uint64(idx)) {
		return dst, ErrReplayed
	}
	var ret []byte
	if t.gcm != nil {
		iv := t.gcmIV(ssrc, uint64(idx))
		body := packet[:len(packet)-4]
		if encrypted {
			aad := &t.aad
			copy(aad[:8], packet[:8])
			binary.BigEndian.PutUint32(aad[8:], eIndex)
			ret = grow(dst, n)
			out := ret[len(dst):]
			if _, err := t.gcm.Open(out[8:8], iv, body[8:], aad[:]); err != nil {
				return dst, ErrAuthFailed
			}
			copy(out[:8], packet[:8])
		} else {
			// Tag only (RFC 7714 §9.2): AAD is the whole packet and the
			// ESRTCP word, the "ciphertext" is the tag alone.
			c.aad = append(append(c.aad[:0], body[:n]...), packet[len(packet)-4:]...)
			if _, err := t.gcm.Open(t.ks[:0], iv, body[n:], c.aad); err != nil {
				return dst, ErrAuthFailed
			}
			ret = append(dst, packet[:n]...)
		}
	} else {
		if subtle.ConstantTimeCompare(t.mac.mac(packet[:n+4], nil)[:t.tagLen], packet[n+4:]) != 1 {
			return dst, ErrAuthFailed
		}
		ret = grow(dst, n)
		out := ret[len(dst):]
		copy(out[:8], packet[:8])
		if encrypted {
			t.xorCM(out[8:n], packet[8:n], ssrc, uint64(idx))
		} else {
			copy(out[8:n], packet[8:n])
		}
	}
	if s == nil {
		s = c.rtcpStream(ssrc)
	}
	s.replay.accept(uint64(idx))
	return ret, nil
}

package srtp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
)

// transform holds the session keys of SRTP or of SRTCP and the cipher state
// built from them.
type transform struct {
	keys   sessionKeys
	tagLen int
	block  cipher.Block   // AES-CM profiles
	ctr    fastCTR        // AES-CM profiles, when available
	mac    hmacSHA1       // AES-CM profiles
	gcm    cipher.AEAD    // AEAD profiles
	ks     [512 + 16]byte // keystream scratch (+16 for the discarded GCM tag)
	iv     [16]byte       // counter block scratch (heap-resident: no escapes per packet)
	nonce  [12]byte       // GCM IV scratch
	word   [4]byte        // ROC scratch
	aad    [12]byte       // SRTCP AAD scratch
}

func (t *transform) init(p Profile, tagLen int) error {
	t.tagLen = tagLen
	block, err := aes.NewCipher(t.keys.encKey[:t.keys.keyLen])
	if err != nil {
		return err
	}
	if p.AEAD() {
		t.gcm, err = cipher.NewGCM(block)
		return err
	}
	t.block = block
	t.ctr.init(block)
	t.mac.init(t.keys.authKey[:])
	return nil
}

func (t *transform) zero() {
	t.keys.zero()
	t.mac.zero()
	t.ctr.zero()
	clear(t.ks[:])
	t.block, t.gcm = nil, nil
}

// cmIV returns the AES-CM counter block of RFC 3711 §4.1.1:
// IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16).
func (t *transform) cmIV(iv *[16]byte, ssrc uint32, idx uint64) {
	copy(iv[:14], t.keys.salt[:])
	iv[14], iv[15] = 0, 0
	hi := binary.BigEndian.Uint64(iv[0:8]) ^ uint64(ssrc)
	lo := binary.BigEndian.Uint64(iv[8:16]) ^ idx<<16
	binary.BigEndian.PutUint64(iv[0:8], hi)
	binary.BigEndian.PutUint64(iv[8:16], lo)
}

// xorCM sets dst to src XOR the AES-CM keystream for (ssrc, idx).
// dst and src must be the same length and overlap exactly or not at all.
func (t *transform) xorCM(dst, src []byte, ssrc uint32, idx uint64) {
	t.cmIV(&t.iv, ssrc, idx)
	for len(src) > 0 {
		k := min(len(src), 512)
		if !t.ctr.keystream(&t.iv, t.ks[:], k) {
			keystream(t.block, &t.iv, t.ks[:k])
		}
		subtle.XORBytes(dst[:k], src[:k], t.ks[:k])
		dst, src = dst[k:], src[k:]
	}
}

// gcmIV returns the 12-octet AES-GCM IV of RFC 7714 §8.1 (SRTP: 00 00 ||
// SSRC || ROC || SEQ) or §9.1 (SRTCP: 00 00 || SSRC || 00 00 || 0+index),
// XORed with the session salt. mid is ROC<<16|SEQ or the SRTCP index.
func (t *transform) gcmIV(ssrc uint32, mid uint64) []byte {
	iv := &t.nonce
	iv[0], iv[1] = 0, 0
	binary.BigEndian.PutUint32(iv[2:6], ssrc)
	binary.BigEndian.PutUint16(iv[6:8], uint16(mid>>32))
	binary.BigEndian.PutUint32(iv[8:12], uint32(mid))
	subtle.XORBytes(iv[:], iv[:], t.keys.salt[:12])
	return iv[:]
}

// rocWord returns the 4-octet ROC that SRTP authenticates after the packet
// (RFC 3711 §4.2: M = Authenticated Portion || ROC).
func (t *transform) rocWord(idx uint64) []byte {
	binary.BigEndian.PutUint32(t.word[:], uint32(idx>>16))
	return t.word[:]
}

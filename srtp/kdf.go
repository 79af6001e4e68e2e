package srtp

import (
	"crypto/aes"
	"crypto/cipher"
)

// Key derivation labels, RFC 3711 §4.3.1 and §4.3.2.
const (
	labelRTPEncryption  = 0x00
	labelRTPAuth        = 0x01
	labelRTPSalt        = 0x02
	labelRTCPEncryption = 0x03
	labelRTCPAuth       = 0x04
	labelRTCPSalt       = 0x05
)

// deriveKey fills out with the AES-CM PRF output for label, with a key
// derivation rate of 0 (RFC 3711 §4.3.1: r = 0, so key_id = label << 48):
// x = key_id XOR master_salt, and out = AES-CM(master_key, x * 2^16).
// masterSalt is at most 14 octets; a shorter one (the 12-octet salt of
// RFC 7714) is padded on the right with zeros, as libsrtp does.
func deriveKey(block cipher.Block, masterSalt []byte, label byte, out []byte) {
	var iv [16]byte
	copy(iv[:14], masterSalt)
	iv[7] ^= label
	keystream(block, &iv, out)
}

// keystream overwrites out with the AES counter-mode keystream starting at
// the counter block iv (RFC 3711 §4.1.1); iv is advanced past the blocks used.
// The counter is the low 16 bits, as SRTP never needs more than 2^16 blocks.
// len(out) must be a multiple of the block size except at the end of a run.
func keystream(block cipher.Block, iv *[16]byte, out []byte) {
	for len(out) > 0 {
		if len(out) >= aes.BlockSize {
			block.Encrypt(out[:aes.BlockSize], iv[:])
			out = out[aes.BlockSize:]
		} else {
			// The last, partial block: encrypt into the iv itself, which is
			// not used again for this packet.
			block.Encrypt(iv[:], iv[:])
			copy(out, iv[:])
			clear(iv[:])
			return
		}
		c := uint16(iv[14])<<8 | uint16(iv[15]) + 1
		iv[14], iv[15] = byte(c>>8), byte(c)
	}
}

// sessionKeys are the derived keys of one direction and one of SRTP or SRTCP.
type sessionKeys struct {
	encKey  [32]byte
	salt    [14]byte
	authKey [20]byte
	keyLen  int
	saltLen int
}

// derive computes the session keys for SRTP (rtcp false) or SRTCP.
func (s *sessionKeys) derive(p Profile, masterKey, masterSalt []byte, rtcp bool) error {
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return err
	}
	var l byte
	if rtcp {
		l = labelRTCPEncryption
	}
	s.keyLen, s.saltLen = p.KeyLen(), p.SaltLen()
	deriveKey(block, masterSalt, l+labelRTPEncryption, s.encKey[:s.keyLen])
	deriveKey(block, masterSalt, l+labelRTPSalt, s.salt[:s.saltLen])
	if !p.AEAD() {
		deriveKey(block, masterSalt, l+labelRTPAuth, s.authKey[:])
	}
	return nil
}

func (s *sessionKeys) zero() {
	clear(s.encKey[:])
	clear(s.salt[:])
	clear(s.authKey[:])
}

package srtp

import (
	"crypto/cipher"
	"encoding/binary"
	"runtime"
)

// fastCTR produces the AES-CM keystream of RFC 3711 §4.1.1 with the
// standard library's pipelined AES-GCM assembly instead of one
// block.Encrypt call per 16 octets, without allocating.
//
// AES-GCM with a 16-octet nonce N starts its counter at J0 = GHASH_H(N ||
// 0^64 || [128]_64) = N·H² ⊕ L·H (NIST SP 800-38D §7.1, L the length block)
// and encrypts with the blocks inc32(J0), inc32²(J0), ... So for a wanted
// first counter block C (whose low 32 bits never wrap within an SRTP packet,
// as the AES-CM block counter is 16 bits), choosing J0 = C - 1 in the low
// 32 bits and N = (J0 ⊕ L·H)·H⁻² makes Seal of zeros return exactly the
// AES-CM keystream from C (the GCM tag that follows is discarded). N is
// linear in J0, so the per-packet cost is a few table lookups; the tables
// hold no key material beyond what H = E_K(0) reveals to anyone holding the
// key, and are wiped on Close.
type fastCTR struct {
	gcm    cipher.AEAD
	lo     [16][16]gf128 // lo[p][v] = (v in nibble p of the low 64 bits)·M
	m      gf128         // M = H⁻²
	c      gf128         // L·H·M
	hi     uint64        // cached high half of J0 and its product with M
	hiProd gf128
	hiOK   bool
	nonce  [16]byte
	zeros  [512]byte
}

// gf128 is an element of GF(2^128) in GCM's bit order: bit 0 of the field
// element is the most significant bit of h.
type gf128 struct{ h, l uint64 }

func (a gf128) xor(b gf128) gf128 { return gf128{a.h ^ b.h, a.l ^ b.l} }

// mul multiplies in GCM's field (SP 800-38D §6.3, Algorithm 1). It runs
// only at setup and on an SSRC change, never per packet.
func (a gf128) mul(b gf128) gf128 {
	var z gf128
	v := b
	for i := 0; i < 128; i++ {
		var bit uint64
		if i < 64 {
			bit = a.h >> (63 - i) & 1
		} else {
			bit = a.l >> (127 - i) & 1
		}
		if bit == 1 {
			z = z.xor(v)
		}
		carry := v.l & 1
		v.l = v.l>>1 | v.h<<63
		v.h >>= 1
		if carry == 1 {
			v.h ^= 0xe1 << 56
		}
	}
	return z
}

// inv returns a⁻¹ = a^(2^128-2).
func (a gf128) inv() gf128 {
	r := gf128{h: 1 << 63} // the field's 1
	for i := 0; i < 127; i++ {
		r = r.mul(r).mul(a)
	}
	return r.mul(r)
}

// fastCTRArch reports whether crypto/cipher's AES-GCM is assembly on this
// architecture, which is what makes the detour worthwhile.
var fastCTRArch = runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64"

func (f *fastCTR) init(block cipher.Block) {
	if !fastCTRArch {
		return
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, 16)
	if err != nil {
		return // e.g. FIPS 140-only mode: use the block loop
	}
	var hb [16]byte
	block.Encrypt(hb[:], hb[:])
	h := gf128{binary.BigEndian.Uint64(hb[:8]), binary.BigEndian.Uint64(hb[8:])}
	clear(hb[:])
	f.m = h.mul(h).inv()
	f.c = gf128{0, 128}.mul(h).mul(f.m)
	for p := range f.lo {
		var basis [4]gf128
		for b := range basis {
			basis[b] = gf128{0, 1 << (60 - 4*p + b)}.mul(f.m)
		}
		for v := 1; v < 16; v++ {
			low := v & -v // lowest set bit
			b := 0
			for 1<<b != low {
				b++
			}
			f.lo[p][v] = f.lo[p][v&^low].xor(basis[b])
		}
	}
	f.gcm = gcm
}

// keystream sets ks[:n] to the AES-CM keystream from the counter block iv
// and advances iv by the blocks used. It needs n <= 512 and cap(ks) >= n+16.
// It returns false when the fast path is unavailable.
func (f *fastCTR) keystream(iv *[16]byte, ks []byte, n int) bool {
	if f.gcm == nil {
		return false
	}
	jh := binary.BigEndian.Uint64(iv[:8])
	jl := binary.BigEndian.Uint64(iv[8:])
	jl = jl&^0xffffffff | uint64(uint32(jl)-1)
	if !f.hiOK || f.hi != jh {
		f.hi, f.hiProd, f.hiOK = jh, gf128{jh, 0}.mul(f.m), true
	}
	x := f.hiProd.xor(f.c)
	for p := 0; p < 16; p++ {
		e := &f.lo[p][jl>>(60-4*p)&15]
		x.h ^= e.h
		x.l ^= e.l
	}
	binary.BigEndian.PutUint64(f.nonce[:8], x.h)
	binary.BigEndian.PutUint64(f.nonce[8:], x.l)
	f.gcm.Seal(ks[:0], f.nonce[:], f.zeros[:n], nil)
	c := binary.BigEndian.Uint16(iv[14:]) + uint16((n+15)/16)
	binary.BigEndian.PutUint16(iv[14:], c)
	return true
}

func (f *fastCTR) zero() {
	f.gcm = nil
	f.lo = [16][16]gf128{}
	f.m, f.c, f.hiProd, f.hi, f.hiOK = gf128{}, gf128{}, gf128{}, 0, false
	clear(f.nonce[:])
}

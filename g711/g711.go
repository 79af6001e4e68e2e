package g711

// Encoding follows the ITU-T G.191 (Software Tools Library) reference
// implementation of G.711: the 16-bit input is truncated (not rounded) to
// 14 bits for µ-law and 13 bits for A-law, and negative samples take their
// magnitude as the one's complement ^x. Other encoders (SoX rounds; Sun code
// and spandsp use -x) differ from it on samples that sit exactly on a
// decision level; decoding is the same everywhere.
//
// Both encoders are a single table lookup per sample. Because the encoders
// look only at the top 14 (µ-law) or 12 (A-law) bits of a sample, the tables
// are indexed by uint16(sample)>>2 and uint16(sample)>>4: 16 KiB and 4 KiB,
// built once at package initialisation.

var (
	ulawEnc [1 << 14]byte // indexed by uint16(sample) >> 2
	alawEnc [1 << 12]byte // indexed by uint16(sample) >> 4
	ulawDec [256]int16    // code -> linear
	alawDec [256]int16    // code -> linear
	ulawToA [256]byte     // µ-law code -> A-law code
	alawToU [256]byte     // A-law code -> µ-law code
)

func init() {
	for i := range ulawEnc {
		ulawEnc[i] = encodeUlawSample(int16(uint16(i) << 2))
	}
	for i := range alawEnc {
		alawEnc[i] = encodeAlawSample(int16(uint16(i) << 4))
	}
	for i := range 256 {
		ulawDec[i] = decodeUlawSample(byte(i))
		alawDec[i] = decodeAlawSample(byte(i))
	}
	for i := range 256 {
		c := byte(i)
		// µ-law magnitude index: 0 for the smallest magnitude (code 0xFF or
		// 0x7F); A-law magnitude index: the 7 low bits with 0x55 removed.
		um := ^c & 0x7f
		ulawToA[i] = (ulawToAlawMag[um] | c&0x80) ^ 0x55
		am := (c ^ 0x55) & 0x7f
		alawToU[i] = ^alawToUlawMag[am]&0x7f | c&0x80
	}
}

// ulawToAlawMag and alawToUlawMag are G.711 Table 3 (µ-law to A-law) and
// Table 4 (A-law to µ-law) written as maps between magnitude indexes
// (0 = smallest magnitude, 127 = largest); the sign bit is carried over.
// The conversions are the standard's, not "decode then re-encode", which
// differs from them on 46 µ-law and 34 A-law codes.
var ulawToAlawMag = [128]byte{
	0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7,
	8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
	24, 26, 28, 30, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
	45, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61,
	63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78,
	80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
	96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
	112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127,
}

var alawToUlawMag = [128]byte{
	1, 3, 5, 7, 9, 11, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23,
	24, 25, 26, 27, 28, 29, 30, 31, 32, 32, 33, 33, 34, 34, 35, 35,
	36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 48, 49, 49,
	50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 64,
	65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 79,
	80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
	96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
	112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127,
}

// encodeUlawSample is the G.191 µ-law compressor for one sample (G.711
// Table 2): magnitude on 14 bits plus the bias 33, segment found from
// the position of the leading one, code bits inverted on the line.
func encodeUlawSample(x int16) byte {
	var mag int32
	if x < 0 {
		mag = int32(^x)>>2 + 33
	} else {
		mag = int32(x)>>2 + 33
	}
	if mag > 0x1fff {
		mag = 0x1fff
	}
	seg := int32(1)
	for i := mag >> 6; i != 0; i >>= 1 {
		seg++
	}
	code := byte((8-seg)<<4 | (15 - (mag>>seg)&15))
	if x >= 0 {
		code |= 0x80
	}
	return code
}

// encodeAlawSample is the G.191 A-law compressor for one sample (G.711
// Table 1): magnitude on 12 bits plus sign, even bits inverted (0x55)
// on the line.
func encodeAlawSample(x int16) byte {
	var mag int32
	if x < 0 {
		mag = int32(^x) >> 4
	} else {
		mag = int32(x) >> 4
	}
	if mag > 15 {
		exp := int32(1)
		for mag > 31 {
			mag >>= 1
			exp++
		}
		mag = mag - 16 + exp<<4
	}
	code := byte(mag)
	if x >= 0 {
		code |= 0x80
	}
	return code ^ 0x55
}

// decodeUlawSample returns the decision value at the centre of the code's
// interval, scaled to 16 bits (G.711 Table 2 decoder output).
func decodeUlawSample(code byte) int16 {
	c := ^code
	exp := int32(c>>4) & 7
	mant := int32(c & 15)
	v := ((mant<<3)+0x84)<<exp - 0x84
	if c&0x80 != 0 {
		return int16(-v)
	}
	return int16(v)
}

// decodeAlawSample returns the centre of the code's interval scaled to
// 16 bits (G.711 Table 1).
func decodeAlawSample(code byte) int16 {
	c := code ^ 0x55
	exp := int32(c>>4) & 7
	mant := int32(c & 15)
	var v int32
	if exp == 0 {
		v = mant<<4 + 8
	} else {
		v = (mant<<4 + 0x108) << (exp - 1)
	}
	if c&0x80 != 0 {
		return int16(v)
	}
	return int16(-v)
}

// grow returns s extended by n elements, reusing its capacity when it can,
// and the extension as a separate slice.
func grow[T byte | int16](s []T, n int) (all, ext []T) {
	l := len(s)
	if cap(s)-l < n {
		ns := make([]T, l, l+n)
		copy(ns, s)
		s = ns
	}
	s = s[:l+n]
	return s, s[l:]
}

// EncodeUlaw appends the G.711 µ-law (PCMU) encoding of pcm to dst, one
// octet per sample, and returns the extended slice. It allocates only when
// dst lacks the capacity. It is safe for concurrent use.
func EncodeUlaw(dst []byte, pcm []int16) []byte {
	dst, out := grow(dst, len(pcm))
	out = out[:len(pcm)]
	tab := &ulawEnc
	for len(pcm) >= 4 && len(out) >= 4 {
		p, o := pcm[:4:4], out[:4:4]
		o[0] = tab[uint16(p[0])>>2]
		o[1] = tab[uint16(p[1])>>2]
		o[2] = tab[uint16(p[2])>>2]
		o[3] = tab[uint16(p[3])>>2]
		pcm, out = pcm[4:], out[4:]
	}
	for i, v := range pcm {
		out[i] = tab[uint16(v)>>2]
	}
	return dst
}

// EncodeAlaw appends the G.711 A-law (PCMA) encoding of pcm to dst, one
// octet per sample, and returns the extended slice. It allocates only when
// dst lacks the capacity. It is safe for concurrent use.
func EncodeAlaw(dst []byte, pcm []int16) []byte {
	dst, out := grow(dst, len(pcm))
	out = out[:len(pcm)]
	tab := &alawEnc
	for len(pcm) >= 4 && len(out) >= 4 {
		p, o := pcm[:4:4], out[:4:4]
		o[0] = tab[uint16(p[0])>>4]
		o[1] = tab[uint16(p[1])>>4]
		o[2] = tab[uint16(p[2])>>4]
		o[3] = tab[uint16(p[3])>>4]
		pcm, out = pcm[4:], out[4:]
	}
	for i, v := range pcm {
		out[i] = tab[uint16(v)>>4]
	}
	return dst
}

// DecodeUlaw appends the 16-bit linear samples of the µ-law octets in data
// to dst and returns the extended slice. Every octet is valid. It allocates
// only when dst lacks the capacity. It is safe for concurrent use.
func DecodeUlaw(dst []int16, data []byte) []int16 {
	dst, out := grow(dst, len(data))
	out = out[:len(data)]
	tab := &ulawDec
	for i, c := range data {
		out[i] = tab[c]
	}
	return dst
}

// DecodeAlaw appends the 16-bit linear samples of the A-law octets in data
// to dst and returns the extended slice. Every octet is valid. It allocates
// only when dst lacks the capacity. It is safe for concurrent use.
func DecodeAlaw(dst []int16, data []byte) []int16 {
	dst, out := grow(dst, len(data))
	out = out[:len(data)]
	tab := &alawDec
	for i, c := range data {
		out[i] = tab[c]
	}
	return dst
}

// UlawToAlaw appends to dst the A-law octets for the µ-law octets in data
// and returns the extended slice, without going through a caller-visible
// linear stage. It is safe for concurrent use.
func UlawToAlaw(dst, data []byte) []byte {
	dst, out := grow(dst, len(data))
	out = out[:len(data)]
	tab := &ulawToA
	for i, c := range data {
		out[i] = tab[c]
	}
	return dst
}

// AlawToUlaw appends to dst the µ-law octets for the A-law octets in data
// and returns the extended slice. It is safe for concurrent use.
func AlawToUlaw(dst, data []byte) []byte {
	dst, out := grow(dst, len(data))
	out = out[:len(data)]
	tab := &alawToU
	for i, c := range data {
		out[i] = tab[c]
	}
	return dst
}

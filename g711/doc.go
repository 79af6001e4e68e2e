// Package g711 implements ITU-T G.711 µ-law (PCMU) and A-law (PCMA)
// companding of 16-bit linear PCM, and the direct µ-law↔A-law conversions of
// G.711 Tables 3 and 4.
//
// In RTP (RFC 3551 §4.5.14) PCMU is static payload type 0 and PCMA type 8,
// both with an 8000 Hz clock and one octet per sample: a 20 ms frame is 160
// samples, 160 octets, and advances the RTP timestamp by 160. The octets here
// are the transmitted ones (µ-law bits inverted, A-law even bits inverted),
// so they go straight into an RTP payload.
//
// # Exactness
//
// Encoding is bit-exact with the ITU-T G.191 Software Tools Library: the
// 16-bit input is truncated to 14 bits (µ-law) or 13 bits (A-law) and a
// negative sample's magnitude is its one's complement. SoX rounds instead,
// and spandsp's µ-law encoder uses the two's complement magnitude; they
// differ from G.191 only on inputs that sit on a decision level, by one
// quantisation step. Decoding is the same in every implementation.
//
// # Performance
//
// Every function is a table lookup per octet (tables of 16 KiB, 4 KiB and
// 4×256 entries built at package initialisation), appends to the caller's
// slice and allocates nothing when that slice has the capacity. All
// functions are safe for concurrent use: the package has no mutable state.
package g711

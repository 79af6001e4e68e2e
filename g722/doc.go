// Package g722 implements the ITU-T G.722 wideband speech codec (7 kHz
// audio in 64 kbit/s): an encoder at 64 kbit/s and a decoder for 64, 56 and
// 48 kbit/s, written from the algorithm description of G.722 (two-band QMF,
// ADPCM in each sub-band with the Block 4 pole-zero adaptive predictor).
//
// The encoder takes 16 kHz 16-bit mono PCM and produces one octet per pair
// of samples; the decoder does the reverse. A 20 ms frame is 320 samples
// and 160 octets.
//
// # Exactness
//
// The encoder output equals libspandsp's and FFmpeg's byte for byte (they
// agree with each other), and the decoder equals FFmpeg's sample for
// sample. Where the receive QMF output exceeds the 16-bit range (overdriven
// input), the decoder saturates it to -32768…32767 as the ITU-T reference
// decoder and FFmpeg do; libspandsp lets it wrap around instead, so it
// differs there and only there.
//
// # RTP
//
// Octets are laid out as RFC 3551 §4.5.2 requires (higher sub-band code I_H
// in the two most significant bits, lower sub-band code I_L in the six
// least significant bits), so encoder output is an RTP payload as is. The
// RTP clock rate is 8000 Hz although the audio is sampled at 16 kHz
// (RTPClockRate): the timestamp advances by one per octet, 160 per 20 ms.
//
// At 56 and 48 kbit/s (G.722 modes 2 and 3) the octets keep the same
// layout and the lowest one or two bits of I_L carry auxiliary data, which
// the decoder ignores.
//
// # Use
//
// An Encoder or Decoder holds the state of one stream and is not safe for
// concurrent use; use one per call direction. Encode and Decode append to
// the caller's slice and allocate nothing when it has the capacity.
package g722

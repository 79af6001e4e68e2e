// Package opus binds the Opus codec (RFC 6716) from libopus through cgo for
// the media layer, at the narrowband and wideband rates a phone uses.
//
// Opus is optional: it is compiled in only with the build tag "opus" and
// cgo enabled (libopus and pkg-config installed), e.g.
//
//	go test -tags opus ./internal/opus/
//
// Without them the package still builds, with the same API: Available
// reports false and the constructors return ErrUnavailable, so the default
// build stays pure Go with CGO_ENABLED=0 and simply does not offer Opus in
// SDP.
//
// PCM at the API is 16-bit mono at 8000 or 16000 Hz (12000, 24000 and 48000
// work too). Whatever that rate, the RTP clock of Opus is always 48000 Hz
// (RFC 7587 §4.1): a 20 ms packet advances the timestamp by 960. The
// encoder has in-band forward error correction on, tuned by the expected
// packet loss; the decoder recovers a lost packet from the FEC data in the
// next one (DecodeFEC) or conceals it (Decode with nil data).
//
// Encoders and decoders hold C state: call Close when done (a cleanup
// frees it if forgotten). They are not safe for concurrent use. Per-frame
// calls pass the caller's slices to C and allocate nothing when dst has
// the capacity.
package opus

import "errors"

// ErrUnavailable is returned by the constructors of a build without Opus
// (no "opus" build tag, or cgo disabled).
var ErrUnavailable = errors.New("opus: not built in (build with -tags opus, cgo enabled and libopus installed)")

// RTPClockRate is the RTP timestamp rate of Opus, whatever the sampling
// rate of the audio (RFC 7587 §4.1), and the rate in SDP ("opus/48000/2").
const RTPClockRate = 48000

// DefaultPacketLossPercent is the expected packet loss new encoders are
// configured for; it sets how much in-band FEC they send.
const DefaultPacketLossPercent = 10

// MaxPacketSize is the largest Opus packet the encoder writes (RFC 6716
// §3.2.1 limits a frame to 1275 octets).
const MaxPacketSize = 1275

// RTPTimestampIncrement returns how far the RTP timestamp advances for
// samples PCM samples at sampleRate Hz: samples·48000/sampleRate (960 for
// 20 ms at any rate).
func RTPTimestampIncrement(samples, sampleRate int) uint32 {
	if sampleRate <= 0 {
		return 0
	}
	return uint32(samples * RTPClockRate / sampleRate)
}

// validRate reports whether libopus accepts rate as a PCM sampling rate.
func validRate(rate int) bool {
	switch rate {
	case 8000, 12000, 16000, 24000, 48000:
		return true
	}
	return false
}

//go:build !opus || !cgo

package opus

// This file is the build without libopus: the documented default, which
// keeps CGO_ENABLED=0 builds working. Every constructor returns
// ErrUnavailable, and so does every codec method of the (never
// constructed) types; Close and SampleRate are no-ops.

// Available reports whether this build includes Opus. It is false here.
func Available() bool { return false }

// Encoder encodes 16-bit mono PCM to Opus packets. In this build it cannot
// be constructed.
type Encoder struct{}

// NewEncoder returns ErrUnavailable in this build.
func NewEncoder(sampleRate int) (*Encoder, error) { return nil, ErrUnavailable }

// Encode returns dst and ErrUnavailable in this build.
func (e *Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) { return dst, ErrUnavailable }

// SetBitrate returns ErrUnavailable in this build.
func (e *Encoder) SetBitrate(bps int) error { return ErrUnavailable }

// SetPacketLossPercent returns ErrUnavailable in this build.
func (e *Encoder) SetPacketLossPercent(percent int) error { return ErrUnavailable }

// SetFEC returns ErrUnavailable in this build.
func (e *Encoder) SetFEC(on bool) error { return ErrUnavailable }

// SampleRate returns 0 in this build.
func (e *Encoder) SampleRate() int { return 0 }

// Close does nothing in this build.
func (e *Encoder) Close() error { return nil }

// Decoder decodes Opus packets to 16-bit mono PCM. In this build it cannot
// be constructed.
type Decoder struct{}

// NewDecoder returns ErrUnavailable in this build.
func NewDecoder(sampleRate int) (*Decoder, error) { return nil, ErrUnavailable }

// Decode returns dst and ErrUnavailable in this build.
func (d *Decoder) Decode(dst []int16, packet []byte) ([]int16, error) { return dst, ErrUnavailable }

// DecodeFEC returns dst and ErrUnavailable in this build.
func (d *Decoder) DecodeFEC(dst []int16, next []byte, samples int) ([]int16, error) {
	return dst, ErrUnavailable
}

// SampleRate returns 0 in this build.
func (d *Decoder) SampleRate() int { return 0 }

// Close does nothing in this build.
func (d *Decoder) Close() error { return nil }

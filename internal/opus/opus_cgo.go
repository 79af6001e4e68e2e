//go:build opus && cgo

package opus

/*
#cgo pkg-config: opus
#include <opus.h>

// The ctl calls are variadic macros, which cgo cannot call: wrap the few
// settings used here.
static int xp_enc_set_bitrate(OpusEncoder *e, opus_int32 v) { return opus_encoder_ctl(e, OPUS_SET_BITRATE(v)); }
static int xp_enc_set_fec(OpusEncoder *e, opus_int32 v) { return opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(v)); }
static int xp_enc_set_loss(OpusEncoder *e, opus_int32 v) { return opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(v)); }
static int xp_enc_set_signal_voice(OpusEncoder *e) { return opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)); }
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// Available reports whether this build includes Opus. It is true here.
func Available() bool { return true }

func opusError(op string, code C.int) error {
	return fmt.Errorf("opus: %s: %s", op, C.GoString(C.opus_strerror(code)))
}

// Encoder encodes 16-bit mono PCM to Opus packets (application VoIP,
// signal type voice, in-band FEC on). It is not safe for concurrent use.
type Encoder struct {
	st      *C.OpusEncoder
	rate    int
	cleanup runtime.Cleanup
}

// NewEncoder returns an encoder for mono PCM at sampleRate Hz (8000 or
// 16000 for telephony; 12000, 24000 and 48000 are accepted too) with
// in-band FEC on and DefaultPacketLossPercent expected loss.
func NewEncoder(sampleRate int) (*Encoder, error) {
	if !validRate(sampleRate) {
		return nil, fmt.Errorf("opus: unsupported sample rate %d", sampleRate)
	}
	var code C.int
	st := C.opus_encoder_create(C.opus_int32(sampleRate), 1, C.OPUS_APPLICATION_VOIP, &code)
	if code != C.OPUS_OK || st == nil {
		return nil, opusError("create encoder", code)
	}
	e := &Encoder{st: st, rate: sampleRate}
	e.cleanup = runtime.AddCleanup(e, func(p *C.OpusEncoder) { C.opus_encoder_destroy(p) }, st)
	if code := C.xp_enc_set_signal_voice(st); code != C.OPUS_OK {
		e.Close()
		return nil, opusError("set signal", code)
	}
	if err := e.SetFEC(true); err != nil {
		e.Close()
		return nil, err
	}
	if err := e.SetPacketLossPercent(DefaultPacketLossPercent); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

var errClosed = errors.New("opus: use of closed codec")

// Encode appends one Opus packet holding pcm to dst and returns the
// extended slice. pcm must be one frame of 2.5, 5, 10, 20, 40 or 60 ms at
// the encoder's rate (160 or 320 samples for 20 ms at 8 or 16 kHz). Encode
// allocates only when dst has less than MaxPacketSize octets of spare
// capacity. A returned packet of 1 or 2 octets is a DTX frame.
func (e *Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if e == nil || e.st == nil {
		return dst, errClosed
	}
	if len(pcm) == 0 {
		return dst, errors.New("opus: encode: empty frame")
	}
	l := len(dst)
	if cap(dst)-l < MaxPacketSize {
		nd := make([]byte, l, l+MaxPacketSize)
		copy(nd, dst)
		dst = nd
	}
	out := dst[l : l+MaxPacketSize]
	n := C.opus_encode(e.st, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)),
		(*C.uchar)(unsafe.Pointer(&out[0])), C.opus_int32(len(out)))
	if n < 0 {
		return dst, opusError("encode", C.int(n))
	}
	return dst[:l+int(n)], nil
}

// SetBitrate sets the target bit rate in bit/s (500 to 512000).
func (e *Encoder) SetBitrate(bps int) error {
	if e == nil || e.st == nil {
		return errClosed
	}
	if code := C.xp_enc_set_bitrate(e.st, C.opus_int32(bps)); code != C.OPUS_OK {
		return opusError("set bit rate", code)
	}
	return nil
}

// SetPacketLossPercent tells the encoder the expected packet loss (0 to
// 100 %); with FEC on, the higher it is the more redundancy the encoder
// sends.
func (e *Encoder) SetPacketLossPercent(percent int) error {
	if e == nil || e.st == nil {
		return errClosed
	}
	if code := C.xp_enc_set_loss(e.st, C.opus_int32(percent)); code != C.OPUS_OK {
		return opusError("set packet loss", code)
	}
	return nil
}

// SetFEC turns in-band forward error correction (the LBRR frames of the
// SILK layer, RFC 6716) on or off. It is on by default.
func (e *Encoder) SetFEC(on bool) error {
	if e == nil || e.st == nil {
		return errClosed
	}
	v := C.opus_int32(0)
	if on {
		v = 1
	}
	if code := C.xp_enc_set_fec(e.st, v); code != C.OPUS_OK {
		return opusError("set FEC", code)
	}
	return nil
}

// SampleRate returns the PCM rate the encoder was made for.
func (e *Encoder) SampleRate() int { return e.rate }

// Close frees the encoder's C state. Further calls return an error.
func (e *Encoder) Close() error {
	if e == nil || e.st == nil {
		return nil
	}
	e.cleanup.Stop()
	C.opus_encoder_destroy(e.st)
	e.st = nil
	return nil
}

// Decoder decodes Opus packets to 16-bit mono PCM, with loss concealment
// and FEC recovery. It is not safe for concurrent use.
type Decoder struct {
	st      *C.OpusDecoder
	rate    int
	last    int // samples in the last decoded frame: the PLC length
	cleanup runtime.Cleanup
}

// NewDecoder returns a decoder producing mono PCM at sampleRate Hz (8000 or
// 16000 for telephony; 12000, 24000 and 48000 are accepted too). It
// decodes any Opus packet whatever rate it was encoded at.
func NewDecoder(sampleRate int) (*Decoder, error) {
	if !validRate(sampleRate) {
		return nil, fmt.Errorf("opus: unsupported sample rate %d", sampleRate)
	}
	var code C.int
	st := C.opus_decoder_create(C.opus_int32(sampleRate), 1, &code)
	if code != C.OPUS_OK || st == nil {
		return nil, opusError("create decoder", code)
	}
	d := &Decoder{st: st, rate: sampleRate, last: sampleRate / 50}
	d.cleanup = runtime.AddCleanup(d, func(p *C.OpusDecoder) { C.opus_decoder_destroy(p) }, st)
	return d, nil
}

// Decode appends the samples of packet to dst and returns the extended
// slice. A nil or empty packet means the packet was lost: Decode then
// appends a concealed frame as long as the last decoded one (20 ms before
// any). It allocates only when dst lacks the capacity.
func (d *Decoder) Decode(dst []int16, packet []byte) ([]int16, error) {
	if d == nil || d.st == nil {
		return dst, errClosed
	}
	if len(packet) == 0 {
		return d.decode(dst, nil, d.last, 0)
	}
	n := C.opus_decoder_get_nb_samples(d.st, (*C.uchar)(unsafe.Pointer(&packet[0])), C.opus_int32(len(packet)))
	if n < 0 {
		return dst, opusError("decode", n)
	}
	dst, err := d.decode(dst, packet, int(n), 0)
	if err == nil {
		d.last = int(n)
	}
	return dst, err
}

// DecodeFEC appends a reconstruction of the lost packet just before next,
// samples long (normally the length of the lost frame, e.g. 320 for 20 ms at
// 16 kHz), using the in-band FEC data carried in next; when next has none,
// libopus conceals the loss instead. Decode next itself afterwards as
// usual.
func (d *Decoder) DecodeFEC(dst []int16, next []byte, samples int) ([]int16, error) {
	if d == nil || d.st == nil {
		return dst, errClosed
	}
	if len(next) == 0 {
		return d.decode(dst, nil, samples, 0)
	}
	return d.decode(dst, next, samples, 1)
}

func (d *Decoder) decode(dst []int16, packet []byte, samples int, fec C.int) ([]int16, error) {
	if samples <= 0 {
		return dst, errors.New("opus: decode: no samples requested")
	}
	l := len(dst)
	if cap(dst)-l < samples {
		nd := make([]int16, l, l+samples)
		copy(nd, dst)
		dst = nd
	}
	out := dst[l : l+samples]
	var data *C.uchar
	if len(packet) > 0 {
		data = (*C.uchar)(unsafe.Pointer(&packet[0]))
	}
	n := C.opus_decode(d.st, data, C.opus_int32(len(packet)),
		(*C.opus_int16)(unsafe.Pointer(&out[0])), C.int(samples), fec)
	if n < 0 {
		return dst, opusError("decode", n)
	}
	return dst[:l+int(n)], nil
}

// SampleRate returns the PCM rate the decoder produces.
func (d *Decoder) SampleRate() int { return d.rate }

// Close frees the decoder's C state. Further calls return an error.
func (d *Decoder) Close() error {
	if d == nil || d.st == nil {
		return nil
	}
	d.cleanup.Stop()
	C.opus_decoder_destroy(d.st)
	d.st = nil
	return nil
}

package media

import (
	"github.com/xphone-go/xphone/g711"
	"github.com/xphone-go/xphone/g722"
	"github.com/xphone-go/xphone/internal/opus"
	"github.com/xphone-go/xphone/jitter"
)

// encoder turns one 20 ms PCM frame into an RTP payload.
type encoder interface {
	encode(dst []byte, pcm []int16) []byte
	close()
}

// decoder turns an RTP payload into PCM and conceals lost frames.
type decoder interface {
	decode(dst []int16, payload []byte) []int16
	reset()
	// concealer returns the jitter.Concealer to use: PCMConcealer for
	// codecs without their own PLC, the codec itself for Opus.
	concealer() jitter.Concealer
	close()
}

func newEncoder(ci codecInfo) (encoder, error) {
	switch ci.name {
	case CodecPCMU:
		return ulawCodec{}, nil
	case CodecPCMA:
		return alawCodec{}, nil
	case CodecG722:
		return &g722Enc{}, nil
	case CodecOpus:
		e, err := opus.NewEncoder(ci.sampleRate)
		if err != nil {
			return nil, err
		}
		return &opusEnc{e: e}, nil
	}
	return nil, ErrCodec
}

func newDecoder(ci codecInfo) (decoder, error) {
	switch ci.name {
	case CodecPCMU:
		return &pcmDec{law: ulawCodec{}}, nil
	case CodecPCMA:
		return &pcmDec{law: alawCodec{}}, nil
	case CodecG722:
		return &g722Dec{}, nil
	case CodecOpus:
		d, err := opus.NewDecoder(ci.sampleRate)
		if err != nil {
			return nil, err
		}
		return &opusDec{d: d}, nil
	}
	return nil, ErrCodec
}

type ulawCodec struct{}

func (ulawCodec) encode(dst []byte, pcm []int16) []byte { return g711.EncodeUlaw(dst, pcm) }
func (ulawCodec) decodeLaw(dst []int16, p []byte) []int16 {
	return g711.DecodeUlaw(dst, p)
}
func (ulawCodec) close() {}

type alawCodec struct{}

func (alawCodec) encode(dst []byte, pcm []int16) []byte { return g711.EncodeAlaw(dst, pcm) }
func (alawCodec) decodeLaw(dst []int16, p []byte) []int16 {
	return g711.DecodeAlaw(dst, p)
}
func (alawCodec) close() {}

type pcmDec struct {
	law interface {
		decodeLaw(dst []int16, p []byte) []int16
	}
	plc lazyPLC
}

func (d *pcmDec) decode(dst []int16, p []byte) []int16 { return d.law.decodeLaw(dst, p) }
func (d *pcmDec) reset()                               { d.plc.reset() }
func (d *pcmDec) concealer() jitter.Concealer          { return d.plc.get(8000) }
func (d *pcmDec) close()                               {}

// lazyPLC is a decoder's PCM concealer (4 KB of history at 8 kHz), made
// when the jitter buffer's player first asks for it.
type lazyPLC struct{ c *jitter.PCMConcealer }

func (p *lazyPLC) get(rate int) *jitter.PCMConcealer {
	if p.c == nil {
		p.c = jitter.NewPCMConcealer(rate)
	}
	return p.c
}

func (p *lazyPLC) reset() {
	if p.c != nil {
		p.c.Reset()
	}
}

type g722Enc struct{ e g722.Encoder }

func (e *g722Enc) encode(dst []byte, pcm []int16) []byte { return e.e.Encode(dst, pcm) }
func (e *g722Enc) close()                                {}

type g722Dec struct {
	d   g722.Decoder
	plc lazyPLC
}

func (d *g722Dec) decode(dst []int16, p []byte) []int16 { return d.d.Decode(dst, p) }
func (d *g722Dec) reset()                               { d.d.Reset(); d.plc.reset() }
func (d *g722Dec) concealer() jitter.Concealer          { return d.plc.get(g722.SampleRate) }
func (d *g722Dec) close()                               {}

type opusEnc struct{ e *opus.Encoder }

func (e *opusEnc) encode(dst []byte, pcm []int16) []byte {
	out, err := e.e.Encode(dst, pcm)
	if err != nil {
		return dst
	}
	return out
}
func (e *opusEnc) close() { e.e.Close() }

// opusDec uses the decoder's own loss concealment (RFC 6716 §4.4) as its
// jitter.Concealer.
type opusDec struct{ d *opus.Decoder }

func (d *opusDec) decode(dst []int16, p []byte) []int16 {
	out, err := d.d.Decode(dst, p)
	if err != nil {
		return dst
	}
	return out
}

// reset cannot reset libopus state through the binding; a fresh stream
// after a resync decodes correctly from its first packet anyway.
func (d *opusDec) reset()                      {}
func (d *opusDec) concealer() jitter.Concealer { return d }
func (d *opusDec) close()                      { d.d.Close() }

// Decoded implements jitter.Concealer; Opus needs no history.
func (d *opusDec) Decoded([]int16) {}

// Conceal implements jitter.Concealer with libopus's PLC.
func (d *opusDec) Conceal(dst []int16, n int) []int16 {
	l := len(dst)
	out, err := d.d.Decode(dst, nil)
	if err != nil || len(out)-l != n {
		out = out[:l]
		for range n {
			out = append(out, 0)
		}
	}
	return out
}

// Reset implements jitter.Concealer.
func (d *opusDec) Reset() {}

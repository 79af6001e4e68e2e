package xphone

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
)

// PCMReader reads a call's received audio as a byte stream of 16-bit
// little-endian samples, mono, at the call's PCM rate. It adapts
// Call.PCMReader for code that wants an io.Reader (io.Copy to a WAV
// encoder, a speech-to-text client). Frame boundaries are not kept: a
// Read may return part of a frame, the rest comes with the next.
//
// A PCMReader is not safe for concurrent use. It is the only consumer of
// the call's PCMReader channel that it should have: frames taken by
// another reader are missed.
type PCMReader struct {
	frames  <-chan []int16
	pending []byte // encoded samples not yet returned: buf[off:]
	off     int
}

// NewPCMReader returns a reader of c's received audio.
func NewPCMReader(c Call) *PCMReader { return &PCMReader{frames: c.PCMReader()} }

// Read fills p with as much buffered audio as is available, blocking only
// until at least one byte can be returned. It returns io.EOF after the
// call ended and every received frame was read.
func (r *PCMReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.off == len(r.pending) {
			var frame []int16
			var ok bool
			if n == 0 {
				frame, ok = <-r.frames
			} else {
				select {
				case frame, ok = <-r.frames:
				default:
					return n, nil
				}
			}
			if !ok {
				if n > 0 {
					return n, nil
				}
				return 0, io.EOF
			}
			r.pending = r.pending[:0]
			for _, s := range frame {
				r.pending = binary.LittleEndian.AppendUint16(r.pending, uint16(s))
			}
			r.off = 0
		}
		c := copy(p[n:], r.pending[r.off:])
		r.off += c
		n += c
	}
	return n, nil
}

// PCMWriter writes audio to a call as a byte stream of 16-bit
// little-endian samples, mono, at the call's PCM rate. It adapts
// Call.PacedPCMWriter, so it may be written faster than real time (io.Copy
// from a file): Write blocks while the call's queue is full, and the call
// sends 20 ms every 20 ms.
//
// A PCMWriter is not safe for concurrent use.
type PCMWriter struct {
	out  chan<- []int16
	ctx  context.Context
	odd  byte
	half bool // odd holds the low byte of a sample whose high byte is still to come
	err  error
}

// ErrWriterClosed is returned by PCMWriter.Write after Close.
var ErrWriterClosed = errors.New("xphone: PCM writer closed")

// NewPCMWriter returns a writer of audio to c.
func NewPCMWriter(c Call) *PCMWriter {
	return &PCMWriter{out: c.PacedPCMWriter(), ctx: c.Context()}
}

// Write queues the samples in p and returns len(p), or 0 and an error:
// the call's end reason (context.Cause of its Context) if it ended first,
// or ErrWriterClosed. A trailing odd byte is kept for the next Write. After
// an error every Write returns the same error.
func (w *PCMWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	total := len(p)
	nb := len(p)
	if w.half {
		nb++
	}
	samples := make([]int16, nb/2)
	i := 0
	if w.half && len(samples) > 0 {
		samples[0] = int16(uint16(w.odd) | uint16(p[0])<<8)
		p = p[1:]
		i = 1
		w.half = false
	}
	for ; i < len(samples); i++ {
		samples[i] = int16(binary.LittleEndian.Uint16(p))
		p = p[2:]
	}
	if len(p) == 1 {
		w.odd, w.half = p[0], true
	}
	if len(samples) == 0 {
		return total, nil
	}
	select {
	case w.out <- samples:
		return total, nil
	case <-w.ctx.Done():
		w.err = context.Cause(w.ctx)
		return 0, w.err
	}
}

// Close ends the writer: later Writes return ErrWriterClosed. It does not
// close the call's channel or end the call. It returns io.ErrUnexpectedEOF
// if an odd byte (half a sample) was left over, which is discarded.
func (w *PCMWriter) Close() error {
	half := w.half
	w.half = false
	if w.err == nil {
		w.err = ErrWriterClosed
	}
	if half {
		return io.ErrUnexpectedEOF
	}
	return nil
}

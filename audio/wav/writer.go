package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	headerSize = 44 // RIFF header, 16-byte fmt chunk, data chunk header
	// maxDataSize is the most data a RIFF file's 32-bit sizes can describe.
	maxDataSize = sizeStream - (headerSize - 8) - 1
)

// A Writer writes a WAVE file of 16-bit PCM: a 44-byte header (a plain
// WAVE_FORMAT_PCM fmt chunk) followed by the samples. It is not safe for
// concurrent use.
//
// The header is written before the first samples (or by Close if there are
// none), at the position the underlying writer has then. Its RIFF and data
// sizes are first 0xFFFFFFFF, the value for a stream of unknown length, so
// that a recording cut short by a crash can still be read to its end. When
// the underlying writer is an io.WriteSeeker that can seek (an *os.File on
// a regular file, say), Close seeks back and writes the real sizes;
// otherwise (a pipe, a socket, a bytes.Buffer) the file keeps the streaming
// sizes, which this package's Reader, SoX and FFmpeg read to the end.
type Writer struct {
	w        io.Writer
	seeker   io.WriteSeeker // nil when w cannot seek
	start    int64          // offset of the header in seeker
	rate     int
	channels int
	n        int64 // data bytes written
	started  bool  // the header is written
	closed   bool
	err      error // sticky
	buf      [2048]byte
}

// NewWriter returns a Writer of mono audio at sampleRate Hz (8000 for
// G.711, 16000 for G.722) to w. It writes nothing yet. A sample rate out of
// the range MinSampleRate to MaxSampleRate makes every later call fail.
func NewWriter(w io.Writer, sampleRate int) *Writer {
	return NewInterleavedWriter(w, sampleRate, 1)
}

// NewInterleavedWriter is NewWriter for several channels: the samples given
// to WriteSamples and Write are frames of channels interleaved samples.
// A channel count out of the range 1 to MaxChannels makes every later call
// fail.
func NewInterleavedWriter(w io.Writer, sampleRate, channels int) *Writer {
	wr := &Writer{w: w, rate: sampleRate, channels: channels}
	switch {
	case sampleRate < MinSampleRate || sampleRate > MaxSampleRate:
		wr.err = fmt.Errorf("wav: sample rate %d Hz, want %d to %d", sampleRate, MinSampleRate, MaxSampleRate)
	case channels < 1 || channels > MaxChannels:
		wr.err = fmt.Errorf("wav: %d channels, want 1 to %d", channels, MaxChannels)
	}
	return wr
}

// errClosed is returned by calls on a closed Writer.
var errClosed = errors.New("wav: write after Close")

// writeHeader writes the header with streaming sizes, noting where it is
// when w can seek.
func (w *Writer) writeHeader() error {
	w.started = true
	if s, ok := w.w.(io.WriteSeeker); ok {
		if pos, err := s.Seek(0, io.SeekCurrent); err == nil {
			w.seeker, w.start = s, pos
		}
	}
	le := binary.LittleEndian
	b := append(w.buf[:0], "RIFF"...)
	b = le.AppendUint32(b, sizeStream)
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, formatPCM)
	b = le.AppendUint16(b, uint16(w.channels))
	b = le.AppendUint32(b, uint32(w.rate))
	b = le.AppendUint32(b, uint32(w.rate*w.channels*2)) // bytes per second
	b = le.AppendUint16(b, uint16(w.channels*2))        // block align
	b = le.AppendUint16(b, 16)                          // bits per sample
	b = append(b, "data"...)
	b = le.AppendUint32(b, sizeStream)
	_, err := w.w.Write(b)
	return err
}

// check returns the error that stops a write of n more data bytes.
func (w *Writer) check(n int) error {
	switch {
	case w.err != nil:
		return w.err
	case w.closed:
		return errClosed
	case w.n+int64(n) > maxDataSize:
		return fmt.Errorf("wav: more than %d bytes of data, the RIFF limit", int64(maxDataSize))
	case !w.started:
		if err := w.writeHeader(); err != nil {
			w.err = err
			return err
		}
	}
	return nil
}

// WriteSamples writes samples (mono, or frames of interleaved channels for
// a Writer from NewInterleavedWriter). It blocks while the underlying
// writer blocks and does not allocate. After a write error every later
// call returns that error.
func (w *Writer) WriteSamples(samples []int16) error {
	if err := w.check(2 * len(samples)); err != nil {
		return err
	}
	for len(samples) > 0 {
		k := min(len(samples), len(w.buf)/2)
		for i, s := range samples[:k] {
			binary.LittleEndian.PutUint16(w.buf[2*i:], uint16(s))
		}
		n, err := w.w.Write(w.buf[:2*k])
		w.n += int64(n)
		if err != nil {
			w.err = err
			return err
		}
		samples = samples[k:]
	}
	return nil
}

// Write implements io.Writer over 16-bit little-endian PCM, the bytes
// going into the data chunk as they are. p may split a sample; Close
// reports a file that ends inside one. It blocks while the underlying
// writer blocks and does not allocate.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.check(len(p)); err != nil {
		return 0, err
	}
	n, err := w.w.Write(p)
	w.n += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Close finishes the file: it writes the header if no samples were
// written, and when the underlying writer can seek, the real RIFF and data
// sizes, leaving the writer positioned after the data. It does not close
// the underlying writer. It returns an error if the data ends inside a
// sample frame (after padding the data chunk to an even size, as RIFF
// requires) or if writing failed. Closing twice returns nil.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	if err := w.check(0); err != nil {
		return err
	}
	w.closed = true
	pad := w.n % 2
	if pad == 1 {
		w.buf[0] = 0
		if _, err := w.w.Write(w.buf[:1]); err != nil {
			w.err = err
			return err
		}
	}
	if w.seeker != nil {
		if err := w.patch(pad); err != nil {
			w.err = err
			return err
		}
	}
	if frame := int64(2 * w.channels); w.n%frame != 0 {
		return fmt.Errorf("wav: data of %d bytes ends inside a %d-byte frame", w.n, frame)
	}
	return nil
}

// patch writes the RIFF and data sizes into the header (RIFF: the size of
// everything after the RIFF chunk header, including the pad byte).
func (w *Writer) patch(pad int64) error {
	var b [4]byte
	at := func(off int64, v uint32) error {
		if _, err := w.seeker.Seek(w.start+off, io.SeekStart); err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(b[:], v)
		_, err := w.seeker.Write(b[:])
		return err
	}
	if err := at(4, uint32(headerSize-8+w.n+pad)); err != nil {
		return err
	}
	if err := at(headerSize-4, uint32(w.n)); err != nil {
		return err
	}
	_, err := w.seeker.Seek(w.start+headerSize+w.n+pad, io.SeekStart)
	return err
}

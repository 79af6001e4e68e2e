package audiotest

import (
	"errors"
	"fmt"
	"io"

	"github.com/xphone-go/xphone/audio/wav"
)

// maxWAVBytes bounds what ReadWAV accepts: ten minutes of 48 kHz stereo
// 16-bit audio, far more than any call a test records.
const maxWAVBytes = 10 * 60 * 48000 * 2 * 2

// WAV is 16-bit PCM audio read from or written to a RIFF/WAVE file.
type WAV struct {
	// SampleRate is the number of frames per second.
	SampleRate int
	// Channels is the number of interleaved channels (1 = mono).
	Channels int
	// Samples holds the samples, channels interleaved.
	Samples []int16
}

// Mono returns the first channel of w (w.Samples itself when w is mono).
func (w *WAV) Mono() []int16 {
	if w.Channels <= 1 {
		return w.Samples
	}
	out := make([]int16, 0, len(w.Samples)/w.Channels)
	for i := 0; i+w.Channels <= len(w.Samples); i += w.Channels {
		out = append(out, w.Samples[i])
	}
	return out
}

// ErrNotWAV is returned by ReadWAV when the input is not a 16-bit PCM
// RIFF/WAVE file. The error also wraps the audio/wav package's
// wav.ErrMalformed or wav.ErrUnsupportedFormat.
var ErrNotWAV = errors.New("audiotest: not a 16-bit PCM WAV file")

// ReadWAV reads a whole RIFF/WAVE file of 16-bit PCM with the audio/wav
// package (which see for what it accepts: format 1 or
// WAVE_FORMAT_EXTENSIBLE with the PCM subformat, 1 to wav.MaxChannels
// channels, other chunks skipped) and keeps the channels interleaved. A
// data chunk whose size is 0 or runs past the end of the input (a recorder
// that has not closed its file yet) is read to the end of the input, and
// so is one that ends inside a frame (the partial frame is dropped). It
// reads at most ten minutes of 48 kHz stereo.
func ReadWAV(r io.Reader) (*WAV, error) {
	rd, err := wav.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotWAV, err)
	}
	w := WAV{SampleRate: rd.SampleRate(), Channels: rd.Channels()}
	buf := make([]int16, 4096-4096%w.Channels)
	for {
		n, err := rd.ReadInterleaved(buf)
		w.Samples = append(w.Samples, buf[:n]...)
		if 2*len(w.Samples) > maxWAVBytes {
			return nil, fmt.Errorf("audiotest: WAV data longer than %d bytes", maxWAVBytes)
		}
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF: // the end, or an unfinished recording
			return &w, nil
		default:
			return nil, fmt.Errorf("audiotest: reading WAV data: %w", err)
		}
	}
}

// WriteWAV writes samples as a canonical 44-byte-header RIFF/WAVE file
// of 16-bit PCM with the given sample rate and channel count (samples
// interleaved), using the audio/wav package. It builds the file in memory
// and writes it to dst in one call.
func WriteWAV(dst io.Writer, sampleRate, channels int, samples []int16) error {
	if 2*len(samples) > maxWAVBytes {
		return fmt.Errorf("audiotest: WAV data longer than %d bytes", maxWAVBytes)
	}
	f := memFile{b: make([]byte, 0, 44+2*len(samples))}
	w := wav.NewInterleavedWriter(&f, sampleRate, channels)
	if err := w.WriteSamples(samples); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	_, err := dst.Write(f.b)
	return err
}

// memFile is an in-memory io.WriteSeeker, so that wav.Writer writes the
// real sizes into the header.
type memFile struct {
	b   []byte
	pos int
}

func (f *memFile) Write(p []byte) (int, error) {
	if end := f.pos + len(p); end > len(f.b) {
		f.b = append(f.b, make([]byte, end-len(f.b))...)
	}
	f.pos += copy(f.b[f.pos:], p)
	return len(p), nil
}

func (f *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += int64(f.pos)
	case io.SeekEnd:
		off += int64(len(f.b))
	}
	if off < 0 || off > int64(len(f.b)) {
		return 0, fmt.Errorf("audiotest: seek to %d outside %d bytes", off, len(f.b))
	}
	f.pos = int(off)
	return off, nil
}

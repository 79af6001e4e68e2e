package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits on what the package reads and writes.
const (
	// MinSampleRate and MaxSampleRate bound the sample rates accepted in a
	// file, by NewWriter and by Resample.
	MinSampleRate = 1000
	MaxSampleRate = 384000
	// MaxChannels is the largest channel count a Reader accepts.
	MaxChannels = 8
)

// Format tags of the fmt chunk (RFC 2361 Appendix A lists the registry).
const (
	formatPCM        = 0x0001
	formatADPCM      = 0x0002
	formatFloat      = 0x0003
	formatALaw       = 0x0006
	formatMuLaw      = 0x0007
	formatIMAADPCM   = 0x0011
	formatMPEG       = 0x0050
	formatMP3        = 0x0055
	formatExtensible = 0xFFFE
)

// guidTail is bytes 2 to 15 of every KSDATAFORMAT_SUBTYPE_* GUID of the
// form 0000xxxx-0000-0010-8000-00aa00389b71, as stored (little-endian
// fields); the first two bytes are the format tag.
var guidTail = [14]byte{0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71}

const (
	maxFmtSize = 1024       // largest fmt chunk accepted
	rawSize    = 4096       // bytes of data a Reader buffers
	sizeStream = 0xFFFFFFFF // data size of a file still being written
)

var (
	// ErrUnsupportedFormat is wrapped by the error a Reader returns for a
	// WAVE file it does not decode: sample formats other than 16-bit
	// integer PCM, too many channels, a sample rate out of range, RF64.
	// The error's text says what the file holds.
	ErrUnsupportedFormat = errors.New("wav: unsupported format")
	// ErrMalformed is wrapped by the error a Reader returns for input that
	// is not a RIFF/WAVE file or whose header is truncated or inconsistent.
	ErrMalformed = errors.New("wav: malformed file")
)

// A Reader decodes the samples of a WAVE file of 16-bit PCM. It is not
// safe for concurrent use.
type Reader struct {
	src       io.Reader
	rate      int
	channels  int
	frameSize int   // bytes per frame: 2 × channels
	remaining int64 // data bytes not yet read from src; -1: read to EOF
	err       error // sticky: io.EOF, io.ErrUnexpectedEOF or a read error
	carry     int   // bytes of a partial frame kept at raw[:carry]
	pending   byte  // high byte of a sample half delivered by Read
	hasPend   bool
	raw       [rawSize]byte
}

// NewReader reads the header of a WAVE file from r, up to and including
// the header of its data chunk, and returns a Reader positioned at the
// first sample. It reads r only as far as needed and never allocates more
// than the Reader itself. Errors wrap ErrMalformed or ErrUnsupportedFormat,
// or are the error r returned.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{src: r}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

func (r *Reader) readHeader() error {
	hdr := r.raw[:12]
	if _, err := io.ReadFull(r.src, hdr); err != nil {
		return fmt.Errorf("%w: reading RIFF header: %w", ErrMalformed, eofIsUnexpected(err))
	}
	switch id := string(hdr[0:4]); {
	case id == "RF64" || id == "BW64":
		return fmt.Errorf("%w: %s (64-bit RIFF)", ErrUnsupportedFormat, id)
	case id != "RIFF":
		return fmt.Errorf("%w: starts with %q, not RIFF", ErrMalformed, hdr[0:4])
	case string(hdr[8:12]) != "WAVE":
		return fmt.Errorf("%w: RIFF form %q, not WAVE", ErrMalformed, hdr[8:12])
	}
	haveFmt := false
	for {
		ch := r.raw[:8]
		if _, err := io.ReadFull(r.src, ch); err != nil {
			return fmt.Errorf("%w: no data chunk: %w", ErrMalformed, eofIsUnexpected(err))
		}
		id := string(ch[0:4])
		size := binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if size < 16 || size > maxFmtSize {
				return fmt.Errorf("%w: fmt chunk of %d bytes", ErrMalformed, size)
			}
			b := r.raw[:size+size%2] // chunks are padded to an even size
			if _, err := io.ReadFull(r.src, b); err != nil {
				return fmt.Errorf("%w: reading fmt chunk: %w", ErrMalformed, eofIsUnexpected(err))
			}
			if err := r.parseFmt(b[:size]); err != nil {
				return err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return fmt.Errorf("%w: data chunk before fmt chunk", ErrMalformed)
			}
			r.remaining = int64(size)
			if size == 0 || size == sizeStream {
				r.remaining = -1
			}
			return nil
		default:
			skip := int64(size) + int64(size%2)
			if n, err := io.CopyBuffer(io.Discard, io.LimitReader(r.src, skip), r.raw[:]); err != nil {
				return fmt.Errorf("%w: skipping %q chunk: %w", ErrMalformed, id, err)
			} else if n < skip {
				return fmt.Errorf("%w: %q chunk of %d bytes cut short at %d: %w",
					ErrMalformed, id, size, n, io.ErrUnexpectedEOF)
			}
		}
	}
}

// parseFmt checks a fmt chunk (WAVEFORMATEX, or WAVEFORMATEXTENSIBLE of at
// least 40 bytes) and records the stream's shape.
func (r *Reader) parseFmt(b []byte) error {
	le := binary.LittleEndian
	tag := le.Uint16(b[0:2])
	channels := int(le.Uint16(b[2:4]))
	rate := le.Uint32(b[4:8])
	blockAlign := int(le.Uint16(b[12:14]))
	bits := int(le.Uint16(b[14:16]))
	if tag == formatExtensible {
		if len(b) < 40 {
			return fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes, want 40", ErrMalformed, len(b))
		}
		if [14]byte(b[26:40]) != guidTail {
			return fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE with subformat GUID %x", ErrUnsupportedFormat, b[24:40])
		}
		tag = le.Uint16(b[24:26])
		if valid := int(le.Uint16(b[18:20])); tag == formatPCM && bits == 16 && valid > 16 {
			return fmt.Errorf("%w: %d valid bits in 16-bit samples", ErrMalformed, valid)
		}
	}
	if tag != formatPCM {
		return fmt.Errorf("%w: %s", ErrUnsupportedFormat, formatName(tag))
	}
	if bits != 16 {
		return fmt.Errorf("%w: %d-bit PCM, want 16-bit", ErrUnsupportedFormat, bits)
	}
	if channels == 0 {
		return fmt.Errorf("%w: 0 channels", ErrMalformed)
	}
	if channels > MaxChannels {
		return fmt.Errorf("%w: %d channels, at most %d", ErrUnsupportedFormat, channels, MaxChannels)
	}
	if rate < MinSampleRate || rate > MaxSampleRate {
		return fmt.Errorf("%w: sample rate %d Hz, want %d to %d", ErrUnsupportedFormat, rate, MinSampleRate, MaxSampleRate)
	}
	if blockAlign != 2*channels {
		return fmt.Errorf("%w: block align %d for %d channels of 16 bits, want %d",
			ErrMalformed, blockAlign, channels, 2*channels)
	}
	r.channels, r.rate, r.frameSize = channels, int(rate), 2*channels
	return nil
}

func formatName(tag uint16) string {
	switch tag {
	case formatADPCM:
		return "Microsoft ADPCM"
	case formatFloat:
		return "IEEE float"
	case formatALaw:
		return "A-law"
	case formatMuLaw:
		return "µ-law"
	case formatIMAADPCM:
		return "IMA ADPCM"
	case formatMPEG, formatMP3:
		return "MPEG audio"
	}
	return fmt.Sprintf("format tag %#04x", tag)
}

// eofIsUnexpected turns the io.EOF of an input that ends inside a header
// into io.ErrUnexpectedEOF.
func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// SampleRate returns the file's sample rate in Hz.
func (r *Reader) SampleRate() int { return r.rate }

// Channels returns the file's channel count. ReadSamples and Read mix the
// channels down to mono; ReadInterleaved does not.
func (r *Reader) Channels() int { return r.channels }

// fill reads up to max whole frames into r.raw, after the partial frame
// already there, and returns how many whole frames r.raw now starts with.
// The caller converts them and then calls consume.
func (r *Reader) fill(max int) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	fs := r.frameSize
	want := min(max, len(r.raw)/fs) * fs
	if r.remaining >= 0 && int64(want-r.carry) > r.remaining {
		want = r.carry + int(r.remaining)
		if want < fs {
			// The data chunk ends here, or inside a frame.
			r.err = io.EOF
			if want > 0 {
				r.err = io.ErrUnexpectedEOF
			}
			return 0, r.err
		}
	}
	n, err := io.ReadAtLeast(r.src, r.raw[r.carry:want], fs-r.carry)
	if r.remaining >= 0 {
		r.remaining -= int64(n)
	}
	r.carry += n
	if err != nil {
		// ReadAtLeast fails only when it has less than a frame.
		switch {
		case err == io.EOF && r.remaining < 0 && r.carry == 0:
			// The end of a stream of unknown length, between frames.
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			err = io.ErrUnexpectedEOF
		}
		r.err = err
		return 0, err
	}
	return r.carry / fs, nil
}

// consume drops the first frames frames of r.raw, keeping a partial frame
// that follows them.
func (r *Reader) consume(frames int) {
	used := frames * r.frameSize
	r.carry = copy(r.raw[:], r.raw[used:r.carry])
}

// mono returns frame i of r.raw mixed down to one sample.
func (r *Reader) mono(i int) int16 {
	b := r.raw[i*r.frameSize : (i+1)*r.frameSize]
	if len(b) == 2 {
		return int16(binary.LittleEndian.Uint16(b))
	}
	var sum int32
	for j := 0; j < len(b); j += 2 {
		sum += int32(int16(binary.LittleEndian.Uint16(b[j:])))
	}
	return int16(sum / int32(r.channels))
}

// ReadSamples reads up to len(dst) samples, mixed down to mono, into dst
// and returns how many it read. Like an io.Reader it may return fewer than
// asked without an error; at the end of the data it returns 0 and io.EOF,
// or io.ErrUnexpectedEOF when the input ended before the declared end of
// the data or inside a frame. It blocks while the underlying reader
// blocks and does not allocate.
func (r *Reader) ReadSamples(dst []int16) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	r.hasPend = false // a half-read sample from Read is dropped
	frames, err := r.fill(len(dst))
	for i := range frames {
		dst[i] = r.mono(i)
	}
	r.consume(frames)
	return frames, err
}

// ReadInterleaved is ReadSamples without the mixdown: it reads up to
// len(dst)/Channels() whole frames, channels interleaved, and returns the
// number of samples (a multiple of Channels()). It returns
// io.ErrShortBuffer when dst cannot hold one frame.
func (r *Reader) ReadInterleaved(dst []int16) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	if len(dst) < r.channels {
		return 0, io.ErrShortBuffer
	}
	r.hasPend = false
	frames, err := r.fill(len(dst) / r.channels)
	n := frames * r.channels
	for i := range n {
		dst[i] = int16(binary.LittleEndian.Uint16(r.raw[2*i:]))
	}
	r.consume(frames)
	return n, err
}

// Read implements io.Reader over the samples as 16-bit little-endian mono
// PCM (mixed down like ReadSamples), whatever the file's channel count. It
// returns io.EOF at the end of the data and io.ErrUnexpectedEOF for a
// truncated file, as ReadSamples does. After a Read into an odd-length p,
// the next Read returns the other byte of the split sample (a call to
// ReadSamples or ReadInterleaved drops it instead). It blocks while the
// underlying reader blocks and does not allocate.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.hasPend {
		p[0], r.hasPend = r.pending, false
		return 1, nil
	}
	if len(p) == 1 {
		frames, err := r.fill(1)
		if frames == 0 {
			return 0, err
		}
		s := uint16(r.mono(0))
		r.consume(1)
		p[0], r.pending, r.hasPend = byte(s), byte(s>>8), true
		return 1, nil
	}
	frames, err := r.fill(len(p) / 2)
	for i := range frames {
		binary.LittleEndian.PutUint16(p[2*i:], uint16(r.mono(i)))
	}
	r.consume(frames)
	return 2 * frames, err
}

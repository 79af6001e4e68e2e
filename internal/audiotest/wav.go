package audiotest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WAV format tags (the fmt chunk's first field).
const (
	wavFormatPCM        = 1
	wavFormatExtensible = 0xFFFE
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
// RIFF/WAVE file.
var ErrNotWAV = errors.New("audiotest: not a 16-bit PCM WAV file")

// ReadWAV reads a RIFF/WAVE file of 16-bit PCM (format 1, or
// WAVE_FORMAT_EXTENSIBLE with the PCM subformat), any channel count. It
// skips chunks other than "fmt " and "data". A data chunk whose size is 0
// or runs past the end of the input (a recorder that has not closed its
// file yet) is read to the end of the input.
func ReadWAV(r io.Reader) (*WAV, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotWAV, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrNotWAV)
	}
	var w WAV
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, fmt.Errorf("%w: no data chunk", ErrNotWAV)
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, size)
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, fmt.Errorf("%w: short fmt chunk", ErrNotWAV)
			}
			format := binary.LittleEndian.Uint16(b[0:2])
			if format == wavFormatExtensible && size >= 40 {
				// The subformat GUID starts with the format tag.
				format = binary.LittleEndian.Uint16(b[24:26])
			}
			w.Channels = int(binary.LittleEndian.Uint16(b[2:4]))
			w.SampleRate = int(binary.LittleEndian.Uint32(b[4:8]))
			bits := binary.LittleEndian.Uint16(b[14:16])
			if format != wavFormatPCM || bits != 16 || w.Channels < 1 || w.SampleRate < 1 {
				return nil, fmt.Errorf("%w: format %#x, %d bits, %d channels, %d Hz",
					ErrNotWAV, format, bits, w.Channels, w.SampleRate)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrNotWAV)
			}
			var src io.Reader = r
			if size != 0 && size != 0xFFFFFFFF {
				src = io.LimitReader(r, int64(size))
			}
			b, err := io.ReadAll(io.LimitReader(src, maxWAVBytes+1))
			if err != nil {
				return nil, fmt.Errorf("audiotest: reading WAV data: %w", err)
			}
			if len(b) > maxWAVBytes {
				return nil, fmt.Errorf("audiotest: WAV data longer than %d bytes", maxWAVBytes)
			}
			w.Samples = make([]int16, len(b)/2)
			for i := range w.Samples {
				w.Samples[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
			}
			return &w, nil
		default:
			// RIFF chunks are padded to an even length.
			if _, err := io.CopyN(io.Discard, r, int64(size)+int64(size%2)); err != nil {
				return nil, fmt.Errorf("%w: truncated %q chunk", ErrNotWAV, id)
			}
		}
	}
}

// WriteWAV writes samples as a canonical 44-byte-header RIFF/WAVE file of
// 16-bit PCM with the given sample rate and channel count (samples
// interleaved).
func WriteWAV(dst io.Writer, sampleRate, channels int, samples []int16) error {
	if channels < 1 || sampleRate < 1 {
		return fmt.Errorf("audiotest: bad WAV format: %d Hz, %d channels", sampleRate, channels)
	}
	dataLen := 2 * len(samples)
	if dataLen > maxWAVBytes {
		return fmt.Errorf("audiotest: WAV data longer than %d bytes", maxWAVBytes)
	}
	b := make([]byte, 0, 44+dataLen)
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(36+dataLen))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, wavFormatPCM)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(sampleRate))
	b = binary.LittleEndian.AppendUint32(b, uint32(sampleRate*channels*2)) // byte rate
	b = binary.LittleEndian.AppendUint16(b, uint16(channels*2))            // block align
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(dataLen))
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	_, err := dst.Write(b)
	return err
}

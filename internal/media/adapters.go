package media

import (
	"encoding/binary"
	"io"
)

// PCMStreamReader returns an io.Reader over PCMReader: the received frames
// as 16-bit little-endian samples. Read blocks until a frame arrives and
// returns io.EOF once the session has ended and every frame was read.
// It is not safe for concurrent use; use one reader per session.
func (s *Session) PCMStreamReader() io.Reader { return &pcmStreamReader{ch: s.PCMReader()} }

type pcmStreamReader struct {
	ch   <-chan []int16
	rest []int16
}

func (r *pcmStreamReader) Read(p []byte) (int, error) {
	if len(p) < 2 {
		return 0, nil
	}
	for len(r.rest) == 0 {
		f, ok := <-r.ch
		if !ok {
			return 0, io.EOF
		}
		r.rest = f
	}
	n := min(len(p)/2, len(r.rest))
	for i, v := range r.rest[:n] {
		binary.LittleEndian.PutUint16(p[2*i:], uint16(v))
	}
	r.rest = r.rest[n:]
	return 2 * n, nil
}

// PCMStreamWriter returns an io.Writer onto PacedPCMWriter: bytes are
// 16-bit little-endian samples at SampleRate, cut into 20 ms frames (an
// odd trailing byte or partial frame waits for the next Write). Write
// blocks while the paced queue is full, so a file or TTS stream written as
// fast as possible is sent in real time; it returns io.ErrClosedPipe once
// the session has ended. It is not safe for concurrent use.
func (s *Session) PCMStreamWriter() io.Writer {
	return &pcmStreamWriter{s: s, ch: s.PacedPCMWriter()}
}

type pcmStreamWriter struct {
	s     *Session
	ch    chan<- []int16
	odd   []byte
	frame []int16
}

func (w *pcmStreamWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(w.odd) == 1 {
			w.odd = append(w.odd, p[0])
			p = p[1:]
			w.frame = append(w.frame, int16(binary.LittleEndian.Uint16(w.odd)))
			w.odd = w.odd[:0]
		}
		for len(p) >= 2 && len(w.frame) < w.size() {
			w.frame = append(w.frame, int16(binary.LittleEndian.Uint16(p)))
			p = p[2:]
		}
		if len(p) == 1 && len(w.frame) < w.size() {
			w.odd = append(w.odd[:0], p[0])
			p = p[1:]
		}
		if len(w.frame) == w.size() {
			select {
			case <-w.s.done:
				return n - len(p), io.ErrClosedPipe
			default:
			}
			select {
			case w.ch <- w.frame:
			case <-w.s.done:
				return n - len(p), io.ErrClosedPipe
			}
			w.frame = nil // the session owns the sent frame
		}
	}
	return n, nil
}

func (w *pcmStreamWriter) size() int {
	if r := w.s.SampleRate(); r > 0 {
		return r / 50
	}
	return 160
}

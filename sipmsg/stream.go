package sipmsg

import (
	"bytes"
	"errors"
	"io"
)

// Keepalive says what a [Reader] found between messages.
type Keepalive int

const (
	// NoKeepalive: the Reader returned a message.
	NoKeepalive Keepalive = iota
	// Ping: a double CRLF (RFC 5626 §4.4.1); answer it with one CRLF.
	Ping
	// Pong: a single CRLF, the answer to a ping this side sent.
	Pong
)

// ErrFraming reports a stream whose message boundaries can no longer be
// found (missing or invalid Content-Length, RFC 3261 §18.3). The
// connection should be closed.
var ErrFraming = errors.New("sipmsg: stream framing lost")

// Reader reads SIP messages one at a time from a stream transport (TCP,
// TLS), framing them by Content-Length, which is mandatory there
// (RFC 3261 §18.3). It reports CRLF keepalives between messages
// (RFC 5626 §4.4.1) instead of blocking on them. A Reader is not safe for
// concurrent use; its Read blocks while the underlying reader blocks.
type Reader struct {
	r      io.Reader
	p      Parser
	buf    []byte
	start  int // first unread byte in buf
	end    int // end of valid data in buf
	scan   int // bytes after start already searched for the empty line
	err    error
	readEr error
}

// NewReader returns a Reader reading from r with the limits of p (a nil p
// means the defaults). The message size limit also bounds the Reader's
// buffer.
func NewReader(r io.Reader, p *Parser) *Reader {
	rd := &Reader{r: r}
	if p != nil {
		rd.p = *p
	}
	return rd
}

// Read returns the next message, or a nil message and the kind of
// keepalive it consumed. A [*ParseError] for one message whose length was
// known leaves the stream usable: the next Read continues after it. Errors
// wrapping [ErrFraming] or [ErrTooLarge], and errors from the underlying
// reader (io.EOF at a message boundary, io.ErrUnexpectedEOF inside one),
// are final: every later Read returns them again.
func (r *Reader) Read() (*Message, Keepalive, error) {
	if r.err != nil {
		return nil, NoKeepalive, r.err
	}
	maxSize, _, _ := r.p.limits()
	for {
		data := r.buf[r.start:r.end]
		// Keepalives: CRLFs before a start line (RFC 5626 §4.4.1). A lone
		// CRLF at the end of what has arrived is taken as a pong rather
		// than waiting for bytes that may never come.
		if len(data) >= 2 && data[0] == '\r' && data[1] == '\n' {
			switch {
			case len(data) >= 4 && data[2] == '\r' && data[3] == '\n':
				r.start += 4
				return nil, Ping, nil
			case len(data) == 3:
				if err := r.fill(maxSize); err != nil {
					return nil, NoKeepalive, err
				}
				continue
			}
			r.start += 2
			return nil, Pong, nil
		}
		from := max(r.scan-3, 0)
		if i := bytes.Index(data[from:], []byte("\r\n\r\n")); i >= 0 {
			i += from
			r.scan = 0
			cl, err := frameLength(data[:i+2])
			if err != nil {
				return nil, NoKeepalive, r.fail(err)
			}
			total := i + 4 + cl
			if total > maxSize {
				return nil, NoKeepalive, r.fail(wrapError(data, 0, "message larger than limit", ErrTooLarge))
			}
			for len(data) < total {
				if err := r.fill(maxSize); err != nil {
					return nil, NoKeepalive, err
				}
				data = r.buf[r.start:r.end]
			}
			r.start += total
			m := new(Message)
			if err := r.p.parse(m, data[:total]); err != nil {
				return nil, NoKeepalive, err
			}
			return m, NoKeepalive, nil
		}
		r.scan = len(data) // searched up to here: a slow sender costs O(n), not O(n²)
		if len(data) >= maxSize {
			return nil, NoKeepalive, r.fail(wrapError(data, 0, "header section larger than limit", ErrTooLarge))
		}
		if err := r.fill(maxSize); err != nil {
			return nil, NoKeepalive, err
		}
	}
}

func (r *Reader) fail(err error) error {
	r.err = err
	return err
}

// fill reads more data, compacting and growing the buffer up to limit.
func (r *Reader) fill(limit int) error {
	if r.readEr != nil {
		return r.fail(r.eofError())
	}
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.start, r.end = 0, n
	}
	if r.end == len(r.buf) {
		size := 2 * len(r.buf)
		if size < 4096 {
			size = 4096
		}
		if size > limit+4 {
			size = limit + 4
		}
		if size <= len(r.buf) {
			return r.fail(wrapError(r.buf, 0, "message larger than limit", ErrTooLarge))
		}
		nb := make([]byte, size)
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	for tries := 0; tries < 100; tries++ {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.readEr = err
			if n > 0 {
				return nil
			}
			return r.fail(r.eofError())
		}
		if n > 0 {
			return nil
		}
	}
	return r.fail(io.ErrNoProgress)
}

func (r *Reader) eofError() error {
	if r.readEr == io.EOF && r.start < r.end {
		return io.ErrUnexpectedEOF
	}
	return r.readEr
}

// frameLength finds the single Content-Length of a header section.
func frameLength(hdr []byte) (int, error) {
	cl := -1
	if i := bytes.IndexByte(hdr, '\n'); i >= 0 {
		hdr = hdr[i+1:] // start line
	}
	for len(hdr) > 0 {
		i := bytes.IndexByte(hdr, '\n')
		if i < 0 {
			break
		}
		line := hdr[:i]
		hdr = hdr[i+1:]
		c := bytes.IndexByte(line, ':')
		if c < 1 || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		name := bytes.TrimRight(line[:c], " \t")
		if len(name) != 1 && len(name) != len("Content-Length") {
			continue
		}
		if lookupHeader(name) != hContentLength {
			continue
		}
		if cl >= 0 {
			return 0, wrapError(line, 0, "more than one Content-Length", ErrFraming)
		}
		n, ok := parseUint(bytes.TrimSpace(line[c+1:]), 1<<31-1)
		if !ok {
			return 0, wrapError(line, 0, "invalid Content-Length", ErrFraming)
		}
		cl = int(n)
	}
	if cl < 0 {
		return 0, wrapError(hdr, 0, "missing Content-Length on a stream", ErrFraming)
	}
	return cl, nil
}

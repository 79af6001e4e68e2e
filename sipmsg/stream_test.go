package sipmsg

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReader(t *testing.T) {
	invite := readWorkload(t, "invite.sip")
	bye := readWorkload(t, "bye.sip")
	var stream []byte
	stream = append(stream, "\r\n\r\n"...) // ping
	stream = append(stream, invite...)
	stream = append(stream, "\r\n"...) // pong
	stream = append(stream, bye...)
	stream = append(stream, "\r\n\r\n"...)
	stream = append(stream, invite...)

	type step struct {
		method string
		ka     Keepalive
	}
	want := []step{{"", Ping}, {"INVITE", NoKeepalive}, {"", Pong}, {"BYE", NoKeepalive}, {"", Ping}, {"INVITE", NoKeepalive}}
	readers := map[string]func() io.Reader{
		"whole":   func() io.Reader { return bytes.NewReader(stream) },
		"onebyte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"half":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			r := NewReader(mk(), nil)
			for i, w := range want {
				m, ka, err := r.Read()
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				got := ""
				if m != nil {
					got = m.Method
					if len(m.Body) != get(m.ContentLength()).ok(t) {
						t.Errorf("step %d: body %d bytes", i, len(m.Body))
					}
				}
				// A one-byte reader may split a ping; then it is seen as two pongs.
				if name == "onebyte" && w.ka == Ping && ka == Pong {
					if _, ka2, err := r.Read(); err != nil || ka2 != Pong {
						t.Fatalf("step %d: split ping: got %v %v", i, ka2, err)
					}
					continue
				}
				if got != w.method || ka != w.ka {
					t.Fatalf("step %d: got %q/%v, want %q/%v", i, got, ka, w.method, w.ka)
				}
			}
			if _, _, err := r.Read(); err != io.EOF {
				t.Fatalf("end: got %v, want io.EOF", err)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	invite := string(readWorkload(t, "invite.sip"))
	noCL := strings.Replace(invite, "Content-Length: 349\r\n", "", 1)
	twoCL := strings.Replace(invite, "Content-Length: 349\r\n", "Content-Length: 349\r\nl: 3\r\n", 1)
	badVia := strings.Replace(invite, "CSeq: 1 INVITE", "CSeq: 1 BYE", 1)
	tests := []struct {
		name  string
		in    string
		first error // error of the first Read
		then  error // error of the second Read (nil: a message)
	}{
		{"missing content-length", noCL, ErrFraming, ErrFraming},
		{"two content-lengths", twoCL, ErrFraming, ErrFraming},
		{"truncated", invite[:len(invite)-10], io.ErrUnexpectedEOF, io.ErrUnexpectedEOF},
		{"truncated header", invite[:100], io.ErrUnexpectedEOF, io.ErrUnexpectedEOF},
		{"bad message then good", badVia + invite, errParse, nil},
		{"too large", "OPTIONS sip:a@b SIP/2.0\r\nl: 70000\r\n\r\n", ErrTooLarge, ErrTooLarge},
		{"endless header", "OPTIONS sip:a@b SIP/2.0\r\n" + strings.Repeat("X: y\r\n", 20000), ErrTooLarge, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in), nil)
			_, _, err := r.Read()
			if !matchErr(err, tt.first) {
				t.Fatalf("first: got %v, want %v", err, tt.first)
			}
			m, _, err := r.Read()
			if !matchErr(err, tt.then) || (tt.then == nil && m == nil) {
				t.Fatalf("second: got %v, want %v", err, tt.then)
			}
		})
	}
}

var errParse = errors.New("a *ParseError")

func matchErr(err, want error) bool {
	if want == errParse {
		var pe *ParseError
		return errors.As(err, &pe)
	}
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

// Package xmldoc decodes the XML documents SIP bodies carry (dialog-info,
// PIDF): encoding/xml with the character sets such bodies declare besides
// UTF-8, ISO-8859-1 and US-ASCII, which some servers use.
package xmldoc

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Decode decodes body into v.
func Decode(body []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = charsetReader
	return d.Decode(v)
}

// charsetReader turns ISO-8859-1 into UTF-8 and passes US-ASCII through.
func charsetReader(charset string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "latin1", "iso_8859-1", "l1":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b))
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("xmldoc: character set %q not supported", charset)
}

// Package protos reads the rendered PROTOS c07-sip test suite
// (testdata/vectors/protos): 4,527 INVITEs, case 0 valid and every other
// malformed in one field, that the robustness tests of several layers
// send to the parser, the transaction layer and the user agent.
package protos

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
)

// Count is the number of cases in the suite.
const Count = 4527

// Case is one rendered INVITE.
type Case struct {
	Name string // the archive path, e.g. "rendered/0000000.sip"
	Raw  []byte
}

// Load reads every case of the archive at path, in archive order (case
// 0 first).
func Load(path string) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("protos: %s: %w", path, err)
	}
	tr := tar.NewReader(zr)
	var cases []Case
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return cases, nil
		}
		if err != nil {
			return nil, fmt.Errorf("protos: %s: %w", path, err)
		}
		if !strings.HasPrefix(h.Name, "rendered/") || !strings.HasSuffix(h.Name, ".sip") {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("protos: %s: %w", h.Name, err)
		}
		cases = append(cases, Case{Name: h.Name, Raw: b})
	}
}

// Rendered is the address the cases name as their sender (Via, Contact
// with a port): 127.0.0.1:5062.
const Rendered = "127.0.0.1:5062"

// WithSender returns b with Rendered replaced by self in the header
// section, so that answers and in-dialog requests reach the test's socket
// rather than whatever may listen on port 5062. The body is left alone.
func WithSender(b, self []byte) []byte {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(b)
	}
	if !bytes.Contains(b[:end], []byte(Rendered)) {
		return b
	}
	head := bytes.ReplaceAll(b[:end], []byte(Rendered), self)
	return append(head, b[end:]...)
}

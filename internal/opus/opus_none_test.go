//go:build !opus || !cgo

package opus

import (
	"errors"
	"testing"
)

// TestUnavailable checks the documented behaviour of a build without Opus.
func TestUnavailable(t *testing.T) {
	if Available() {
		t.Fatalf("got Available() = true, want false without the opus tag or cgo")
	}
	if e, err := NewEncoder(16000); !errors.Is(err, ErrUnavailable) || e != nil {
		t.Errorf("NewEncoder: got %v, %v; want nil, ErrUnavailable", e, err)
	}
	if d, err := NewDecoder(8000); !errors.Is(err, ErrUnavailable) || d != nil {
		t.Errorf("NewDecoder: got %v, %v; want nil, ErrUnavailable", d, err)
	}
	var e *Encoder
	if _, err := e.Encode(nil, make([]int16, 160)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Encode: got %v, want ErrUnavailable", err)
	}
	var d *Decoder
	if _, err := d.Decode(nil, nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Decode: got %v, want ErrUnavailable", err)
	}
	if _, err := d.DecodeFEC(nil, []byte{1}, 160); !errors.Is(err, ErrUnavailable) {
		t.Errorf("DecodeFEC: got %v, want ErrUnavailable", err)
	}
}

package stun

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct {
		first, second byte
		want          Kind
	}{
		{0, 1, KindSTUN}, {3, 0, KindSTUN},
		{4, 0, KindUnknown}, {15, 0, KindUnknown},
		{16, 0, KindZRTP}, {19, 0, KindZRTP},
		{20, 0xfe, KindDTLS}, {22, 0xfe, KindDTLS}, {63, 0, KindDTLS},
		{64, 0, KindTURNChannel}, {79, 0xff, KindTURNChannel},
		{80, 0, KindUnknown}, {127, 0, KindUnknown},
		{0x80, 0, KindRTP}, {0x80, 0x60, KindRTP}, {0x80, 0xe0, KindRTP}, {0xbf, 0xbf, KindRTP},
		{0x80, 200, KindRTCP}, {0x81, 201, KindRTCP}, {0x80, 192, KindRTCP}, {0x80, 223, KindRTCP},
		{0x80, 224, KindRTP},
		{192, 0, KindUnknown}, {255, 200, KindUnknown},
	}
	for _, tt := range tests {
		if got := Classify([]byte{tt.first, tt.second}); got != tt.want {
			t.Errorf("Classify(%d, %d): got %v, want %v", tt.first, tt.second, got, tt.want)
		}
	}
	if got := Classify(nil); got != KindUnknown {
		t.Errorf("Classify(nil): got %v, want %v", got, KindUnknown)
	}
	if got := Classify([]byte{0x80}); got != KindRTP {
		t.Errorf("Classify(0x80): got %v, want %v", got, KindRTP)
	}
	// Every first byte maps to the RFC 7983 §7 range it falls in.
	for c := range 256 {
		got := Classify([]byte{byte(c), 0})
		var want Kind
		switch {
		case c <= 3:
			want = KindSTUN
		case c >= 16 && c <= 19:
			want = KindZRTP
		case c >= 20 && c <= 63:
			want = KindDTLS
		case c >= 64 && c <= 79:
			want = KindTURNChannel
		case c >= 128 && c <= 191:
			want = KindRTP
		}
		if got != want {
			t.Errorf("first byte %d: got %v, want %v", c, got, want)
		}
	}
}

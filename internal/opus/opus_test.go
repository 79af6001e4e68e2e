package opus

import "testing"

func TestRTPTimestampIncrement(t *testing.T) {
	tests := []struct {
		samples, rate int
		want          uint32
	}{
		{160, 8000, 960},   // 20 ms narrowband
		{320, 16000, 960},  // 20 ms wideband
		{80, 8000, 480},    // 10 ms
		{960, 16000, 2880}, // 60 ms
		{960, 48000, 960},
		{160, 0, 0},
	}
	for _, tc := range tests {
		if got := RTPTimestampIncrement(tc.samples, tc.rate); got != tc.want {
			t.Errorf("RTPTimestampIncrement(%d, %d): got %d, want %d", tc.samples, tc.rate, got, tc.want)
		}
	}
}

func TestValidRate(t *testing.T) {
	for rate, want := range map[int]bool{8000: true, 16000: true, 48000: true, 11025: false, 44100: false, 0: false} {
		if got := validRate(rate); got != want {
			t.Errorf("validRate(%d): got %v, want %v", rate, got, want)
		}
	}
}

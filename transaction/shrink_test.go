package transaction

import "testing"

// TestShrink: a map that fell to an eighth of a peak of at least shrinkAt
// entries is remade with the same entries and its size as the new peak;
// otherwise it is kept as is.
func TestShrink(t *testing.T) {
	tests := []struct {
		name      string
		len, peak int
		remade    bool
	}{
		{"small peak", 10, shrinkAt - 1, false},
		{"above an eighth", shrinkAt/8 + 1, shrinkAt, false},
		{"an eighth", shrinkAt / 8, shrinkAt, true},
		{"empty", 0, 100000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := make(map[int]int, tt.len)
			for i := range tt.len {
				m[i] = i * 2
			}
			m[-1] = 0 // a marker: a remade map does not see later writes to m
			delete(m, -1)
			got, peak := shrink(m, tt.peak)
			m[-2] = 1
			_, shared := got[-2]
			if remade := !shared; remade != tt.remade {
				t.Errorf("remade: got %v, want %v", remade, tt.remade)
			}
			wantPeak := tt.peak
			if tt.remade {
				wantPeak = tt.len
			}
			if peak != wantPeak {
				t.Errorf("peak: got %d, want %d", peak, wantPeak)
			}
			delete(m, -2)
			if len(got) != tt.len {
				t.Fatalf("entries: got %d, want %d", len(got), tt.len)
			}
			for k, v := range got {
				if v != k*2 {
					t.Errorf("entry %d: got %d, want %d", k, v, k*2)
				}
			}
		})
	}
}

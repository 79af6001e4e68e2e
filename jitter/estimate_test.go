package jitter

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestEstimatorQuantile checks the one-pass quantile against sorting the
// window, for windows filling up and full, with ties and outliers.
func TestEstimatorQuantile(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name   string
		spread int64
	}{{"flat", 1}, {"ties", 3}, {"jitter", 40e6}, {"outliers", 1e9}} {
		var e estimator
		e.init()
		for i := range 3 * window {
			e.add(r.Int64N(tc.spread) + int64(i%7)*1000)
			e.recalc()
			s := slices.Clone(e.win[:e.n])
			slices.Sort(s)
			wantBase, wantJit := s[0], s[int(quantile*float64(e.n-1)+0.5)]-s[0]
			if e.base != wantBase || e.jit != wantJit {
				t.Fatalf("%s, %d samples: got base %v jit %v, want %v, %v", tc.name, e.n, e.base, e.jit, wantBase, wantJit)
			}
		}
	}
}

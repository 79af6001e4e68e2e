package netem

import (
	"math"
	"testing"
	"time"
)

func TestShaperStatistics(t *testing.T) {
	const n = 100000
	tests := []struct {
		name string
		im   Impairment
	}{
		{"none", Impairment{}},
		{"loss 5%", Impairment{Loss: 5}},
		{"delay 40ms jitter 30ms reorder", Impairment{Delay: 40 * time.Millisecond, Jitter: 30 * time.Millisecond, Reorder: true}},
		{"delay 20ms jitter 30ms", Impairment{Delay: 20 * time.Millisecond, Jitter: 30 * time.Millisecond, Loss: 1, Reorder: true}},
		{"loss 100%", Impairment{Loss: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewShaper(tt.im, 42)
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Unix(1000, 0)
			var sum, sumSq float64
			lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
			for i := range n {
				now := t0.Add(time.Duration(i) * time.Millisecond)
				due, drop := s.Schedule(now)
				if drop {
					continue
				}
				d := due.Sub(now)
				lo, hi = min(lo, d), max(hi, d)
				sum += d.Seconds()
				sumSq += d.Seconds() * d.Seconds()
			}
			st := s.Stats()
			if st.Forwarded+st.Dropped != n {
				t.Fatalf("got %d forwarded + %d dropped, want %d in all", st.Forwarded, st.Dropped, n)
			}
			// Binomial: 5 standard deviations either side.
			p := tt.im.Loss / 100
			sd := math.Sqrt(n * p * (1 - p))
			if got, want := float64(st.Dropped), n*p; math.Abs(got-want) > 5*sd+0.5 {
				t.Errorf("got %v dropped, want %v ± %.0f", got, want, 5*sd)
			}
			if st.Forwarded == 0 {
				return
			}
			mean := sum / float64(st.Forwarded)
			wantMean := tt.im.Delay.Seconds()
			if tt.im.Jitter > tt.im.Delay { // delays below zero are clamped to zero
				j, d := tt.im.Jitter.Seconds(), tt.im.Delay.Seconds()
				wantMean = (d + j) * (d + j) / (4 * j)
			}
			if math.Abs(mean-wantMean) > 0.0005 {
				t.Errorf("got mean delay %.5f s, want %.5f s", mean, wantMean)
			}
			if lo < max(0, tt.im.Delay-tt.im.Jitter) || hi > tt.im.Delay+tt.im.Jitter {
				t.Errorf("got delays in [%v, %v], want within %v ± %v", lo, hi, tt.im.Delay, tt.im.Jitter)
			}
			if tt.im.Jitter > 0 && tt.im.Delay >= tt.im.Jitter {
				sdWant := tt.im.Jitter.Seconds() / math.Sqrt(3) // uniform
				sdGot := math.Sqrt(sumSq/float64(st.Forwarded) - mean*mean)
				if math.Abs(sdGot-sdWant) > 0.05*sdWant {
					t.Errorf("got delay standard deviation %.5f s, want %.5f s", sdGot, sdWant)
				}
			}
		})
	}
}

func TestShaperFIFOAndReorder(t *testing.T) {
	im := Impairment{Delay: 40 * time.Millisecond, Jitter: 30 * time.Millisecond}
	for _, reorder := range []bool{false, true} {
		im.Reorder = reorder
		s, err := NewShaper(im, 7)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Unix(0, 0)
		var last time.Time
		inversions := 0
		for i := range 1000 {
			due, _ := s.Schedule(t0.Add(time.Duration(i) * 2 * time.Millisecond))
			if due.Before(last) {
				inversions++
			}
			last = due
		}
		if !reorder && inversions != 0 {
			t.Errorf("FIFO: got %d packets due before their predecessor, want 0", inversions)
		}
		if reorder && inversions < 100 {
			t.Errorf("reorder: got %d packets due before their predecessor, want at least 100 of 1000", inversions)
		}
	}
}

func TestShaperSeedReproducible(t *testing.T) {
	im := Impairment{Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 10, Reorder: true}
	a, _ := NewShaper(im, 99)
	b, _ := NewShaper(im, 99)
	c, _ := NewShaper(im, 100)
	now := time.Unix(5, 0)
	same := true
	for range 1000 {
		da, xa := a.Schedule(now)
		db, xb := b.Schedule(now)
		dc, xc := c.Schedule(now)
		if da != db || xa != xb {
			t.Fatalf("same seed: got (%v, %v) and (%v, %v), want equal", da, xa, db, xb)
		}
		same = same && da == dc && xa == xc
	}
	if same {
		t.Fatal("seeds 99 and 100 gave identical schedules")
	}
}

func TestImpairmentValidate(t *testing.T) {
	tests := []struct {
		im Impairment
		ok bool
	}{
		{Impairment{}, true},
		{Impairment{Delay: time.Second, Jitter: time.Second, Loss: 100}, true},
		{Impairment{Loss: 101}, false},
		{Impairment{Loss: -1}, false},
		{Impairment{Delay: -1}, false},
		{Impairment{Jitter: -1}, false},
	}
	for _, tt := range tests {
		if _, err := NewShaper(tt.im, 1); (err == nil) != tt.ok {
			t.Errorf("NewShaper(%s): got error %v, want ok %v", tt.im, err, tt.ok)
		}
	}
}

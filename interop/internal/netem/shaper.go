package netem

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Impairment describes what happens to the packets of one direction.
// The zero value passes every packet through at once, in order.
type Impairment struct {
	// Delay is the base one-way delay added to every packet.
	Delay time.Duration
	// Jitter spreads the delay uniformly over Delay ± Jitter (never below
	// zero).
	Jitter time.Duration
	// Loss is the probability, in percent (0 to 100), that a packet is
	// dropped, independently of the others.
	Loss float64
	// Reorder lets jitter reorder packets: each is delivered at its own
	// due time. Without it a packet is never delivered before the one sent
	// ahead of it (its due time is raised to that packet's), so jitter
	// only delays, as with tc netem's rate or a FIFO queue.
	Reorder bool
}

// String formats the impairment like tc netem's arguments.
func (im Impairment) String() string {
	s := fmt.Sprintf("delay %v", im.Delay)
	if im.Jitter > 0 {
		s += fmt.Sprintf(" jitter %v", im.Jitter)
	}
	if im.Loss > 0 {
		s += fmt.Sprintf(" loss %g%%", im.Loss)
	}
	if im.Reorder {
		s += " reorder"
	}
	return s
}

// Validate reports an impairment that cannot be applied.
func (im Impairment) Validate() error {
	if im.Delay < 0 || im.Jitter < 0 || im.Loss < 0 || im.Loss > 100 {
		return fmt.Errorf("netem: bad impairment %s", im)
	}
	return nil
}

// Stats counts what a Shaper did.
type Stats struct {
	Forwarded int // packets scheduled for delivery
	Dropped   int // packets dropped by Loss
}

// Shaper applies an Impairment to a sequence of packets. Its random choices
// come from a PCG generator seeded by NewShaper, so the same seed and the
// same packet sequence give the same drops and delays. A Shaper is not
// safe for concurrent use.
type Shaper struct {
	im    Impairment
	rng   *rand.Rand
	last  time.Time // due time of the last forwarded packet (FIFO mode)
	stats Stats
}

// NewShaper returns a Shaper for im whose random choices derive from seed.
func NewShaper(im Impairment, seed uint64) (*Shaper, error) {
	if err := im.Validate(); err != nil {
		return nil, err
	}
	return &Shaper{im: im, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}, nil
}

// Schedule decides the fate of a packet that arrives at now: drop it, or
// deliver it at due (never before now).
func (s *Shaper) Schedule(now time.Time) (due time.Time, drop bool) {
	if s.im.Loss > 0 && s.rng.Float64()*100 < s.im.Loss {
		s.stats.Dropped++
		return time.Time{}, true
	}
	d := s.im.Delay
	if s.im.Jitter > 0 {
		// Uniform over [-Jitter, +Jitter].
		d += time.Duration(s.rng.Int64N(int64(2*s.im.Jitter)+1)) - s.im.Jitter
	}
	due = now.Add(max(d, 0))
	if !s.im.Reorder {
		if due.Before(s.last) {
			due = s.last
		}
		s.last = due
	}
	s.stats.Forwarded++
	return due, false
}

// Stats returns the counts so far.
func (s *Shaper) Stats() Stats { return s.stats }

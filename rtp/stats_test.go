package rtp

import (
	"testing"
	"time"
)

func TestNTP(t *testing.T) {
	tests := []struct {
		t    time.Time
		want uint64
	}{
		{time.Unix(0, 0), 2208988800 << 32},
		{time.Unix(0, 500_000_000), 2208988800<<32 | 0x80000000},
		// 2036-02-07 06:28:16 UTC is the start of NTP era 1.
		{time.Unix(1<<32-2208988800, 0), 0},
		{time.Date(2026, 11, 26, 0, 0, 0, 250_000_000, time.UTC), uint64(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC).Unix()+2208988800)<<32 | 0x40000000},
	}
	for _, tt := range tests {
		if got := NTPTime(tt.t); got != tt.want {
			t.Errorf("NTPTime(%v): got %#x, want %#x", tt.t, got, tt.want)
		}
		if got := TimeFromNTP(tt.want); !got.Equal(tt.t) {
			t.Errorf("TimeFromNTP(%#x): got %v, want %v", tt.want, got, tt.t)
		}
	}
	if got, want := CompactNTP(0x0000b710_80000000), uint32(0xb7108000); got != want {
		t.Errorf("CompactNTP: got %#x, want %#x", got, want)
	}
}

func TestRoundTripTime(t *testing.T) {
	// RFC 3550 §6.4.1 example: A = 0xb710:8000, LSR = 0xb705:2000,
	// DLSR = 0x0005:4000 give a delay of 0x0006:2000 = 6.125 s.
	arrival := TimeFromNTP(0x0000b710_80000000)
	rr := ReceptionReport{LastSR: 0xb7052000, DelaySinceLastSR: 0x00054000}
	rtt, ok := RoundTripTime(&rr, arrival)
	if !ok || rtt != 6125*time.Millisecond {
		t.Errorf("got %v %v, want 6.125s true", rtt, ok)
	}
	if _, ok := RoundTripTime(&ReceptionReport{}, arrival); ok {
		t.Errorf("no LSR: got ok, want not")
	}
	rr.DelaySinceLastSR = 0x00100000 // longer than A − LSR
	if _, ok := RoundTripTime(&rr, arrival); ok {
		t.Errorf("negative: got ok, want not")
	}
}

func TestUnwrappers(t *testing.T) {
	var su SequenceUnwrapper
	seqs := []uint16{65530, 65535, 2, 65534, 5, 30000, 60000, 10000}
	want := []int64{65530, 65535, 65538, 65534, 65541, 95536, 125536, 141072}
	for i, s := range seqs {
		if got := su.Unwrap(s); got != want[i] {
			t.Errorf("Unwrap(%v): got %v, want %v", s, got, want[i])
		}
	}
	var tu TimestampUnwrapper
	tss := []uint32{0xffffff00, 0x100, 0xfffffff0, 0x70000000, 0xf0000000}
	twant := []int64{0xffffff00, 0x100000100, 0xfffffff0, 0x170000000, 0x0f0000000}
	for i, ts := range tss {
		if got := tu.Unwrap(ts); got != twant[i] {
			t.Errorf("Unwrap(%#x): got %#x, want %#x", ts, got, twant[i])
		}
	}
}

// feed pushes sequence numbers 20 ms apart (160 timestamp units at 8 kHz)
// and returns how many Update accepted.
func feed(s *Stats, t0 time.Time, seqs ...uint16) int {
	n := 0
	for _, q := range seqs {
		if s.Update(q, uint32(q)*160, t0.Add(time.Duration(q)*20*time.Millisecond)) {
			n++
		}
	}
	return n
}

func seqRange(from uint16, n int) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = from + uint16(i)
	}
	return out
}

func TestStatsSequence(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name         string
		seqs         []uint16
		accepted     int
		highest      uint32
		lost         int64
		received     uint32
		fractionLost uint8
	}{
		// The first packet is on probation (A.1); base is the second.
		{"in order", seqRange(100, 10), 9, 109, 0, 9, 0},
		{"wrap", seqRange(65530, 12), 11, 1<<16 | 5, 0, 11, 0},
		{"loss of 2 in 10", append(seqRange(1, 5), 8, 9, 10), 7, 10, 2, 7, 2 * 256 / 9},
		{"duplicates count as received", []uint16{1, 2, 3, 3, 4}, 4, 4, -1, 4, 0},
		{"probation restarts on a gap", []uint16{1, 5, 6, 7}, 2, 7, 0, 2, 0},
		{"big jump dropped", []uint16{1, 2, 3, 30000, 4}, 3, 4, 0, 3, 0},
		{"two packets after a jump restart", []uint16{1, 2, 3, 30000, 30001, 30002}, 4, 30002, 0, 2, 0},
		{"late packet within misorder", []uint16{10, 11, 12, 14, 13}, 4, 14, 0, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Stats{SSRC: 7, ClockRate: 8000}
			if got := feed(&s, t0, tt.seqs...); got != tt.accepted {
				t.Errorf("accepted: got %v, want %v", got, tt.accepted)
			}
			if got := s.ExtendedHighest(); got != tt.highest {
				t.Errorf("highest: got %#x, want %#x", got, tt.highest)
			}
			if got := s.PacketsLost(); got != tt.lost {
				t.Errorf("lost: got %v, want %v", got, tt.lost)
			}
			if got := s.Received(); got != tt.received {
				t.Errorf("received: got %v, want %v", got, tt.received)
			}
			r := s.Report(t0)
			if r.FractionLost != tt.fractionLost || r.SSRC != 7 || r.HighestSequence != tt.highest || int64(r.PacketsLost) != tt.lost {
				t.Errorf("report: got %+v, want fraction %v, ssrc 7, highest %v, lost %v", r, tt.fractionLost, tt.highest, tt.lost)
			}
		})
	}
}

func TestStatsFractionPerInterval(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := Stats{ClockRate: 8000}
	feed(&s, t0, seqRange(0, 11)...) // 10 valid, no loss
	if r := s.Report(t0); r.FractionLost != 0 {
		t.Errorf("first interval: got %v, want 0", r.FractionLost)
	}
	feed(&s, t0, 11, 12, 15, 16) // 6 expected (11..16), 4 received
	if r := s.Report(t0); r.FractionLost != 2*256/6 || r.PacketsLost != 2 {
		t.Errorf("second interval: got fraction %v lost %v, want %v and 2", r.FractionLost, r.PacketsLost, 2*256/6)
	}
	if r := s.Report(t0); r.FractionLost != 0 || r.PacketsLost != 2 {
		t.Errorf("empty interval: got fraction %v lost %v, want 0 and 2", r.FractionLost, r.PacketsLost)
	}
	feed(&s, t0, 20) // 4 expected, 1 received
	if r := s.Report(t0); r.FractionLost != 3*256/4 {
		t.Errorf("third interval: got %v, want %v", r.FractionLost, 3*256/4)
	}
}

func TestStatsJitter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name     string
		offset   func(i int) time.Duration
		min, max uint32
	}{
		{"constant delay", func(int) time.Duration { return 30 * time.Millisecond }, 0, 0},
		// Alternating 0 and 10 ms: |D| = 80 units every packet, so J tends to 80.
		{"alternating 10 ms", func(i int) time.Duration { return time.Duration(i%2) * 10 * time.Millisecond }, 75, 80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Stats{ClockRate: 8000}
			for i := range 500 {
				arrival := t0.Add(time.Duration(i)*20*time.Millisecond + tt.offset(i))
				s.Update(uint16(i), 0x7ffffff0+uint32(i)*160, arrival)
			}
			if got := s.Jitter(); got < tt.min || got > tt.max {
				t.Errorf("got %v, want %v..%v", got, tt.min, tt.max)
			}
		})
	}
}

// TestStatsSetClockRate: a source that keeps its SSRC across a codec
// change from an 8 kHz to a 48 kHz clock: the jitter (80 units at 8 kHz,
// 10 ms) becomes 480 units at once, and steady packets of the new clock
// keep it there rather than reading the change of clock as 100 ms of
// jitter.
func TestStatsSetClockRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := Stats{ClockRate: 8000}
	for i := range 500 {
		arrival := t0.Add(time.Duration(i)*20*time.Millisecond + time.Duration(i%2)*10*time.Millisecond)
		s.Update(uint16(i), uint32(i)*160, arrival)
	}
	before := s.Jitter()
	s.SetClockRate(48000)
	if got := s.Jitter(); got+6 < before*6 || got > before*6+6 {
		t.Errorf("jitter after the change: got %d units, want %d×6", got, before)
	}
	for i := 500; i < 510; i++ {
		arrival := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		s.Update(uint16(i), 0x40000000+uint32(i)*960, arrival)
	}
	if got := s.Jitter(); got > before*6+6 {
		t.Errorf("jitter after steady packets of the new clock: got %d units, want at most %d", got, before*6)
	}
	if s.PacketsLost() != 0 {
		t.Errorf("lost: got %d, want 0 (the sequence goes on)", s.PacketsLost())
	}
}

func TestStatsLSR(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := Stats{ClockRate: 8000}
	feed(&s, t0, 1, 2, 3)
	if r := s.Report(t0); r.LastSR != 0 || r.DelaySinceLastSR != 0 {
		t.Errorf("no SR: got LSR %#x DLSR %#x, want 0 0", r.LastSR, r.DelaySinceLastSR)
	}
	srNTP := uint64(0xe8b5a1c2_40000000)
	s.ReceivedSR(srNTP, t0)
	r := s.Report(t0.Add(1500 * time.Millisecond))
	if r.LastSR != 0xa1c24000 || r.DelaySinceLastSR != 0x00018000 {
		t.Errorf("got LSR %#x DLSR %#x, want 0xa1c24000 0x18000", r.LastSR, r.DelaySinceLastSR)
	}
	// The sender, on getting this block back at SR time + 1.5 s + 40 ms,
	// measures 40 ms.
	back := TimeFromNTP(srNTP).Add(1540 * time.Millisecond)
	rtt, ok := RoundTripTime(&r, back)
	if !ok || rtt < 39*time.Millisecond || rtt > 41*time.Millisecond {
		t.Errorf("RTT: got %v %v, want 40ms", rtt, ok)
	}
}

func TestStatsAllocs(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := Stats{ClockRate: 8000}
	seq := uint16(0)
	allocs := testing.AllocsPerRun(100, func() {
		s.Update(seq, uint32(seq)*160, t0.Add(time.Duration(seq)*20*time.Millisecond))
		seq++
		_ = s.Report(t0)
	})
	if allocs != 0 {
		t.Errorf("got %v allocs, want 0", allocs)
	}
}

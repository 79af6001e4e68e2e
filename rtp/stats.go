package rtp

import "time"

// ntpEpochOffset is the number of seconds from 1900-01-01 (NTP era 0) to
// 1970-01-01 (Unix epoch).
const ntpEpochOffset = 2208988800

// NTPTime returns t as a 64-bit NTP timestamp: seconds since 1900 in the
// high 32 bits and the fraction of a second in the low 32 (RFC 3550 §4).
// Times from 2036 on wrap into NTP era 1, as on the wire.
func NTPTime(t time.Time) uint64 {
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}

// TimeFromNTP converts a 64-bit NTP timestamp to a time. Following RFC
// 4330 §3, seconds with the top bit clear are taken to be in era 1
// (2036–2104), so the range covered is 1968–2104.
func TimeFromNTP(ntp uint64) time.Time {
	secs := int64(ntp >> 32)
	if secs&0x80000000 == 0 {
		secs += 1 << 32
	}
	nsec := int64((ntp & 0xffffffff) * 1e9 >> 32)
	return time.Unix(secs-ntpEpochOffset, nsec)
}

// CompactNTP returns the middle 32 bits of an NTP timestamp (16.16 fixed
// point seconds), the form of LSR in a report block (RFC 3550 §6.4.1).
func CompactNTP(ntp uint64) uint32 { return uint32(ntp >> 16) }

// RoundTripTime computes the round-trip time from a report block about
// our own stream received at arrival: arrival − LSR − DLSR
// (RFC 3550 §6.4.1). ok is false when the block has no LSR or the result
// is negative (clock steps or a corrupt report).
func RoundTripTime(rr *ReceptionReport, arrival time.Time) (rtt time.Duration, ok bool) {
	if rr.LastSR == 0 {
		return 0, false
	}
	d := int32(CompactNTP(NTPTime(arrival)) - rr.LastSR - rr.DelaySinceLastSR)
	if d < 0 {
		return 0, false
	}
	return time.Duration(int64(d) * int64(time.Second) >> 16), true
}

// SequenceUnwrapper extends 16-bit RTP sequence numbers to 64 bits by
// taking each one as the value nearest to the previous (RFC 1982 serial
// number arithmetic). The zero value is ready; not safe for concurrent use.
type SequenceUnwrapper struct {
	last    int64
	started bool
}

// Unwrap returns the extended value of seq. The first call returns seq.
func (u *SequenceUnwrapper) Unwrap(seq uint16) int64 {
	if !u.started {
		u.started = true
		u.last = int64(seq)
		return u.last
	}
	u.last += int64(int16(seq - uint16(u.last)))
	return u.last
}

// TimestampUnwrapper extends 32-bit RTP timestamps to 64 bits by taking
// each one as the value nearest to the previous. The zero value is ready;
// not safe for concurrent use.
type TimestampUnwrapper struct {
	last    int64
	started bool
}

// Unwrap returns the extended value of ts. The first call returns ts.
func (u *TimestampUnwrapper) Unwrap(ts uint32) int64 {
	if !u.started {
		u.started = true
		u.last = int64(ts)
		return u.last
	}
	u.last += int64(int32(ts - uint32(u.last)))
	return u.last
}

// Constants of RFC 3550 Appendix A.1.
const (
	minSequential = 2
	maxDropout    = 3000
	maxMisorder   = 100
	seqMod        = 1 << 16
)

// Stats keeps the reception statistics of one RTP source as RFC 3550
// Appendix A.1 (sequence validation), A.3 (loss) and A.8 (jitter)
// describe, and produces the report blocks of an SR or RR.
//
// Set SSRC and ClockRate before the first Update; the zero value of the
// rest is ready. A source that changes SSRC is a new source and needs a
// new Stats. Not safe for concurrent use: the receiving goroutine owns
// it.
type Stats struct {
	// SSRC of the source, copied into report blocks.
	SSRC uint32
	// ClockRate is the RTP clock rate in Hz; 0 disables jitter.
	ClockRate int

	started       bool
	maxSeq        uint16
	cycles        uint32 // count of wraps, shifted left 16
	baseSeq       uint32
	badSeq        uint32
	probation     int
	received      uint32
	expectedPrior uint32
	receivedPrior uint32

	t0          time.Time // arrival origin for the RTP-clock arrival times
	haveTransit bool
	transit     uint32
	jitter      uint32 // ×16, as in A.8

	lastSR        uint32
	lastSRArrival time.Time
}

// initSeq is init_seq of RFC 3550 A.1.
func (s *Stats) initSeq(seq uint16) {
	s.baseSeq = uint32(seq)
	s.maxSeq = seq
	s.badSeq = seqMod + 1 // so seq == badSeq is false
	s.cycles = 0
	s.received = 0
	s.receivedPrior = 0
	s.expectedPrior = 0
}

// Update records a packet with the given sequence number and RTP
// timestamp that arrived at arrival. It returns false while the source is
// on probation (until two packets arrive in sequence) and for packets
// that jump too far from the expected sequence, as update_seq of RFC 3550
// A.1 does; two in-order packets after a large jump are taken as a
// restart of the source and reset the counters.
func (s *Stats) Update(seq uint16, timestamp uint32, arrival time.Time) bool {
	if !s.started {
		s.started = true
		s.initSeq(seq)
		s.maxSeq = seq - 1
		s.probation = minSequential
		s.t0 = arrival
	}
	if !s.updateSeq(seq) {
		return false
	}
	s.updateJitter(timestamp, arrival)
	return true
}

// updateSeq is update_seq of RFC 3550 A.1.
func (s *Stats) updateSeq(seq uint16) bool {
	udelta := seq - s.maxSeq
	switch {
	case s.probation > 0:
		// Source is not valid until minSequential packets in sequence.
		if seq == s.maxSeq+1 {
			s.probation--
			s.maxSeq = seq
			if s.probation == 0 {
				s.initSeq(seq)
				s.received++
				return true
			}
		} else {
			s.probation = minSequential - 1
			s.maxSeq = seq
		}
		return false
	case udelta < maxDropout:
		// In order, with permissible gap.
		if seq < s.maxSeq {
			s.cycles += seqMod // wrapped
		}
		s.maxSeq = seq
	case udelta <= seqMod-maxMisorder:
		// The sequence number made a very large jump.
		if uint32(seq) == s.badSeq {
			// Two sequential packets: assume the other side restarted
			// without telling us, so just re-sync.
			s.initSeq(seq)
		} else {
			s.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return false
		}
	default:
		// Duplicate or reordered packet.
	}
	s.received++
	return true
}

// updateJitter is the interarrival jitter estimate of RFC 3550 A.8
// (integer form, jitter scaled by 16).
func (s *Stats) updateJitter(timestamp uint32, arrival time.Time) {
	if s.ClockRate <= 0 {
		return
	}
	d := arrival.Sub(s.t0)
	rate := int64(s.ClockRate)
	units := int64(d/time.Second)*rate + int64(d%time.Second)*rate/int64(time.Second)
	transit := uint32(units) - timestamp
	if !s.haveTransit {
		s.haveTransit = true
		s.transit = transit
		return
	}
	diff := int32(transit - s.transit)
	s.transit = transit
	if diff < 0 {
		diff = -diff
	}
	s.jitter += uint32(diff) - ((s.jitter + 8) >> 4)
}

// SetClockRate changes the RTP clock rate, as a change of codec to one with
// another clock does while the source keeps its SSRC: the jitter estimate
// is rescaled to the new clock's units, and the next packet's transit time
// starts afresh, as the timestamps of the two clocks do not compare.
func (s *Stats) SetClockRate(hz int) {
	if hz == s.ClockRate {
		return
	}
	if s.ClockRate > 0 && hz > 0 {
		s.jitter = uint32(uint64(s.jitter) * uint64(hz) / uint64(s.ClockRate))
	} else {
		s.jitter = 0
	}
	s.ClockRate, s.haveTransit = hz, false
}

// ReceivedSR records a sender report from the source, received at
// arrival, for the LSR and DLSR fields of later reports.
func (s *Stats) ReceivedSR(ntpTime uint64, arrival time.Time) {
	s.lastSR = CompactNTP(ntpTime)
	s.lastSRArrival = arrival
}

// ExtendedHighest returns the extended highest sequence number received:
// the count of wraps in the high 16 bits, the sequence number in the low.
func (s *Stats) ExtendedHighest() uint32 { return s.cycles + uint32(s.maxSeq) }

// Received returns the number of valid packets received, duplicates
// included (RFC 3550 A.3).
func (s *Stats) Received() uint32 { return s.received }

// expected returns the number of packets expected (RFC 3550 A.3).
func (s *Stats) expected() int64 {
	return int64(s.ExtendedHighest()) - int64(s.baseSeq) + 1
}

// PacketsLost returns the cumulative number of packets lost, which is
// negative when duplicates outnumber losses (RFC 3550 A.3).
func (s *Stats) PacketsLost() int64 {
	if s.received == 0 {
		return 0
	}
	return s.expected() - int64(s.received)
}

// Jitter returns the interarrival jitter in RTP timestamp units.
func (s *Stats) Jitter() uint32 { return s.jitter >> 4 }

// Report returns the report block for the source at time now and starts
// a new interval for the fraction lost (RFC 3550 A.3). Call it once per
// report sent.
func (s *Stats) Report(now time.Time) ReceptionReport {
	r := ReceptionReport{
		SSRC:            s.SSRC,
		PacketsLost:     int32(max(min(s.PacketsLost(), 0x7fffff), -0x800000)),
		HighestSequence: s.ExtendedHighest(),
		Jitter:          s.Jitter(),
		LastSR:          s.lastSR,
	}
	if s.received > 0 {
		expected := uint32(s.expected())
		expectedInterval := expected - s.expectedPrior
		s.expectedPrior = expected
		receivedInterval := s.received - s.receivedPrior
		s.receivedPrior = s.received
		lostInterval := int64(expectedInterval) - int64(receivedInterval)
		if expectedInterval != 0 && lostInterval > 0 {
			r.FractionLost = uint8(min((lostInterval<<8)/int64(expectedInterval), 255))
		}
	}
	if s.lastSR != 0 {
		d := max(now.Sub(s.lastSRArrival), 0)
		// DLSR in units of 1/65536 s.
		r.DelaySinceLastSR = uint32(int64(d/time.Second)<<16 + int64(d%time.Second)<<16/int64(time.Second))
	}
	return r
}

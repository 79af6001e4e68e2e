package jitter

import "time"

// Pop returns what to play for the tick at time now. Call it once per
// Config.FrameDuration, with now taken from the same clock as the arrival
// times given to Push.
//
// Pop returns Ready with the next packet in sequence order once its playout
// time has come, Missing when the frame due now is absent (conceal it), and
// Silence before playout starts, between talkspurts, and once a gap has
// lasted longer than Config.MaxConceal. A Ready frame's Payload stays valid
// until the next call to Push, Pop or Reset.
//
// The target delay adapts to the measured jitter. A change is applied at
// the start of the next talkspurt (after a silence gap or a marker bit);
// within a long talkspurt, and to follow a sender clock that runs fast or
// slow, Pop skips or inserts at most one frame per eight ticks.
func (b *Buffer) Pop(now time.Time) (Frame, Status) {
	t := b.nanos(now)
	b.tick++
	if !b.active {
		return Frame{}, Silence
	}
	for {
		if !b.playing {
			h := b.head()
			if h == nil {
				return b.gap(nil)
			}
			// Start at the tick nearest the packet's playout time, so the
			// delay lands within half a frame of the target.
			if t < b.tsNanos(h.ts)+b.est.base+b.target()-b.frameNS/2 {
				return b.gap(h)
			}
			// Talkspurt start: play h now (RFC 3550 §5.1 marker bit; a
			// silence gap without one is treated the same).
			b.advanceTo(h.ext)
			b.playing = true
			b.playTS = h.ts
			b.lastAdapt = b.tick
			return b.play(h, t)
		}

		s := b.slotOf(b.nextSeq)
		have := s.ext == b.nextSeq && s.state == slotPending
		if have && !b.onTime(s.ts, b.playTS) {
			// Contiguous sequence number, discontinuous timestamp: the
			// sender paused (DTX) or restarted its clock. Reschedule.
			b.playing = false
			continue
		}
		b.delay = t - (b.tsNanos(b.playTS) + b.est.base)
		b.stats.maxDelay = max(b.stats.maxDelay, b.delay)
		target := b.target()
		canAdapt := b.tick-b.lastAdapt >= adaptEvery
		if canAdapt && b.delay < target-b.frameNS/2 {
			// Playing too early for the jitter measured (the target grew,
			// or the sender's clock is slow): insert one concealed frame.
			b.lastAdapt = b.tick
			b.stats.Inserted++
			return b.missing()
		}
		if have {
			if canAdapt && b.delay >= target+b.frameNS*3/4 {
				if n := b.slotOf(b.nextSeq + 1); n.ext == b.nextSeq+1 && n.state == slotPending && b.onTime(n.ts, b.playTS+b.frameTS) {
					// Playing too late (the target shrank, or the sender's
					// clock is fast): skip one frame.
					b.lastAdapt = b.tick
					s.state = slotEmpty
					b.count--
					b.stats.Skipped++
					b.nextSeq++
					b.playTS += b.frameTS
					s = n
				}
			}
			return b.play(s, t)
		}

		h := b.head()
		if h == nil {
			// Nothing buffered: the next packet is late, lost, or the
			// sender paused. Hold the position and wait.
			b.playing = false
			return b.gap(nil)
		}
		if h.marker || h.ts <= b.playTS {
			// A new talkspurt follows the lost packets, or the timestamps
			// leave no room for them: give them up and reschedule.
			b.advanceTo(h.ext)
			b.playing = false
			continue
		}
		// Packets are missing before h: conceal one frame in their place.
		f, st := b.missing()
		b.advanceTo(b.nextSeq + 1)
		b.playTS += b.frameTS
		return f, st
	}
}

// play emits s as the Ready frame and advances past it.
func (b *Buffer) play(s *slot, t int64) (Frame, Status) {
	b.delay = t - (b.tsNanos(s.ts) + b.est.base)
	b.stats.maxDelay = max(b.stats.maxDelay, b.delay)
	s.state = slotPlayed
	b.count--
	b.nextSeq = s.ext + 1
	b.playTS = s.ts + b.frameTS
	b.started = true
	b.sinceReal = 0
	b.stats.Played++
	f := Frame{
		SSRC: s.ssrc, Seq: uint16(s.ext), Timestamp: uint32(s.ts), Marker: s.marker,
		PayloadType: s.pt, Payload: s.payload, Resync: b.resyncNext,
	}
	b.resyncNext = false
	return f, Ready
}

// missing reports the frame at the playout position as Missing.
func (b *Buffer) missing() (Frame, Status) {
	b.sinceReal++
	b.stats.Concealed++
	return Frame{SSRC: b.ssrc, Seq: uint16(b.nextSeq), Timestamp: uint32(b.playTS)}, Missing
}

// gap answers a tick outside a talkspurt: h is the next packet, not yet
// due, or nil. A gap before a new talkspurt is Silence; a gap before a
// packet of the same talkspurt is loss, concealed; with no packet at all it
// is concealed for MaxConceal after the last real frame (it may be loss),
// then Silence (the sender has likely paused).
func (b *Buffer) gap(h *slot) (Frame, Status) {
	if !b.started {
		return Frame{}, Silence
	}
	if h != nil {
		if h.marker || (h.ext == b.nextSeq && !b.onTime(h.ts, b.playTS)) {
			b.sinceReal = b.conceals
			return Frame{}, Silence
		}
		// Packets are missing before h, in the same talkspurt: loss.
		return b.missing()
	}
	if b.sinceReal >= b.conceals {
		return Frame{}, Silence
	}
	return b.missing()
}

// onTime reports whether a packet stamped ts fills the frame slot stamped
// want, allowing half a frame of slack for senders whose timestamps are
// not exact multiples of the frame.
func (b *Buffer) onTime(ts, want int64) bool {
	return absDiff(ts, want) <= b.frameTS/2
}

package jitter

import (
	"time"
)

// Defaults used for the zero fields of a Config. They suit narrowband and
// wideband voice sent with a 20 ms packetization time.
const (
	DefaultClockRate     = 8000
	DefaultFrameDuration = 20 * time.Millisecond
	DefaultMinDelay      = 20 * time.Millisecond
	DefaultMaxDelay      = 200 * time.Millisecond
	DefaultInitialDelay  = 40 * time.Millisecond
	DefaultMaxConceal    = 100 * time.Millisecond
)

// Sequence-number jump limits of RFC 3550 Appendix A.1: a packet further
// ahead than maxDropout or further behind than maxMisorder is taken as a
// restart of the sender once a second, consecutive packet confirms it.
const (
	maxDropout  = 3000
	maxMisorder = 100
)

// adaptEvery is the least number of Pop ticks between two mid-talkspurt
// delay adjustments (one frame inserted or skipped), so that skew
// compensation and target changes are spread out instead of audible bursts.
const adaptEvery = 8

// staleSSRC is how long, after a switch to a new SSRC, packets of the
// previous SSRC are taken as stragglers and dropped instead of switching back.
const staleSSRC = time.Second

// Config configures a Buffer. The zero value of every field selects the
// default documented on it. A Config is copied by New and not retained.
type Config struct {
	// ClockRate is the RTP timestamp clock in Hz: 8000 for PCMU/PCMA and
	// for G.722 (RFC 3551 §4.5.2 keeps the 8000 Hz clock for 16 kHz audio),
	// 48000 for Opus (RFC 7587 §4.1). Default 8000.
	ClockRate int
	// FrameDuration is the media carried by one packet and the interval at
	// which the consumer calls Pop. Default 20 ms.
	FrameDuration time.Duration
	// MinDelay and MaxDelay bound the adaptive target delay, which is the
	// time a packet is held beyond the fastest network transit seen
	// recently. Defaults 20 ms and 200 ms.
	MinDelay, MaxDelay time.Duration
	// InitialDelay is the target until enough packets have arrived to
	// measure the jitter. Default 40 ms, kept within [MinDelay, MaxDelay].
	InitialDelay time.Duration
	// MaxConceal is how long Pop keeps reporting Missing while no packet
	// is available at all; after that it reports Silence, since the sender
	// has most likely paused (DTX). Default 100 ms.
	MaxConceal time.Duration
	// Capacity is the most packets held at once, rounded up to a power of
	// two. Default: four times MaxDelay in frames, at least 64.
	Capacity int
}

func (c Config) withDefaults() Config {
	if c.ClockRate <= 0 {
		c.ClockRate = DefaultClockRate
	}
	if c.FrameDuration <= 0 {
		c.FrameDuration = DefaultFrameDuration
	}
	if c.MinDelay <= 0 {
		c.MinDelay = DefaultMinDelay
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = DefaultMaxDelay
	}
	if c.MaxDelay < c.MinDelay {
		c.MaxDelay = c.MinDelay
	}
	if c.InitialDelay <= 0 {
		c.InitialDelay = DefaultInitialDelay
	}
	c.InitialDelay = min(max(c.InitialDelay, c.MinDelay), c.MaxDelay)
	if c.MaxConceal <= 0 {
		c.MaxConceal = DefaultMaxConceal
	}
	if c.Capacity <= 0 {
		c.Capacity = max(64, int(4*c.MaxDelay/c.FrameDuration))
	}
	c.Capacity = min(c.Capacity, 1<<14)
	n := 8
	for n < c.Capacity {
		n <<= 1
	}
	c.Capacity = n
	return c
}

// Packet is one RTP packet handed to Push, described by the header fields
// the buffer needs. Adapting an rtp.Packet takes a struct literal.
type Packet struct {
	SSRC        uint32
	Seq         uint16
	Timestamp   uint32
	Marker      bool
	PayloadType uint8
	// Payload is copied by Push; the caller may reuse it when Push returns.
	Payload []byte
}

// Frame is what Pop returns. For Ready it describes the packet to decode;
// for Missing it carries the SSRC, sequence number and timestamp the
// missing frame would have had (Payload is nil); for Silence it is empty.
type Frame struct {
	SSRC        uint32
	Seq         uint16
	Timestamp   uint32
	Marker      bool
	PayloadType uint8
	// Payload is a view of the buffer's own storage, valid until the
	// next call to Push, Pop or Reset on the same Buffer.
	Payload []byte
	// Resync is set on the first frame of a new stream: a new SSRC or a
	// sender restart (a sequence-number jump). Stateful decoders should be
	// reset before decoding it.
	Resync bool
}

// Status says what the consumer should play for one Pop tick.
type Status uint8

const (
	// Silence: nothing to play. Playout has not started, the sender is
	// pausing between talkspurts (DTX), or a loss lasted longer than
	// Config.MaxConceal. Play silence or comfort noise; this is not loss.
	Silence Status = iota
	// Ready: Frame holds the next packet in order; decode it.
	Ready
	// Missing: the frame due now is missing (lost, late, or a frame the
	// buffer inserts to grow its delay); conceal it, for example with a
	// Concealer or the codec's own loss concealment.
	Missing
)

// String returns "silence", "ready" or "missing".
func (s Status) String() string {
	switch s {
	case Silence:
		return "silence"
	case Ready:
		return "ready"
	case Missing:
		return "missing"
	}
	return "invalid"
}

// PushResult says what Push did with a packet.
type PushResult uint8

const (
	// Accepted: the packet is held for playout.
	Accepted PushResult = iota
	// Duplicate: a packet with the same sequence number was already
	// received; this copy is discarded.
	Duplicate
	// Late: the packet arrived after its playout time had passed.
	Late
	// Dropped: the packet was discarded for another reason: it belongs to
	// the SSRC the stream just switched away from, or it jumps the
	// sequence number and awaits confirmation (RFC 3550 Appendix A.1).
	Dropped
)

// String returns "accepted", "duplicate", "late" or "dropped".
func (r PushResult) String() string {
	switch r {
	case Accepted:
		return "accepted"
	case Duplicate:
		return "duplicate"
	case Late:
		return "late"
	case Dropped:
		return "dropped"
	}
	return "invalid"
}

const (
	slotEmpty uint8 = iota
	slotPending
	slotPlayed
)

type slot struct {
	ext     int64 // extended sequence number
	ts      int64 // extended timestamp
	arrival int64 // ns since Buffer.origin
	ssrc    uint32
	pt      uint8
	marker  bool
	state   uint8
	payload []byte
}

// Buffer is an adaptive playout (jitter) buffer for one incoming RTP audio
// stream. Push hands it packets as they arrive; Pop, called once per
// FrameDuration, returns the frame to play. Neither blocks; time is passed
// in, and the Buffer reads no clock and starts no goroutine.
//
// A Buffer is not safe for concurrent use: one goroutine (the media loop)
// owns it, or the caller serializes access.
type Buffer struct {
	cfg      Config
	frameTS  int64 // RTP clock ticks per frame
	frameNS  int64
	minNS    int64
	maxNS    int64
	initNS   int64
	conceals int // MaxConceal in frames

	slots []slot
	mask  int64

	origin     time.Time
	haveOrigin bool

	// Stream epoch (RFC 3550 §8: one SSRC, one sequence space).
	active     bool
	ssrc       uint32
	prevSSRC   uint32
	havePrev   bool
	switchedAt int64
	resyncNext bool  // the next Ready frame carries Frame.Resync
	highSeq    int64 // highest extended sequence number accepted
	highTS     int64 // extended timestamp of highSeq
	probing    bool
	probeSeq   uint16
	probeSSRC  uint32
	lastTrans  int64
	haveTrans  bool

	// Playout state.
	started   bool  // a frame of this epoch has been played
	playing   bool  // inside a talkspurt, advancing one frame per Pop
	nextSeq   int64 // every sequence number below it is played or given up
	playTS    int64 // extended timestamp due at the next Pop while playing
	count     int   // pending packets
	sinceReal int   // Pops since the last Ready
	tick      int64
	lastAdapt int64

	est   estimator
	stats Stats
	delay int64 // last measured playout delay
}

// New returns a Buffer configured by cfg (zero fields take their defaults).
func New(cfg Config) *Buffer {
	cfg = cfg.withDefaults()
	b := &Buffer{cfg: cfg}
	b.frameTS = max(1, int64(cfg.ClockRate)*int64(cfg.FrameDuration)/int64(time.Second))
	b.frameNS = int64(cfg.FrameDuration)
	b.minNS, b.maxNS, b.initNS = int64(cfg.MinDelay), int64(cfg.MaxDelay), int64(cfg.InitialDelay)
	b.conceals = max(1, int((cfg.MaxConceal+cfg.FrameDuration-1)/cfg.FrameDuration))
	b.slots = make([]slot, cfg.Capacity)
	b.mask = int64(cfg.Capacity - 1)
	b.est.init()
	b.lastAdapt = -adaptEvery
	return b
}

// Config returns the configuration in use, with defaults filled in.
func (b *Buffer) Config() Config { return b.cfg }

// Len returns the number of packets held.
func (b *Buffer) Len() int { return b.count }

// Reset discards every held packet and forgets the stream, as if the Buffer
// were new; statistics are kept.
func (b *Buffer) Reset() {
	b.flush()
	b.active = false
	b.havePrev = false
	b.probing = false
	b.est.reset()
	b.haveTrans = false
	b.delay = 0
}

func (b *Buffer) nanos(t time.Time) int64 {
	if !b.haveOrigin {
		b.origin = t
		b.haveOrigin = true
	}
	return int64(t.Sub(b.origin))
}

// tsNanos converts an extended RTP timestamp to nanoseconds of media time.
func (b *Buffer) tsNanos(ts int64) int64 {
	rate := int64(b.cfg.ClockRate)
	return ts/rate*int64(time.Second) + ts%rate*int64(time.Second)/rate
}

// unwrap16 and unwrap32 extend a wrapping counter to the value nearest ref.
func unwrap16(ref int64, v uint16) int64 { return ref + int64(int16(v-uint16(ref))) }
func unwrap32(ref int64, v uint32) int64 { return ref + int64(int32(v-uint32(ref))) }

func (b *Buffer) slotOf(ext int64) *slot { return &b.slots[ext&b.mask] }

// flush drops every pending packet (counted as Dropped) and stops playout.
func (b *Buffer) flush() {
	for i := range b.slots {
		s := &b.slots[i]
		if s.state == slotPending {
			b.stats.Dropped++
		}
		s.state = slotEmpty
	}
	b.count = 0
	b.started = false
	b.playing = false
}

// newEpoch starts a new stream at packet p: a new SSRC or a sender restart.
func (b *Buffer) newEpoch(p *Packet, now int64) {
	if b.active {
		b.stats.Resyncs++
		if p.SSRC != b.ssrc {
			b.prevSSRC, b.havePrev, b.switchedAt = b.ssrc, true, now
		}
	}
	b.flush()
	b.active = true
	b.ssrc = p.SSRC
	b.highSeq = int64(p.Seq)
	b.highTS = int64(p.Timestamp)
	b.nextSeq = b.highSeq
	b.resyncNext = true
	b.probing = false
	b.est.reset()
	b.haveTrans = false
}

// Push hands the buffer a packet that arrived at the given time. The
// payload is copied into storage the Buffer reuses, so Push does not
// allocate once every slot has held a payload of that size. Push returns
// what it did with the packet; every outcome is also counted in Stats.
func (b *Buffer) Push(p Packet, arrival time.Time) PushResult {
	now := b.nanos(arrival)
	b.stats.Received++
	switch {
	case !b.active:
		b.newEpoch(&p, now)
	case p.SSRC != b.ssrc:
		// RFC 3550 §8.2: a new SSRC is a new stream. Stragglers of the SSRC
		// just replaced are dropped rather than switching back.
		if b.havePrev && p.SSRC == b.prevSSRC && now-b.switchedAt < int64(staleSSRC) {
			b.stats.Dropped++
			return Dropped
		}
		b.newEpoch(&p, now)
	}

	ext := unwrap16(b.highSeq, p.Seq)
	if d := ext - b.highSeq; d > maxDropout || d < -maxMisorder {
		// RFC 3550 Appendix A.1: a large jump is a restart only when the
		// next packet follows it in sequence.
		if b.probing && p.Seq == b.probeSeq && p.SSRC == b.probeSSRC {
			b.newEpoch(&p, now)
			ext = b.highSeq
		} else {
			b.probing, b.probeSeq, b.probeSSRC = true, p.Seq+1, p.SSRC
			b.stats.Dropped++
			return Dropped
		}
	}
	b.probing = false

	if ext < b.nextSeq {
		if b.started || b.highSeq-ext >= int64(len(b.slots)) {
			if s := b.slotOf(ext); s.ext == ext && s.state != slotEmpty {
				b.stats.Duplicate++
				return Duplicate
			}
			b.stats.Late++
			return Late
		}
		// Nothing played yet: an early packet arriving out of order
		// becomes the new start of the stream.
		b.nextSeq = ext
	}
	s := b.slotOf(ext)
	if s.ext == ext && s.state == slotPending {
		b.stats.Duplicate++
		return Duplicate
	}
	if ext-b.nextSeq >= int64(len(b.slots)) {
		// Overflow: the consumer is not keeping up. Give up the oldest
		// sequence numbers to make room and restart the playout timing.
		b.advanceTo(ext - int64(len(b.slots)) + 1)
		b.playing = false
	}

	ts := unwrap32(b.highTS, p.Timestamp)
	if ext > b.highSeq {
		b.highSeq, b.highTS = ext, ts
	} else if ext < b.highSeq {
		b.stats.Reordered++
	}

	transit := now - b.tsNanos(ts)
	if b.haveTrans {
		// RFC 3550 §6.4.1 and Appendix A.8 interarrival jitter, in ns.
		d := transit - b.lastTrans
		if d < 0 {
			d = -d
		}
		b.stats.jitterNS += (d - b.stats.jitterNS) / 16
	}
	b.lastTrans, b.haveTrans = transit, true
	if b.est.n > 0 && absDiff(transit, b.est.base) > max(int64(time.Second), 2*b.maxNS) {
		// The timestamp jumped against the arrival clock (a sender that
		// restarted its clock, or a long outage): the old transit history
		// no longer applies. Measure afresh and reschedule playout. The
		// packets still waiting from before the jump are given up
		// (Dropped): scheduled on the new timeline they would look
		// seconds early, holding playout up until the buffer overflowed,
		// or seconds late.
		b.advanceTo(ext)
		b.est.reset()
		b.playing = false
		b.stats.Resyncs++
	}
	b.est.add(transit)

	*s = slot{
		ext: ext, ts: ts, arrival: now, ssrc: p.SSRC, pt: p.PayloadType,
		marker: p.Marker, state: slotPending, payload: append(s.payload[:0], p.Payload...),
	}
	b.count++
	return Accepted
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// advanceTo gives up every sequence number below ext: pending packets are
// counted as Dropped, absent ones as Lost.
func (b *Buffer) advanceTo(ext int64) {
	for ; b.nextSeq < ext; b.nextSeq++ {
		s := b.slotOf(b.nextSeq)
		if s.ext == b.nextSeq && s.state == slotPending {
			s.state = slotEmpty
			b.count--
			b.stats.Dropped++
		} else if b.started {
			b.stats.Lost++
		}
	}
}

// head returns the pending packet with the lowest sequence number, or nil.
func (b *Buffer) head() *slot {
	if b.count == 0 {
		return nil
	}
	for e := b.nextSeq; e <= b.highSeq; e++ {
		if s := b.slotOf(e); s.ext == e && s.state == slotPending {
			return s
		}
	}
	return nil
}

// target returns the current target delay in ns.
func (b *Buffer) target() int64 {
	if b.est.n < minSamples {
		return max(b.initNS, min(b.est.jit, b.maxNS))
	}
	return min(max(b.est.jit, b.minNS), b.maxNS)
}

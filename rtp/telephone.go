package rtp

import "errors"

// errEventShort means a telephone-event payload is shorter than 4 bytes.
var errEventShort = errors.New("rtp: telephone-event payload shorter than 4 bytes")

// TelephoneEvent is the payload of an RFC 4733 telephone-event packet
// (RFC 4733 §2.3). Events 0–9 are the digits, 10 is '*', 11 is '#', 12–15
// are 'A'–'D' (RFC 4733 §3.2).
type TelephoneEvent struct {
	Event uint8
	// End is the E bit: set in the final packets of an event.
	End bool
	// Volume is the power level as a positive number of -dBm0, 0–63.
	Volume uint8
	// Duration of the event so far, in RTP timestamp units, measured from
	// the packet's RTP timestamp (the start of the event).
	Duration uint16
}

// TelephoneEventSize is the length of a telephone-event payload.
const TelephoneEventSize = 4

// Unmarshal decodes the first 4 bytes of payload into e. The reserved R
// bit is ignored, as RFC 4733 §2.3 requires of receivers.
func (e *TelephoneEvent) Unmarshal(payload []byte) error {
	if len(payload) < TelephoneEventSize {
		return errEventShort
	}
	e.Event = payload[0]
	e.End = payload[1]&0x80 != 0
	e.Volume = payload[1] & 0x3f
	e.Duration = uint16(payload[2])<<8 | uint16(payload[3])
	return nil
}

// AppendTo appends the 4-byte payload to dst, with the R bit clear and
// Volume limited to 6 bits.
func (e TelephoneEvent) AppendTo(dst []byte) []byte {
	b1 := e.Volume & 0x3f
	if e.End {
		b1 |= 0x80
	}
	return append(dst, e.Event, b1, byte(e.Duration>>8), byte(e.Duration))
}

// DTMFEvent returns the event code of a DTMF key ('0'–'9', '*', '#',
// 'A'–'D', lower case accepted) per RFC 4733 §3.2, and whether r is one.
func DTMFEvent(r rune) (uint8, bool) {
	switch {
	case r >= '0' && r <= '9':
		return uint8(r - '0'), true
	case r == '*':
		return 10, true
	case r == '#':
		return 11, true
	case r >= 'A' && r <= 'D':
		return uint8(r-'A') + 12, true
	case r >= 'a' && r <= 'd':
		return uint8(r-'a') + 12, true
	}
	return 0, false
}

// DTMFRune returns the key of a DTMF event code 0–15, and whether the code
// is one.
func DTMFRune(event uint8) (rune, bool) {
	if event > 15 {
		return 0, false
	}
	return rune("0123456789*#ABCD"[event]), true
}

// EventSender yields the telephone-event payloads for one event in the
// order of RFC 4733 §2.5.1: a first packet with the marker bit, updates
// every interval with growing duration, and the final packet (E bit,
// full duration) sent three times (§2.5.1.4). Every packet of the event
// carries the same RTP timestamp (the event's start) and its own next
// sequence number; the caller sends one packet per interval.
//
// The zero value has nothing to send. Not safe for concurrent use.
type EventSender struct {
	ev       TelephoneEvent
	total    uint16
	interval uint16
	sent     int // packets returned so far
	ends     int // end packets returned so far
}

// Start begins a new event of the given total duration, sending an
// update every interval (both in RTP timestamp units, e.g. 160 for 20 ms
// at 8 kHz). An interval of 0 sends only the end packets.
func (s *EventSender) Start(event, volume uint8, duration, interval uint16) {
	*s = EventSender{
		ev:       TelephoneEvent{Event: event, Volume: volume & 0x3f},
		total:    duration,
		interval: interval,
	}
}

// Next returns the next payload and whether its packet carries the
// marker bit; ok is false when the event has been sent completely.
func (s *EventSender) Next() (ev TelephoneEvent, marker bool, ok bool) {
	if s.ends == 3 {
		return TelephoneEvent{}, false, false
	}
	marker = s.sent == 0
	s.sent++
	ev = s.ev
	d := uint32(s.sent) * uint32(s.interval)
	if s.interval == 0 || d >= uint32(s.total) {
		ev.End = true
		ev.Duration = s.total
		s.ends++
		return ev, marker, true
	}
	ev.Duration = uint16(d)
	return ev, marker, true
}

// Done reports whether all packets of the event have been returned.
func (s *EventSender) Done() bool { return s.ends == 3 }

// eventHistory is how many recent events EventReceiver remembers.
const eventHistory = 8

type eventKey struct {
	timestamp uint32
	event     uint8
}

// EventReceiver detects key presses in a stream of telephone-event
// packets from one source and reports each exactly once.
//
// An event is identified by its RTP timestamp (RFC 4733 §2.5.2.1: all
// packets of an event share it) and event code. The first packet of an
// event that was not seen before is reported, whether or not it has the
// marker bit, a zero duration or the End bit, so a lost start, lost end
// packets, odd numbers of repeats and late or reordered packets of
// recently finished events are all tolerated: a new timestamp starts a
// new event. Call Reset when the source's SSRC changes.
//
// The zero value is ready to use. Not safe for concurrent use.
type EventReceiver struct {
	seen [eventHistory]eventKey
	n    int // number of valid entries, ≤ eventHistory
	next int // ring position of the next entry
}

// Reset forgets all events.
func (r *EventReceiver) Reset() { *r = EventReceiver{} }

// Push processes the payload of a telephone-event packet with the given
// RTP timestamp. It returns the decoded payload, and isNew true when the
// packet begins a key press not reported before. The error is non-nil
// only for a payload shorter than 4 bytes.
func (r *EventReceiver) Push(timestamp uint32, payload []byte) (ev TelephoneEvent, isNew bool, err error) {
	if err := ev.Unmarshal(payload); err != nil {
		return ev, false, err
	}
	k := eventKey{timestamp, ev.Event}
	for i := range r.n {
		if r.seen[i] == k {
			return ev, false, nil
		}
	}
	r.seen[r.next] = k
	r.next = (r.next + 1) % eventHistory
	r.n = min(r.n+1, eventHistory)
	return ev, true, nil
}

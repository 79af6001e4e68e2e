package media

import "slices"

// skipWindow is how far behind the highest sequence number a skipped one
// is still remembered on its own: an audio packet that far late is late
// for the jitter buffer anyway.
const skipWindow = 256

// seqSkips renumbers a source's audio packets for the jitter buffer
// without the numbers of its telephone-event and comfort-noise packets, so
// that a digit or a silence does not count as lost audio. It counts the
// skipped numbers below each audio packet's own, so a duplicate of a
// skipped packet, or an audio packet overtaken by the event after it,
// keeps its place.
type seqSkips struct {
	started bool
	high    int64   // extended highest sequence number seen
	base    int64   // skipped numbers below every one in recent
	recent  []int64 // skipped numbers within skipWindow of high, ascending
}

// reset forgets the source, for a new one.
func (k *seqSkips) reset() { *k = seqSkips{recent: k.recent[:0]} }

// ext extends seq to the number space of the source (RFC 3550 A.1) and
// records it if it is the highest.
func (k *seqSkips) ext(seq uint16) int64 {
	if !k.started {
		k.started, k.high = true, int64(seq)
		return k.high
	}
	e := k.high + int64(int16(seq-uint16(k.high)))
	k.high = max(k.high, e)
	return e
}

// skip records seq as a number that is not audio.
func (k *seqSkips) skip(seq uint16) {
	e := k.ext(seq)
	k.fold()
	if i, found := slices.BinarySearch(k.recent, e); !found && e >= k.high-skipWindow {
		k.recent = slices.Insert(k.recent, i, e)
	}
}

// audio returns the jitter buffer's number for the audio packet seq.
func (k *seqSkips) audio(seq uint16) uint16 {
	e := k.ext(seq)
	k.fold()
	below, _ := slices.BinarySearch(k.recent, e)
	return uint16(e - k.base - int64(below))
}

// fold moves the skipped numbers that fell out of the window into base.
func (k *seqSkips) fold() {
	n := 0
	for n < len(k.recent) && k.recent[n] < k.high-skipWindow {
		n++
	}
	if n > 0 {
		k.base += int64(n)
		k.recent = slices.Delete(k.recent, 0, n)
	}
}

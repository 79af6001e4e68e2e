package srtp

// maxReplayWindow is the largest replay window, in packets, a Context keeps.
const maxReplayWindow = 1024

// DefaultReplayWindow is the replay window size, in packets, used when no
// [WithReplayWindow] option is given (RFC 3711 §3.3.2 requires at least 64).
const DefaultReplayWindow = 128

// replayWindow is the sliding window of RFC 3711 §3.3.2 over packet indices:
// bit k of bits is set when index top-k has been accepted.
type replayWindow struct {
	top   uint64
	bits  [maxReplayWindow / 64]uint64
	words int // words of bits in use; 0 disables the check
	size  uint64
	valid bool // top is meaningful
}

func (w *replayWindow) init(size int) {
	w.words = (size + 63) / 64
	w.size = uint64(size)
}

// check reports whether idx may be accepted: it is not older than the window
// and has not been seen.
func (w *replayWindow) check(idx uint64) bool {
	if w.words == 0 || !w.valid || idx > w.top {
		return true
	}
	d := w.top - idx
	if d >= w.size {
		return false
	}
	return w.bits[d/64]&(1<<(d%64)) == 0
}

// accept records idx as received.
func (w *replayWindow) accept(idx uint64) {
	if w.words == 0 {
		return
	}
	if !w.valid {
		w.valid, w.top = true, idx
		clear(w.bits[:])
		w.bits[0] = 1
		return
	}
	if idx <= w.top {
		d := w.top - idx
		if d < w.size {
			w.bits[d/64] |= 1 << (d % 64)
		}
		return
	}
	w.shift(idx - w.top)
	w.top = idx
	w.bits[0] |= 1
}

// shift moves the window up by n indices.
func (w *replayWindow) shift(n uint64) {
	bits := w.bits[:w.words]
	if n >= uint64(64*w.words) {
		clear(bits)
		return
	}
	ws, bs := int(n/64), n%64
	for i := len(bits) - 1; i >= 0; i-- {
		var v uint64
		if j := i - ws; j >= 0 {
			v = bits[j] << bs
			if bs != 0 && j > 0 {
				v |= bits[j-1] >> (64 - bs)
			}
		}
		bits[i] = v
	}
}

// rtpStream is the per-SSRC state of RFC 3711 §3.2.1: the rollover counter
// and highest sequence number (held together as the highest 48-bit packet
// index), and the replay list.
type rtpStream struct {
	index   uint64 // highest index accepted or sent: ROC<<16 | s_l
	started bool   // index is meaningful; otherwise roc is the ROC to start with
	roc     uint32
	replay  replayWindow
}

// estimate returns the packet index of seq (RFC 3711 §3.3.1 and Appendix A):
// the ROC guess v is ROC-1, ROC or ROC+1, whichever puts the index closest to
// the highest one seen. ok is false when the guess falls before index 0 or
// beyond the 48-bit index space.
func (s *rtpStream) estimate(seq uint16) (idx uint64, ok bool) {
	if !s.started {
		return uint64(s.roc)<<16 | uint64(seq), true
	}
	roc := int64(s.index >> 16)
	sl := int64(uint16(s.index))
	v := roc
	if sl < 32768 {
		if int64(seq)-sl > 32768 {
			v = roc - 1
		}
	} else if sl-32768 > int64(seq) {
		v = roc + 1
	}
	if v < 0 || v > 0xffffffff {
		return 0, false
	}
	return uint64(v)<<16 | uint64(seq), true
}

// update records idx as authenticated and received (or sent).
func (s *rtpStream) update(idx uint64) {
	if !s.started || idx > s.index {
		s.index, s.started = idx, true
	}
	s.replay.accept(idx)
}

// rtcpStream is the per-SSRC SRTCP state: the last index sent, or the
// replay list of indices received (RFC 3711 §3.4).
type rtcpStream struct {
	index  uint32
	replay replayWindow
}

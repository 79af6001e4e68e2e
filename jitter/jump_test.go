package jitter

import (
	"testing"
	"time"
)

// TestTimestampJump: a sender whose RTP timestamp jumps by 10 s, forward
// or back, under the same SSRC and contiguous sequence numbers (a PBX
// that bridged another stream into the call): the packets after the jump
// play within a few ticks, and those still waiting from before it are
// given up and counted rather than holding playout up (before: 63 ticks,
// 1.26 s of concealment, for the backward jump).
func TestTimestampJump(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delta int64
	}{{"forward", 8000 * 10}, {"backward", -8000 * 10}} {
		t.Run(tc.name, func(t *testing.T) {
			b := New(Config{})
			t0 := time.Unix(1000, 0)
			ts := int64(1_000_000_000)
			const jumpAt, total = 50, 200
			firstAfter := uint16(100 + jumpAt)
			stalled, played := 0, false
			for k := 0; k < total; k++ {
				now := t0.Add(time.Duration(k) * 20 * time.Millisecond)
				if k == jumpAt {
					ts += tc.delta
				}
				b.Push(Packet{SSRC: 1, Seq: uint16(100 + k), Timestamp: uint32(ts), Marker: k == 0 || k == jumpAt, Payload: []byte{byte(k)}}, now)
				ts += 160
				f, st := b.Pop(now.Add(5 * time.Millisecond))
				if k >= jumpAt && !played {
					if st == Ready && f.Seq >= firstAfter {
						played = true
					} else {
						stalled++
					}
				}
			}
			if !played || stalled > 5 {
				t.Errorf("after the jump: %d ticks before the new timeline played (played %v); stats %+v", stalled, played, b.Stats())
			}
			if st := b.Stats(); st.MaxDelay > 2*time.Second {
				t.Errorf("max delay %v: the old packets were measured against the new timeline", st.MaxDelay)
			}
		})
	}
}

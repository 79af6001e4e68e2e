package jitter

import (
	"encoding/binary"
	"testing"
	"time"
)

// FuzzBuffer drives a Buffer with a byte string read as operations: pushes
// with arbitrary sequence-number and timestamp steps, SSRC switches and
// jumps, and pops at arbitrary times. It checks that the Buffer never
// panics, never holds more than its capacity, plays sequence numbers in
// strictly increasing order within one stream epoch (between Resync
// frames), never plays a packet twice, and returns each packet's own
// payload.
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{0, 1, 1, 0, 1, 1, 0, 2, 1, 3, 1, 0})
	f.Add([]byte{0, 5, 0, 3, 0, 4, 1, 1, 1, 1, 2, 9, 0, 1, 1})
	f.Add([]byte{0, 0xff, 0, 0x80, 4, 1, 4, 1, 1, 1, 3, 0, 1, 5, 1})
	f.Fuzz(runOps)
}

func runOps(t *testing.T, ops []byte) {
	{
		if len(ops) > 1024 {
			ops = ops[:1024] // bounds the sequence drift within an epoch
		}
		b := New(Config{Capacity: 16})
		epoch := time.Unix(1000, 0)
		var now time.Duration
		ssrc := uint32(1)
		seq, ts := uint16(0), uint32(0)
		payload := make([]byte, 6)
		havePrev := false
		var prevSeq uint16
		played := make(map[[2]uint32]bool)
		for len(ops) >= 2 {
			op, arg := ops[0], ops[1]
			ops = ops[2:]
			switch op % 6 {
			case 0, 1: // push with a small signed sequence step
				d := int8(arg)
				seq += uint16(int16(d))
				ts += uint32(int32(d) * 160)
			case 2: // new SSRC
				ssrc += uint32(arg) + 1
			case 3: // sequence jump (a restart, once confirmed)
				seq += 20000 + uint16(arg)
			case 4: // pop
				now += time.Duration(arg) * time.Millisecond
				fr, st := b.Pop(epoch.Add(now))
				if st != Ready {
					continue
				}
				if fr.Resync {
					havePrev = false
					clear(played)
				}
				if havePrev && int16(fr.Seq-prevSeq) <= 0 {
					t.Fatalf("seq %d played after %d in one epoch", fr.Seq, prevSeq)
				}
				if binary.BigEndian.Uint32(fr.Payload) != fr.SSRC || binary.BigEndian.Uint16(fr.Payload[4:]) != fr.Seq {
					t.Fatalf("frame %+v carries another packet's payload", fr)
				}
				key := [2]uint32{fr.SSRC, uint32(fr.Seq)<<16 | uint32(fr.Timestamp&0xffff)}
				if played[key] {
					t.Fatalf("frame %+v played twice", fr)
				}
				played[key] = true
				havePrev, prevSeq = true, fr.Seq
				continue
			case 5: // time passes
				now += time.Duration(arg) * 5 * time.Millisecond
				continue
			}
			binary.BigEndian.PutUint32(payload, ssrc)
			binary.BigEndian.PutUint16(payload[4:], seq)
			b.Push(Packet{SSRC: ssrc, Seq: seq, Timestamp: ts, Marker: arg&1 == 1, Payload: payload},
				epoch.Add(now))
			if b.Len() > b.Config().Capacity {
				t.Fatalf("holding %d packets, capacity %d", b.Len(), b.Config().Capacity)
			}
		}
		s := b.Stats()
		if s.Played+s.Late+s.Duplicate+s.Dropped+s.Skipped+uint64(s.Buffered) != s.Received {
			t.Fatalf("stats do not add up: %+v", s)
		}
	}
}

package jitter

import (
	"testing"
	"time"
)

// TestPushPopAllocs runs a jittery stream into steady state and asserts
// that Push and Pop then allocate nothing.
func TestPushPopAllocs(t *testing.T) {
	b := New(Config{})
	epoch := time.Unix(1000, 0)
	payload := make([]byte, 160)
	k := 0
	step := func() {
		// Two-packet reordering every fourth packet, 20 ms ticks.
		seq := k
		switch k % 4 {
		case 1:
			seq = k + 1
		case 2:
			seq = k - 1
		}
		b.Push(Packet{SSRC: 7, Seq: uint16(seq), Timestamp: uint32(seq * 160), Payload: payload},
			epoch.Add(time.Duration(k)*20*time.Millisecond+35*time.Millisecond))
		b.Pop(epoch.Add(time.Duration(k) * 20 * time.Millisecond))
		k++
	}
	for range 5000 { // past the 16-bit sequence wrap
		step()
	}
	if allocs := testing.AllocsPerRun(1000, step); allocs != 0 {
		t.Errorf("allocs per push+pop: got %v, want 0", allocs)
	}
	if s := b.Stats(); s.Played < 5000 || s.Reordered == 0 {
		t.Errorf("stats: got played %d reordered %d, want a stream in steady state", s.Played, s.Reordered)
	}
}

func TestPlayerAllocs(t *testing.T) {
	b := New(Config{})
	p := NewPlayer(b, 160, func(dst []int16, f *Frame) []int16 {
		for _, v := range f.Payload {
			dst = append(dst, int16(v)<<7)
		}
		return dst
	}, NewPCMConcealer(8000))
	epoch := time.Unix(1000, 0)
	payload := make([]byte, 160)
	pcm := make([]int16, 0, 160)
	k := 0
	step := func() {
		if k%10 != 3 { // 10 % loss
			b.Push(Packet{SSRC: 7, Seq: uint16(k), Timestamp: uint32(k * 160), Payload: payload},
				epoch.Add(time.Duration(k)*20*time.Millisecond))
		}
		var st Status
		pcm, st = p.Next(pcm[:0], epoch.Add(time.Duration(k)*20*time.Millisecond))
		if len(pcm) != 160 {
			t.Fatalf("tick %d (%v): got %d samples, want 160", k, st, len(pcm))
		}
		k++
	}
	for range 200 {
		step()
	}
	if allocs := testing.AllocsPerRun(500, step); allocs != 0 {
		t.Errorf("allocs per tick: got %v, want 0", allocs)
	}
	if s := b.Stats(); s.Concealed < 50 || s.Played < 500 {
		t.Errorf("stats: got concealed %d played %d, want losses concealed", s.Concealed, s.Played)
	}
}

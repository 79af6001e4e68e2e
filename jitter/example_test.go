package jitter_test

import (
	"fmt"
	"time"

	"github.com/xphone-go/xphone/jitter"
)

// Packets arrive with jitter, out of order, and one is lost; the consumer
// pops one frame every 20 ms and gets them back in order, with the loss
// reported as Missing. Once the packets run out, the frame due is
// concealed while the buffer waits: it may be lost or late, or the sender
// may have paused (after Config.MaxConceal it reports Silence).
func Example() {
	buf := jitter.New(jitter.Config{ClockRate: 8000, FrameDuration: 20 * time.Millisecond})
	start := time.Unix(1_700_000_000, 0)
	payload := make([]byte, 160)

	// Arrivals in ms after start; 101 overtakes 100 and 103 never comes.
	arrivals := []struct {
		ms  int
		seq uint16
	}{{3, 101}, {8, 100}, {21, 102}, {62, 104}, {81, 105}}

	for tick := range 9 {
		now := start.Add(time.Duration(tick) * 20 * time.Millisecond)
		for len(arrivals) > 0 && start.Add(time.Duration(arrivals[0].ms)*time.Millisecond).Before(now) {
			a := arrivals[0]
			arrivals = arrivals[1:]
			buf.Push(jitter.Packet{
				SSRC:      0x1234,
				Seq:       a.seq,
				Timestamp: uint32(a.seq-100) * 160,
				Marker:    a.seq == 100,
				Payload:   payload,
			}, start.Add(time.Duration(a.ms)*time.Millisecond))
		}
		f, st := buf.Pop(now)
		if st == jitter.Silence {
			fmt.Println(tick, st)
			continue
		}
		fmt.Println(tick, st, f.Seq)
	}
	s := buf.Stats()
	fmt.Printf("played %d, lost %d, reordered %d\n", s.Played, s.Lost, s.Reordered)
	// Output:
	// 0 silence
	// 1 ready 100
	// 2 ready 101
	// 3 ready 102
	// 4 missing 103
	// 5 ready 104
	// 6 ready 105
	// 7 missing 106
	// 8 missing 106
	// played 5, lost 1, reordered 1
}

package g711_test

import (
	"fmt"

	"github.com/xphone-go/xphone/g711"
)

func Example() {
	pcm := []int16{0, 1000, -1000, 32767, -32768}

	// Encode a frame for an RTP payload (PCMU, payload type 0), reusing
	// a buffer sized for one 20 ms frame.
	payload := make([]byte, 0, 160)
	payload = g711.EncodeUlaw(payload[:0], pcm)
	fmt.Printf("PCMU % x\n", payload)

	// Decode it back: each sample comes back as the centre of its
	// quantisation interval.
	out := g711.DecodeUlaw(nil, payload)
	fmt.Println(out)

	// Transcode to A-law without going through linear PCM.
	fmt.Printf("PCMA % x\n", g711.UlawToAlaw(nil, payload))
	// Output:
	// PCMU ff ce 4e 80 00
	// [0 988 -988 32124 -32124]
	// PCMA d5 fa 7a aa 2a
}

package g722_test

import (
	"fmt"
	"math"

	"github.com/xphone-go/xphone/g722"
)

func Example() {
	// 20 ms of a 1 kHz tone at 16 kHz.
	pcm := make([]int16, 320)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/g722.SampleRate))
	}

	enc := g722.NewEncoder()
	payload := enc.Encode(make([]byte, 0, 160), pcm)
	fmt.Println("payload octets:", len(payload))
	fmt.Println("RTP timestamp step:", g722.RTPTimestampIncrement(len(payload)))

	dec := g722.NewDecoder()
	out := dec.Decode(make([]int16, 0, 320), payload)
	fmt.Println("decoded samples:", len(out))
	// Output:
	// payload octets: 160
	// RTP timestamp step: 160
	// decoded samples: 320
}

// Decode a 64 kbit/s stream as a 48 kbit/s (mode 3) receiver would.
func ExampleNewDecoderRate() {
	dec, err := g722.NewDecoderRate(48000)
	if err != nil {
		fmt.Println(err)
		return
	}
	out := dec.Decode(nil, []byte{0xfa, 0xfa, 0xfa, 0xfa})
	fmt.Println(len(out), dec.Bitrate())

	_, err = g722.NewDecoderRate(32000)
	fmt.Println(err)
	// Output:
	// 8 48000
	// g722: bit rate must be 64000, 56000 or 48000 (got 32000)
}

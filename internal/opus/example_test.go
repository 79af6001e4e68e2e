package opus_test

import (
	"errors"
	"fmt"

	"github.com/xphone-go/xphone/internal/opus"
)

// Encode 20 ms frames of wideband audio and stamp them for RTP; fall back
// when the build has no Opus.
func Example() {
	enc, err := opus.NewEncoder(16000)
	if errors.Is(err, opus.ErrUnavailable) {
		fmt.Println("no Opus in this build: offer G.722 and G.711 only")
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer enc.Close()
	pcm := make([]int16, 320) // 20 ms at 16 kHz
	packet := make([]byte, 0, opus.MaxPacketSize)
	var ts uint32
	for range 3 {
		packet, err = enc.Encode(packet[:0], pcm)
		if err != nil {
			fmt.Println(err)
			return
		}
		// send packet with RTP timestamp ts ...
		ts += opus.RTPTimestampIncrement(len(pcm), enc.SampleRate())
	}
	fmt.Println("timestamp after 3 frames:", ts)
}

func ExampleRTPTimestampIncrement() {
	fmt.Println(opus.RTPTimestampIncrement(160, 8000))  // 20 ms narrowband
	fmt.Println(opus.RTPTimestampIncrement(320, 16000)) // 20 ms wideband
	// Output:
	// 960
	// 960
}

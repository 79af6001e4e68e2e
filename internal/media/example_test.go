package media_test

import (
	"fmt"
	"net/netip"

	"github.com/xphone-go/xphone/internal/media"
)

// Two sessions on loopback, as a caller and a callee after SDP
// negotiation: the caller sends a frame of audio and the callee reads it.
func Example() {
	opts := media.Options{Address: netip.MustParseAddr("127.0.0.1"), PortMin: 30000, PortMax: 39999}
	caller, err := media.New(opts)
	if err != nil {
		panic(err)
	}
	defer caller.Close()
	callee, err := media.New(opts)
	if err != nil {
		panic(err)
	}
	defer callee.Close()

	// The local addresses go into the SDP offer and answer.
	fmt.Println("RTP port even:", caller.LocalRTP().Port()%2 == 0)
	fmt.Println("RTCP on the next port:", caller.LocalRTCP().Port() == caller.LocalRTP().Port()+1)

	cfg := media.Config{Codec: media.CodecPCMU, PayloadType: 0, DTMFPayloadType: 101}
	cfg.RemoteRTP, cfg.RemoteRTCP = callee.LocalRTP(), callee.LocalRTCP()
	if err := caller.Start(cfg); err != nil {
		panic(err)
	}
	cfg.RemoteRTP, cfg.RemoteRTCP = caller.LocalRTP(), caller.LocalRTCP()
	if err := callee.Start(cfg); err != nil {
		panic(err)
	}

	for range 5 {
		caller.PCMWriter() <- make([]int16, 160) // 20 ms of silence at 8 kHz
	}
	frame := <-callee.PCMReader()
	fmt.Println("samples per frame:", len(frame))
	// Output:
	// RTP port even: true
	// RTCP on the next port: true
	// samples per frame: 160
}

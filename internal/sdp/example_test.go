package sdp_test

import (
	"fmt"
	"net/netip"

	"github.com/xphone-go/xphone/internal/sdp"
)

// A caller offers G.722 and G.711, the callee has only G.711 µ-law: the
// answer settles on PCMU with telephone-event for DTMF.
func Example() {
	caller, err := sdp.NewSession(sdp.Config{
		Address: netip.MustParseAddr("192.0.2.10"),
		Port:    40000,
		Codecs:  []string{sdp.G722, sdp.PCMU},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	callee, err := sdp.NewSession(sdp.Config{
		Address: netip.MustParseAddr("198.51.100.7"),
		Port:    50000,
		Codecs:  []string{sdp.PCMU},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	offer, err := caller.Offer() // the INVITE body
	if err != nil {
		fmt.Println(err)
		return
	}
	received, err := sdp.Parse(offer.AppendTo(nil)) // as the callee reads it
	if err != nil {
		fmt.Println(err)
		return
	}
	answer, _, err := callee.Answer(received) // the 200 OK body; ErrNotAcceptable → 488
	if err != nil {
		fmt.Println(err)
		return
	}
	got, err := caller.ProcessAnswer(answer)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(offer.Media[0].Formats)
	fmt.Printf("%s PT %d at %d Hz, DTMF PT %d, send to %v, %v\n",
		got.Codec, got.PT, got.ClockRate, got.DTMFPT, got.RemoteRTP, got.Direction)
	// Output:
	// [9 0 101]
	// PCMU PT 0 at 8000 Hz, DTMF PT 101, send to 198.51.100.7:50000, sendrecv
}

package phonetest_test

import (
	"context"
	"fmt"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/phonetest"
)

// A call flow tested without a network: the phone answers incoming calls
// and reports the digits the caller presses.
func Example() {
	ctx := context.Background()
	phone := phonetest.NewMockPhone()
	phone.OnIncoming(func(call xphone.Call) {
		call.OnDTMF(func(d rune) { fmt.Printf("caller pressed %c\n", d) })
		call.OnEnded(func(r xphone.EndReason) { fmt.Println("ended:", r.String()) })
		if err := call.Accept(ctx); err != nil {
			fmt.Println(err)
		}
	})
	if err := phone.Connect(ctx); err != nil {
		fmt.Println(err)
	}

	call := phone.SimulateIncoming("sip:1001@pbx.example.com")
	fmt.Println(call.From(), call.State())
	_ = call.SimulateDTMF("42")
	fmt.Println(call.Hold(ctx))
	_ = call.SimulateRemoteHangup()
	fmt.Println(call.Hold(ctx))
	// Output:
	// sip:1001@pbx.example.com Active
	// caller pressed 4
	// caller pressed 2
	// <nil>
	// ended: remote hangup
	// xphone: Hold not allowed on an inbound call in state Ended
}

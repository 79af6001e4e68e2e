package phonetest_test

import (
	"context"
	"fmt"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/phonetest"
)

// The peer asks our call to transfer to another number: OnTransfer sees
// the new call start and get answered, then the call ends as transferred.
func ExampleMockCall_SimulateTransfer() {
	call := phonetest.NewMockCall()
	call.OnTransfer(func(e xphone.TransferEvent) {
		fmt.Println("transfer to", e.Target, "referred:", e.Referred, "status:", e.Code, "final:", e.Final())
	})
	call.OnEnded(func(r xphone.EndReason) { fmt.Println("ended:", r) })
	_ = call.Accept(context.Background())
	_ = call.SimulateTransfer(xphone.TransferEvent{Target: "sip:1002@pbx.example", Referred: true, Code: 100})
	_ = call.SimulateTransfer(xphone.TransferEvent{Target: "sip:1002@pbx.example", Referred: true, Code: 200})
	// Output:
	// transfer to sip:1002@pbx.example referred: true status: 100 final: false
	// transfer to sip:1002@pbx.example referred: true status: 200 final: true
	// ended: xphone: call ended: transferred
}

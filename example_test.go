package xphone_test

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/phonetest"
)

func ExampleConfig_Validate() {
	cfg := xphone.Config{Username: "1001", Host: "sip:pbx.example.com", RTPPortMin: 10000}
	err := cfg.Validate()
	fmt.Println(errors.Is(err, xphone.ErrInvalidConfig))
	fmt.Println(err)
	// Output:
	// true
	// xphone: invalid config: Host: "sip:pbx.example.com" is a URI; want a host name or IP address
	// xphone: invalid config: set both RTPPortMin and RTPPortMax, or neither
}

// Reading a call's audio as a byte stream, here from a mock call.
func ExampleNewPCMReader() {
	call := phonetest.NewMockCall()
	_ = call.Accept(context.Background())
	call.InjectPCM([]int16{1, 2})
	call.InjectPCM([]int16{-1})
	_ = call.SimulateRemoteHangup()

	pcm, err := io.ReadAll(xphone.NewPCMReader(call))
	fmt.Printf("% x %v\n", pcm, err)
	// Output: 01 00 02 00 ff ff <nil>
}

func ExampleStatusError() {
	err := fmt.Errorf("dial: %w", &xphone.StatusError{Code: 486, Reason: "Busy Here"})
	var se *xphone.StatusError
	if errors.As(err, &se) {
		fmt.Println(se.Code, errors.Is(err, xphone.ErrBusy), se.EndReason().String())
	}
	// Output: 486 true busy
}

// ExampleParty shows how an incoming call's screen might name the caller:
// the identity a server vouches for, kept from others when the caller
// asked for privacy. MockCall stands in for a call from a trunk.
func ExampleParty() {
	call := phonetest.NewMockCall()
	call.SetRemoteParty(xphone.Party{Name: "Front Desk", URI: "sip:+15550001001@trunk.example.com",
		Number: "+15550001001", Asserted: true})
	show := func(c xphone.Call) string {
		p := c.RemoteParty()
		switch {
		case p.Private:
			return "private caller"
		case p.Name != "" && p.Asserted:
			return p.Name + " (" + p.Number + ")"
		case p.Number != "":
			return p.Number + " (unverified)"
		}
		return "unknown caller"
	}
	fmt.Println(show(call))
	// Output: Front Desk (+15550001001)
}

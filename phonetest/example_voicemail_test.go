package phonetest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/phonetest"
)

// A phone with Config.MWI learns its voicemail status from the PBX, first
// when it subscribes and again whenever the box changes.
func ExamplePBX_SetVoicemail() {
	pbx, err := phonetest.NewPBX(phonetest.PBXConfig{Users: map[string]string{"1001": "secret"}})
	if err != nil {
		log.Fatal(err)
	}
	defer pbx.Close()
	pbx.SetVoicemail("1001", 1, 4)

	phone, err := xphone.New(xphone.Config{Username: "1001", Password: "secret", ListenAddr: "127.0.0.1:0",
		Host: pbx.Addr().Addr().String(), Port: int(pbx.Addr().Port()), MWI: true})
	if err != nil {
		log.Fatal(err)
	}
	status := make(chan xphone.VoicemailStatus, 2)
	phone.OnVoicemail(func(s xphone.VoicemailStatus) { status <- s })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := phone.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	defer phone.Disconnect(context.Background())

	s := <-status
	fmt.Printf("waiting: %v, new: %d, old: %d\n", s.Waiting, s.New, s.Old)
	pbx.SetVoicemail("1001", 0, 5) // the user listened to it
	s = <-status
	fmt.Printf("waiting: %v, new: %d, old: %d\n", s.Waiting, s.New, s.Old)
	// Output:
	// waiting: true, new: 1, old: 4
	// waiting: false, new: 0, old: 5
}

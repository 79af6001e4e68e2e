package xphone_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/phonetest"
)

// Example shows the quick start: a phone registers with a SIP server, takes
// calls, and reads the caller's audio as 20 ms PCM frames. The server here is
// phonetest's in-process PBX on loopback; against a trunk, Host, Username and
// Password are the trunk's.
func Example() {
	pbx, err := phonetest.NewPBX(phonetest.PBXConfig{
		Users: map[string]string{"1001": "secret", "1002": "secret"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pbx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	server := func(user string) xphone.Config {
		return xphone.Config{Username: user, Password: "secret",
			Host: pbx.Addr().Addr().String(), Port: int(pbx.Addr().Port())}
	}

	// The answering side: accept every call and read the caller's audio.
	bob, err := xphone.New(server("1002"))
	if err != nil {
		log.Fatal(err)
	}
	heard := make(chan int, 1)
	bob.OnIncoming(func(call xphone.Call) {
		if err := call.Accept(ctx); err != nil {
			log.Print(err)
			return
		}
		go func() {
			frame := <-call.PCMReader() // []int16, mono, 20 ms
			heard <- len(frame)
		}()
	})
	if err := bob.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	defer bob.Disconnect(context.Background())

	// The calling side: dial a bare extension on the same server.
	alice, err := xphone.New(server("1001"))
	if err != nil {
		log.Fatal(err)
	}
	if err := alice.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	defer alice.Disconnect(context.Background())
	call, err := alice.Dial(ctx, "1002")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("call", call.State(), "with codec", call.Codec())
	call.PCMWriter() <- make([]int16, 160) // 20 ms of silence at 8 kHz
	fmt.Println("bob heard a frame of", <-heard, "samples")
	if err := call.End(ctx); err != nil {
		log.Fatal(err)
	}
	<-call.Context().Done()
	fmt.Println("ended:", call.State())
	// Output:
	// call Active with codec PCMU
	// bob heard a frame of 160 samples
	// ended: Ended
}

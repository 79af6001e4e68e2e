package phonetest_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/phonetest"
)

// A PBX on loopback with one user: phones register to pbx.URI() as
// alice/secret and are called at pbx.UserURI("alice").
func ExampleNewPBX() {
	pbx, err := phonetest.NewPBX(phonetest.PBXConfig{
		Users: map[string]string{"alice": "secret"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pbx.Close()
	pbx.AddUser("bob", "hunter2")

	port := strconv.Itoa(int(pbx.Addr().Port()))
	fmt.Println(strings.Replace(pbx.URI(), port, "PORT", 1))
	fmt.Println(strings.Replace(pbx.UserURI("bob"), port, "PORT", 1))
	fmt.Println(pbx.Realm(), pbx.Registered("bob"))

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // nobody registers here: the wait ends with the context
	fmt.Println(pbx.WaitRegistered(ctx, "bob"))
	// Output:
	// sip:127.0.0.1:PORT
	// sip:bob@127.0.0.1:PORT
	// xphone false
	// context canceled
}

// A real phone registers with the PBX although its first REGISTER is lost:
// it sends it again (RFC 3261 §17.1.2.2). The recorder shows what happened.
func ExamplePBX_Drop() {
	pbx, err := phonetest.NewPBX(phonetest.PBXConfig{
		Users: map[string]string{"alice": "secret"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pbx.Close()
	register := phonetest.IsRequest("REGISTER", false)
	pbx.Drop(1, register)

	phone, err := xphone.New(xphone.Config{
		Username: "alice", Password: "secret",
		Host: pbx.Addr().Addr().String(), Port: int(pbx.Addr().Port()),
		ListenAddr: "127.0.0.1:0", NATKeepaliveInterval: -1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := phone.Connect(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer phone.Disconnect(ctx)

	fmt.Println("registered:", pbx.Registered("alice"))
	for _, ev := range pbx.Messages() {
		what := ev.Msg.Method // the port in the Request-URI varies
		if !ev.Msg.IsRequest() {
			what = phonetest.Summary(ev.Msg)
		}
		if ev.Dropped {
			what += " (dropped)"
		}
		if ev.Sent {
			fmt.Println("PBX ->", what)
		} else {
			fmt.Println("PBX <-", what)
		}
	}
	// Output:
	// registered: true
	// PBX <- REGISTER (dropped)
	// PBX <- REGISTER
	// PBX -> 401 Unauthorized (REGISTER)
	// PBX <- REGISTER
	// PBX -> 200 OK (REGISTER)
}

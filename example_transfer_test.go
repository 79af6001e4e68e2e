package xphone_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/phonetest"
)

// Alice talks with Bob, calls Carol to announce him, then connects the two
// with an attended transfer: Bob's phone calls Carol's with Replaces, and
// Carol's phone swaps the consultation for Bob's call without ringing.
func ExampleCall_AttendedTransfer() {
	pbx, err := phonetest.NewPBX(phonetest.PBXConfig{
		Users: map[string]string{"alice": "pw", "bob": "pw", "carol": "pw"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pbx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	phone := func(user string) xphone.Phone {
		p, err := xphone.New(xphone.Config{Username: user, Password: "pw", ListenAddr: "127.0.0.1:0",
			Host: pbx.Addr().Addr().String(), Port: int(pbx.Addr().Port())})
		if err != nil {
			log.Fatal(err)
		}
		p.OnIncoming(func(c xphone.Call) { c.Accept(ctx) })
		if err := p.Connect(ctx); err != nil {
			log.Fatal(err)
		}
		return p
	}
	alice, bob, carol := phone("alice"), phone("bob"), phone("carol")
	defer alice.Disconnect(context.Background())
	defer bob.Disconnect(context.Background())
	defer carol.Disconnect(context.Background())

	toBob, err := alice.Dial(ctx, "bob")
	if err != nil {
		log.Fatal(err)
	}
	toCarol, err := alice.Dial(ctx, "carol") // the consultation
	if err != nil {
		log.Fatal(err)
	}
	replaced := make(chan xphone.Call, 1)
	carol.Calls()[0].OnReplaced(func(c xphone.Call) { replaced <- c })

	if err := toBob.AttendedTransfer(ctx, toCarol); err != nil {
		log.Fatal(err)
	}
	<-toBob.Context().Done()
	<-toCarol.Context().Done()
	fmt.Println("alice's calls:", context.Cause(toBob.Context()), "/", context.Cause(toCarol.Context()))
	c := <-replaced
	fmt.Println("carol now talks with bob:", strings.HasPrefix(c.From(), "sip:bob@"), c.State())
	// Output:
	// alice's calls: xphone: call ended: transferred / xphone: call ended: transferred
	// carol now talks with bob: true Active
}

// Carol watches Bob's line; when Alice's call rings there, Carol's phone
// picks it up: Alice's Dial returns a call with Carol, and Bob's phone
// stops ringing.
func ExampleWithPickup() {
	pbx, err := phonetest.NewPBX(phonetest.PBXConfig{
		Users: map[string]string{"alice": "pw", "bob": "pw", "carol": "pw"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pbx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	phone := func(user string) xphone.Phone {
		p, err := xphone.New(xphone.Config{Username: user, Password: "pw", ListenAddr: "127.0.0.1:0",
			Host: pbx.Addr().Addr().String(), Port: int(pbx.Addr().Port())})
		if err != nil {
			log.Fatal(err)
		}
		if err := p.Connect(ctx); err != nil {
			log.Fatal(err)
		}
		return p
	}
	alice, bob, carol := phone("alice"), phone("bob"), phone("carol")
	defer alice.Disconnect(context.Background())
	defer bob.Disconnect(context.Background())
	defer carol.Disconnect(context.Background())
	bobRings := make(chan xphone.Call, 1)
	bob.OnIncoming(func(c xphone.Call) { bobRings <- c }) // Bob does not answer

	ringing := make(chan xphone.LineStatus, 1)
	stop, err := carol.Watch("bob", func(s xphone.LineStatus) {
		if s.State == xphone.LineRinging && s.Ringing != (xphone.RingingCall{}) {
			select {
			case ringing <- s:
			default:
			}
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	defer stop(context.Background())

	dialed := make(chan xphone.Call, 1)
	go func() {
		c, err := alice.Dial(ctx, "bob")
		if err != nil {
			log.Fatal(err)
		}
		dialed <- c
	}()
	s := <-ringing
	picked, err := carol.Dial(ctx, s.Caller, xphone.WithPickup(s.Ringing))
	if err != nil {
		log.Fatal(err)
	}
	a := <-dialed
	fmt.Println("alice talks with carol:", a.CallID() == picked.CallID(), a.State())
	b := <-bobRings
	<-b.Context().Done()
	fmt.Println("bob's phone:", context.Cause(b.Context()))
	// Output:
	// alice talks with carol: true Active
	// bob's phone: xphone: call ended: cancelled
}

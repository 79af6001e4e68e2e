package phonetest_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"

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

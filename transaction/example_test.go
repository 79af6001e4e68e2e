package transaction_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// loopback is a Sender that hands every message to a layer through a
// goroutine, as a socket would, standing in for internal/transport.
type loopback struct {
	mu   sync.Mutex
	to   *transaction.Layer
	from transport.Addr
	wg   sync.WaitGroup
}

func (s *loopback) Send(_ context.Context, m *sipmsg.Message, _ transport.Addr) error {
	wire, err := sipmsg.Parse(m.AppendTo(nil))
	if err != nil {
		return err
	}
	s.mu.Lock()
	to := s.to
	s.mu.Unlock()
	s.wg.Go(func() { to.HandleInbound(transport.Inbound{Msg: wire, Source: s.from}) })
	return nil
}

// uas answers every request with 200 OK.
type uas struct{}

func (uas) HandleRequest(tx *transaction.ServerTx) {
	resp := sipmsg.NewResponse(tx.Request(), 200, "")
	_ = resp.SetToTag("as9f2")
	_ = tx.Respond(resp)
}
func (uas) HandleOutside(transport.Inbound)                {}
func (uas) HandleServerError(*transaction.ServerTx, error) {}

func Example() {
	alice := transport.Addr{Protocol: transport.TCP}
	toBob, toAlice := &loopback{from: alice}, &loopback{}
	client := transaction.New(toBob, uas{}, transaction.Config{})
	server := transaction.New(toAlice, uas{}, transaction.Config{})
	toBob.to, toAlice.to = server, client
	defer func() {
		client.Close()
		server.Close()
		toBob.wg.Wait()
		toAlice.wg.Wait()
	}()

	req, _ := sipmsg.Parse([]byte("OPTIONS sip:bob@192.0.2.2 SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 192.0.2.1:5060\r\n" + // the layer adds the branch
		"Max-Forwards: 70\r\n" +
		"From: <sip:alice@192.0.2.1>;tag=1928301774\r\n" +
		"To: <sip:bob@192.0.2.2>\r\n" +
		"Call-ID: a84b4c76e66710\r\n" +
		"CSeq: 63104 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n"))
	tx, err := client.Request(context.Background(), req, transport.Addr{Protocol: transport.TCP})
	if err != nil {
		fmt.Println(err)
		return
	}
	for resp := range tx.Responses() {
		fmt.Println(resp.StatusCode, resp.Reason)
		if resp.StatusCode >= 200 {
			break
		}
	}
	fmt.Println("error:", tx.Err())
	// Output:
	// 200 OK
	// error: <nil>
}

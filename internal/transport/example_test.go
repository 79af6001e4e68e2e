package transport_test

import (
	"context"
	"fmt"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// Two Managers on loopback UDP: one sends an OPTIONS, the other answers
// it, and the answer is routed back by the request's Via (RFC 3261 §18.2.2).
func Example() {
	ctx := context.Background()
	got := make(chan transport.Inbound, 1)
	var server *transport.Manager
	server = transport.New(transport.Config{Handler: func(in transport.Inbound) {
		resp := sipmsg.NewResponse(in.Msg, 200, "")
		server.Send(ctx, resp, in.Source) // back where it came from
	}})
	defer server.Close()
	client := transport.New(transport.Config{Handler: func(in transport.Inbound) { got <- in }})
	defer client.Close()
	if err := server.Listen(ctx, transport.UDP, "127.0.0.1:0"); err != nil {
		panic(err)
	}
	if err := client.Listen(ctx, transport.UDP, "127.0.0.1:0"); err != nil {
		panic(err)
	}

	uri, _ := sipmsg.ParseURI("sip:server@127.0.0.1")
	req := sipmsg.NewRequest("OPTIONS", uri)
	req.PrependVia(client.Via(transport.UDP, "z9hG4bK-example"))
	req.Add("Max-Forwards", "70")
	req.Add("From", "<sip:client@127.0.0.1>;tag=1")
	req.Add("To", "<sip:server@127.0.0.1>")
	req.Add("Call-ID", "example-1")
	req.Add("CSeq", "1 OPTIONS")
	req.SetContentLength()
	dst := transport.Addr{Protocol: transport.UDP, AddrPort: server.LocalAddr(transport.UDP)}
	if err := client.Send(ctx, req, dst); err != nil {
		panic(err)
	}
	in := <-got
	cseq, _ := in.Msg.CSeq()
	fmt.Println(in.Msg.StatusCode, in.Msg.Reason, cseq.Method)
	// Output: 200 OK OPTIONS
}

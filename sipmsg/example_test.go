package sipmsg_test

import (
	"fmt"
	"strings"

	"github.com/xphone-go/xphone/sipmsg"
)

func Example() {
	raw := []byte("INVITE sip:bob@biloxi.example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK74bf9;rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n" +
		"To: <sip:bob@biloxi.example.com>\r\n" +
		"i: 3848276298220188511@atlanta.example.com\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Content-Length: 0\r\n\r\n")
	m, err := sipmsg.Parse(raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	cseq, _ := m.CSeq()
	via, _ := m.Via()
	from, _ := m.From()
	fmt.Println(m.Method, m.RequestURI.User)
	fmt.Println("Call-ID:", m.CallID())
	fmt.Println("CSeq:", cseq.Seq, cseq.Method)
	fmt.Println("branch:", via.Branch(), "from:", from.DisplayName(), from.Tag())

	// Answer it: 180 Ringing with a To tag, serialized into a buffer.
	resp := sipmsg.NewResponse(m, 180, "")
	_ = resp.SetToTag("8321234356")
	buf := resp.AppendTo(nil)
	fmt.Print(strings.ReplaceAll(string(buf), "\r\n", "\n"))
	// Output:
	// INVITE bob
	// Call-ID: 3848276298220188511@atlanta.example.com
	// CSeq: 1 INVITE
	// branch: z9hG4bK74bf9 from: Alice 9fxced76sl
	// SIP/2.0 180 Ringing
	// Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK74bf9;rport
	// From: "Alice" <sip:alice@atlanta.example.com>;tag=9fxced76sl
	// To: <sip:bob@biloxi.example.com>;tag=8321234356
	// i: 3848276298220188511@atlanta.example.com
	// CSeq: 1 INVITE
	// Content-Length: 0
}

package transaction

import (
	"bytes"
	"context"
	"runtime"
	"testing"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// discard is a Sender that does what a transport does with a message
// before writing it: reads a response's top Via to route it (RFC 3261
// §18.2.2), serializes it; and then drops it.
type discard struct{ buf []byte }

func (d *discard) Send(_ context.Context, m *sipmsg.Message, _ transport.Addr) error {
	if !m.IsRequest() {
		if _, err := m.Via(); err != nil {
			return err
		}
	}
	d.buf = m.AppendTo(d.buf[:0])
	return nil
}

// callTU answers INVITE and BYE 200 from HandleRequest, like minuas.
type callTU struct{}

func (callTU) HandleRequest(tx *ServerTx) {
	r := sipmsg.NewResponse(tx.Request(), 200, "")
	_ = r.SetToTag("uas1")
	if tx.Request().Method == "INVITE" {
		r.Add("Contact", "<sip:uas@192.0.2.2>")
		r.SetContentLength()
	}
	_ = tx.Respond(r)
}
func (callTU) HandleOutside(transport.Inbound)    {}
func (callTU) HandleServerError(*ServerTx, error) {}

// callTemplate is one call as SIPp's built-in uac sends it: INVITE, ACK,
// BYE. The eight 0s after "z9hG4bK" and in the Call-ID are overwritten
// with a counter per call.
var callTemplate = [3]string{
	"INVITE sip:service@192.0.2.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK00000000-1\r\n" +
		"From: sipp <sip:sipp@192.0.2.1:5061>;tag=1\r\nTo: service <sip:service@192.0.2.2:5060>\r\n" +
		"Call-ID: 00000000-1@192.0.2.1\r\nCSeq: 1 INVITE\r\nContact: sip:sipp@192.0.2.1:5061\r\n" +
		"Max-Forwards: 70\r\nSubject: Performance Test\r\nContent-Type: application/sdp\r\nContent-Length: 129\r\n\r\n" +
		"v=0\r\no=user1 53655765 2353687637 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
	"ACK sip:service@192.0.2.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK00000000-5\r\n" +
		"From: sipp <sip:sipp@192.0.2.1:5061>;tag=1\r\nTo: service <sip:service@192.0.2.2:5060>;tag=uas1\r\n" +
		"Call-ID: 00000000-1@192.0.2.1\r\nCSeq: 1 ACK\r\nContact: sip:sipp@192.0.2.1:5061\r\n" +
		"Max-Forwards: 70\r\nSubject: Performance Test\r\nContent-Length: 0\r\n\r\n",
	"BYE sip:service@192.0.2.2:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK00000000-7\r\n" +
		"From: sipp <sip:sipp@192.0.2.1:5061>;tag=1\r\nTo: service <sip:service@192.0.2.2:5060>;tag=uas1\r\n" +
		"Call-ID: 00000000-1@192.0.2.1\r\nCSeq: 2 BYE\r\nContact: sip:sipp@192.0.2.1:5061\r\n" +
		"Max-Forwards: 70\r\nSubject: Performance Test\r\nContent-Length: 0\r\n\r\n",
}

// counterAt returns the offsets of every "00000000" in each message.
func counterAt(msgs *[3][]byte) [3][]int {
	var at [3][]int
	for k, m := range msgs {
		for rest := 0; ; {
			i := bytes.Index(m[rest:], []byte("00000000"))
			if i < 0 {
				break
			}
			at[k] = append(at[k], rest+i)
			rest += i + 8
		}
	}
	return at
}

// stamp writes n as eight hex digits at the offsets counterAt found.
func stamp(msgs *[3][]byte, at *[3][]int, n uint32) {
	const hex = "0123456789abcdef"
	for k, m := range msgs {
		for _, i := range at[k] {
			for j := range 8 {
				m[i+j] = hex[(n>>(28-4*j))&0xf]
			}
		}
	}
}

// BenchmarkServerCall: the server side of one call as minuas handles
// SIPp's built-in uac per op: parse INVITE, validate, new INVITE server
// transaction, the TU's 200, ACK outside the transaction, BYE and its
// 200, serialization of both responses; no sockets. The transactions
// then wait out Timers L and J (32 s), so the live heap grows: the
// retained-B/call metric is the live heap after GC at the end, per call
// (the sipmsg and transport work of the whole call, without syscalls and
// scheduling, which dominate the real process).
func BenchmarkServerCall(b *testing.B) {
	b.Run("impl=ours", func(b *testing.B) {
		l := New(&discard{}, callTU{}, Config{})
		defer l.Close()
		var msgs [3][]byte
		for i, s := range callTemplate {
			msgs[i] = []byte(s)
		}
		at := counterAt(&msgs)
		src := transport.Addr{Protocol: transport.UDP, AddrPort: addrA}
		var p sipmsg.Parser
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		n := uint32(0)
		b.ReportAllocs()
		for b.Loop() {
			n++
			stamp(&msgs, &at, n) // a fresh branch and Call-ID per call
			for _, raw := range msgs {
				m, err := p.Parse(raw)
				if err != nil {
					b.Fatal(err)
				}
				if err := m.Validate(); err != nil {
					b.Fatal(err)
				}
				l.HandleInbound(transport.Inbound{Msg: m, Source: src})
			}
		}
		b.StopTimer()
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		if _, s := l.counts(); s != int(n)*2 {
			b.Fatalf("server transactions: got %d, want %d", s, 2*n)
		}
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "retained-B/call")
	})
}

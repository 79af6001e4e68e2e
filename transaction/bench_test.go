package transaction

import (
	"context"
	"testing"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// benchPair makes a client and a server layer over the in-memory network
// on proto, with the server answering 200 to everything.
func benchPair(b *testing.B, proto transport.Protocol) (cl *Layer, dst transport.Addr, done func()) {
	net := newFakeNet()
	cl = net.attach(addrA, proto, &tu{}, Config{})
	sl := net.attach(addrB, proto, &nopTU{}, Config{})
	return cl, transport.Addr{Protocol: proto, AddrPort: addrB}, func() {
		_ = cl.Close()
		_ = sl.Close()
		net.close()
	}
}

// nopTU answers 200 and keeps nothing, so a benchmark's memory is the
// layers' own.
type nopTU struct{}

func (nopTU) HandleRequest(tx *ServerTx) {
	r := sipmsg.NewResponse(tx.Request(), 200, "")
	_ = r.SetToTag("s1")
	_ = tx.Respond(r)
}
func (nopTU) HandleOutside(transport.Inbound)    {}
func (nopTU) HandleServerError(*ServerTx, error) {}

// BenchmarkTransactionNonInvite: one OPTIONS/200 exchange per op, client
// and server transaction, serialization and parsing through the in-memory
// network included; the transactions then wait out Timers K and J.
func BenchmarkTransactionNonInvite(b *testing.B) {
	for _, proto := range []transport.Protocol{transport.UDP, transport.TCP} {
		b.Run("impl=ours/"+proto.String(), func(b *testing.B) {
			cl, dst, done := benchPair(b, proto)
			defer done()
			req := request(b, "OPTIONS", "", proto.String())
			raw := []byte(req.String())
			b.ReportAllocs()
			for b.Loop() {
				m, err := sipmsg.Parse(raw)
				if err != nil {
					b.Fatal(err)
				}
				tx, err := cl.Request(context.Background(), m, dst)
				if err != nil {
					b.Fatal(err)
				}
				for r := range tx.Responses() {
					if r.StatusCode >= 200 {
						break
					}
				}
			}
		})
	}
}

// BenchmarkTransactionInvite: one INVITE/200/ACK exchange per op through
// both layers; the transactions then wait out Timers M and L (32 s).
func BenchmarkTransactionInvite(b *testing.B) {
	for _, proto := range []transport.Protocol{transport.UDP, transport.TCP} {
		b.Run("impl=ours/"+proto.String(), func(b *testing.B) {
			cl, dst, done := benchPair(b, proto)
			defer done()
			raw := []byte(request(b, "INVITE", "", proto.String()).String())
			b.ReportAllocs()
			for b.Loop() {
				m, err := sipmsg.Parse(raw)
				if err != nil {
					b.Fatal(err)
				}
				tx, err := cl.Request(context.Background(), m, dst)
				if err != nil {
					b.Fatal(err)
				}
				for r := range tx.Responses() {
					if r.StatusCode >= 200 {
						if err := ack2xx(cl, tx, r, dst); err != nil {
							b.Fatal(err)
						}
						break
					}
				}
			}
		})
	}
}

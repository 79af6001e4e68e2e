package transaction

import (
	"context"
	"testing"

	"github.com/xphone-go/xphone/internal/transport"
)

// BenchmarkNonInviteUDP: one OPTIONS/200 non-INVITE transaction per op,
// a client and a server layer in one process over real loopback UDP
// sockets (transport.Manager on each side): build, send, parse, match,
// answer, parse, deliver. Allocations per op are per transaction, both
// sides and both transports together. The transactions then wait out
// Timers K and J (T4 = 50 ms, 64*T1 = 640 ms).
func BenchmarkNonInviteUDP(b *testing.B) {
	b.Run("impl=ours", func(b *testing.B) {
		uas := newSockNode(b, transport.UDP, "127.0.0.1", nil)
		uac := newSockNode(b, transport.UDP, "127.0.0.1", nil)
		dst := uas.addr()
		d := &dialog{callID: "bench@127.0.0.1", fromTag: "b1", seq: 1}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			tx, err := uac.l.Request(ctx, uac.newRequest("OPTIONS", dst, d, ""), dst)
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

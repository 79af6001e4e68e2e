package xphone_test

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// benchPhone returns a connected phone that takes INVITEs directly on a
// loopback port, and the SIP URI that reaches it.
func benchPhone(b *testing.B, user string) (xphone.Phone, string) {
	b.Helper()
	// The facade does not say which port ListenAddr ":0" got, so take a
	// free one first.
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	p, err := xphone.New(xphone.Config{
		Username:     user,
		ListenAddr:   addr,
		RTPAddress:   netip.MustParseAddr("127.0.0.1"),
		Codecs:       []xphone.Codec{xphone.CodecPCMU},
		MediaTimeout: -1,
		SessionTimer: -1,
	})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Connect(ctx); err != nil {
		b.Fatalf("Connect: %v", err)
	}
	b.Cleanup(func() { p.Disconnect(context.Background()) })
	return p, "sip:" + user + "@" + addr
}

// BenchmarkCallSetupTeardown measures one whole call between two phones in
// the process over loopback UDP: Dial, Accept, both sides Active, End, and
// both sides Ended (INVITE/180/200/ACK, BYE/200, two media sessions opened
// and closed). Allocations count both phones.
func BenchmarkCallSetupTeardown(b *testing.B) {
	b.Run("impl=ours", func(b *testing.B) {
		callee, uri := benchPhone(b, "callee")
		caller, _ := benchPhone(b, "caller")
		incoming := make(chan xphone.Call, 1)
		acceptErr := make(chan error, 1)
		callee.OnIncoming(func(c xphone.Call) {
			// Accept sends the 200 OK; callbacks must return promptly.
			go func() {
				if err := c.Accept(context.Background()); err != nil {
					acceptErr <- err
					return
				}
				incoming <- c
			}()
		})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		b.ReportAllocs()
		for b.Loop() {
			out, err := caller.Dial(ctx, uri)
			if err != nil {
				b.Fatalf("Dial: %v", err)
			}
			var in xphone.Call
			select {
			case in = <-incoming:
			case err := <-acceptErr:
				b.Fatalf("Accept: %v", err)
			case <-ctx.Done():
				b.Fatal("no incoming call")
			}
			if got, want := out.State(), xphone.StateActive; got != want {
				b.Fatalf("caller state: got %v, want %v", got, want)
			}
			if got, want := in.State(), xphone.StateActive; got != want {
				b.Fatalf("callee state: got %v, want %v", got, want)
			}
			if err := out.End(ctx); err != nil {
				b.Fatalf("End: %v", err)
			}
			select {
			case <-in.Context().Done():
			case <-ctx.Done():
				b.Fatal("callee did not end")
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	})
}

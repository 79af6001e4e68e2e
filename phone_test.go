package xphone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/audiotest"
)

func listeningPhone(t *testing.T) Phone {
	t.Helper()
	p, err := New(Config{Username: "p", ListenAddr: "127.0.0.1:0", MediaTimeout: -1, RTPAddress: netipLoopback()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { p.Disconnect(context.Background()) })
	return p
}

func phoneURI(p Phone) string {
	ph := p.(*phone)
	host, port := ph.ua.LocalAddr()
	return "sip:callee@" + net.JoinHostPort(host, strconv.Itoa(port))
}

func TestPhoneCallThroughFacade(t *testing.T) {
	callee := listeningPhone(t)
	caller := listeningPhone(t)
	got := make(chan Call, 1)
	callee.OnIncoming(func(c Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
		got <- c
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := caller.Dial(ctx, phoneURI(callee))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	in := <-got
	if c.State() != StateActive || c.Codec() != CodecPCMU || c.Direction() != Outbound || in.Direction() != Inbound {
		t.Errorf("got state %v codec %v direction %v/%v, want Active PCMU outbound/inbound", c.State(), c.Codec(), c.Direction(), in.Direction())
	}
	if got, want := len(caller.Calls()), 1; got != want {
		t.Errorf("Calls: got %d, want %d", got, want)
	}
	go func() {
		g := audiotest.ToneGenerator{Freq: 600, SampleRate: 8000, Amplitude: 8000}
		for {
			f := make([]int16, 160)
			g.Fill(f)
			select {
			case c.PCMWriter() <- f:
			case <-c.Context().Done():
				return
			}
			select {
			case <-time.After(20 * time.Millisecond):
			case <-c.Context().Done():
				return
			}
		}
	}()
	var heard []int16
	for len(heard) < 160*35 {
		select {
		case f := <-in.PCMReader():
			heard = append(heard, f...)
		case <-ctx.Done():
			t.Fatal("no audio")
		}
	}
	if err := audiotest.CheckTone(heard[160*10:], 8000, 600, 15); err != nil {
		t.Errorf("callee heard: %v", err)
	}
	ended := make(chan EndReason, 1)
	in.OnEnded(func(r EndReason) { ended <- r })
	if err := c.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	var r EndReason
	if !errors.As(context.Cause(c.Context()), &r) || r != EndLocalHangup {
		t.Errorf("caller context cause: got %v, want %v", context.Cause(c.Context()), EndLocalHangup)
	}
	select {
	case r := <-ended:
		if r != EndRemoteHangup {
			t.Errorf("callee OnEnded: got %v, want %v", r, EndRemoteHangup)
		}
	case <-ctx.Done():
		t.Fatal("callee did not end")
	}
	if err := c.End(ctx); !errors.Is(err, ErrInvalidState) {
		t.Errorf("End twice: got %v, want ErrInvalidState", err)
	}
}

func TestPhoneDialRefused(t *testing.T) {
	for _, tc := range []struct {
		code int
		want error
	}{{486, ErrBusy}, {603, ErrDeclined}, {404, ErrNotFound}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			callee := listeningPhone(t)
			caller := listeningPhone(t)
			callee.OnIncoming(func(c Call) { c.Reject(context.Background(), tc.code, "") })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := caller.Dial(ctx, phoneURI(callee))
			var se *StatusError
			if !errors.Is(err, tc.want) || !errors.As(err, &se) || se.Code != tc.code {
				t.Errorf("Dial: got %v, want a %d StatusError matching %v", err, tc.code, tc.want)
			}
		})
	}
}

func TestPhoneDialTimeoutCancels(t *testing.T) {
	callee := listeningPhone(t)
	caller := listeningPhone(t)
	ended := make(chan EndReason, 1)
	callee.OnIncoming(func(c Call) { c.OnEnded(func(r EndReason) { ended <- r }) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := caller.Dial(ctx, phoneURI(callee), WithTimeout(300*time.Millisecond))
	if !errors.Is(err, ErrDialTimeout) {
		t.Fatalf("Dial: got %v, want ErrDialTimeout", err)
	}
	select {
	case r := <-ended:
		if r != EndCancelled {
			t.Errorf("callee end reason: got %v, want %v", r, EndCancelled)
		}
	case <-ctx.Done():
		t.Fatal("the callee's call was not cancelled")
	}
}

func netipLoopback() netip.Addr { return netip.MustParseAddr("127.0.0.1") }

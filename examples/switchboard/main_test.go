package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/leakcheck"
	"github.com/xphone-go/xphone/phonetest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// wait bounds every wait: it turns a hang into a failure and is never an
// assertion about time.
const wait = 10 * time.Second

// syncBuffer is a bytes.Buffer safe for the board's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// TestSwitchboard: through the in-process PBX, the board (1000) watches
// 1001; 1002 calls the board, which announces the call to 1001 and
// transfers it there: 1001's phone gets the caller by Replaces
// (OnReplaced), the caller's call goes on with 1001, and the board printed
// its voicemail, 1001's lamp and presence, and the transfer.
func TestSwitchboard(t *testing.T) {
	pbx := phonetest.StartPBX(t, phonetest.PBXConfig{Users: map[string]string{"1000": "pw", "1001": "pw", "1002": "pw"}})
	pbx.SetVoicemail("1000", 1, 0)
	config := func(user string) xphone.Config {
		return xphone.Config{Username: user, Password: "pw", ListenAddr: "127.0.0.1:0", MediaTimeout: -1,
			Host: pbx.Addr().Addr().String(), Port: int(pbx.Addr().Port()), NATKeepaliveInterval: -1}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	connect := func(user string) xphone.Phone {
		p, err := xphone.New(config(user))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Disconnect(context.Background()) })
		return p
	}
	// 1001 answers the announcement and takes the caller over.
	ext := connect("1001")
	replaced := make(chan xphone.Call, 1)
	ext.OnIncoming(func(c xphone.Call) {
		c.OnReplaced(func(n xphone.Call) { replaced <- n })
		c.Accept(context.Background()) //nolint:errcheck // the transfer fails otherwise
	})

	cfg := config("1000")
	cfg.MWI = true
	board, err := xphone.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	done := make(chan error, 1)
	b := &Board{Phone: board, Lines: []string{"1001"}, Out: &out, Route: func(string) string { return "1001" },
		Transferred: func(_ xphone.Call, err error) { done <- err }}
	if err := b.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { board.Disconnect(context.Background()) })

	caller := connect("1002")
	call, err := caller.Dial(ctx, "1000")
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("transfer: %v", err)
		}
	case <-ctx.Done():
		t.Fatalf("the board did not transfer the call\n%s", out.String())
	}
	var taken xphone.Call
	select {
	case taken = <-replaced:
	case <-ctx.Done():
		t.Fatal("1001 was not handed the caller")
	}
	if !strings.HasPrefix(taken.From(), "sip:1002@") || taken.State() != xphone.StateActive {
		t.Errorf("1001's call: from %s, state %v; want 1002, active", taken.From(), taken.State())
	}
	// The caller's phone placed a new call to 1001 (REFER) and its call
	// to the board ended as transferred.
	<-call.Context().Done()
	if r := context.Cause(call.Context()); r != xphone.EndTransferred {
		t.Errorf("caller's call to the board: got %v, want %v", r, xphone.EndTransferred)
	}
	for _, want := range []string{"voicemail: 1 new, 0 old", "lamp 1001: idle", "presence 1001: online true",
		"announcing it to 1001", "connected to 1001"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("board output lacks %q:\n%s", want, out.String())
		}
	}
}

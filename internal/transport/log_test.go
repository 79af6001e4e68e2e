package transport

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a bytes.Buffer safe for the reader goroutines' logs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDebugLogShowsSIPMessages: with a Debug logger, every message sent and
// received is logged whole, so `xphone --log debug` shows the SIP exchange;
// above Debug nothing is.
func TestDebugLogShowsSIPMessages(t *testing.T) {
	var sent, got lockedBuffer
	a := newEndpoint(t, UDP, "127.0.0.1", Config{Logger: slog.New(slog.NewTextHandler(&sent, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	b := newEndpoint(t, UDP, "127.0.0.1", Config{Logger: slog.New(slog.NewTextHandler(&got, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	quiet := newEndpoint(t, UDP, "127.0.0.1", Config{Logger: slog.New(slog.NewTextHandler(&got, &slog.HandlerOptions{Level: slog.LevelInfo}))})

	req := newRequest(a.Manager, UDP)
	if err := a.Send(context.Background(), req, b.addr(UDP)); err != nil {
		t.Fatal(err)
	}
	b.recv(t)
	callID := req.CallID()
	if s := sent.String(); !strings.Contains(s, "sip: sent") || !strings.Contains(s, callID) {
		t.Errorf("sender's debug log lacks the sent message:\n%s", s)
	}
	if s := got.String(); !strings.Contains(s, "sip: received") || !strings.Contains(s, callID) {
		t.Errorf("receiver's debug log lacks the received message:\n%s", s)
	}

	before := got.String()
	req2 := newRequest(quiet.Manager, UDP)
	if err := quiet.Send(context.Background(), req2, b.addr(UDP)); err != nil {
		t.Fatal(err)
	}
	b.recv(t)
	if after := got.String(); strings.Contains(strings.TrimPrefix(after, before), "sip: sent") {
		t.Errorf("an Info logger logged a SIP message:\n%s", after)
	}
}

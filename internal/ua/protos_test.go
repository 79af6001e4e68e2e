package ua

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/protos"
	"github.com/xphone-go/xphone/sipmsg"
)

// TestPROTOSCalls sends every rendered PROTOS c07-sip INVITE (4,527 cases,
// case 0 valid) over UDP to a whole user agent whose OnIncoming answers
// each call that reaches it: the ones the transport and transaction layers
// let through go on to the dialog, SDP negotiation and media. Nothing may
// crash; once every call has ended (never ACKed, they end after 64*T1
// with a BYE), the goroutines are back to where they were and the live
// heap has not grown by more than 2 MiB; and a well-formed call placed
// afterwards is answered and carries the expected state.
//
// Calls go out of the machine's loopback only if a case names another
// host: the header sections are rewritten to name the test's socket
// (protos.WithSender), host names are never looked up (the resolver
// refuses), and a call is answered only when its Contact, Record-Route and
// SDP connection addresses are all 127.0.0.1 (checked with our own parsers
// before sending); every other call is rejected with 488.
func TestPROTOSCalls(t *testing.T) {
	cases, err := protos.Load("../../testdata/vectors/protos/c07-sip-rendered.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != protos.Count {
		t.Fatalf("got %d PROTOS cases, want %d", len(cases), protos.Count)
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadBuffer(4 << 20)
	self := []byte(c.LocalAddr().String())

	// Which calls may be answered: decided from the rewritten cases.
	answerable := map[string]bool{}
	raws := make([][]byte, len(cases))
	for i, pc := range cases {
		raws[i] = protos.WithSender(pc.Raw, self)
		if m, err := sipmsg.Parse(raws[i]); err == nil && onlyLoopback(m) {
			answerable[m.CallID()] = true
		}
	}

	var (
		pending            atomic.Int64 // answers in progress
		mu                 sync.Mutex
		answered, rejected int
	)
	after := make(chan *Call, 1)
	noDNS := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in this test")
	}}
	u := newUA(t, func(cfg *Config) {
		cfg.T1 = 10 * time.Millisecond
		cfg.Resolver = noDNS
		cfg.Media = media.Options{Address: netip.MustParseAddr("127.0.0.1"), MediaTimeout: -1}
		cfg.OnIncoming = func(call *Call) {
			if strings.HasPrefix(call.CallID(), "after-protos") {
				after <- call
				return
			}
			pending.Add(1)
			go func() { // OnIncoming must return promptly
				defer pending.Add(-1)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				ok := answerable[call.CallID()]
				if ok {
					ok = call.Accept(ctx) == nil
				} else {
					_ = call.Reject(ctx, 488, "")
				}
				mu.Lock()
				if ok {
					answered++
				} else {
					rejected++
				}
				mu.Unlock()
			}()
		}
	})
	dst := net.UDPAddrFromAddrPort(netipAddr(u))

	// Drain what the UA sends (100, 180, 200 and their retransmissions,
	// 4xx, BYEs of calls never ACKed), answering nothing; count the final
	// answers to the INVITEs, once per Call-ID.
	readerDone := make(chan struct{})
	finals := map[int]int{}
	go func() {
		defer close(readerDone)
		buf := make([]byte, 65536)
		seen := map[string]bool{}
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return // closed
			}
			m, err := sipmsg.Parse(buf[:n])
			if err != nil || m.IsRequest() || m.StatusCode < 200 || seen[m.CallID()] {
				continue
			}
			if cs, err := m.CSeq(); err == nil && cs.Method == "INVITE" {
				seen[m.CallID()] = true
				mu.Lock()
				finals[m.StatusCode]++
				mu.Unlock()
			}
		}
	}()
	defer func() {
		c.Close()
		<-readerDone
	}()

	baseG := runtime.NumGoroutine()
	baseHeap := heapAfterGC()
	start := time.Now()
	// Never more than a socket buffer's worth ahead of what the transport
	// has read: a datagram the kernel drops would prove nothing.
	processed := func() uint64 {
		s := u.tm.Stats()
		return s.Received + s.Dropped
	}
	const maxAhead = 32
	sent, tooBig := 0, 0
	deadline := time.Now().Add(60 * time.Second)
	for _, b := range raws {
		for uint64(sent) >= processed()+maxAhead {
			if time.Now().After(deadline) {
				t.Fatalf("the transport read %d of %d datagrams within 60 s", processed(), sent)
			}
			runtime.Gosched()
		}
		if _, err := c.WriteToUDP(b, dst); err != nil {
			if len(b) > 65507 {
				tooBig++
				continue
			}
			t.Fatalf("send %d bytes: %v", len(b), err)
		}
		sent++
	}

	// Quiescence: every datagram read, every call ended, the goroutines of
	// the answers and of the calls gone.
	for {
		u.mu.Lock()
		calls := len(u.calls)
		u.mu.Unlock()
		if processed() == uint64(sent) && calls == 0 && pending.Load() == 0 && runtime.NumGoroutine() <= baseG {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not quiet after 60 s: read %d of %d, %d calls, %d goroutines (were %d)",
				processed(), sent, calls, runtime.NumGoroutine(), baseG)
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := u.tm.Stats()
	mu.Lock()
	t.Logf("%d sent (%d too large for UDP) in %v: %d reached the transaction layer (%d unparsable, %d answered 400); %d calls answered, %d rejected; final answers by code: %v",
		sent, tooBig, time.Since(start).Round(time.Millisecond), st.Received, st.ParseErrors, st.BadRequests, answered, rejected, finals)
	if answered == 0 {
		t.Errorf("no call was answered, want at least case 0's")
	}
	mu.Unlock()
	if grown := int64(heapAfterGC()) - int64(baseHeap); grown > 2<<20 {
		t.Errorf("live heap grew by %d bytes after the PROTOS run, want at most 2 MiB", grown)
	}

	// Still serving: a well-formed call is answered and becomes active.
	p := newPeer(t)
	inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
	inv.Set("Call-ID", "after-protos-"+token())
	p.send(inv, netipAddr(u))
	call := recvCall(t, after)
	go func() { _ = call.Accept(context.Background()) }()
	ok := p.next("200", isResp(200, "INVITE"))
	p.send(p.ack(inv, ok.m, ""), ok.from)
	waitState(t, call, StateActive)
	p.hangupFrom(call)
}

// onlyLoopback reports whether every address a call set up by m would send
// to is 127.0.0.1: its Contact, its Record-Route entries and the SDP
// connection lines.
func onlyLoopback(m *sipmsg.Message) bool {
	if m.Validate() != nil {
		return false // never reaches a call
	}
	c, err := m.Contact()
	if err != nil || c.URI.Host != "127.0.0.1" {
		return false
	}
	rr, err := m.RecordRoute()
	if err != nil {
		return false
	}
	for _, r := range rr {
		if r.URI.Host != "127.0.0.1" {
			return false
		}
	}
	for _, line := range bytes.Split(m.Body, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if bytes.HasPrefix(line, []byte("c=")) && !bytes.Equal(line, []byte("c=IN IP4 127.0.0.1")) {
			return false
		}
	}
	return true
}

// heapAfterGC returns the live heap after two collections.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

package transaction

import (
	"bytes"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/protos"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// heapAfterGC returns the live heap after two collections.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestPROTOSOverUDP sends every rendered PROTOS c07-sip INVITE (4527
// cases, one valid) over real UDP to a listening transport and layer whose
// TU answers what reaches it. Nothing may crash; once the layer is quiet it
// holds no transaction, the goroutine count is back where it was and the
// live heap has not grown by more than 1 MiB; and a valid OPTIONS sent
// afterwards is answered 200.
//
// The cases name 127.0.0.1:5062 in their Via; the header section is
// rewritten to name the sending socket instead, so that answers come back
// to the test and not to whatever may listen on 5062. Cases larger than a
// UDP datagram can carry are counted and skipped by the kernel's EMSGSIZE.
func TestPROTOSOverUDP(t *testing.T) {
	cases, err := protos.Load("../testdata/vectors/protos/c07-sip-rendered.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != protos.Count {
		t.Fatalf("got %d PROTOS cases, want 4527", len(cases))
	}
	uas := newSockNode(t, transport.UDP, "127.0.0.1", nil)
	dst := net.UDPAddrFromAddrPort(uas.m.LocalAddr(transport.UDP))
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	self := []byte(c.LocalAddr().String())
	_ = c.SetReadBuffer(4 << 20)

	// Drain what the layer answers (180 and 200 to the INVITEs that reach
	// the TU) so the test socket never overflows; report the answer to the
	// final OPTIONS.
	answered := make(chan int, 1)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		buf := make([]byte, 65536)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return // closed
			}
			m, err := sipmsg.Parse(buf[:n])
			if err == nil && !m.IsRequest() && m.CallID() == "after-protos@127.0.0.1" {
				answered <- m.StatusCode
				return
			}
		}
	}()
	defer func() {
		c.Close()
		<-readerDone
	}()
	start := time.Now()
	baseG := runtime.NumGoroutine()
	baseHeap := heapAfterGC()

	// Send back to back, but never more than a socket buffer's worth ahead
	// of what the transport has read: a loopback datagram the kernel drops
	// for want of room would prove nothing about the layer. The transport's
	// single UDP reader takes datagrams in order, so the k-th read is the
	// k-th sent.
	processed := func() uint64 {
		s := uas.m.Stats()
		return s.Received + s.Dropped
	}
	const maxAhead, maxAheadBytes = 32, 96 << 10
	var (
		sizes        []int
		ahead        int // bytes sent and not yet read
		done         uint64
		tooBig       int
		sendDeadline = time.Now().Add(sockWait)
	)
	for _, pc := range cases {
		b := protos.WithSender(pc.Raw, self)
		for len(sizes)-int(done) >= maxAhead || (ahead+len(b) > maxAheadBytes && len(sizes) > int(done)) {
			if n := processed(); n > done {
				for ; done < n && int(done) < len(sizes); done++ {
					ahead -= sizes[done]
				}
				continue
			}
			if time.Now().After(sendDeadline) {
				t.Fatalf("transport read %d of %d datagrams within %v", done, len(sizes), sockWait)
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
		sizes = append(sizes, len(b))
		ahead += len(b)
	}
	// Quiescence: every datagram read, every transaction ended (T1 = 10 ms,
	// so Timers J and L are 640 ms), the timer goroutines gone.
	deadline := time.Now().Add(sockWait)
	for {
		cl, sv := uas.l.counts()
		if processed() == uint64(len(sizes)) && cl == 0 && sv == 0 && runtime.NumGoroutine() <= baseG {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not quiet after %v: read %d of %d, transactions %d/%d, goroutines %d, were %d",
				sockWait, processed(), len(sizes), cl, sv, runtime.NumGoroutine(), baseG)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("sent and quiet after %v", time.Since(start))
	st := uas.m.Stats()
	uas.ua.mu.Lock()
	invites := len(uas.ua.methods)
	uas.ua.mu.Unlock()
	t.Logf("%d sent (%d too large for UDP): %d reached the layer, %d INVITEs reached the TU; transport dropped %d (%d unparsable, %d answered 400)",
		len(sizes), tooBig, st.Received, invites, st.Dropped, st.ParseErrors, st.BadRequests)
	if invites == 0 {
		t.Errorf("no INVITE reached the TU, want at least the valid case 0")
	}
	if grown := int64(heapAfterGC()) - int64(baseHeap); grown > 1<<20 {
		t.Errorf("live heap grew by %d bytes after the PROTOS run, want at most 1 MiB", grown)
	}

	// Still serving: a valid OPTIONS is answered 200.
	opt := "OPTIONS sip:uas@" + dst.String() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + string(self) + ";branch=z9hG4bK-after-protos\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:protos@127.0.0.1>;tag=p\r\nTo: <sip:uas@127.0.0.1>\r\n" +
		"Call-ID: after-protos@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.WriteToUDP([]byte(opt), dst); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-answered:
		if code != 200 {
			t.Fatalf("OPTIONS after PROTOS: got %d, want 200", code)
		}
	case <-time.After(sockWait):
		t.Fatal("no answer to the OPTIONS after the PROTOS run")
	}
}

// TestPROTOSOverTCP sends every PROTOS case over TCP, each on a connection
// of its own (a message with broken framing ends its connection), with the
// Via naming TCP. Each connection is closed once its case is written, so
// the layer's answers may meet a closed socket. Nothing may crash; once
// every connection is closed on the listening side, no transaction, no
// connection and no goroutine is left, and a valid OPTIONS on a new
// connection is answered 200.
func TestPROTOSOverTCP(t *testing.T) {
	cases, err := protos.Load("../testdata/vectors/protos/c07-sip-rendered.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	uas := newSockNode(t, transport.TCP, "127.0.0.1", nil)
	dst := net.TCPAddrFromAddrPort(uas.m.LocalAddr(transport.TCP))
	baseG := runtime.NumGoroutine()
	open := func() int {
		s := uas.m.Stats()
		return int(s.ConnsOpened) - int(s.ConnsClosed)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, pc := range cases {
		for open() >= 16 { // bounded: the listener's MaxConns is not under test
			if time.Now().After(deadline) {
				t.Fatalf("%d connections still open after 60 s", open())
			}
			runtime.Gosched()
		}
		c, err := net.DialTCP("tcp", nil, dst)
		if err != nil {
			t.Fatal(err)
		}
		self := []byte(c.LocalAddr().String())
		b := protos.WithSender(bytes.Replace(pc.Raw, []byte("SIP/2.0/UDP"), []byte("SIP/2.0/TCP"), 1), self)
		if _, err := c.Write(b); err != nil {
			t.Fatalf("%s: write: %v", pc.Name, err)
		}
		c.Close()
	}
	for {
		cl, sv := uas.l.counts()
		if open() == 0 && cl == 0 && sv == 0 && runtime.NumGoroutine() <= baseG {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not quiet after 60 s: %d connections open, transactions %d/%d, goroutines %d, were %d",
				open(), cl, sv, runtime.NumGoroutine(), baseG)
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := uas.m.Stats()
	t.Logf("%d connections: %d messages reached the layer, %d unparsable, %d answered 400, %d refused",
		st.ConnsOpened, st.Received, st.ParseErrors, st.BadRequests, st.ConnsRefused)

	c, err := net.DialTCP("tcp", nil, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	self := c.LocalAddr().String()
	opt := "OPTIONS sip:uas@" + dst.String() + ";transport=tcp SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP " + self + ";branch=z9hG4bK-after-protos\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:protos@127.0.0.1>;tag=p\r\nTo: <sip:uas@127.0.0.1>\r\n" +
		"Call-ID: after-protos@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(opt)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(sockWait))
	m, _, err := sipmsg.NewReader(c, nil).Read()
	if err != nil {
		t.Fatalf("no answer to the OPTIONS after the PROTOS run: %v", err)
	}
	if m.StatusCode != 200 {
		t.Fatalf("OPTIONS after PROTOS: got %d, want 200", m.StatusCode)
	}
}

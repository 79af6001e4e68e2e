//go:build linux && (amd64 || arm64)

// Command flooruas answers SIPp's built-in "uac" scenario with no SIP
// stack at all: the floor under minuas's CPU per call. It reads datagrams
// as the transport's UDP listener does (a goroutine blocked in recvmmsg,
// batches of up to 16, a yield to the scheduler every 5 ms) and answers
// INVITE, BYE and OPTIONS with a 200 made by copying the request's Via,
// From, To, Call-ID and CSeq lines; ACK gets nothing. There is no parsing
// beyond finding those lines, no validation, no transaction, no
// retransmission and no memory of calls: what is left is the kernel's
// UDP work, the runtime's scheduling and a copy of each response.
//
//	flooruas -addr 127.0.0.1:15080 -max-time 15m -http 127.0.0.1:0
//	MINUAS_BIN=/tmp/flooruas bash interop/cmd/minuas/cps.sh
//
// Its flags and output are minuas's where cps.sh reads them: it prints
// "listening=ADDR" and, with -http, "http=ADDR" on stderr, serves /stats
// (goroutines and the live heap after a GC) there, and exits after
// -max-time. It only binds loopback addresses. Linux (amd64, arm64) only.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/xphone-go/xphone/internal/udpsock"
)

// The transport's values (internal/transport/udp_linux.go).
const (
	batchSize  = 16
	yieldEvery = 5 * time.Millisecond
	wake       = 5 * time.Second
	maxMessage = 65535
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5060", "UDP listen address (loopback only)")
	maxTime := flag.Duration("max-time", 10*time.Minute, "exit after this long")
	httpAddr := flag.String("http", "", "serve /stats on this loopback address")
	flag.Parse()

	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || !ap.Addr().IsLoopback() {
		log.Fatalf("flooruas: -addr %q: want a loopback address and port", *addr)
	}
	c, err := udpsock.Listen(ap, true, wake)
	if err != nil {
		log.Fatalf("flooruas: %v", err)
	}
	if err := c.SetReadBuffer(2 << 20); err != nil {
		log.Printf("flooruas: receive buffer: %v", err)
	}
	f := &floor{c: c, contact: []byte("Contact: <sip:floor@" + c.LocalAddr().String() + ">\r\n")}
	fmt.Fprintf(os.Stderr, "listening=%s\n", c.LocalAddr())

	if *httpAddr != "" {
		hl, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			log.Fatalf("flooruas: -http: %v", err)
		}
		if a, ok := hl.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
			log.Fatalf("flooruas: -http %q is not loopback", *httpAddr)
		}
		http.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(w, "%s\nheap_alloc=%d\n", strings.ReplaceAll(f.stats(), " ", "\n"), ms.HeapAlloc)
		})
		fmt.Fprintf(os.Stderr, "http=%s\n", hl.Addr())
		go func() { _ = http.Serve(hl, nil) }()
	}

	done := make(chan struct{})
	go func() { f.read(); close(done) }()
	time.Sleep(*maxTime)
	c.Shutdown()
	<-done
	_ = c.Close()
	fmt.Fprintln(os.Stderr, f.stats())
}

type floor struct {
	c       *udpsock.Conn
	contact []byte
	out     []byte // the response being built; used by the reader only

	answered, ignored, errs atomic.Int64
}

func (f *floor) stats() string {
	return fmt.Sprintf("stats: answered=%d ignored=%d errors=%d goroutines=%d",
		f.answered.Load(), f.ignored.Load(), f.errs.Load(), runtime.NumGoroutine())
}

// read is the one reading goroutine, as the transport's readUDP.
func (f *floor) read() {
	b := udpsock.NewBatch(batchSize, maxMessage+1)
	yielded := time.Now()
	for {
		if now := time.Now(); now.Sub(yielded) >= yieldEvery {
			runtime.Gosched()
			yielded = now
		}
		n, err := b.Read(f.c)
		if err != nil {
			return // shut down
		}
		for i := range n {
			d, from := b.Datagram(i)
			f.answer(d, from)
		}
	}
}

// answer sends a 200 to an INVITE, BYE or OPTIONS request.
func (f *floor) answer(req []byte, to netip.AddrPort) {
	out, ok := respond(f.out[:0], req, f.contact)
	f.out = out
	if !ok {
		f.ignored.Add(1) // ACK, responses, anything else
		return
	}
	if err := f.c.WriteTo(out, to); err != nil {
		f.errs.Add(1)
		return
	}
	f.answered.Add(1)
}

// respond appends to out a 200 to req when it is an INVITE, BYE or
// OPTIONS: the request's Via, From, To (with a tag), Call-ID and CSeq
// lines as they are, then contact (a whole Contact line) and
// Content-Length: 0. It reports false, having appended nothing, for
// anything else.
func respond(out, req, contact []byte) ([]byte, bool) {
	line, rest, _ := bytes.Cut(req, []byte("\r\n"))
	method, _, _ := bytes.Cut(line, []byte(" "))
	switch string(method) {
	case "INVITE", "BYE", "OPTIONS":
	default:
		return out, false
	}
	out = append(out, "SIP/2.0 200 OK\r\n"...)
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		if len(line) == 0 {
			break // the end of the headers
		}
		name, _, _ := bytes.Cut(line, []byte(":"))
		name = bytes.TrimSpace(name)
		switch {
		case isName(name, "Via", "v"), isName(name, "From", "f"), isName(name, "Call-ID", "i"), isName(name, "CSeq", ""):
			out = append(append(out, line...), "\r\n"...)
		case isName(name, "To", "t"):
			out = append(out, line...)
			if !bytes.Contains(line, []byte("tag=")) {
				out = append(out, ";tag=floor"...)
			}
			out = append(out, "\r\n"...)
		}
	}
	out = append(out, contact...)
	return append(out, "Content-Length: 0\r\n\r\n"...), true
}

// isName reports whether a header name is long or its compact form.
func isName(name []byte, long, compact string) bool {
	return bytes.EqualFold(name, []byte(long)) || (compact != "" && bytes.EqualFold(name, []byte(compact)))
}

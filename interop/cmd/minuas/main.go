// Command minuas is a minimal SIP user agent built directly on
// internal/transport and transaction, with no dialog or call layer: the
// answering UA of the interop and load tests, and a caller for them.
//
// As a UAS (the default) it listens on UDP and answers OPTIONS with 200,
// INVITE with 200 (after 180 with -ringing; with a fixed SDP with -sdp;
// with another final status, such as 486, with -reject),
// retransmitting the 2xx until the ACK arrives, and BYE with 200:
//
//	minuas -addr 127.0.0.1:5060 -max-time 5m -http 127.0.0.1:0
//
// With -call it places -calls calls one after another to the URI
// (INVITE, ACK for every 2xx, -hold, BYE) and exits 0 when all succeeded:
//
//	minuas -addr 127.0.0.1:0 -call sip:sipp@127.0.0.1:5090 -calls 2 -hold 500ms
//
// It only binds loopback addresses. With -http it serves /stats (counters,
// goroutines and the live heap after a GC, one "name=value" per line) and
// net/http/pprof under /debug/pprof/ on that loopback address, and prints
// "http=ADDR" on stderr. It prints "listening=ADDR" on stderr when ready and
// a stats line when it exits (after -max-time, SIGINT or SIGTERM).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5060", "UDP listen address (loopback only; port 0 picks one)")
	maxTime := flag.Duration("max-time", 10*time.Minute, "exit after this long")
	httpAddr := flag.String("http", "", "serve /stats and /debug/pprof on this loopback address")
	ringing := flag.Bool("ringing", false, "send 180 Ringing before 200")
	withSDP := flag.Bool("sdp", false, "put a fixed SDP in INVITE and 200")
	reject := flag.Int("reject", 0, "answer INVITE with this final status (300-699) instead of 200")
	readers := flag.Int("readers", 1, "UDP reading goroutines (more contend for the socket: 2 collapsed at 8000 calls/s where 1 ran clean)")
	rcvbuf := flag.Int("rcvbuf", 0, "UDP receive buffer in bytes (0: transport default, -1: system default)")
	target := flag.String("call", "", "place calls to this SIP URI instead of only answering")
	calls := flag.Int("calls", 1, "number of calls with -call")
	hold := flag.Duration("hold", 0, "time between the ACK and the BYE with -call")
	flag.Parse()

	if *reject != 0 && (*reject < 300 || *reject > 699) {
		log.Fatalf("minuas: -reject %d: want a status from 300 to 699", *reject)
	}
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || !ap.Addr().IsLoopback() {
		log.Fatalf("minuas: -addr %q: want a loopback address and port", *addr)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	u := &ua{tag: "minuas" + fmt.Sprint(os.Getpid()), ringing: *ringing, reject: *reject, pending: make(map[string]*answer),
		t1: transaction.DefaultT1, t2: transaction.DefaultT2}
	var l *transaction.Layer
	u.m = transport.New(transport.Config{
		Handler:       func(in transport.Inbound) { l.HandleInbound(in) },
		Logger:        logger,
		UDPReaders:    *readers,
		UDPReadBuffer: *rcvbuf,
	})
	l = transaction.New(u.m, u, transaction.Config{Logger: logger})
	u.l = l
	if err := u.m.Listen(context.Background(), transport.UDP, ap.String()); err != nil {
		log.Fatalf("minuas: %v", err)
	}
	u.local = u.m.LocalAddr(transport.UDP)
	u.contact = "<sip:minuas@" + u.local.String() + ">"
	if *withSDP {
		u.sdp = fixedSDP(u.local.Addr())
	}
	fmt.Fprintf(os.Stderr, "listening=%s\n", u.local)

	if *httpAddr != "" {
		hl, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			log.Fatalf("minuas: -http: %v", err)
		}
		if a, ok := hl.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
			log.Fatalf("minuas: -http %q is not loopback", *httpAddr)
		}
		http.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(w, "%s\nheap_alloc=%d\nheap_objects=%d\n", strings.ReplaceAll(u.stats(), " ", "\n"), ms.HeapAlloc, ms.HeapObjects)
		})
		fmt.Fprintf(os.Stderr, "http=%s\n", hl.Addr())
		go func() { _ = http.Serve(hl, nil) }()
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, *maxTime)
	defer cancelTime()

	code := 0
	if *target != "" {
		code = u.placeCalls(ctx, *target, *calls, *hold)
	} else {
		<-ctx.Done()
	}
	_ = l.Close()
	_ = u.m.Close()
	fmt.Fprintln(os.Stderr, u.stats())
	os.Exit(code)
}

// placeCalls places n calls to target one after another and returns the
// exit status: 0 when every call succeeded.
func (u *ua) placeCalls(ctx context.Context, target string, n int, hold time.Duration) int {
	uri, err := sipmsg.ParseURI(target)
	if err != nil {
		log.Printf("minuas: -call: %v", err)
		return 2
	}
	hp, err := netip.ParseAddr(uri.Host)
	if err != nil || !hp.IsLoopback() || uri.Port == 0 {
		log.Printf("minuas: -call %q: want a loopback IP address and a port", target)
		return 2
	}
	dst := transport.Addr{Protocol: transport.UDP, AddrPort: netip.AddrPortFrom(hp, uint16(uri.Port))}
	failed := 0
	for i := range n {
		if err := u.call(ctx, uri, dst, hold); err != nil {
			log.Printf("minuas: call %d: %v", i+1, err)
			failed++
		}
	}
	fmt.Fprintf(os.Stderr, "calls=%d ok=%d failed=%d\n", n, n-failed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// stats is one line of counters.
func (u *ua) stats() string {
	s := u.m.Stats()
	return fmt.Sprintf("stats: options=%d invites=%d acks=%d byes=%d others=%d retrans_2xx=%d errors=%d pending_2xx=%d goroutines=%d received=%d dropped=%d",
		u.options.Load(), u.invites.Load(), u.acks.Load(), u.byes.Load(), u.others.Load(), u.retrans2xx.Load(),
		u.errs.Load(), u.pendingAnswers(), runtime.NumGoroutine(), s.Received, s.Dropped)
}

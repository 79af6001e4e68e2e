// Command xphone-load measures how many concurrent calls with RTP media
// xphone sustains, shaped exactly like the peer harness's diago-load
// (../shared/peerbench/cmd/diago-load) so the two can run side by side.
// One binary, two modes, both on loopback only:
//
//	xphone-load uas -listen 127.0.0.1:15260
//	    answers every INVITE with PCMU and echoes the audio: each frame read
//	    from the call's PCMReader is written to its PCMWriter, until the
//	    caller hangs up.
//
//	xphone-load uac -target 127.0.0.1:15260 -calls N -duration 60s -ramp 10s [-uas-pid PID]
//	    places N calls spread evenly over -ramp; each sends one 20 ms frame
//	    (160 PCMU octets, a 1 kHz tone) every 20 ms on an absolute schedule
//	    (one sender goroutine writes every call's frames, spread over four
//	    5 ms slots, to its RTPWriter; -write pcm decodes them onto its
//	    PCMWriter) and reads everything that comes back (from
//	    RTPRawReader, as diago-load reads raw payloads; -read pcm reads the
//	    decoded PCMReader instead). When every call attempt has returned,
//	    the steady phase of -duration starts; CPU (utime+stime of this
//	    process and of -uas-pid), machine busy time and the kernel's UDP
//	    drops are sampled at its start and end. Then sending stops, -drain
//	    is waited for the echo, and all calls are hung up (spread over
//	    -hangup-ramp). The last line of stdout is "RESULT key=value ...".
//
// The first 9 octets of each frame carry the send time (ns since the UAC
// started, 7 bits per octet with the top bit set, octets that survive
// µ-law decoding and re-encoding unchanged), so the UAC measures the echo
// round trip; the rest is the tone and is checked on return.
//
// RTP ports are disjoint (defaults: UAS 16000-23998, UAC 24000-31998).
// Both modes print "stats ..." to stderr every -stats-every and exit by
// themselves (-max-time). -pprof ADDR serves net/http/pprof on a loopback
// address for profiling under load.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	_ "net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"strconv"
	"syscall"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/g711"
)

const (
	frameDur    = 20 * time.Millisecond
	frameOctets = 160 // 20 ms of 8 kHz µ-law
	markOctets  = 9   // 63-bit send time, 7 bits per octet
)

var procStart = time.Now()

type options struct {
	mode       string
	listen     string
	rtpMin     int
	rtpMax     int
	maxTime    time.Duration
	statsEvery time.Duration
	pprof      string
	// uac only
	target        string
	calls         int
	duration      time.Duration
	ramp          time.Duration
	hangupRamp    time.Duration
	drain         time.Duration
	inviteTimeout time.Duration
	uasPID        int
	read          string
	write         string
	echo          string
	trim          bool
	jitterMin     time.Duration
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "uas" && os.Args[1] != "uac") {
		fmt.Fprintf(os.Stderr, "usage: %s uas|uac [flags]  (-h for flags)\n", os.Args[0])
		os.Exit(2)
	}
	o := options{mode: os.Args[1]}
	fs := flag.NewFlagSet(o.mode, flag.ExitOnError)
	fs.StringVar(&o.listen, "listen", "", "SIP UDP listen address (loopback); default uas 127.0.0.1:15260, uac 127.0.0.1:15270")
	rtpPorts := fs.String("rtp-ports", "", "RTP port range START-END (even START); default uas 16000-23998, uac 24000-31998")
	fs.DurationVar(&o.maxTime, "max-time", 10*time.Minute, "exit after this long whatever happens")
	fs.DurationVar(&o.statsEvery, "stats-every", 10*time.Second, "print stats to stderr this often")
	fs.StringVar(&o.pprof, "pprof", "", "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6061)")
	logLevel := fs.String("log", "error", "slog level for xphone: debug|info|warn|error")
	fs.StringVar(&o.target, "target", "127.0.0.1:15260", "uac: UAS address (loopback)")
	fs.IntVar(&o.calls, "calls", 100, "uac: number of concurrent calls")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "uac: steady phase (all calls up)")
	fs.DurationVar(&o.ramp, "ramp", 10*time.Second, "uac: calls are started evenly over this period")
	fs.DurationVar(&o.hangupRamp, "hangup-ramp", 2*time.Second, "uac: hangups are spread over this period")
	fs.DurationVar(&o.drain, "drain", 500*time.Millisecond, "uac: wait after the last frame before hanging up (echo in flight)")
	fs.DurationVar(&o.inviteTimeout, "invite-timeout", 15*time.Second, "uac: give up on one INVITE after this")
	fs.BoolVar(&o.trim, "trim", false, "Config.TrimWriteBacklog: drop the oldest queued frame when a backlog persists")
	fs.DurationVar(&o.jitterMin, "jitter-min", 0, "Config.JitterMin (0: the library's default, 20 ms)")
	fs.IntVar(&o.uasPID, "uas-pid", 0, "uac: also sample this process's CPU and VmHWM (the UAS)")
	fs.StringVar(&o.read, "read", "raw", "uac: read the echo from raw|pcm (RTPRawReader or PCMReader)")
	fs.StringVar(&o.write, "write", "rtp", "uac: write the frames to rtp|pcm (RTPWriter, the PCMU payload as is, or PCMWriter, decoded)")
	fs.StringVar(&o.echo, "echo", "pcm", "uas: echo pcm (PCMReader → PCMWriter: jitter buffer, decode, encode) or rtp (RTPRawReader → RTPWriter: the payload as received, like diago-load's AudioReader → AudioWriter)")
	fs.Parse(os.Args[2:])

	if o.listen == "" {
		o.listen = map[string]string{"uas": "127.0.0.1:15260", "uac": "127.0.0.1:15270"}[o.mode]
	}
	if *rtpPorts == "" {
		*rtpPorts = map[string]string{"uas": "16000-23998", "uac": "24000-31998"}[o.mode]
	}
	mustLoopback(o.listen)
	if _, err := fmt.Sscanf(*rtpPorts, "%d-%d", &o.rtpMin, &o.rtpMax); err != nil || o.rtpMin <= 0 || o.rtpMax <= o.rtpMin || o.rtpMin%2 != 0 {
		fatalf("bad -rtp-ports %q", *rtpPorts)
	}
	if o.write != "rtp" && o.write != "pcm" {
		fatalf("bad -write %q: want rtp or pcm", o.write)
	}
	if o.read != "raw" && o.read != "pcm" {
		fatalf("bad -read %q: want raw or pcm", o.read)
	}
	if o.echo != "pcm" && o.echo != "rtp" {
		fatalf("bad -echo %q: want pcm or rtp", o.echo)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		fatalf("%v", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	if o.pprof != "" {
		mustLoopback(o.pprof)
		// Heap profiles fine enough to attribute a few KB per call.
		runtime.MemProfileRate = 4096
		go func() { fmt.Fprintln(os.Stderr, http.ListenAndServe(o.pprof, nil)) }()
	}
	if err := checkMarkerRoundTrip(); err != nil {
		fatalf("%v", err)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, o.maxTime)
	defer cancelT()

	ph, err := xphone.New(xphone.Config{
		Username:         "load-" + o.mode,
		ListenAddr:       o.listen,
		RTPPortMin:       o.rtpMin,
		RTPPortMax:       o.rtpMax,
		RTPAddress:       netip.MustParseAddr("127.0.0.1"),
		Codecs:           []xphone.Codec{xphone.CodecPCMU},
		UserAgent:        "xphone-load-" + o.mode,
		JitterMin:        o.jitterMin,
		TrimWriteBacklog: o.trim,
		SessionTimer:     -1,
		Logger:           logger,
	})
	if err != nil {
		fatalf("%v", err)
	}
	cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
	err = ph.Connect(cctx)
	ccancel()
	if err != nil {
		fatalf("connect: %v", err)
	}
	defer func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		ph.Disconnect(dctx)
		dcancel()
	}()
	fmt.Fprintf(os.Stderr, "xphone-load %s pid %d sip udp %s rtp %d-%d GOMAXPROCS=%d NumCPU=%d %s base %s\n",
		o.mode, os.Getpid(), o.listen, o.rtpMin, o.rtpMax, runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), memStatus(os.Getpid()))

	if o.mode == "uas" {
		runUAS(ctx, ph, o)
		return
	}
	mustLoopback(o.target)
	runUAC(ctx, ph, o)
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "xphone-load: "+format+"\n", a...)
	os.Exit(1)
}

func mustLoopback(addr string) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		fatalf("%v", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		fatalf("refusing non-loopback address %q", addr)
	}
	if port, err := strconv.Atoi(portStr); err != nil || port <= 0 {
		fatalf("bad port in %q", addr)
	}
}

// toneOctets is 20 ms of a 1 kHz tone in µ-law, 8 samples a period.
func toneOctets() []byte {
	pcm := make([]int16, frameOctets)
	for i := range pcm {
		pcm[i] = int16(math.Round(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000)))
	}
	return g711.EncodeUlaw(nil, pcm)
}

// putMark writes t into the first markOctets octets of f, 7 bits each with
// the top bit set: µ-law octets 0x80-0xFF decode to distinct samples that
// encode back to themselves, so the mark survives the echo's PCM path.
func putMark(f []byte, t time.Duration) {
	v := uint64(t)
	for i := range markOctets {
		f[i] = 0x80 | byte(v&0x7f)
		v >>= 7
	}
}

// getMark reads what putMark wrote; ok is false if an octet lacks the top
// bit (concealment or foreign audio).
func getMark(f []byte) (time.Duration, bool) {
	var v uint64
	for i := markOctets - 1; i >= 0; i-- {
		if f[i]&0x80 == 0 {
			return 0, false
		}
		v = v<<7 | uint64(f[i]&0x7f)
	}
	return time.Duration(v), true
}

// checkMarkerRoundTrip verifies that a marked tone frame survives µ-law
// decoding and re-encoding, as it must through the UAS's PCM echo.
func checkMarkerRoundTrip() error {
	f := toneOctets()
	for o := range 128 {
		for i := range markOctets {
			f[i] = 0x80 | byte(o)
		}
		back := g711.EncodeUlaw(nil, g711.DecodeUlaw(nil, f))
		if string(back) != string(f) {
			return fmt.Errorf("marked frame does not survive µ-law decode+encode (octet %#x)", 0x80|o)
		}
	}
	return nil
}

func statsLoop(ctx context.Context, every time.Duration, line func() string) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms) // stops the world briefly; every few seconds only
			// The heap the last GC found live: what the calls hold, without
			// the garbage made since (HeapInuse counts both).
			live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			metrics.Read(live)
			var liveKB uint64
			if live[0].Value.Kind() == metrics.KindUint64 {
				liveKB = live[0].Value.Uint64() / 1024
			}
			fmt.Fprintf(os.Stderr, "stats t=%.0fs goroutines=%d %s %s heap_inuse_kb=%d heap_live_kb=%d stack_inuse_kb=%d\n",
				time.Since(procStart).Seconds(), runtime.NumGoroutine(), line(), memStatus(os.Getpid()),
				ms.HeapInuse/1024, liveKB, ms.StackInuse/1024)
		}
	}
}

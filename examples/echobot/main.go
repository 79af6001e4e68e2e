// Echobot answers every call and sends the caller's audio straight back, so
// a caller hears themselves about one jitter buffer later. It shows the
// smallest useful call handler: Accept, then copy PCMReader to PCMWriter
// until the call ends.
//
// Register with a server and wait for calls:
//
//	go run ./examples/echobot --server pbx.example.com --user 1001 --pass secret
//
// or take INVITEs directly on a local address, with no registration:
//
//	go run ./examples/echobot --listen 127.0.0.1:5070
//
// Ctrl-C hangs up every call and exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/xphone-go/xphone"
)

func main() {
	server := flag.String("server", "", "SIP server (registrar) as host[:port]")
	user := flag.String("user", "", "SIP user name")
	pass := flag.String("pass", "", "SIP password")
	listen := flag.String("listen", "", "local SIP address host:port; without --server, take INVITEs directly")
	limit := flag.Duration("limit", 5*time.Minute, "hang up after echoing this much audio (0: no limit)")
	flag.Parse()
	cfg, err := config(*server, *user, *pass, *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echobot:", err)
		os.Exit(2)
	}
	phone, err := xphone.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	Serve(ctx, phone, int(*limit/xphone.FrameDuration))
	if err := phone.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	log.Print("echobot: waiting for calls")
	<-ctx.Done()
	done, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := phone.Disconnect(done); err != nil {
		log.Print(err)
	}
}

// config builds the phone's Config from the command line: registered with
// server when it is set, else listening for INVITEs on listen.
func config(server, user, pass, listen string) (xphone.Config, error) {
	cfg := xphone.Config{Username: user, Password: pass, ListenAddr: listen}
	if server == "" {
		if listen == "" {
			return cfg, errors.New("--server or --listen is required")
		}
		cfg.RegisterExpiry = -1 // trunk mode: no registration
		return cfg, nil
	}
	cfg.Host = server
	if host, port, err := net.SplitHostPort(server); err == nil {
		cfg.Host = host
		if cfg.Port, err = strconv.Atoi(port); err != nil {
			return cfg, fmt.Errorf("--server %q: bad port", server)
		}
	}
	return cfg, cfg.Validate()
}

// Serve makes phone answer every incoming call and echo it, hanging up
// after maxFrames frames when maxFrames > 0. Each call runs on its own
// goroutine, as long call flows must; ctx bounds the Accept.
func Serve(ctx context.Context, phone xphone.Phone, maxFrames int) {
	phone.OnIncoming(func(call xphone.Call) {
		go func() {
			log.Printf("echobot: call %s from %s", call.ID(), call.From())
			if err := call.Accept(ctx); err != nil {
				log.Printf("echobot: accept: %v", err)
				return
			}
			n, err := Echo(ctx, call, maxFrames)
			log.Printf("echobot: call %s: echoed %d frames, %v", call.ID(), n, err)
		}()
	})
}

// Echo sends every frame the caller sends back on the same call, one for
// one, so the pacing is the caller's own. It returns the number of frames
// echoed when the call ends, or hangs up itself after maxFrames frames when
// maxFrames > 0. The error is why the call ended (nil when Echo hung up).
func Echo(ctx context.Context, call xphone.Call, maxFrames int) (int, error) {
	out := call.PCMWriter()
	done := call.Context().Done()
	n := 0
	for frame := range call.PCMReader() {
		// The frame is ours (the reader hands it over) and becomes the
		// writer's once sent: no copy is needed.
		select {
		case out <- frame:
			n++
		case <-done:
			return n, context.Cause(call.Context())
		}
		if maxFrames > 0 && n >= maxFrames {
			return n, call.End(ctx)
		}
	}
	return n, context.Cause(call.Context())
}

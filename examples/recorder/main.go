// Recorder answers every call and records what the caller says to a WAV
// file (16-bit mono PCM) until the caller hangs up. It shows reading
// PCMReader to its end (the channel closes when the call ends) and the
// audio/wav writer.
//
// Register with a server and record every call into ./calls:
//
//	go run ./examples/recorder --server pbx.example.com --user 1001 --pass secret --dir calls
//
// or take INVITEs directly on a local address, with no registration:
//
//	go run ./examples/recorder --listen 127.0.0.1:5070
//
// Files are named after the time and call ID. Ctrl-C hangs up and exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/audio/wav"
)

func main() {
	server := flag.String("server", "", "SIP server (registrar) as host[:port]")
	user := flag.String("user", "", "SIP user name")
	pass := flag.String("pass", "", "SIP password")
	listen := flag.String("listen", "", "local SIP address host:port; without --server, take INVITEs directly")
	dir := flag.String("dir", ".", "directory for the WAV files")
	rate := flag.Int("rate", 8000, "sample rate of the recordings: 8000 or 16000")
	flag.Parse()
	cfg, err := config(*server, *user, *pass, *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "recorder:", err)
		os.Exit(2)
	}
	cfg.PCMRate = *rate // frames arrive at this rate whatever the codec
	phone, err := xphone.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rec := &Recorder{Dir: *dir, Rate: *rate, Saved: func(path string, samples int, err error) {
		log.Printf("recorder: %s: %.1f s, %v", path, float64(samples)/float64(*rate), err)
	}}
	phone.OnIncoming(func(call xphone.Call) { go rec.Handle(ctx, call) })
	if err := phone.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	log.Print("recorder: waiting for calls")
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

// Recorder answers calls and records each to its own WAV file in Dir.
type Recorder struct {
	// Dir is where the files go.
	Dir string
	// Rate is the sample rate of the call's frames (Config.PCMRate).
	Rate int
	// Saved, if set, is called when a recording is finished with its path,
	// its length in samples and the error that cut it short, if any.
	Saved func(path string, samples int, err error)
}

// Handle answers call and records it until it ends. It blocks for the whole
// call: run it on its own goroutine.
func (r *Recorder) Handle(ctx context.Context, call xphone.Call) {
	name := time.Now().Format("20060102-150405") + "-" + strings.Map(func(c rune) rune {
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' {
			return c
		}
		return '_'
	}, call.ID()) + ".wav"
	path := filepath.Join(r.Dir, name)
	samples, err := r.record(ctx, call, path)
	if r.Saved != nil {
		r.Saved(path, samples, err)
	}
}

func (r *Recorder) record(ctx context.Context, call xphone.Call, path string) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		call.Reject(ctx, 500, "")
		return 0, err
	}
	if err := call.Accept(ctx); err != nil {
		f.Close()
		return 0, err
	}
	samples, err := Record(ctx, call, f, r.Rate)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return samples, err
}

// Record writes every frame the caller sends to w as a WAV file at rate
// Hz, until the call ends (PCMReader closes), and returns the number of
// samples written. When w is an *os.File, the header gets the real sizes.
// It blocks until the call ends; a write error ends the call (ctx bounds
// that hangup).
func Record(ctx context.Context, call xphone.Call, w io.Writer, rate int) (int, error) {
	ww := wav.NewWriter(w, rate)
	samples := 0
	for frame := range call.PCMReader() {
		if err := ww.WriteSamples(frame); err != nil {
			call.End(ctx)
			return samples, err
		}
		samples += len(frame)
	}
	return samples, ww.Close()
}

// Dialer places one call and runs a DTMF menu on it: it plays a prompt (two
// beeps), waits for a digit, and acts on it: 1 plays three more beeps and
// hangs up, 2 blind-transfers the callee to --transfer, anything else (or
// no digit within --wait) hangs up. It shows Dial, PacedPCMWriter, OnDTMF
// and BlindTransfer.
//
//	go run ./examples/dialer --server pbx.example.com --user 1001 --pass secret \
//		--transfer 1003 1002
//
// The exit status is 0 when the menu ran to its end, 1 when the call failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
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
	transfer := flag.String("transfer", "", "where digit 2 transfers the callee (URI or extension)")
	wait := flag.Duration("wait", 10*time.Second, "how long to wait for a digit after the prompt")
	flag.Parse()
	if *server == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: dialer --server host[:port] --user U --pass P [--transfer T] [--wait D] target")
		os.Exit(2)
	}
	cfg := xphone.Config{Username: *user, Password: *pass, Host: *server, PCMRate: 8000}
	if host, port, err := net.SplitHostPort(*server); err == nil {
		cfg.Host = host
		cfg.Port, _ = strconv.Atoi(port)
	}
	phone, err := xphone.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := phone.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	m := &Menu{
		Rate:       8000,
		Prompt:     beeps(440, 2, 8000),
		More:       beeps(660, 3, 8000),
		TransferTo: *transfer,
		Wait:       *wait,
	}
	digit, err := m.Run(ctx, phone, flag.Arg(0))
	log.Printf("dialer: digit %q, %v", digit, err)
	phone.Disconnect(context.Background())
	if err != nil {
		os.Exit(1)
	}
}

// beeps returns n beeps of freq Hz at rate: 200 ms of tone, 200 ms of
// silence each.
func beeps(freq float64, n, rate int) []int16 {
	beep := rate / 5
	out := make([]int16, 2*beep*n)
	for i := range n {
		for j := range beep {
			out[2*beep*i+j] = int16(8000 * math.Sin(2*math.Pi*freq*float64(j)/float64(rate)))
		}
	}
	return out
}

// Menu is the call flow run on each answered call.
type Menu struct {
	Rate       int           // sample rate of the call's frames (Config.PCMRate)
	Prompt     []int16       // played once the callee answers
	More       []int16       // played on digit 1
	TransferTo string        // target of digit 2
	Wait       time.Duration // for a digit, after the prompt has played
}

// Run dials target and runs the menu on the call (see Serve).
func (m *Menu) Run(ctx context.Context, phone xphone.Phone, target string) (rune, error) {
	call, err := phone.Dial(ctx, target, xphone.WithTimeout(30*time.Second))
	if err != nil {
		return 0, err
	}
	return m.Serve(ctx, call, Listen(call))
}

// Listen returns a channel of the digits the peer presses on call. Set it
// up before playing anything, so that a digit pressed during the prompt
// counts.
func Listen(call xphone.Call) <-chan rune {
	digits := make(chan rune, 16)
	call.OnDTMF(func(r rune) {
		select {
		case digits <- r:
		default: // nobody is listening for that many: drop it
		}
	})
	return digits
}

// Serve runs the menu on an answered call, taking digits from digits (see
// Listen), and returns the digit that chose the branch (0 if none). It
// blocks until the call ends or is handed on.
func (m *Menu) Serve(ctx context.Context, call xphone.Call, digits <-chan rune) (rune, error) {
	var heard time.Time // when everything queued so far will have played
	if err := m.play(call, m.Prompt, &heard); err != nil {
		return 0, err
	}
	timer := time.NewTimer(m.Wait + time.Until(heard))
	defer timer.Stop()
	var digit rune
	select {
	case digit = <-digits:
	case <-timer.C:
	case <-call.Context().Done():
		return 0, context.Cause(call.Context())
	}
	switch digit {
	case '1':
		if err := m.play(call, m.More, &heard); err != nil {
			return digit, err
		}
		// Let the beeps play out before hanging up.
		select {
		case <-time.After(time.Until(heard)):
		case <-call.Context().Done():
			return digit, context.Cause(call.Context())
		}
	case '2':
		err := call.BlindTransfer(ctx, m.TransferTo)
		if err == nil {
			return digit, nil
		}
		call.End(ctx) // the transfer failed: the call is still up
		return digit, err
	}
	return digit, call.End(ctx)
}

// play queues samples on the call's paced writer, which sends them in real
// time after what is already queued: play returns before they have been
// heard, and moves heard to when they will have been.
func (m *Menu) play(call xphone.Call, samples []int16, heard *time.Time) error {
	select {
	case call.PacedPCMWriter() <- samples:
		if now := time.Now(); heard.Before(now) {
			*heard = now
		}
		*heard = heard.Add(time.Duration(len(samples)) * time.Second / time.Duration(m.Rate))
		return nil
	case <-call.Context().Done():
		return context.Cause(call.Context())
	}
}

// Switchboard is a receptionist's phone: it shows the lamps (idle, ringing,
// busy) and the presence of the extensions it watches and its own
// voicemail, and answers every call, announces it to the extension that
// should take it, and connects the two with an attended transfer (REFER
// with Replaces): the caller never hears ringing again, and the extension
// knew who was coming.
//
//	go run ./examples/switchboard --server pbx.example.com --user 1000 --pass secret --route 1001 1001 1002 1003
//
// watches 1001-1003 and sends every call to 1001. If the extension does not
// answer or the transfer fails, the caller is told by the call ending.
// Ctrl-C exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"time"

	"github.com/xphone-go/xphone"
)

func main() {
	server := flag.String("server", "", "SIP server (registrar) as host[:port]")
	user := flag.String("user", "", "SIP user name")
	pass := flag.String("pass", "", "SIP password")
	route := flag.String("route", "", "the extension every call goes to")
	flag.Parse()
	host, port, err := net.SplitHostPort(*server)
	if err != nil {
		host, port = *server, "0"
	}
	p, _ := strconv.Atoi(port)
	phone, err := xphone.New(xphone.Config{Username: *user, Password: *pass, Host: host, Port: p, MWI: true})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	b := &Board{Phone: phone, Lines: flag.Args(), Out: os.Stdout, Route: func(string) string { return *route }}
	if err := b.Start(ctx); err != nil {
		log.Fatal(err)
	}
	<-ctx.Done()
	done, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	phone.Disconnect(done) //nolint:errcheck // on the way out
}

// Board is the switchboard: Phone, not yet connected, the extensions it
// watches, where it prints, and who takes a call from whom.
type Board struct {
	Phone xphone.Phone
	Lines []string
	Out   io.Writer
	Route func(from string) string
	// Transferred, when set, gets each call connected (the caller's leg
	// as we had it) and the error of its transfer.
	Transferred func(xphone.Call, error)

	mu sync.Mutex // serializes Out
}

func (b *Board) print(format string, a ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprintf(b.Out, format+"\n", a...)
}

// Start connects the phone, watches the lines and takes calls until ctx
// ends.
func (b *Board) Start(ctx context.Context) error {
	b.Phone.OnVoicemail(func(v xphone.VoicemailStatus) {
		b.print("voicemail: %d new, %d old", v.New, v.Old)
	})
	b.Phone.OnIncoming(func(call xphone.Call) { go b.connect(ctx, call) })
	if err := b.Phone.Connect(ctx); err != nil {
		return err
	}
	for _, line := range b.Lines {
		if _, err := b.Phone.Watch(line, func(s xphone.LineStatus) {
			if s.State == xphone.LineRinging && s.Caller != "" {
				b.print("lamp %s: %v (%s)", s.Target, s.State, s.Caller)
				return
			}
			b.print("lamp %s: %v", s.Target, s.State)
		}); err != nil {
			return err
		}
		if _, err := b.Phone.WatchPresence(line, func(p xphone.Presence) {
			b.print("presence %s: online %v %q", p.Target, p.Online, p.Note)
		}); err != nil {
			return err
		}
	}
	return nil
}

// connect answers call, calls the extension that should take it, and
// transfers the caller there once it answers; the extension hears who
// is coming first (the application would play an announcement here).
func (b *Board) connect(ctx context.Context, call xphone.Call) {
	err := b.transfer(ctx, call)
	if err != nil {
		b.print("call from %s: %v", call.From(), err)
		call.End(ctx) //nolint:errcheck // the caller learns by the call ending
	}
	if b.Transferred != nil {
		b.Transferred(call, err)
	}
}

func (b *Board) transfer(ctx context.Context, call xphone.Call) error {
	if err := call.Accept(ctx); err != nil {
		return err
	}
	ext := b.Route(call.From())
	b.print("call from %s: announcing it to %s", call.From(), ext)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	consult, err := b.Phone.Dial(dctx, ext)
	if err != nil {
		return fmt.Errorf("%s does not answer: %w", ext, err)
	}
	if err := call.AttendedTransfer(dctx, consult); err != nil {
		consult.End(ctx) //nolint:errcheck // tell the extension it fell through
		return err
	}
	b.print("call from %s: connected to %s", call.From(), ext)
	return nil
}

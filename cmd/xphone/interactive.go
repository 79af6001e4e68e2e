package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/xphone-go/xphone"
)

const interactiveHelp = `commands:
  dial <uri>        place a call (sip:user@host, user@host, or a number at --server)
  answer            answer the ringing call
  reject [code]     refuse the ringing call (default 603)
  hold | resume     put the call on hold, take it off
  mute | unmute     stop or resume sending our audio
  dtmf <digits>     send DTMF digits (0-9 * # A-D)
  transfer <uri>    blind transfer (REFER) the call
  hangup            end the call
  status            show the phone and call state and media counters
  help              this list
  quit              hang up, unregister and exit
`

// runInteractive is the line-based phone: `xphone` with no command or
// `xphone interactive`. It reads commands from stdin until "quit", end of
// input or Ctrl-C. One call at a time; --play, --record and --echo apply to
// every call, --auto-answer answers incoming calls without asking.
func runInteractive(ctx context.Context, o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCLI(o, stdout, stderr)
	if o.server == "" && o.listen == "" {
		o.listen = "127.0.0.1:0"
		c.status("no --server or --listen: taking calls on loopback only")
	}
	sh := &shell{cli: c, ctx: ctx}
	p, code, err := c.connect(ctx, func(p xphone.Phone) { p.OnIncoming(sh.incoming) })
	if err != nil {
		return c.finish(code, err)
	}
	defer disconnect(p)
	sh.p = p
	fmt.Fprint(stdout, interactiveHelp)
	lines := make(chan string)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		// It exits at the end of input or, after quit, at the next line.
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stop:
				return
			}
		}
	}()
	for {
		fmt.Fprint(stdout, "> ")
		var line string
		var ok bool
		select {
		case line, ok = <-lines:
		case <-ctx.Done():
		}
		if !ok || strings.TrimSpace(line) == "quit" || strings.TrimSpace(line) == "exit" {
			sh.hangupAll()
			fmt.Fprintln(stdout)
			return exitOK
		}
		if err := sh.do(line); err != nil {
			fmt.Fprintf(stdout, "error: %v\n", err)
		}
	}
}

// shell holds the interactive phone's state: the current call.
type shell struct {
	*cli
	p   xphone.Phone
	ctx context.Context

	mu   sync.Mutex
	call xphone.Call
}

func (s *shell) current() xphone.Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.call != nil && s.call.State() == xphone.StateEnded {
		s.call = nil
	}
	return s.call
}

func (s *shell) incoming(call xphone.Call) {
	if s.current() != nil {
		call.Reject(context.Background(), 486, "") //nolint:errcheck // one call at a time
		s.status("rejected a second call from %s: busy", caller(call))
		return
	}
	s.mu.Lock()
	s.call = call
	s.mu.Unlock()
	s.watch(call)
	if s.o.autoAnswer {
		s.status("incoming call from %s: answering", caller(call))
		go s.accept(call)
		return
	}
	s.status("incoming call from %s: type 'answer' or 'reject'", caller(call))
}

func (s *shell) watch(call xphone.Call) {
	call.OnState(func(st xphone.CallState) { s.status("call %s", st) })
	call.OnEnded(func(r xphone.EndReason) { s.status("call ended: %s", r.String()) })
	call.OnDTMF(func(r rune) { s.status("received DTMF %c", r) })
}

func (s *shell) accept(call xphone.Call) {
	ctx, cancel := context.WithTimeout(s.ctx, s.o.timeout)
	defer cancel()
	if err := call.Accept(ctx); err != nil {
		s.status("answer failed: %v", err)
		return
	}
	s.media(call)
}

// media starts the flags' audio on an answered call.
func (s *shell) media(call xphone.Call) {
	rec := startRecorderEcho(call, s.o.echo)
	if s.o.record != "" {
		go func() {
			rec.wait()
			rate := call.Codec().SampleRate()
			if err := writeWAVFile(s.o.record, rate, rec.samples()); err != nil {
				s.status("--record: %v", err)
			} else {
				s.status("recorded %.1f s to %s", float64(rec.len())/float64(rate), s.o.record)
			}
		}()
	}
	if s.o.echo {
		return
	}
	src := startSource(call)
	if s.o.play != "" {
		go func() {
			samples, err := readWAVFile(s.o.play, call.Codec().SampleRate())
			if err == nil {
				err = src.play(call.Context(), samples)
			}
			if err != nil && call.Context().Err() == nil {
				s.status("--play: %v", err)
			}
		}()
	}
}

func (s *shell) hangupAll() {
	if c := s.current(); c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c.End(ctx) //nolint:errcheck // leaving anyway
		cancel()
	}
}

// do runs one command line.
func (s *shell) do(line string) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	arg := ""
	if len(f) > 1 {
		arg = f[1]
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.o.timeout)
	defer cancel()
	if f[0] == "help" || f[0] == "?" {
		fmt.Fprint(s.stdout, interactiveHelp)
		return nil
	}
	if f[0] == "dial" {
		if arg == "" {
			return fmt.Errorf("usage: dial <uri>")
		}
		if s.current() != nil {
			return fmt.Errorf("already in a call: hang up first")
		}
		s.status("calling %s…", arg)
		call, err := s.p.Dial(ctx, arg, xphone.WithTimeout(s.o.timeout))
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.call = call
		s.mu.Unlock()
		s.watch(call)
		s.status("call up: codec %s", call.Codec())
		s.media(call)
		return nil
	}
	call := s.current()
	if f[0] == "status" {
		fmt.Fprintf(s.stdout, "phone: %v\n", s.p.State())
		if call != nil {
			st := call.Stats()
			fmt.Fprintf(s.stdout, "call: %s %s → %s, %v, codec %s, muted %v; sent %d received %d lost %d jitter %v\n",
				call.Direction(), call.From(), call.To(), call.State(), call.Codec(), call.Muted(),
				st.PacketsSent, st.PacketsReceived, st.PacketsLost, st.Jitter)
		}
		return nil
	}
	switch f[0] {
	case "answer", "reject", "hold", "resume", "mute", "unmute", "dtmf", "transfer", "hangup", "end":
	default:
		return fmt.Errorf("unknown command %q (type 'help')", f[0])
	}
	if call == nil {
		return fmt.Errorf("no call (type 'dial <uri>' or wait for one)")
	}
	switch f[0] {
	case "answer":
		s.accept(call)
		return nil
	case "reject":
		code := 0
		if arg != "" {
			if _, err := fmt.Sscan(arg, &code); err != nil {
				return fmt.Errorf("usage: reject [code]")
			}
		}
		return call.Reject(ctx, code, "")
	case "hold":
		return call.Hold(ctx)
	case "resume":
		return call.Resume(ctx)
	case "mute":
		return call.Mute()
	case "unmute":
		return call.Unmute()
	case "dtmf":
		return call.SendDTMF(ctx, arg)
	case "transfer":
		if arg == "" {
			return fmt.Errorf("usage: transfer <uri>")
		}
		return call.BlindTransfer(ctx, arg)
	}
	return call.End(ctx) // hangup, end
}

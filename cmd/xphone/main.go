package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit statuses; see the package documentation.
const (
	exitOK           = 0 // everything asked for worked
	exitFailure      = 1 // a demo step failed, or an unexpected local error
	exitUsage        = 2 // bad command line, unreadable --play file
	exitRegistration = 3 // registration refused or unanswered
	exitCall         = 4 // the call failed: refused, not answered, dropped
	exitMedia        = 5 // the call worked but media did not: no audio, DTMF, recording
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command: it parses args, runs the subcommand and
// returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "interactive"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "demo":
		return runDemo(ctx, args, stdout, stderr)
	case "register", "call", "answer", "interactive":
		o, err := parseOptions(cmd, args, stderr)
		if err != nil {
			if err != errHelp {
				fmt.Fprintf(stderr, "xphone %s: %v\n", cmd, err)
				fmt.Fprintf(stderr, "run 'xphone %s -h' for the flags\n", cmd)
				return exitUsage
			}
			return exitOK
		}
		switch cmd {
		case "register":
			return runRegister(ctx, o, stdout, stderr)
		case "call":
			return runCall(ctx, o, stdout, stderr)
		case "answer":
			return runAnswer(ctx, o, stdout, stderr)
		default:
			return runInteractive(ctx, o, stdin, stdout, stderr)
		}
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "xphone: unknown command %q\n%s", cmd, usage)
	return exitUsage
}

const usage = `usage: xphone <command> [flags]

commands:
  demo          two phones call each other through an in-process PBX (no set-up)
  register      register with --server and report the outcome
  call <uri>    place a call
  answer        wait for a call and answer it
  interactive   line-based phone (the default with no command)

run 'xphone <command> -h' for the flags. Exit status: 0 ok, 1 failure,
2 usage, 3 registration failed, 4 call failed, 5 media failed.
`

// newLogger returns a text logger to w at level ("" means no logs).
func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	if level == "" {
		return slog.New(slog.DiscardHandler), nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

//go:build linux

// Command wire is a user-space "netem": an impaired point-to-point link
// between two existing network namespaces, for kernels without sch_netem.
// It creates two TUN devices, moves one into each namespace with a
// loopback-range address (A=127.100.0.1, B=127.100.0.2 by default), and
// copies IP packets between them applying, in both directions, a base
// delay, uniform jitter, random loss and optionally reordering, reproducible
// with -seed. It needs root.
//
// It prints "ready" once both ends are up, runs until SIGTERM/SIGINT or
// -duration, deletes its TUN devices (the namespaces belong to whoever
// made them, see interop/netem/setup.sh) and prints a summary line:
//
//	a->b fwd=N drop=N b->a fwd=N drop=N
//
// Usage:
//
//	wire -ns-a xpA -ns-b xpB -delay 40ms -jitter 30ms -loss 5 -reorder -seed 1
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/xphone-go/xphone/interop/internal/netem"
)

func main() {
	nsA := flag.String("ns-a", "ilabA", "namespace of end A")
	nsB := flag.String("ns-b", "ilabB", "namespace of end B")
	addrA := flag.String("addr-a", "127.100.0.1", "address of end A")
	addrB := flag.String("addr-b", "127.100.0.2", "address of end B")
	devA := flag.String("dev-a", "xp-ta", "TUN device name of end A")
	devB := flag.String("dev-b", "xp-tb", "TUN device name of end B")
	delay := flag.Duration("delay", 0, "one-way base delay")
	jitter := flag.Duration("jitter", 0, "uniform ± jitter added to each packet's delay")
	loss := flag.Float64("loss", 0, "random loss, percent")
	reorder := flag.Bool("reorder", false, "let jitter reorder packets (default: FIFO)")
	seed := flag.Uint64("seed", 1, "seed of the random choices")
	duration := flag.Duration("duration", 0, "stop after this long (0: until signalled)")
	flag.Parse()

	im := netem.Impairment{Delay: *delay, Jitter: *jitter, Loss: *loss, Reorder: *reorder}
	if err := run(*nsA, *nsB, *addrA, *addrB, *devA, *devB, im, *seed, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "wire:", err)
		os.Exit(1)
	}
}

func run(nsA, nsB, addrA, addrB, devA, devB string, im netem.Impairment, seed uint64, duration time.Duration) error {
	if err := im.Validate(); err != nil {
		return err
	}
	a, err := netem.OpenTUN(devA)
	if err != nil {
		return err
	}
	b, err := netem.OpenTUN(devB)
	if err != nil {
		a.Close()
		return err
	}
	if err := netem.Attach(devA, nsA, addrA, addrB); err != nil {
		a.Close()
		b.Close()
		return err
	}
	if err := netem.Attach(devB, nsB, addrB, addrA); err != nil {
		a.Close()
		b.Close()
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	fmt.Printf("ready %s=%s %s=%s %s seed=%d\n", nsA, addrA, nsB, addrB, im, seed)
	st, err := netem.Run(ctx, a, b, im, im, seed) // closes a and b
	fmt.Printf("a->b fwd=%d drop=%d b->a fwd=%d drop=%d\n", st.AB.Forwarded, st.AB.Dropped, st.BA.Forwarded, st.BA.Dropped)
	return err
}

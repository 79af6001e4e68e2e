package ua

import (
	"flag"
	"runtime"
	"strconv"
	"testing"

	"github.com/xphone-go/xphone/internal/leakcheck"
)

func TestMain(m *testing.M) {
	// The tests wait on loopback peers, real-time media and protocol
	// timers far more than they compute (the whole run uses about a
	// quarter of one core), so more parallel tests than GOMAXPROCS, the
	// default of -parallel, may run at once. An explicit -parallel wins.
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", strconv.Itoa(4*runtime.GOMAXPROCS(0))) //nolint:errcheck // a valid integer
	}
	leakcheck.Main(m)
}

package leakcheck

import (
	"testing"
	"time"
)

func TestSettleSeesLeakUntilItExits(t *testing.T) {
	before := interesting()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-stop
	}()
	if leaked := settle(before, 10*time.Millisecond); len(leaked) != 1 {
		t.Fatalf("got %d leaked goroutines, want 1: %q", len(leaked), leaked)
	}
	close(stop)
	<-done
	if leaked := settle(before, Wait); len(leaked) != 0 {
		t.Fatalf("got %d leaked goroutines after exit, want 0: %q", len(leaked), leaked)
	}
}

func TestCheckPassesWhenGoroutinesStop(t *testing.T) {
	Check(t)
	done := make(chan struct{})
	go func() { close(done) }()
	<-done
}

package transport

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestUDPReadBuffer: the listener gets the receive buffer asked for, or
// the kernel's cap (net.core.rmem_max) when that is lower; a negative
// value leaves the system default.
func TestUDPReadBuffer(t *testing.T) {
	capB := 1 << 30
	if b, err := os.ReadFile("/proc/sys/net/core/rmem_max"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			capB = n
		}
	}
	def := 0
	if b, err := os.ReadFile("/proc/sys/net/core/rmem_default"); err == nil {
		def, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	tests := []struct {
		name string
		ask  int
		want int
	}{
		{"default", 0, min(DefaultUDPReadBuffer, capB)},
		{"256KiB", 256 << 10, min(256<<10, capB)},
		{"system", -1, def / 2}, // reported unhalved: the kernel set it, not a caller
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEndpoint(t, UDP, "127.0.0.1", Config{UDPReadBuffer: tt.ask})
			l := (*e.listeners.Load())[0]
			if got := l.udp.ReadBuffer(); tt.want > 0 && got != tt.want {
				t.Errorf("receive buffer: got %d, want %d", got, tt.want)
			}
		})
	}
}

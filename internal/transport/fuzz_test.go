package transport

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/xphone-go/xphone/sipmsg"
)

// FuzzReceive feeds datagrams through the inbound checks. Property: it never
// panics, and a request handed to the Handler keeps its top Via's branch
// and Via count and carries received (and a filled rport) for its source as
// RFC 3261 §18.2.1 and RFC 3581 §4 say.
func FuzzReceive(f *testing.F) {
	for _, dir := range []string{"../../testdata/vectors/sip/rfc4475", "../../testdata/vectors/sip/rfc5118", "../../testdata/workloads/sip"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	src := Addr{Protocol: UDP, AddrPort: netip.MustParseAddrPort("198.51.100.7:40000")}
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := sipmsg.Parse(b)
		if err != nil {
			return
		}
		before, beforeErr := msg.Clone().Via()
		nVias := len(msg.Values("Via"))
		var got *sipmsg.Message
		m := New(Config{Logger: quietLog, Handler: func(in Inbound) { got = in.Msg }})
		defer m.Close()
		m.receive(msg, src, netip.AddrPort{})
		if got == nil || !got.IsRequest() {
			return
		}
		if beforeErr != nil {
			t.Fatalf("handed over a request whose Via did not parse: %v", beforeErr)
		}
		v, err := got.Via()
		if err != nil {
			t.Fatalf("Via after marking: %v", err)
		}
		if v.Branch() != before.Branch() || v.Host != before.Host || v.Port != before.Port {
			t.Errorf("Via changed: got %v, want %v with received", v, before)
		}
		if n := len(got.Values("Via")); n != nVias {
			t.Errorf("Via values: got %v, want %v", n, nVias)
		}
		rp, hasRPort := before.RPort()
		if hasRPort && rp == 0 {
			if got, _ := v.RPort(); got != 40000 {
				t.Errorf("rport: got %v, want 40000", got)
			}
		}
		h, herr := netip.ParseAddr(before.Host)
		if (hasRPort && rp == 0) || herr != nil || h.Unmap() != src.AddrPort.Addr() {
			if got := v.Received(); got != "198.51.100.7" {
				t.Errorf("received: got %q, want 198.51.100.7 (Via %v)", got, strconv.Quote(v.String()))
			}
		}
	})
}

//go:build interop

package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests put the transaction layer (through interop/cmd/minuas, a
// minimal UA on internal/transport and transaction) in front of SIPp:
// SIPp's UAC scenarios against minuas answering, and minuas calling SIPp's
// UAS, including scenarios that drop first transmissions.

// buildMinuas builds interop/cmd/minuas into a temporary directory.
func buildMinuas(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "minuas")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/minuas").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/minuas: %v\n%s", err, out)
	}
	return bin
}

// startMinuas runs minuas with args on a free loopback port and waits
// until it listens; it returns the peer and its address.
func startMinuas(t *testing.T, args ...string) (*peer, string) {
	t.Helper()
	bin := buildMinuas(t)
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	p := startPeer(t, "minuas", t.TempDir(), bin, append([]string{"-addr", addr, "-max-time", "2m"}, args...)...)
	p.waitUntil(t, 10*time.Second, "listening", func() error {
		if strings.Contains(p.log(), "listening=") {
			return nil
		}
		return os.ErrNotExist
	})
	return p, addr
}

// sippStats reads the last row of SIPp's statistics CSV (-trace_stat).
func sippStats(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("SIPp statistics: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		t.Fatalf("SIPp statistics %s: no data row", path)
	}
	names, vals := strings.Split(lines[0], ";"), strings.Split(lines[len(lines)-1], ";")
	st := make(map[string]string, len(names))
	for i, n := range names {
		if i < len(vals) {
			st[n] = vals[i]
		}
	}
	return st
}

// checkSIPp waits for SIPp to exit 0 and checks its statistics: calls
// successful, none failed, and SIPp's own retransmissions as given (-1:
// any).
func checkSIPp(t *testing.T, p *peer, stf string, calls, retrans int) {
	t.Helper()
	if err := p.wait(t, 60*time.Second); err != nil {
		t.Fatalf("SIPp exited with %v, want status 0", err)
	}
	st := sippStats(t, stf)
	t.Logf("SIPp: SuccessfulCall(C)=%s FailedCall(C)=%s Retransmissions(C)=%s UnexpectedMessage(C)=%s",
		st["SuccessfulCall(C)"], st["FailedCall(C)"], st["Retransmissions(C)"], st["FailedUnexpectedMessage(C)"])
	if got := st["SuccessfulCall(C)"]; got != strconv.Itoa(calls) {
		t.Errorf("SIPp successful calls: got %s, want %d", got, calls)
	}
	if got := st["FailedCall(C)"]; got != "0" {
		t.Errorf("SIPp failed calls: got %s, want 0", got)
	}
	if got := st["Retransmissions(C)"]; retrans >= 0 && got != strconv.Itoa(retrans) {
		t.Errorf("SIPp retransmissions: got %s, want %d", got, retrans)
	}
}

// minuasStat returns a counter from minuas's exit line.
func minuasStat(t *testing.T, p *peer, name string) int {
	t.Helper()
	log := p.log()
	i := strings.LastIndex(log, " "+name+"=")
	if i < 0 {
		t.Fatalf("minuas log has no %s:\n%s", name, log)
	}
	s := log[i+len(name)+2:]
	if j := strings.IndexAny(s, " \n"); j >= 0 {
		s = s[:j]
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("minuas %s=%q: %v", name, s, err)
	}
	return n
}

// stopMinuas ends minuas with SIGTERM so that it prints its counters.
func stopMinuas(t *testing.T, p *peer) {
	t.Helper()
	p.stop(t)
}

// TestSigproofSIPpCallsMinuas: SIPp UAC scenarios against minuas
// answering: the built-in uac (20 calls), the repository's uac-basic with
// SDP, an OPTIONS scenario, and the scenario that withholds the ACK for
// the first 200 and retransmits INVITE and BYE.
func TestSigproofSIPpCallsMinuas(t *testing.T) {
	cases := []struct {
		name     string
		scenario string // file in testdata/sipp, or "" for built-in uac
		minuas   []string
		sipp     []string
		calls    int
		retrans  int // SIPp's own retransmissions, -1: any
		check    func(t *testing.T, m *peer)
	}{
		{name: "builtin-uac", minuas: nil, sipp: []string{"-m", "20", "-r", "20"}, calls: 20, retrans: 0,
			check: func(t *testing.T, m *peer) {
				if got := minuasStat(t, m, "acks"); got != 20 {
					t.Errorf("minuas ACKs: got %d, want 20", got)
				}
			}},
		{name: "uac-basic", scenario: "uac-basic", minuas: []string{"-ringing", "-sdp"},
			sipp: []string{"-s", "xphone", "-key", "caller", "sipp", "-d", "200"}, calls: 1, retrans: 0},
		{name: "options", scenario: "sigproof-options", calls: 1, retrans: 0,
			check: func(t *testing.T, m *peer) {
				if got := minuasStat(t, m, "options"); got != 1 {
					t.Errorf("minuas OPTIONS: got %d, want 1", got)
				}
			}},
		{name: "noack-first", scenario: "sigproof-uac-noack-first", minuas: []string{"-ringing"}, calls: 1, retrans: -1,
			check: func(t *testing.T, m *peer) {
				// The UAS core retransmitted its 2xx at least once; the
				// layer absorbed the late INVITE (one INVITE reached the
				// TU) and answered the repeated BYE from its Completed state
				// (one BYE reached the TU).
				if got := minuasStat(t, m, "retrans_2xx"); got < 2 {
					t.Errorf("minuas 2xx retransmissions: got %d, want at least 2 (T1, 2*T1 within 1.7 s)", got)
				}
				if got := minuasStat(t, m, "invites"); got != 1 {
					t.Errorf("INVITEs reaching the TU: got %d, want 1", got)
				}
				if got := minuasStat(t, m, "byes"); got != 1 {
					t.Errorf("BYEs reaching the TU: got %d, want 1", got)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, addr := startMinuas(t, c.minuas...)
			stf := filepath.Join(t.TempDir(), "stat.csv")
			args := append([]string{"-trace_stat", "-stf", stf, "-fd", "1"}, c.sipp...)
			var p *peer
			if c.scenario == "" {
				p = startSIPpBuiltin(t, "uac", append(args, addr)...)
			} else {
				p, _ = startSIPp(t, c.scenario, append(args, addr)...)
			}
			checkSIPp(t, p, stf, c.calls, c.retrans)
			stopMinuas(t, m)
			if got := minuasStat(t, m, "errors"); got != 0 {
				t.Errorf("minuas errors: got %d, want 0", got)
			}
			if c.check != nil {
				c.check(t, m)
			}
		})
	}
}

// TestSigproofMinuasCallsSIPp: minuas places calls to SIPp's built-in UAS
// (3 calls) and to the UAS scenario that leaves the first INVITE and the
// first BYE unanswered for 700 ms: Timer A and Timer E retransmit them
// (SIPp's message trace shows two of each) and the call completes.
func TestSigproofMinuasCallsSIPp(t *testing.T) {
	cases := []struct {
		name     string
		scenario string
		calls    int
		hold     string
		retrans  int // SIPp's own, -1: any
		// SIPp received at least this many INVITEs and BYEs (Timer A and
		// E retransmissions included).
		minInvites, minByes int
	}{
		{name: "builtin-uas", calls: 3, hold: "100ms", minInvites: 3, minByes: 3},
		{name: "ignore-first", scenario: "sigproof-uas-ignore-first", calls: 1, hold: "1s", retrans: -1,
			minInvites: 2, minByes: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stf := filepath.Join(t.TempDir(), "stat.csv")
			args := []string{"-trace_stat", "-stf", stf, "-fd", "1", "-m", strconv.Itoa(c.calls)}
			var (
				p    *peer
				port int
			)
			if c.scenario == "" {
				port = freePort(t)
				p = startSIPpBuiltin(t, "uas", append(args, "-p", strconv.Itoa(port))...)
			} else {
				p, port = startSIPp(t, c.scenario, args...)
			}
			p.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(port) })
			m, _ := startMinuas(t, "-call", "sip:sipp@127.0.0.1:"+strconv.Itoa(port),
				"-calls", strconv.Itoa(c.calls), "-hold", c.hold)
			if err := m.wait(t, 60*time.Second); err != nil {
				t.Fatalf("minuas exited with %v, want status 0", err)
			}
			if !strings.Contains(m.log(), "ok="+strconv.Itoa(c.calls)+" failed=0") {
				t.Errorf("minuas: want %d calls ok, log:\n%s", c.calls, m.log())
			}
			checkSIPp(t, p, stf, c.calls, c.retrans)
			if c.scenario == "" {
				return // the built-in run has no message trace
			}
			trace, err := os.ReadFile(filepath.Join(p.dir, "messages.log"))
			if err != nil {
				t.Fatal(err)
			}
			inv := strings.Count(string(trace), "bytes :\n\nINVITE ")
			bye := strings.Count(string(trace), "bytes :\n\nBYE ")
			acks := strings.Count(string(trace), "bytes :\n\nACK ")
			t.Logf("SIPp received %d INVITE, %d ACK, %d BYE", inv, acks, bye)
			if inv < c.minInvites || bye < c.minByes {
				t.Errorf("SIPp received %d INVITE and %d BYE, want at least %d and %d (retransmissions)", inv, bye, c.minInvites, c.minByes)
			}
			if acks < 1 {
				t.Errorf("SIPp received %d ACKs, want at least 1", acks)
			}
		})
	}
}

// startSIPpBuiltin runs one of SIPp's built-in scenarios (-sn) with the
// suite's defaults, as startSIPp does for scenario files.
func startSIPpBuiltin(t *testing.T, name string, args ...string) *peer {
	t.Helper()
	bin := needBinary(t, "sipp")
	logVersion(t, "sipp", "sip-tester", "-v")
	dir := t.TempDir()
	all := []string{"-sn", name, "-i", "127.0.0.1", "-timeout", "30", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log")}
	hasPort := false
	for _, a := range args {
		hasPort = hasPort || a == "-p"
	}
	if !hasPort {
		all = append(all, "-p", strconv.Itoa(freePort(t)))
	}
	return startPeer(t, "sipp", dir, bin, append(all, args...)...)
}

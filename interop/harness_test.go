//go:build interop

package interop

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// inCI reports whether the suite runs in CI, where a missing peer is a
// failure rather than a skip.
var inCI = os.Getenv("CI") == "true"

// needBinary returns the path of a peer's program. When it is missing the
// test fails in CI and is skipped elsewhere (a laptop without the peers).
func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if inCI {
		t.Fatalf("peer program %s not installed (run interop/install.sh): %v", name, err)
	}
	t.Skipf("peer program %s not installed (run interop/install.sh); CI fails here", name)
	return ""
}

// needRoot fails the test in CI and skips it elsewhere when not root.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if inCI {
		t.Fatalf("this test needs root (network namespaces, TUN); CI runs as root")
	}
	t.Skip("this test needs root (network namespaces, TUN); CI fails here")
}

var versionsLogged sync.Map // peer name -> version line, logged once per test

// logVersion logs which peer and version the test runs against: the Debian
// package version and the first line the program prints for args.
func logVersion(t *testing.T, name, pkg string, args ...string) string {
	t.Helper()
	var v string
	if cached, ok := versionsLogged.Load(name); ok {
		v = cached.(string)
	} else {
		deb := "?"
		if out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output(); err == nil {
			deb = string(out)
		}
		var buf bytes.Buffer
		cmd := exec.Command(name, args...)
		cmd.Stdout, cmd.Stderr = &buf, &buf
		_ = cmd.Run() // several peers exit non-zero after printing their version
		first := ""
		for line := range strings.Lines(buf.String()) {
			if line = strings.TrimSpace(line); line != "" {
				first = line
				break
			}
		}
		v = fmt.Sprintf("%s (Debian %s %s): %s", name, pkg, deb, first)
		versionsLogged.Store(name, v)
	}
	t.Logf("peer: %s", v)
	return v
}

// peer is one running third-party program, in its own process group, with
// its output in a log file in its working directory.
type peer struct {
	name    string
	dir     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has been waited for
	waitErr error         // set before exited is closed
}

// startPeer starts bin with args in dir, stdout and stderr to dir/NAME.log,
// as the leader of a new process group. t.Cleanup stops the whole group
// (SIGTERM, then SIGKILL) and, if the test failed, copies the log into the
// test output.
func startPeer(t *testing.T, name, dir, bin string, args ...string) *peer {
	t.Helper()
	p := &peer{name: name, dir: dir, logPath: filepath.Join(dir, name+".log"), exited: make(chan struct{})}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "# %s %s\n", bin, strings.Join(args, " "))
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Registered first so it runs last, after stop: the log is complete.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- %s log (%s) ---\n%s--- end of %s log ---", name, p.logPath, p.tail(32<<10), name)
		}
	})
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	recordCleanup("pgid", strconv.Itoa(p.cmd.Process.Pid))
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	t.Logf("%s: started pid %d in %s", name, p.cmd.Process.Pid, dir)
	return p
}

// pid returns the process ID of the peer (also its process group ID).
func (p *peer) pid() int { return p.cmd.Process.Pid }

// terminate sends SIGTERM to the peer's process group, for a peer that
// exits on it.
func (p *peer) terminate() { _ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM) }

// running reports whether the peer's main process has not exited.
func (p *peer) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// wait blocks until the peer exits or d passes, and returns its exit error
// (nil for status 0). It fails the test on timeout.
func (p *peer) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(d):
		t.Fatalf("%s did not exit within %v", p.name, d)
		return nil
	}
}

// stop ends the peer's whole process group: SIGTERM, up to 5 s to exit,
// then SIGKILL; it returns when no process of the group is left.
func (p *peer) stop(t *testing.T) {
	pgid := p.pid()
	if p.running() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			t.Logf("%s: no exit 5 s after SIGTERM, sending SIGKILL", p.name)
		}
	}
	// Children may outlive the leader (Kamailio's workers): kill what is
	// left of the group until nothing is.
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := syscall.Kill(-pgid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: process group %d still alive after SIGKILL", p.name, pgid)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	<-p.exited
}

// log returns the peer's log so far.
func (p *peer) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

func (p *peer) tail(n int) string {
	s := p.log()
	if len(s) > n {
		s = "...\n" + s[len(s)-n:]
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// pollInterval is how often waitUntil retries a readiness check.
const pollInterval = 25 * time.Millisecond

// waitUntil polls check until it returns nil, the peer exits, or timeout
// passes; the last two fail the test with the last error.
func (p *peer) waitUntil(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if !p.running() {
			t.Fatalf("%s exited (%v) before %s: %v", p.name, p.waitErr, what, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not %s after %v: %v", p.name, what, timeout, err)
		}
		time.Sleep(pollInterval)
	}
}

// eventually polls check until it returns nil or timeout passes, then
// fails the test with the last error.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not %s after %v: %v", what, timeout, err)
		}
		time.Sleep(pollInterval)
	}
}

// recordCleanup appends "kind value" to the file named by
// $INTEROP_CLEANUP_FILE, if set: run.sh reads it after go test to end
// process groups and delete namespaces that a crashed or timed-out test
// binary could not clean up itself.
func recordCleanup(kind, value string) {
	name := os.Getenv("INTEROP_CLEANUP_FILE")
	if name == "" {
		return
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "%s %s\n", kind, value)
	f.Close()
}

// freePort returns a port on 127.0.0.1 that is free for both UDP and TCP
// right now. Another process may take it before the peer binds it; peers
// that fail to bind fail their readiness check with their log.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP on 127.0.0.1")
	return 0
}

// freePortRange returns the first of n consecutive ports (UDP and TCP) that
// are free on 127.0.0.1 now, for peers that take a range (RTP, TURN relay).
func freePortRange(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		base := 20000 + 2*rand.IntN(15000) // even, as RTP wants
		ok := true
		var held []interface{ Close() error }
		for p := base; p < base+n && ok; p++ {
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
			u, err := net.ListenPacket("udp4", addr)
			if err != nil {
				ok = false
				break
			}
			held = append(held, u)
			l, err := net.Listen("tcp4", addr)
			if err != nil {
				ok = false
				break
			}
			held = append(held, l)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports on 127.0.0.1", n)
	return 0
}

// tcpListening reports an error unless something accepts TCP connections
// on addr.
func tcpListening(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	return c.Close()
}

// writeFile writes a peer's generated config, failing the test on error.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// expand replaces each @KEY@ in tmpl with vars[KEY] and fails the test if
// a placeholder is left.
func expand(t *testing.T, tmpl string, vars map[string]string) string {
	t.Helper()
	pairs := make([]string, 0, 2*len(vars))
	for k, v := range vars {
		pairs = append(pairs, "@"+k+"@", v)
	}
	out := strings.NewReplacer(pairs...).Replace(tmpl)
	if i := strings.Index(out, "@"); i >= 0 {
		if j := strings.Index(out[i+1:], "@"); j >= 0 && j < 20 && !strings.ContainsAny(out[i+1:i+1+j], " \n\t\"") {
			t.Fatalf("template placeholder left: %s", out[i:i+j+2])
		}
	}
	return out
}

// readTail returns up to the last n bytes of the file at path, or a note
// that it could not be read.
func readTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)\n", err)
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

//go:build interop

package interop

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These helpers run the xphone command (cmd/xphone) as a subprocess, as a
// user or script would: built by each test, stdout (the --json
// result) and stderr (progress lines) kept apart.

// buildXphone builds cmd/xphone (from the module root, found with go env
// GOMOD) into the test's temporary directory and returns its path. The
// build cache makes every build after the first a link only.
func buildXphone(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "xphone")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/xphone")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/xphone: %v\n%s", err, out)
	}
	t.Logf("peer: xphone command (cmd/xphone of this tree, %s)", runtime.Version())
	return bin
}

// xphoneProc is one running xphone command.
type xphoneProc struct {
	cmd        *exec.Cmd
	stdoutPath string
	stderrPath string
	exited     chan struct{}
	waitErr    error
}

// startXphone runs the xphone command with args in a new process group,
// stdout to stdout.json and stderr to stderr.log in a temporary
// directory. t.Cleanup ends the group by its ID (SIGTERM, 5 s, SIGKILL)
// and, when the test failed, logs both outputs.
func startXphone(t *testing.T, args ...string) *xphoneProc {
	t.Helper()
	bin := buildXphone(t)
	dir := t.TempDir()
	p := &xphoneProc{stdoutPath: filepath.Join(dir, "stdout.json"), stderrPath: filepath.Join(dir, "stderr.log"),
		exited: make(chan struct{})}
	stdout, err := os.Create(p.stdoutPath)
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(p.stderrPath)
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- xphone %s\n--- stdout ---\n%s--- stderr ---\n%s--- end of xphone output ---",
				strings.Join(args, " "), readTail(p.stdoutPath, 16<<10), readTail(p.stderrPath, 16<<10))
		}
	})
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = stdout, stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start xphone: %v", err)
	}
	pid := p.cmd.Process.Pid
	recordCleanup("pgid", strconv.Itoa(pid))
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-p.exited
		}
	})
	t.Logf("xphone %s: started pid %d", strings.Join(args, " "), pid)
	return p
}

// stderr returns the progress lines so far.
func (p *xphoneProc) stderr() string {
	b, _ := os.ReadFile(p.stderrPath)
	return string(b)
}

// waitStderr waits until the progress lines contain s, failing the test
// if the command exits first or d passes.
func (p *xphoneProc) waitStderr(t *testing.T, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(p.stderr(), s) {
		select {
		case <-p.exited:
			t.Fatalf("xphone exited (%v) before printing %q", p.waitErr, s)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("xphone did not print %q within %v", s, d)
		}
		time.Sleep(pollInterval)
	}
}

// wait waits up to d for the command to exit and returns its exit code.
func (p *xphoneProc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		t.Fatalf("xphone did not exit within %v", d)
	}
	var ee *exec.ExitError
	switch {
	case p.waitErr == nil:
		return 0
	case errors.As(p.waitErr, &ee) && ee.Exited():
		return ee.ExitCode()
	default:
		t.Fatalf("xphone: %v", p.waitErr)
		return -1
	}
}

// cliResult is the part of xphone's --json result (cmd/xphone's result
// type, whose field names are a contract with scripts) the tests check.
type cliResult struct {
	Command    string `json:"command"`
	OK         bool   `json:"ok"`
	ExitCode   int    `json:"exit_code"`
	Error      string `json:"error"`
	Registered bool   `json:"registered"`
	Call       *struct {
		Direction  string `json:"direction"`
		Codec      string `json:"codec"`
		DurationMS int64  `json:"duration_ms"`
		EndReason  string `json:"end_reason"`
	} `json:"call"`
	Stats *struct {
		PacketsSent     uint64  `json:"packets_sent"`
		PacketsReceived uint64  `json:"packets_received"`
		PacketsLost     int64   `json:"packets_lost"`
		FramesConcealed uint64  `json:"frames_concealed"`
		JitterMS        float64 `json:"jitter_ms"`
	} `json:"stats"`
	Recorded   string `json:"recorded"`
	RecordedMS int64  `json:"recorded_ms"`
}

// result parses the command's stdout as one JSON object.
func (p *xphoneProc) result(t *testing.T) cliResult {
	t.Helper()
	b, err := os.ReadFile(p.stdoutPath)
	if err != nil {
		t.Fatal(err)
	}
	var r cliResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("xphone --json output %q: %v", b, err)
	}
	if r.Stats == nil || r.Call == nil {
		t.Fatalf("xphone --json output has no call or stats: %s", b)
	}
	return r
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/internal/leakcheck"
	"github.com/xphone-go/xphone/phonetest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// testWait bounds every wait; nothing is asserted about time.
const testWait = 20 * time.Second

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	code := runDemo(ctx, []string{"--out", dir}, &out, &errOut)
	if code != exitOK {
		t.Fatalf("demo exit status: got %d, want %d\n%s%s", code, exitOK, out.String(), errOut.String())
	}
	text := out.String()
	for _, step := range []string{
		"start PBX", "register alice", "register bob", "call alice → bob", "codec G.722",
		"SRTP (SDES)", "tone alice → bob", "tone bob → alice", "speech alice → bob",
		"speech bob → alice", "DTMF alice → bob", "DTMF bob → alice", "hold (re-INVITE sendonly)",
		"resume (re-INVITE sendrecv)", "audio after resume a→b", "audio after resume b→a",
		"hang up (BYE)", "write WAV files", "unregister alice", "unregister bob", "stop PBX",
	} {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(step) + ` +ok`).MatchString(text) {
			t.Errorf("step %q: not reported ok in\n%s", step, text)
		}
	}
	for _, want := range []string{"SIP ladder", "INVITE (sendonly)", "BYE", "Media statistics", "G722", "0 step(s) failed", "xphone demo: ok"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// What each side heard is on disk and holds the other side's tone.
	for _, f := range []struct {
		name string
		freq float64
	}{{"alice-heard.wav", demoToneB}, {"bob-heard.wav", demoToneA}} {
		heard, err := readWAVFile(filepath.Join(dir, f.name), demoRate)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		at := onset(heard, demoRate/50, demoOnsetLevel)
		if at < 0 {
			t.Fatalf("%s: got silence, want the tone", f.name)
		}
		if err := audiotest.CheckTone(window(heard, at+demoRate/5, demoRate/2), demoRate, f.freq, 20); err != nil {
			t.Errorf("%s: %v", f.name, err)
		}
	}
}

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cmd   string
		args  []string
		check func(*options) bool
		err   string // substring of the error; "" for none
	}{
		{"call all flags, two dashes, uri first", "call", []string{"sip:1002@pbx", "--server", "pbx.example.com:5080",
			"--user", "1001", "--pass", "pw", "--transport", "TCP", "--codecs", "g722,pcmu", "--srtp",
			"--stun", "stun.example.com:3478", "--rtp-ports", "10000-20000", "--dtmf", "123#", "--duration", "5s", "--json", "--log", "debug"},
			func(o *options) bool {
				return o.target == "sip:1002@pbx" && o.host == "pbx.example.com" && o.port == 5080 && o.user == "1001" &&
					o.pass == "pw" && o.srtp && len(o.codecSet) == 2 && o.codecSet[0] == xphone.CodecG722 &&
					o.portMin == 10000 && o.portMax == 20000 && o.dtmf == "123#" && o.duration == 5*time.Second && o.json && o.log == "debug"
			}, ""},
		{"one dash, uri last", "call", []string{"-listen", "127.0.0.1:0", "-echo", "sip:a@127.0.0.1:5060"},
			func(o *options) bool {
				return o.target == "sip:a@127.0.0.1:5060" && o.echo && o.listen == "127.0.0.1:0"
			}, ""},
		{"server without port", "register", []string{"--server", "pbx", "--user", "u"},
			func(o *options) bool { return o.host == "pbx" && o.port == 0 }, ""},
		{"ipv6 server", "register", []string{"--server", "[::1]:5060", "--user", "u"},
			func(o *options) bool { return o.host == "::1" && o.port == 5060 }, ""},
		{"answer listen auto-answer", "answer", []string{"--listen", "0.0.0.0:5060", "--auto-answer"},
			func(o *options) bool { return o.autoAnswer && o.listen == "0.0.0.0:5060" }, ""},
		{"call without uri", "call", []string{"--server", "pbx", "--user", "u"}, nil, "target URI"},
		{"call with two uris", "call", []string{"sip:a@b", "sip:c@d"}, nil, "target URI"},
		{"register without server", "register", []string{"--user", "u"}, nil, "--server is required"},
		{"answer without server or listen", "answer", nil, nil, "--listen"},
		{"bad transport", "call", []string{"--transport", "sctp", "sip:a@b"}, nil, "--transport"},
		{"bad codec", "call", []string{"--codecs", "pcmu,gsm", "sip:a@b"}, nil, "gsm"},
		{"bad rtp ports", "call", []string{"--rtp-ports", "20000-10000", "sip:a@b"}, nil, "--rtp-ports"},
		{"bad dtmf", "call", []string{"--dtmf", "12x", "sip:a@b"}, nil, "--dtmf"},
		{"bad duration", "call", []string{"--duration", "fast", "sip:a@b"}, nil, "invalid value"},
		{"bad log level", "call", []string{"--log", "loud", "sip:a@b"}, nil, "--log"},
		{"missing play file", "call", []string{"--play", "/nonexistent.wav", "sip:a@b"}, nil, "--play"},
		{"echo and play", "answer", []string{"--listen", "127.0.0.1:0", "--echo", "--play", "/nonexistent.wav"}, nil, "--echo and --play"},
		{"unknown flag", "call", []string{"--volume", "11", "sip:a@b"}, nil, "not defined"},
		{"stray argument", "answer", []string{"--listen", "127.0.0.1:0", "extra"}, nil, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOptions(tc.cmd, tc.args, &bytes.Buffer{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !tc.check(o) {
				t.Errorf("got options %+v, want otherwise", *o)
			}
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	pbx := phonetest.StartPBX(t, phonetest.PBXConfig{Users: map[string]string{"alice": "right"}})
	server := pbx.Addr().String()
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"unknown command", []string{"dance"}, exitUsage},
		{"bad flag", []string{"call", "--transport", "carrier-pigeon", "sip:a@b"}, exitUsage},
		{"help", []string{"help"}, exitOK},
		{"register ok", []string{"register", "--server", server, "--user", "alice", "--pass", "right", "--listen", "127.0.0.1:0"}, exitOK},
		{"register wrong password", []string{"register", "--server", server, "--user", "alice", "--pass", "wrong", "--listen", "127.0.0.1:0"}, exitRegistration},
		{"call unknown user", []string{"call", "--server", server, "--user", "alice", "--pass", "right", "--listen", "127.0.0.1:0", pbx.UserURI("nobody")}, exitCall},
		{"call unregistered user", []string{"call", "--server", server, "--user", "alice", "--pass", "right", "--listen", "127.0.0.1:0", "--json", pbx.UserURI("alice")}, exitCall},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testWait)
			defer cancel()
			var out, errOut bytes.Buffer
			if got := run(ctx, tc.args, strings.NewReader(""), &out, &errOut); got != tc.want {
				t.Errorf("exit status: got %d, want %d\nstdout: %s\nstderr: %s", got, tc.want, out.String(), errOut.String())
			}
		})
	}
}

// lineWriter is an io.Writer for stderr that hands each line matching re
// to a channel, so a test can wait for a status line.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	re    *regexp.Regexp
	match chan []string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for _, line := range strings.Split(string(p), "\n") {
		if m := w.re.FindStringSubmatch(line); m != nil {
			select {
			case w.match <- m:
			default:
			}
		}
	}
	return len(p), nil
}

func (w *lineWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.buf.String() }

// syncBuffer is a bytes.Buffer safe for one writer and a later reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// TestCallAnswerEcho runs `xphone answer --listen 127.0.0.1:0 --echo` and
// `xphone call` against it, playing a WAV file of a tone and recording the
// echo: the recording must hold the tone, and both JSON results must say
// what happened.
func TestCallAnswerEcho(t *testing.T) {
	dir := t.TempDir()
	playFile, recFile := filepath.Join(dir, "tone.wav"), filepath.Join(dir, "echo.wav")
	const freq = 700
	if err := writeWAVFile(playFile, 8000, tone(freq, 8000, 8000*3/2, 8000)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()

	ansErr := &lineWriter{re: regexp.MustCompile(`listening on (sip:\S+)`), match: make(chan []string, 1)}
	var ansOut syncBuffer
	ansCode := make(chan int, 1)
	go func() {
		ansCode <- run(ctx, []string{"answer", "--listen", "127.0.0.1:0", "--echo", "--json"}, nil, &ansOut, ansErr)
	}()
	var uri string
	select {
	case m := <-ansErr.match:
		uri = strings.Replace(m[1], "sip:", "sip:echo@", 1)
	case code := <-ansCode:
		t.Fatalf("answer exited with %d before listening: %s", code, ansErr.String())
	case <-ctx.Done():
		t.Fatalf("answer never listened: %s", ansErr.String())
	}

	var callOut, callErr bytes.Buffer
	code := run(ctx, []string{"call", "--listen", "127.0.0.1:0", "--codecs", "pcmu", "--play", playFile,
		"--record", recFile, "--dtmf", "42", "--json", uri}, nil, &callOut, &callErr)
	if code != exitOK {
		t.Errorf("call exit status: got %d, want %d\n%s%s", code, exitOK, callOut.String(), callErr.String())
	}
	select {
	case code := <-ansCode:
		if code != exitOK {
			t.Errorf("answer exit status: got %d, want %d\n%s%s", code, exitOK, ansOut.Bytes(), ansErr.String())
		}
	case <-ctx.Done():
		t.Fatal("answer did not exit after the call")
	}

	var callRes, ansRes result
	if err := json.Unmarshal(callOut.Bytes(), &callRes); err != nil {
		t.Fatalf("call JSON: %v\n%s", err, callOut.String())
	}
	if err := json.Unmarshal(ansOut.Bytes(), &ansRes); err != nil {
		t.Fatalf("answer JSON: %v\n%s", err, ansOut.Bytes())
	}
	for _, r := range []struct {
		res          result
		dir, reason  string
		dtmfS, dtmfR string
	}{
		{callRes, "outbound", "local hangup", "42", ""},
		{ansRes, "inbound", "remote hangup", "", "42"},
	} {
		c := r.res.Call
		switch {
		case !r.res.OK || r.res.ExitCode != 0 || r.res.Error != "":
			t.Errorf("%s: got ok %v exit %d error %q, want ok", r.res.Command, r.res.OK, r.res.ExitCode, r.res.Error)
		case c == nil || r.res.Stats == nil:
			t.Errorf("%s: got no call or stats in %+v", r.res.Command, r.res)
		case c.Direction != r.dir || c.Codec != "PCMU" || c.EndReason != r.reason || c.CallID == "":
			t.Errorf("%s: got call %+v, want %s PCMU ended by %s", r.res.Command, *c, r.dir, r.reason)
		case r.res.Stats.PacketsSent == 0 || r.res.Stats.PacketsReceived == 0:
			t.Errorf("%s: got stats %+v, want packets both ways", r.res.Command, *r.res.Stats)
		case r.res.DTMFSent != r.dtmfS || r.res.DTMFReceived != r.dtmfR:
			t.Errorf("%s: got DTMF sent %q received %q, want %q and %q", r.res.Command, r.res.DTMFSent, r.res.DTMFReceived, r.dtmfS, r.dtmfR)
		}
	}
	if callRes.Call != nil && ansRes.Call != nil && callRes.Call.CallID != ansRes.Call.CallID {
		t.Errorf("Call-IDs: got %q and %q, want the same", callRes.Call.CallID, ansRes.Call.CallID)
	}

	// The recording: a WAV file at the codec's rate holding our tone,
	// echoed back.
	heard, err := readWAVFile(recFile, 8000)
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	at := onset(heard, 160, demoOnsetLevel)
	if at < 0 {
		t.Fatalf("recording of %d samples: got silence, want the echoed tone", len(heard))
	}
	if err := audiotest.CheckTone(window(heard, at+800, 4000), 8000, freq, 20); err != nil {
		t.Errorf("echoed tone: %v", err)
	}
	if callRes.Recorded != recFile || callRes.RecordedMS <= 0 {
		t.Errorf("got recorded %q %d ms, want %q and a length", callRes.Recorded, callRes.RecordedMS, recFile)
	}
}

func TestWAVRoundTrip(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		path := filepath.Join(t.TempDir(), "x.wav")
		want := speechLike(rate, rate/2, 12000)
		if err := writeWAVFile(path, rate, want); err != nil {
			t.Fatal(err)
		}
		got, err := readWAVFile(path, rate)
		if err != nil {
			t.Fatal(err)
		}
		if !slicesEqual(got, want) {
			t.Errorf("rate %d: got %d samples back, want the %d written", rate, len(got), len(want))
		}
	}
	// A file that is not WAV is refused with a clear error.
	bad := filepath.Join(t.TempDir(), "bad.wav")
	if err := os.WriteFile(bad, []byte("not a wave file at all, just text"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readWAVFile(bad, 8000); err == nil {
		t.Error("reading a text file: got no error, want one")
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInteractive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	var out, errOut bytes.Buffer
	in := strings.NewReader("help\nstatus\nhold\nfrobnicate\nquit\n")
	if code := run(ctx, []string{"--listen", "127.0.0.1:0"}, in, &out, &errOut); code != exitOK {
		t.Fatalf("exit status: got %d, want %d\n%s%s", code, exitOK, out.String(), errOut.String())
	}
	for _, want := range []string{"dial <uri>", "phone: Listening", "error: no call", `unknown command "frobnicate"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLadderLabel(t *testing.T) {
	var l ladder
	var out bytes.Buffer
	l.print(&out, "a", "b", nil)
	if !strings.Contains(out.String(), "PBX") {
		t.Errorf("got %q, want a header naming the PBX", out.String())
	}
	if got, want := hostPort("udp:127.0.0.1:4000"), "127.0.0.1:4000"; got != want {
		t.Errorf("hostPort: got %q, want %q", got, want)
	}
	if got, want := hostPort("sip:alice@127.0.0.1:4000;transport=udp"), "127.0.0.1:4000"; got != want {
		t.Errorf("hostPort: got %q, want %q", got, want)
	}
}

// TestInteractiveCall drives the interactive phone through a whole call to
// `xphone answer --echo`: dial, dtmf, then (once the answerer reports the
// digit) mute, hold, resume, status, hangup.
func TestInteractiveCall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	ansErr := &lineWriter{re: regexp.MustCompile(`listening on (sip:\S+)|received DTMF (\S)`), match: make(chan []string, 4)}
	var ansOut syncBuffer
	ansCode := make(chan int, 1)
	go func() {
		ansCode <- run(ctx, []string{"answer", "--listen", "127.0.0.1:0", "--echo", "--json"}, nil, &ansOut, ansErr)
	}()
	var uri string
	select {
	case m := <-ansErr.match:
		uri = strings.Replace(m[1], "sip:", "sip:echo@", 1)
	case <-ctx.Done():
		t.Fatalf("answer never listened: %s", ansErr.String())
	}
	stdin, script := io.Pipe()
	var out, errOut syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"interactive", "--listen", "127.0.0.1:0"}, stdin, &out, &errOut)
	}()
	if _, err := io.WriteString(script, "dial "+uri+"\ndtmf 5\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-ansErr.match:
		if m[2] != "5" {
			t.Errorf("answer got DTMF %q, want \"5\"", m[2])
		}
	case <-ctx.Done():
		t.Fatalf("the digit never arrived: %s", ansErr.String())
	}
	if _, err := io.WriteString(script, "mute\nunmute\nhold\nresume\nstatus\nhangup\nquit\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("interactive exit status: got %d, want %d", c, exitOK)
		}
	case <-ctx.Done():
		t.Fatal("interactive did not exit after quit")
	}
	script.Close()
	if o := string(out.Bytes()); strings.Contains(o, "error:") || !strings.Contains(o, "call: outbound") {
		t.Errorf("interactive output: got\n%s\nwant a call status and no errors (stderr: %s)", o, errOut.Bytes())
	}
	select {
	case c := <-ansCode:
		if c != exitOK {
			t.Errorf("answer exit status: got %d, want %d: %s", c, exitOK, ansOut.Bytes())
		}
	case <-ctx.Done():
		t.Fatal("answer did not exit after the call")
	}
	var res result
	if err := json.Unmarshal(ansOut.Bytes(), &res); err != nil {
		t.Fatalf("answer JSON: %v", err)
	}
	if res.DTMFReceived != "5" || res.Call == nil || res.Call.EndReason != "remote hangup" {
		t.Errorf("answer result: got DTMF %q, call %+v, want \"5\" and a remote hangup", res.DTMFReceived, res.Call)
	}
}

// TestRegisterMWI: `xphone register --mwi` prints the voicemail status the
// PBX NOTIFYs, and exits 0 when interrupted.
func TestRegisterMWI(t *testing.T) {
	pbx := phonetest.StartPBX(t, phonetest.PBXConfig{Users: map[string]string{"alice": "right"}})
	pbx.SetVoicemail("alice", 3, 1)
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	stderr := &lineWriter{re: regexp.MustCompile(`voicemail: (\d+) new, (\d+) old`), match: make(chan []string, 1)}
	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"register", "--server", pbx.Addr().String(), "--user", "alice", "--pass", "right",
			"--listen", "127.0.0.1:0", "--mwi", "--duration", "1h"}, strings.NewReader(""), &out, stderr)
	}()
	select {
	case m := <-stderr.match:
		if m[1] != "3" || m[2] != "1" {
			t.Errorf("voicemail line: got %q, want 3 new, 1 old", m[0])
		}
	case code := <-done:
		t.Fatalf("register exited with %d before printing the voicemail status\n%s", code, stderr.String())
	case <-ctx.Done():
		t.Fatalf("no voicemail line\n%s", stderr.String())
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit status: got %d, want %d\n%s", code, exitOK, stderr.String())
	}
}

// caller names the party as the status line shows it.
func TestCaller(t *testing.T) {
	for _, tt := range []struct {
		party xphone.Party
		want  string
	}{
		{xphone.Party{URI: "sip:alice@example.com"}, "sip:alice@example.com"},
		{xphone.Party{Name: "Alice", URI: "sip:alice@example.com"}, `"Alice" <sip:alice@example.com>`},
		{xphone.Party{Name: "Desk 1001", URI: "sip:+15550001001@pbx", Number: "+15550001001", Asserted: true},
			`"Desk 1001" <sip:+15550001001@pbx> (asserted; From sip:alice@example.com)`},
		{xphone.Party{URI: "sip:anonymous@anonymous.invalid", Private: true},
			"sip:alice@example.com (private: do not pass on)"},
	} {
		c := phonetest.NewMockCall()
		c.SetFrom("sip:alice@example.com")
		c.SetRemoteParty(tt.party)
		if got := caller(c); got != tt.want {
			t.Errorf("%+v: got %s, want %s", tt.party, got, tt.want)
		}
	}
}

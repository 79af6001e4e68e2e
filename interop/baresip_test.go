//go:build interop

package interop

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/audiotest"
)

//go:embed testdata/baresip.config.tmpl
var baresipConfig string

// baresip is a running headless baresip with a JSON control channel.
type baresip struct {
	*peer
	sipPort  int // UDP+TCP; TLS would be sipPort+1
	ctrlPort int
	recDir   string // sndfile dumps: dump-<time>-dec.wav (received), -enc.wav (sent)
}

// baresipOptions configures startBaresip.
type baresipOptions struct {
	user      string // SIP user; password "secret"
	registrar string // host:port to register with (and use as outbound proxy); "" = none
	codecs    string // audio_codecs, e.g. "PCMU"
	toneHz    int    // the sine baresip sends (ausine)
	mediaenc  string // account mediaenc, e.g. "srtp-mand"; "" = plain RTP
	transport string // with registrar: "udp" (default) or "tls"
	sipCert   string // PEM file of baresip's own certificate (TLS listener); "" = no TLS
	caFile    string // PEM file of the CA baresip trusts for TLS; "" = none
	trace     bool   // -s: baresip writes every SIP message it sends or receives to its log
}

// startBaresip starts baresip on free ports and waits until its control
// port accepts connections.
func startBaresip(t *testing.T, o baresipOptions) *baresip {
	t.Helper()
	bin := needBinary(t, "baresip")
	logVersion(t, "baresip", "baresip-core", "-h")
	dir := t.TempDir()
	b := &baresip{sipPort: freePortRange(t, 2), ctrlPort: freePort(t), recDir: filepath.Join(dir, "rec")}
	if err := os.Mkdir(b.recDir, 0o755); err != nil {
		t.Fatal(err)
	}
	rtp := freePortRange(t, 20)
	writeFile(t, filepath.Join(dir, "config"), expand(t, baresipConfig, map[string]string{
		"IP": "127.0.0.1", "SIP_PORT": strconv.Itoa(b.sipPort), "CTRL_PORT": strconv.Itoa(b.ctrlPort),
		"AUDIO_SOURCE": fmt.Sprintf("ausine,%d", o.toneHz), "AUDIO_PLAYER": fmt.Sprintf("aubridge,none-%d", b.sipPort),
		"REC_DIR": b.recDir, "RTP_PORTS": fmt.Sprintf("%d-%d", rtp, rtp+19),
		"SNDFILE_LINE": "module\t\t\tsndfile.so", "TLS_CERT_LINE": tlsLines(o),
	}))
	acc := fmt.Sprintf(";answermode=auto;audio_codecs=%s;auth_pass=secret", o.codecs)
	if o.mediaenc != "" {
		acc += ";mediaenc=" + o.mediaenc
	}
	aor := fmt.Sprintf("<sip:%s@127.0.0.1:%d>", o.user, b.sipPort)
	if o.registrar != "" {
		tr := o.transport
		if tr == "" {
			tr = "udp"
		}
		aor = fmt.Sprintf("<sip:%s@%s;transport=%s>", o.user, o.registrar, tr)
		acc += fmt.Sprintf(";regint=60;outbound=\"sip:%s;transport=%s\"", o.registrar, tr)
	} else {
		acc += ";regint=0"
	}
	writeFile(t, filepath.Join(dir, "accounts"), aor+acc+"\n")
	writeFile(t, filepath.Join(dir, "contacts"), "")
	// -t: baresip quits by itself after 120 s, a safety net behind Cleanup.
	args := []string{"-4", "-f", dir, "-n", "127.0.0.1", "-t", "120"}
	if o.trace {
		args = append(args, "-s")
	}
	b.peer = startPeer(t, "baresip", dir, bin, args...)
	ctrl := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.ctrlPort))
	b.waitUntil(t, 15*time.Second, "accepting control connections", func() error { return tcpListening(ctrl) })
	return b
}

// tlsLines returns the config lines of baresip's TLS listener (sip_certificate)
// and trusted CA (sip_cafile), or a comment when o has none.
func tlsLines(o baresipOptions) string {
	var l []string
	if o.sipCert != "" {
		l = append(l, "sip_certificate\t\t"+o.sipCert)
	}
	if o.caFile != "" {
		l = append(l, "sip_cafile\t\t"+o.caFile)
	}
	if len(l) == 0 {
		return "# no sip_certificate: no TLS"
	}
	return strings.Join(l, "\n")
}

// baresipCtl drives baresip through its ctrl_tcp module: JSON objects in
// netstrings, commands {"command","params","token"} answered by
// {"response":true,"ok":...,"data":...,"token":...}, and events
// {"event":true,"type":...}. baresip keeps one control connection: a new
// one replaces the old, and events with no connection are lost. Not safe
// for concurrent use; it starts no goroutines.
type baresipCtl struct {
	conn    net.Conn
	rd      *bufio.Reader
	pending []map[string]any // events read while waiting for a response
	seq     int
}

func dialBaresipCtl(t *testing.T, b *baresip) *baresipCtl {
	t.Helper()
	conn, err := net.DialTimeout("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(b.ctrlPort)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &baresipCtl{conn: conn, rd: bufio.NewReader(conn)}
}

// readNetstring reads one netstring ("len:data,") of at most 1 MiB.
func readNetstring(rd *bufio.Reader) ([]byte, error) {
	head, err := rd.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(head[:len(head)-1]))
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("bad netstring length %q", head)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(rd, buf); err != nil {
		return nil, err
	}
	if buf[n] != ',' {
		return nil, fmt.Errorf("netstring not terminated by ','")
	}
	return buf[:n], nil
}

func (c *baresipCtl) next(deadline time.Time) (map[string]any, error) {
	c.conn.SetReadDeadline(deadline)
	raw, err := readNetstring(c.rd)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("control message %q: %v", raw, err)
	}
	return m, nil
}

// command sends one command and returns its response's data; a response
// with ok=false fails the test.
func (c *baresipCtl) command(t *testing.T, command, params string) string {
	t.Helper()
	c.seq++
	tok := fmt.Sprintf("xphone%d", c.seq)
	msg, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": tok})
	if _, err := fmt.Fprintf(c.conn, "%d:%s,", len(msg), msg); err != nil {
		t.Fatalf("baresip %s: %v", command, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := c.next(deadline)
		if err != nil {
			t.Fatalf("baresip %s: waiting for the response: %v", command, err)
		}
		if m["event"] == true {
			c.pending = append(c.pending, m)
			continue
		}
		if m["response"] == true && m["token"] == tok {
			data, _ := m["data"].(string)
			if m["ok"] != true {
				t.Fatalf("baresip %s %s: not ok: %s", command, params, data)
			}
			return data
		}
	}
}

// waitEvent returns the first event of type typ (e.g. CALL_ESTABLISHED)
// within d, failing the test on timeout or on CALL_CLOSED when waiting
// for something else.
func (c *baresipCtl) waitEvent(t *testing.T, typ string, d time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var m map[string]any
		if len(c.pending) > 0 {
			m, c.pending = c.pending[0], c.pending[1:]
		} else {
			var err error
			if m, err = c.next(deadline); err != nil {
				t.Fatalf("waiting for baresip event %s: %v", typ, err)
			}
		}
		if m["event"] != true {
			continue
		}
		got, _ := m["type"].(string)
		if got == typ {
			return m
		}
		if got == "CALL_CLOSED" {
			t.Fatalf("baresip: call closed (%v) while waiting for %s", m["param"], typ)
		}
	}
}

// TestBaresipRegistersAndCallsThroughKamailio: baresip registers to
// Kamailio with digest auth (seen in Kamailio's usrloc), answers control
// commands, and calls a SIPp UAS through Kamailio (407 challenge answered
// by baresip). SIPp echoes baresip's RTP, baresip records what it
// decodes, and the recording must hold baresip's own 440 Hz tone.
func TestBaresipRegistersAndCallsThroughKamailio(t *testing.T) {
	k := startKamailio(t)
	sipp, sippPort := startSIPp(t, "uas-answer-hangup", "-rtp_echo", "-d", "3000")
	sipp.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(sippPort) })
	b := startBaresip(t, baresipOptions{user: "1001", registrar: k.addr(), codecs: "PCMU", toneHz: 440})

	eventually(t, 10*time.Second, "registered in Kamailio's usrloc", func() error {
		return k.registered(t, "1001", fmt.Sprintf("127.0.0.1:%d", b.sipPort))
	})
	ctl := dialBaresipCtl(t, b)
	if info := ctl.command(t, "reginfo", ""); !strings.Contains(info, "1001") || !strings.Contains(info, "OK") {
		t.Fatalf("reginfo: got %q, want account 1001 registered (OK)", info)
	}

	ctl.command(t, "dial", fmt.Sprintf("sip:sipp@127.0.0.1:%d", sippPort))
	ctl.waitEvent(t, "CALL_ESTABLISHED", 10*time.Second)
	ctl.waitEvent(t, "CALL_CLOSED", 15*time.Second) // SIPp hangs up after -d
	if err := sipp.wait(t, 15*time.Second); err != nil {
		t.Fatalf("SIPp exited with %v, want success", err)
	}

	s, rate, dec := b.decodedRecording(t, 2200*time.Millisecond)
	t.Logf("recording %s: %d Hz, %.2f s", filepath.Base(dec), rate, float64(len(s))/float64(rate))
	if rate != 8000 {
		t.Errorf("got %d Hz, want 8000 (PCMU)", rate)
	}
	// Skip the first half second (the echo path fills up) and check the
	// at least 1.5 s that follow.
	mid := s[rate/2 : len(s)-rate/5]
	if err := audiotest.CheckTone(mid, rate, 440, 10); err != nil {
		t.Error(err)
	}
	var peak float64
	for _, x := range mid {
		peak = max(peak, float64(x), -float64(x))
	}
	r := audiotest.Continuity(mid, rate, 440, peak)
	t.Logf("continuity: %+v, peak %.0f", r, peak)
	// Loopback loses nothing, but a loaded machine can starve baresip's
	// or SIPp's timers: allow a few frames of underrun.
	if r.SilentFraction() > 0.05 {
		t.Errorf("got %d silent frames of %d on a lossless loopback echo, want at most 5%%", r.SilentFrames, r.Frames)
	}
}

// decodedRecording waits for baresip's one recording of what it received
// (dump-*-dec.wav, finished when the call is torn down) to hold at least
// min of audio, and returns it as mono samples with its sample rate.
func (b *baresip) decodedRecording(t *testing.T, min time.Duration) (s []int16, rate int, path string) {
	t.Helper()
	eventually(t, 5*time.Second, "baresip's recording written", func() error {
		m, _ := filepath.Glob(filepath.Join(b.recDir, "dump-*-dec.wav"))
		if len(m) != 1 {
			return fmt.Errorf("got %d decoded recordings %q, want 1", len(m), m)
		}
		path = m[0]
		return nil
	})
	eventually(t, 5*time.Second, "baresip's recording readable", func() error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		w, err := audiotest.ReadWAV(f)
		if err != nil {
			return err
		}
		s, rate = w.Mono(), w.SampleRate
		if got := time.Duration(len(s)) * time.Second / time.Duration(rate); got < min {
			return fmt.Errorf("recording holds %v, want at least %v", got, min)
		}
		return nil
	})
	return s, rate, path
}

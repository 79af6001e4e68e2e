//go:build interop

package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xphone-go/xphone/audio/wav"
	"github.com/xphone-go/xphone/internal/audiotest"
)

// writeToneWAV writes secs seconds of a freq Hz tone, 8 kHz mono 16-bit,
// with the project's audio/wav writer.
func writeToneWAV(t *testing.T, path string, freq float64, secs int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := wav.NewWriter(f, 8000)
	if err := w.WriteSamples(audiotest.Tone(freq, 8000, 8000, 8000*secs)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readWAVMono reads a WAV file's samples (channels mixed) and its rate.
func readWAVMono(path string) ([]int16, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	w, err := audiotest.ReadWAV(f)
	if err != nil {
		return nil, 0, err
	}
	return w.Mono(), w.SampleRate, nil
}

// TestCLICallBaresipThroughKamailio: `xphone call sip:1001@KAMAILIO
// --server KAMAILIO --user 1002 --pass secret --play tone.wav --record
// out.wav --duration 3s --json` registers with Kamailio (digest auth) and
// calls baresip, registered there as 1001, which answers by itself and
// sends 440 Hz. The command must exit 0 with a JSON result of a
// registered, outbound PCMU call of about 3 s that we hung up, with
// packets both ways and no loss; baresip's recording of what it decoded
// must hold our 1 kHz tone, and our --record WAV baresip's 440 Hz.
func TestCLICallBaresipThroughKamailio(t *testing.T) {
	k := startKamailio(t)
	b := startBaresip(t, baresipOptions{user: "1001", registrar: k.addr(), codecs: "PCMU", toneHz: 440})
	eventually(t, 10*time.Second, "baresip registered in Kamailio's usrloc", func() error {
		return k.registered(t, "1001", fmt.Sprintf("127.0.0.1:%d", b.sipPort))
	})
	ctl := dialBaresipCtl(t, b)

	dir := t.TempDir()
	tone, out := filepath.Join(dir, "tone.wav"), filepath.Join(dir, "out.wav")
	writeToneWAV(t, tone, 1000, 5)
	x := startXphone(t, "call", "sip:1001@"+k.addr(), "--server", k.addr(), "--user", "1002", "--pass", "secret",
		"--listen", "127.0.0.1:0", "--codecs", "pcmu", "--play", tone, "--record", out, "--duration", "3s",
		"--json", "--timeout", "20s")
	ctl.waitEvent(t, "CALL_ESTABLISHED", 20*time.Second)
	ctl.waitEvent(t, "CALL_CLOSED", 20*time.Second) // our BYE after --duration
	if code := x.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("xphone call: exit code %d, want 0", code)
	}
	r := x.result(t)
	st := r.Stats
	t.Logf("xphone JSON: ok=%v exit_code=%d registered=%v call=%+v stats=%+v recorded %d ms",
		r.OK, r.ExitCode, r.Registered, *r.Call, *st, r.RecordedMS)
	if !r.OK || r.ExitCode != 0 || r.Command != "call" || !r.Registered {
		t.Errorf("JSON result: got command %q ok %v exit_code %d registered %v, want call, true, 0, true",
			r.Command, r.OK, r.ExitCode, r.Registered)
	}
	if r.Call.Direction != "outbound" || r.Call.Codec != "PCMU" || r.Call.EndReason != "local hangup" {
		t.Errorf("JSON call: got direction %q codec %q end_reason %q, want outbound, PCMU, local hangup",
			r.Call.Direction, r.Call.Codec, r.Call.EndReason)
	}
	if d := r.Call.DurationMS; d < 2900 || d > 4000 {
		t.Errorf("JSON call duration_ms: got %d, want about 3000 (--duration 3s)", d)
	}
	// 3 s of 20 ms packets is 150 each way; allow for the first and last
	// moments of the call.
	if st.PacketsSent < 120 || st.PacketsReceived < 120 {
		t.Errorf("JSON stats: got %d packets sent, %d received, want at least 120 each (3 s of 20 ms)",
			st.PacketsSent, st.PacketsReceived)
	}
	if st.PacketsLost != 0 {
		t.Errorf("JSON packets_lost: got %d, want 0 on loopback", st.PacketsLost)
	}
	if r.Recorded != out || r.RecordedMS < 2500 {
		t.Errorf("JSON recorded: got %q, %d ms, want %q, at least 2500 ms", r.Recorded, r.RecordedMS, out)
	}

	// Ours: what baresip sent.
	s, rate, err := readWAVMono(out)
	if err != nil {
		t.Fatalf("our --record %s: %v", out, err)
	}
	if rate != 8000 || len(s) < 8000*5/2 {
		t.Fatalf("our --record: got %d samples at %d Hz, want at least 2.5 s at 8000 Hz", len(s), rate)
	}
	mid := s[4000 : len(s)-1600]
	if err := audiotest.CheckTone(mid, 8000, 440, 10); err != nil {
		t.Errorf("our --record (baresip's tone): %v", err)
	}
	f, rel := audiotest.DominantFrequency(mid, 8000)
	t.Logf("our --record: %.2f s, dominant %.0f Hz (%.0f%% of the energy)", float64(len(s))/8000, f, 100*rel)

	// baresip's: what we sent.
	s, rate, _ = b.decodedRecording(t, 2500*time.Millisecond)
	mid = s[rate/2 : len(s)-rate/5]
	if err := audiotest.CheckTone(mid, rate, 1000, 10); err != nil {
		t.Errorf("baresip's recording (our tone): %v", err)
	}
	f, rel = audiotest.DominantFrequency(mid, rate)
	t.Logf("baresip's recording: %.2f s at %d Hz, dominant %.0f Hz (%.0f%% of the energy)",
		float64(len(s))/float64(rate), rate, f, 100*rel)
}

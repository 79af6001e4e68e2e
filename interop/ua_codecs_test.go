//go:build interop

package interop

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/internal/opus"
)

// TestUACodecsBaresip: for each codec beyond PCMU, our phone offering
// only that codec calls baresip accepting only that codec; baresip
// auto-answers and sends 440 Hz, we send 1000 Hz. The call runs the codec
// (Call.Codec), our PCM frames have the codec's size at its rate, we hear
// 440 Hz at that rate, and baresip's recording of what it decoded holds
// 1000 Hz at the recording's own rate. Audio at the wrong speed (G.722 is
// 16 kHz audio on an 8 kHz RTP clock, RFC 3551 §4.5.2; our Opus is 16 kHz
// at the API on a 48 kHz clock, RFC 7587 §4.1) shows as a frequency off by
// the ratio of the rates, far outside the ±10 Hz allowed. RTP timestamps
// at the wrong rate, which a decoder does not need, show in the
// interarrival jitter each side computes of the other's stream
// (checkClocks).
//
// Opus needs our phone built with -tags opus (run.sh adds it when
// pkg-config finds libopus): without it the opus subtest fails in CI and
// is skipped elsewhere.
func TestUACodecsBaresip(t *testing.T) {
	for _, tc := range []struct {
		codec   xphone.Codec
		baresip string // baresip's name for it in audio_codecs
		rate    int    // PCM rate at our API (Codec.SampleRate, PCMRate 0)
		recRate int    // rate of baresip's decoder, hence of its recording
	}{
		{xphone.CodecPCMA, "PCMA", 8000, 8000},
		{xphone.CodecG722, "G722", 16000, 16000},
		{xphone.CodecOpus, "opus", 16000, 48000},
	} {
		t.Run(string(tc.codec), func(t *testing.T) {
			if tc.codec == xphone.CodecOpus && !opus.Available() {
				if inCI {
					t.Fatal("this build has no Opus: run.sh builds with -tags opus when pkg-config finds libopus (.ci/install-deps.sh installs libopus-dev)")
				}
				t.Skip("this build has no Opus (go test -tags interop,opus, libopus-dev); CI fails here")
			}
			if got := tc.codec.SampleRate(); got != tc.rate {
				t.Fatalf("%s.SampleRate() = %d, want %d", tc.codec, got, tc.rate)
			}
			b := startBaresip(t, baresipOptions{user: "1001", codecs: tc.baresip, toneHz: 440})
			events := dialBaresipCtl(t, b).events(time.Now().Add(90 * time.Second))
			p := listeningPhone(t, "xphone", 0, func(c *xphone.Config) { c.Codecs = []xphone.Codec{tc.codec} })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := p.Dial(ctx, fmt.Sprintf("sip:1001@127.0.0.1:%d", b.sipPort))
			if err != nil {
				t.Fatalf("Dial baresip: %v", err)
			}
			if got := c.Codec(); got != tc.codec {
				t.Fatalf("Call.Codec() = %q, want %q", got, tc.codec)
			}
			go toneAt(c, 1000, tc.rate)
			const frames = 150 // 3 s
			heard := hearFrames(t, c, frames, tc.rate/50)
			checkClocks(t, c, events, tc.codec)
			st := c.Stats()
			endCtx, endCancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer endCancel()
			if err := c.End(endCtx); err != nil {
				t.Fatalf("End: %v", err)
			}
			waitClosed(t, events, 10*time.Second)
			t.Logf("our stats: codec %s, sent %d, received %d, lost %d, concealed %d, outbound dropped %d",
				st.Codec, st.PacketsSent, st.PacketsReceived, st.PacketsLost, st.FramesConcealed, st.OutboundDropped)

			// The frequency scans run after the call, so as not to take
			// the CPU from its media. Skip the first half second
			// (baresip's jitter buffer and ours fill up) and look at the
			// next second.
			checkToneAt(t, "we heard", heard[tc.rate/2:tc.rate/2+tc.rate], tc.rate, 440)

			s, rate, path := b.decodedRecording(t, 2*time.Second)
			t.Logf("baresip's recording %s: %d Hz, %.2f s", filepath.Base(path), rate, float64(len(s))/float64(rate))
			if rate != tc.recRate {
				t.Errorf("baresip's recording is at %d Hz, want %d (its %s decoder's rate)", rate, tc.recRate, tc.baresip)
			}
			// At 48 kHz half a second keeps the frequency scan short;
			// its bins (2 Hz) are still well inside ±10 Hz.
			checkToneAt(t, "baresip heard", s[rate/2:rate/2+min(rate, 24000)], rate, 1000)
		})
	}
}

// checkToneAt checks that samples at rate Hz hold a tone of freq ± 10 Hz
// (audiotest.CheckTone), logging the dominant frequency found.
func checkToneAt(t *testing.T, who string, samples []int16, rate int, freq float64) {
	t.Helper()
	got, rel := audiotest.DominantFrequency(samples, rate)
	t.Logf("%s at %d Hz: dominant %.1f Hz (%.0f%% of the energy), want %.0f Hz", who, rate, got, 100*rel, freq)
	if math.Abs(got-freq) > 10 || rel < audiotest.MinToneRelativePower {
		t.Errorf("%s: %v", who, audiotest.CheckTone(samples, rate, freq, 10))
	}
}

// toneAt writes a tone to c at rate Hz, one 20 ms frame every 20 ms,
// until the call ends.
func toneAt(c xphone.Call, freq float64, rate int) {
	g := audiotest.ToneGenerator{Freq: freq, SampleRate: rate, Amplitude: 8000}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		f := make([]int16, rate/50)
		g.Fill(f)
		select {
		case c.PCMWriter() <- f:
		case <-c.Context().Done():
			return
		}
		select {
		case <-tick.C:
		case <-c.Context().Done():
			return
		}
	}
}

// hearFrames reads frames PCM frames from c within 15 s, each of size
// samples, and returns them joined.
func hearFrames(t *testing.T, c xphone.Call, frames, size int) []int16 {
	t.Helper()
	out := make([]int16, 0, frames*size)
	deadline := time.After(15 * time.Second)
	for n := 0; n < frames; n++ {
		select {
		case f, ok := <-c.PCMReader():
			if !ok {
				t.Fatalf("PCMReader closed after %d frames", n)
			}
			if len(f) != size {
				t.Fatalf("frame %d holds %d samples, want %d (20 ms at the codec's rate)", n, len(f), size)
			}
			out = append(out, f...)
		case <-deadline:
			t.Fatalf("got %d frames, want %d", n, frames)
		}
	}
	return out
}

// clockJitterMax bounds the interarrival jitter (RFC 3550 §6.4.1) of a
// stream whose RTP timestamps run at the clock rate its SDP names: 1–7 ms
// is seen on loopback (the senders' 20 ms timers), 5–6 ms with -race on a
// loaded machine, and a stall raises it for a while, so checkClocks waits
// for one reading below it. Timestamps at another rate make every packet
// look early or late by the same amount, which holds the jitter there for
// the whole call: G.722 stamped at its 16 kHz sampling rate on its 8 kHz
// clock gives 20 ms, at 4 kHz 10 ms; Opus stamped at 16 kHz on its 48 kHz
// clock 13.3 ms, at 8 kHz 16.7 ms.
const clockJitterMax = 8 * time.Millisecond

// checkClocks waits, up to 30 s, until both interarrival jitters of the
// call are below clockJitterMax: ours of baresip's stream
// (CallStats.Jitter, computed with our idea of the codec's RTP clock
// rate), and baresip's of ours (the rx jitter of its CALL_RTCP events,
// computed with its idea of the rate: our timestamps against its clock).
// Each counts once 100 packets went into it, when the estimate has
// settled. The frequency of the tones proves the sampling rates; this
// proves the RTP timestamps, which a decoder does not need to play every
// frame in order.
func checkClocks(t *testing.T, c xphone.Call, events <-chan ctlEvent, codec xphone.Codec) {
	t.Helper()
	const wait = 30 * time.Second
	timeout := time.After(wait)
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	ours, theirs := time.Duration(-1), time.Duration(-1) // last seen; -1: none yet
	oursOK, theirsOK := false, false
	for !oursOK || !theirsOK {
		select {
		case <-poll.C:
			if st := c.Stats(); !oursOK && st.PacketsReceived >= 100 {
				ours = st.Jitter
				if oursOK = ours < clockJitterMax; oursOK {
					t.Logf("our jitter of baresip's %s stream: %v after %d packets", codec, ours, st.PacketsReceived)
				}
			}
		case e, ok := <-events:
			if !ok {
				t.Fatal("baresip's control channel ended")
			}
			if e.err != nil {
				t.Fatalf("baresip's control channel: %v", e.err)
			}
			if e.typ() == "CALL_CLOSED" {
				t.Fatalf("baresip closed the call: %v", e.m["param"])
			}
			if r, ok := e.rtcp(); ok && !theirsOK && r.RX.Sent >= 100 {
				theirs = time.Duration(r.RX.Jit) * time.Microsecond
				if theirsOK = theirs < clockJitterMax; theirsOK {
					t.Logf("baresip's jitter of our %s stream: %v after %d packets (%d lost)", codec, theirs, r.RX.Sent, r.RX.Lost)
				}
			}
		case <-timeout:
			t.Errorf("%s RTP clock: after %v, last jitter seen of baresip's stream by us %v, of ours by baresip %v (-1s: none after 100 packets); want both below %v for once",
				codec, wait, ours, theirs, clockJitterMax)
			return
		}
	}
}

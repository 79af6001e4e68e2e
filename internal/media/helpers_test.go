package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/audiotest"
)

// deadline bounds every wait; generous for a loaded 2-core machine.
const deadline = 10 * time.Second

var loopback = netip.MustParseAddr("127.0.0.1")

// testOptions returns options for a loopback session with fast RTCP.
func testOptions() Options {
	return Options{
		Address:      loopback,
		PortMin:      30000,
		PortMax:      39999,
		RTCPInterval: 200 * time.Millisecond,
		MediaTimeout: -1,
	}
}

func newSession(t *testing.T, o Options) *Session {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pair makes two sessions pointed at each other and starts them with the
// configs that edit returns.
func pair(t *testing.T, oa, ob Options, ca, cb Config) (a, b *Session) {
	t.Helper()
	a, b = newSession(t, oa), newSession(t, ob)
	ca.RemoteRTP, cb.RemoteRTP = b.LocalRTP(), a.LocalRTP()
	if !ca.RTCPMux {
		ca.RemoteRTCP = b.LocalRTCP()
	}
	if !cb.RTCPMux {
		cb.RemoteRTCP = a.LocalRTCP()
	}
	if err := a.Start(ca); err != nil {
		t.Fatalf("Start a: %v", err)
	}
	if err := b.Start(cb); err != nil {
		t.Fatalf("Start b: %v", err)
	}
	return a, b
}

// feedTone queues frames of a tone on the paced writer (it holds them
// without blocking) and returns the generator's sample rate.
func feedTone(t *testing.T, s *Session, freq float64, frames int) {
	t.Helper()
	rate := s.SampleRate()
	g := audiotest.ToneGenerator{Freq: freq, SampleRate: rate, Amplitude: 8000}
	w := s.PacedPCMWriter()
	for range frames {
		f := make([]int16, rate/50)
		g.Fill(f)
		select {
		case w <- f:
		default:
			t.Fatalf("paced writer full")
		}
	}
}

// collect reads n frames from the session's PCM reader.
func collect(t *testing.T, s *Session, n int) []int16 {
	t.Helper()
	var out []int16
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for i := 0; i < n; i++ {
		select {
		case f, ok := <-s.PCMReader():
			if !ok {
				t.Fatalf("reader closed after %d frames", i)
			}
			out = append(out, f...)
		case <-timer.C:
			t.Fatalf("got %d frames before the deadline, want %d", i, n)
		}
	}
	return out
}

// checkTone asserts the tone in the last frames of pcm.
func checkTone(t *testing.T, pcm []int16, rate int, freq float64) {
	t.Helper()
	tail := pcm[len(pcm)/2:]
	if err := audiotest.CheckTone(tail, rate, freq, 15); err != nil {
		t.Errorf("tone at %d Hz: %v", rate, err)
	}
}

// waitTone reads windows of 20 frames from s until the second half of one
// carries the tone, and fails the test after tries windows. It is for a
// tone that starts (or comes back) while frames flow: on a loaded machine
// a window can hold a late packet's concealment and still be right.
func waitTone(t *testing.T, s *Session, freq float64, tries int) {
	t.Helper()
	var err error
	for range tries {
		pcm := collect(t, s, 20)
		if err = audiotest.CheckTone(pcm[len(pcm)/2:], s.SampleRate(), freq, 15); err == nil {
			return
		}
	}
	t.Errorf("no window of %d carried the tone at %v Hz; the last: %v", tries, freq, err)
}

// waitEvent waits for a value on ch.
func waitEvent[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(deadline):
		t.Fatalf("no %s before the deadline", what)
	}
	var zero T
	return zero
}

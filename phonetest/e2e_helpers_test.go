package phonetest

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/internal/leakcheck"
)

// e2eWait bounds every wait of the end-to-end tests. It only turns a hang
// into a failure: nothing is asserted about how long anything takes.
const e2eWait = 10 * time.Second

// e2eUsers are the PBX accounts of the end-to-end tests.
var e2eUsers = map[string]string{"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}

// startE2E checks for leaked goroutines when the test ends (after every
// phone and the PBX are stopped: cleanups run last-in first-out) and starts
// a PBX with e2eUsers.
func startE2E(t *testing.T, cfg PBXConfig) *PBX {
	t.Helper()
	leakcheck.Check(t)
	if cfg.Users == nil {
		cfg.Users = e2eUsers
	}
	return StartPBX(t, cfg)
}

// e2eConfig is the Config of a real phone registered with pbx as user:
// loopback only, keepalives off (UDP keepalives carry nothing the tests
// check) and a generous media timeout unless a test sets its own.
func e2eConfig(pbx *PBX, user string) xphone.Config {
	return xphone.Config{
		Username: user, Password: e2eUsers[user],
		Host: pbx.Addr().Addr().String(), Port: int(pbx.Addr().Port()),
		ListenAddr:           "127.0.0.1:0",
		RTPAddress:           netip.MustParseAddr("127.0.0.1"),
		NATKeepaliveInterval: -1,
		MediaTimeout:         -1,
	}
}

// e2ePhone creates a phone from cfg, connects it (registering with the
// PBX) and disconnects it when the test ends.
func e2ePhone(t *testing.T, cfg xphone.Config) xphone.Phone {
	t.Helper()
	p, err := xphone.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	if err := p.Connect(ctx); err != nil {
		t.Fatalf("%s Connect: %v", cfg.Username, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
		defer cancel()
		if err := p.Disconnect(ctx); err != nil {
			t.Errorf("%s Disconnect: %v", cfg.Username, err)
		}
	})
	return p
}

// inbox collects a phone's incoming calls. Each call's end reason is
// reported on the call's ended channel.
type inbox struct {
	calls chan *e2eCall
}

// e2eCall is a call with its end reason captured from OnEnded.
type e2eCall struct {
	xphone.Call
	ended chan xphone.EndReason
}

func watch(c xphone.Call) *e2eCall {
	ec := &e2eCall{Call: c, ended: make(chan xphone.EndReason, 1)}
	c.OnEnded(func(r xphone.EndReason) { ec.ended <- r })
	return ec
}

// listen sets p's OnIncoming to queue every call on the returned inbox;
// handle, when set, runs on each call (on the phone's callback goroutine).
func listen(p xphone.Phone, handle func(xphone.Call)) *inbox {
	in := &inbox{calls: make(chan *e2eCall, 8)}
	p.OnIncoming(func(c xphone.Call) {
		ec := watch(c)
		if handle != nil {
			handle(c)
		}
		in.calls <- ec
	})
	return in
}

// next waits for the next incoming call.
func (in *inbox) next(t *testing.T) *e2eCall {
	t.Helper()
	select {
	case c := <-in.calls:
		return c
	case <-time.After(e2eWait):
		t.Fatal("no incoming call")
		return nil
	}
}

// waitEnded waits for c to end and checks why.
func (c *e2eCall) waitEnded(t *testing.T, who string, want xphone.EndReason) {
	t.Helper()
	select {
	case r := <-c.ended:
		if r != want {
			t.Errorf("%s end reason: got %v, want %v", who, r, want)
		}
	case <-time.After(e2eWait):
		t.Errorf("%s: call did not end (state %v), want %v", who, c.State(), want)
	}
}

// dial places a call from p to user at the PBX.
func dial(t *testing.T, p xphone.Phone, user string, opts ...xphone.DialOption) (*e2eCall, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	c, err := p.Dial(ctx, user, opts...)
	if err != nil {
		return nil, err
	}
	return watch(c), nil
}

// e2eToneSeconds is how much tone each side sends: enough for the jitter
// buffer to fill and e2eToneFrames frames to be analysed, short enough to
// keep the tests quick.
const (
	e2eToneSeconds = 1
	e2eToneFrames  = 20
)

// sendTone queues a tone of freq Hz on c's paced writer, at the call's PCM
// rate, in 20 ms frames; the call sends one every 20 ms. (The tone goes
// frame by frame because the media session takes one frame per send from
// the paced writer, whatever its length.)
func sendTone(t *testing.T, c xphone.Call, freq float64) {
	t.Helper()
	rate := c.Codec().SampleRate()
	n := c.Codec().FrameSize()
	tone := audiotest.Tone(freq, rate, 8000, rate*e2eToneSeconds)
	for len(tone) >= n {
		select {
		case c.PacedPCMWriter() <- tone[:n:n]:
		case <-time.After(e2eWait):
			t.Fatal("paced writer blocked")
		}
		tone = tone[n:]
	}
}

// hearTone reads c's received audio, skips frames until the tone starts,
// and checks that the next e2eToneFrames frames carry freq.
func hearTone(t *testing.T, who string, c xphone.Call, freq float64) {
	t.Helper()
	rate := c.Codec().SampleRate()
	var heard []int16
	timeout := time.After(e2eWait)
	for len(heard) < e2eToneFrames*rate/50 {
		select {
		case f, ok := <-c.PCMReader():
			if !ok {
				t.Fatalf("%s: call ended while listening (%v)", who, context.Cause(c.Context()))
			}
			// Frames before the first audio are silence or concealment;
			// the first loud frame starts the tone.
			if len(heard) == 0 && audiotest.Energy(f) < float64(len(f))*1000*1000 {
				continue
			}
			heard = append(heard, f...)
		case <-timeout:
			t.Fatalf("%s: heard %d samples of tone, want %d", who, len(heard), e2eToneFrames*rate/50)
		}
	}
	// The first frame may hold the start of the tone after silence.
	if err := audiotest.CheckTone(heard[rate/50:], rate, freq, 15); err != nil {
		t.Errorf("%s heard: %v", who, err)
	}
}

// wantStatus checks that err is a *StatusError with code that matches want.
func wantStatus(t *testing.T, err error, code int, want error) {
	t.Helper()
	var se *xphone.StatusError
	if !errors.Is(err, want) || !errors.As(err, &se) || se.Code != code {
		t.Errorf("Dial: got %v, want a %d StatusError matching %v", err, code, want)
	}
}

//go:build interop

package interop

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/ua"
)

// Call control against SIPp: UPDATE (RFC 3311), session-timer 422/Min-SE
// (RFC 4028) and re-INVITE glare (RFC 3261 §14.1). The phone here is the
// UA core (internal/ua), which has Call.Update; the public Call has no
// UPDATE method yet.

// callctlPhone is a connected internal/ua phone on loopback UDP with
// session timers of interval timer (0: off); incoming calls are answered
// and handed to the returned channel.
func callctlPhone(t *testing.T, timer time.Duration) (*ua.UA, chan *ua.Call) {
	t.Helper()
	return answeringUA(t, func(c *ua.Config) { c.SessionTimer = timer })
}

// answeringUA is a connected internal/ua phone on loopback UDP (PCMU, no
// media timeout) that answers incoming calls and hands them to the
// returned channel; edit adjusts its Config.
func answeringUA(t *testing.T, edit func(*ua.Config)) (*ua.UA, chan *ua.Call) {
	t.Helper()
	calls := make(chan *ua.Call, 4)
	cfg := ua.Config{
		Username:   "xphone",
		ListenAddr: "127.0.0.1:0",
		UserAgent:  "xphone-interop",
		Media:      media.Options{Address: netip.MustParseAddr("127.0.0.1"), MediaTimeout: -1},
		Codecs:     []string{"PCMU"},
		OnIncoming: func(c *ua.Call) {
			if err := c.Accept(context.Background()); err != nil {
				t.Errorf("Accept: %v", err)
			}
			calls <- c
		},
	}
	edit(&cfg)
	u := ua.New(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { u.Disconnect(context.Background()) })
	return u, calls
}

// phoneAddr is the phone's host:port for SIPp's remote address.
func phoneAddr(u *ua.UA) string {
	host, port := u.LocalAddr()
	return host + ":" + strconv.Itoa(port)
}

// stateLog records a call's states, safe for the callback goroutine.
type stateLog struct {
	mu   sync.Mutex
	seen []ua.State
}

func (l *stateLog) add(s ua.State) { l.mu.Lock(); l.seen = append(l.seen, s); l.mu.Unlock() }

func (l *stateLog) has(s ua.State) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.seen {
		if x == s {
			return true
		}
	}
	return false
}

// waitEnded waits for c to end and checks why.
func waitEnded(t *testing.T, c *ua.Call, want ua.EndReason) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("call did not end (state %v)", c.State())
	}
	if got := c.Reason(); got != want {
		t.Errorf("end reason: got %v, want %v", got, want)
	}
}

// TestSIPpUpdate: SIPp calls the phone, holds it with an UPDATE offer
// (sendonly; the scenario checks our answer is recvonly), refreshes the
// session with a body-less UPDATE (it checks the 200's Session-Expires) and
// hangs up.
func TestSIPpUpdate(t *testing.T) {
	u, calls := callctlPhone(t, 1800*time.Second)
	p, _ := startSIPp(t, "update-uac", "-s", "xphone", phoneAddr(u))
	var c *ua.Call
	select {
	case c = <-calls:
	case <-time.After(20 * time.Second):
		t.Fatal("SIPp's call did not arrive")
	}
	// OnState is set after the call was answered: only the later states.
	log := &stateLog{}
	c.OnState(log.add)
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("SIPp exited with %v, want status 0", err)
	}
	waitEnded(t, c, ua.EndRemoteHangup)
	if !log.has(ua.StateOnHold) {
		t.Errorf("states after the UPDATE offer: got %v, want %v among them", log.seen, ua.StateOnHold)
	}
}

// sippCallsRinging starts SIPp's scenario against a phone that neither
// accepts nor rejects, and returns SIPp and its call, ringing.
func sippCallsRinging(t *testing.T, scenario string) (*peer, *ua.Call) {
	t.Helper()
	calls := make(chan *ua.Call, 1)
	u, _ := answeringUA(t, func(c *ua.Config) { c.OnIncoming = func(c *ua.Call) { calls <- c } })
	p, _ := startSIPp(t, scenario, "-s", "xphone", phoneAddr(u))
	select {
	case c := <-calls:
		return p, c
	case <-time.After(20 * time.Second):
		t.Fatal("SIPp's call did not arrive")
	}
	return nil, nil
}

// TestSIPpReinviteEarly: SIPp calls the phone and, while it rings,
// re-INVITEs inside the early dialog of its 180: the scenario checks the
// 500 with a Retry-After of 0 to 10 s that RFC 3261 §14.2 asks for. The
// phone answers once SIPp has logged that 500 (the scenario checks the
// 200 answers the first INVITE's sendrecv offer); SIPp then ACKs and
// at once re-INVITEs with sendonly (the scenario checks the recvonly
// answer) and hangs up.
func TestSIPpReinviteEarly(t *testing.T) {
	p, c := sippCallsRinging(t, "reinvite-early-uac")
	p.waitUntil(t, 20*time.Second, "answered 500 to its early re-INVITE", func() error {
		b, err := os.ReadFile(filepath.Join(p.dir, "messages.log"))
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), "SIP/2.0 500") {
			return errors.New("no 500 in SIPp's message log yet")
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Accept(ctx); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("SIPp exited with %v, want status 0", err)
	}
	waitEnded(t, c, ua.EndRemoteHangup)
}

// TestSIPpByeEarly: SIPp calls the phone and, while it rings, hangs up
// with a BYE in the early dialog: the scenario checks our 200 to the BYE
// and 487 to its INVITE (RFC 3261 §15.1.2); the call ends as cancelled.
func TestSIPpByeEarly(t *testing.T) {
	p, c := sippCallsRinging(t, "bye-early-uac")
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("SIPp exited with %v, want status 0", err)
	}
	waitEnded(t, c, ua.EndCancelled)
}

// TestSIPpForkEarlyMedia: SIPp plays two forks of a forking proxy: one
// sends 183 with SDP (early media), the other answers 200 with SDP naming
// a port this test listens on. The phone ACKs the 200 in its own dialog
// (checked by the scenario), sends its media to that port (checked here:
// RTP arrives) and hangs up with a BYE in that dialog (checked by the
// scenario). RFC 3261 §13.2.2.4.
func TestSIPpForkEarlyMedia(t *testing.T) {
	u, _ := callctlPhone(t, 0)
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	sinkPort := sink.LocalAddr().(*net.UDPAddr).Port
	p, port := startSIPp(t, "fork-early-uas", "-key", "port2", strconv.Itoa(sinkPort))
	p.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(port) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := u.Dial(ctx, "sip:sipp@127.0.0.1:"+strconv.Itoa(port), ua.DialOptions{})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if got := c.Media().Config().RemoteRTP.Port(); int(got) != sinkPort {
		t.Errorf("remote RTP port: got %d, want the 2xx's %d", got, sinkPort)
	}
	go func() {
		silence := make([]int16, 160)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case c.Media().PCMWriter() <- silence:
			case <-c.Done():
				return
			}
			select {
			case <-tick.C:
			case <-c.Done():
				return
			}
		}
	}()
	sink.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // the read fails then
	buf := make([]byte, 2048)
	if n, _, err := sink.ReadFromUDP(buf); err != nil || n < 12 || buf[0]>>6 != 2 {
		t.Errorf("RTP at the 2xx's port: got %d bytes, %v; want an RTP packet", n, err)
	}
	if err := c.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("SIPp exited with %v, want status 0", err)
	}
}

// TestSIPp422MinSE: both sides of RFC 4028's 422. (uas) SIPp answers our
// INVITE asking for 90 s with 422 and Min-SE: 1800; the scenario checks the
// retry asks for at least 1800 s with a Min-SE, and the call is set up.
// (uac) SIPp asks us for 30 s; the scenario checks our 422 names our
// Min-SE (90), and no call reaches the application.
func TestSIPp422MinSE(t *testing.T) {
	t.Run("uas", func(t *testing.T) {
		u, _ := callctlPhone(t, 90*time.Second)
		p, port := startSIPp(t, "timer-422-uas")
		p.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(port) })
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := u.Dial(ctx, "sip:sipp@127.0.0.1:"+strconv.Itoa(port), ua.DialOptions{})
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		if got, want := c.State(), ua.StateActive; got != want {
			t.Errorf("state: got %v, want %v", got, want)
		}
		if err := c.End(ctx); err != nil {
			t.Errorf("End: %v", err)
		}
		if err := p.wait(t, 30*time.Second); err != nil {
			t.Fatalf("SIPp exited with %v, want status 0", err)
		}
	})
	t.Run("uac", func(t *testing.T) {
		u, calls := callctlPhone(t, 90*time.Second)
		p, _ := startSIPp(t, "timer-422-uac", "-s", "xphone", phoneAddr(u))
		if err := p.wait(t, 30*time.Second); err != nil {
			t.Fatalf("SIPp exited with %v, want status 0", err)
		}
		select {
		case c := <-calls:
			t.Errorf("got a call %s, want none (422)", c.CallID())
		default:
		}
	})
}

// TestSIPpGlare: the phone calls SIPp and holds; SIPp's re-INVITE crosses
// ours. Each side answers the other 491 (RFC 3261 §14.2). SIPp, not owning
// the Call-ID, retries first and gets 200; the phone retries 2.1 to 4 s
// after its 491 (§14.1) and its Hold succeeds. SIPp then hangs up.
func TestSIPpGlare(t *testing.T) {
	u, _ := callctlPhone(t, 0)
	p, port := startSIPp(t, "glare-uas")
	p.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(port) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := u.Dial(ctx, "sip:sipp@127.0.0.1:"+strconv.Itoa(port), ua.DialOptions{})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	start := time.Now()
	if err := c.Hold(ctx); err != nil {
		t.Fatalf("Hold: %v", err)
	}
	// The wait alone is at least 2.1 s for the owner of the Call-ID.
	if el := time.Since(start); el < 2100*time.Millisecond {
		t.Errorf("Hold took %v, want at least 2.1 s (the §14.1 wait of the Call-ID's owner)", el)
	}
	if got, want := c.State(), ua.StateOnHold; got != want {
		t.Errorf("state: got %v, want %v", got, want)
	}
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("SIPp exited with %v, want status 0", err)
	}
	waitEnded(t, c, ua.EndRemoteHangup)
}

// TestSIPpForked2xx: SIPp answers the phone's INVITE twice, as two forks
// would: 200 with one To tag, then 200 with another. The phone ACKs the
// second in its own dialog and ends that dialog with BYE (RFC 3261
// §13.2.2.4); its call stays up until SIPp hangs it up.
func TestSIPpForked2xx(t *testing.T) {
	u, _ := callctlPhone(t, 0)
	p, port := startSIPp(t, "fork-uas")
	p.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(port) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := u.Dial(ctx, "sip:sipp@127.0.0.1:"+strconv.Itoa(port), ua.DialOptions{})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("SIPp exited with %v, want status 0", err)
	}
	waitEnded(t, c, ua.EndRemoteHangup)
}

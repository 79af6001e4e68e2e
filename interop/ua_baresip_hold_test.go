//go:build interop

package interop

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/audiotest"
)

// sdpDirRE finds the direction attributes of SDP bodies in baresip's SIP
// trace (-s).
var sdpDirRE = regexp.MustCompile(`a=(sendrecv|sendonly|recvonly|inactive)\r?\n`)

// directions returns the SDP direction attributes in baresip's log after
// byte offset from, in order: with -s, the offers and answers it received
// and sent.
func (b *baresip) directions(from int) []string {
	var dirs []string
	for _, m := range sdpDirRE.FindAllStringSubmatch(b.log()[from:], -1) {
		dirs = append(dirs, m[1])
	}
	return dirs
}

// rtpStatsRE finds the packet counts baresip logs when a call ends:
// "packets:  <transmitted>  <received>".
var rtpStatsRE = regexp.MustCompile(`packets:\s+(\d+)\s+(\d+)`)

// rtpCounts waits for the statistics baresip logs at the end of its only
// call and returns how many RTP packets it sent and received in the call.
func (b *baresip) rtpCounts(t *testing.T) (sent, received int) {
	t.Helper()
	eventually(t, 5*time.Second, "baresip's call statistics logged", func() error {
		m := rtpStatsRE.FindStringSubmatch(b.log())
		if m == nil {
			return fmt.Errorf("no \"packets:\" line in baresip's log")
		}
		sent, _ = strconv.Atoi(m[1])
		received, _ = strconv.Atoi(m[2])
		return nil
	})
	return sent, received
}

// checkReceivedAll compares what baresip received with what we sent: on
// loopback every packet arrives, but the last one or two may still be on
// their way when baresip takes the BYE.
func checkReceivedAll(t *testing.T, b *baresip, c xphone.Call) {
	t.Helper()
	sent := int(c.Stats().PacketsSent)
	_, got := b.rtpCounts(t)
	t.Logf("RTP packets: we sent %d, baresip received %d", sent, got)
	if got > sent || got < sent-2 {
		t.Errorf("baresip received %d RTP packets, want the %d we sent (-2)", got, sent)
	}
}

// checkHeardBeforeHold checks baresip's recording of what it decoded:
// our 1000 Hz. baresip 1.0.0 stops feeding that recording at the first
// re-INVITE of a call (the dump ends at the hold, while its RTP counters
// go on), so the audio after a resume is proved by checkReceivedAll.
func checkHeardBeforeHold(t *testing.T, b *baresip) {
	t.Helper()
	s, _, _ := b.decodedRecording(t, 200*time.Millisecond)
	if err := audiotest.CheckTone(s[800:], 8000, 1000, 10); err != nil {
		t.Errorf("baresip heard before the hold: %v", err)
	}
}

// stateWatch returns a channel of c's states from now on.
func stateWatch(c xphone.Call) <-chan xphone.CallState {
	ch := make(chan xphone.CallState, 16)
	c.OnState(func(s xphone.CallState) {
		select {
		case ch <- s:
		default:
		}
	})
	return ch
}

// waitState waits up to d for state want on ch, skipping states that
// precede it (a late Active after Accept) but failing on StateEnded or
// on timeout.
func waitState(t *testing.T, ch <-chan xphone.CallState, want xphone.CallState, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
			if got == xphone.StateEnded {
				t.Fatalf("call state: got %v, want %v", got, want)
			}
		case <-deadline:
			t.Fatalf("call state: no %v within %v", want, d)
		}
	}
}

// hearTone reads frames until the last 25 of them (0.5 s) hold freq, or
// fails after 200 frames (4 s): audio that starts or resumes (after a
// hold) once the frames queued before it are drained, and a check that a
// short underrun on a loaded machine does not fail.
func hearTone(t *testing.T, c xphone.Call, freq float64) {
	t.Helper()
	var win []int16
	var err error
	for n := 0; n < 200; n++ {
		win = append(win, hear(t, c, 1)...)
		if len(win) > 160*25 {
			win = win[len(win)-160*25:]
		}
		if len(win) == 160*25 {
			if err = audiotest.CheckTone(win, 8000, freq, 10); err == nil {
				return
			}
		}
	}
	t.Fatalf("no %v Hz in the last 0.5 s of 4 s heard: %v", freq, err)
}

// TestUAHoldsBaresip: our phone calls baresip and holds it. Our re-INVITE
// offers a=sendonly (RFC 3264 §8.4) and baresip answers recvonly (its SIP
// trace) and stops sending for the second the call stays held (its send
// count against what we accepted); Resume brings sendrecv back and
// baresip's 440 Hz is heard again. We send throughout (sendonly is the
// music-on-hold direction): baresip received every packet we sent.
// Once over RTP, once with SRTP mandatory, where each re-INVITE carries
// new keys both ways (RFC 4568 §7.1.4) and no packet may be lost to
// them on either side.
func TestUAHoldsBaresip(t *testing.T) {
	t.Run("RTP", func(t *testing.T) { holdsBaresip(t, false) })
	t.Run("SRTP", func(t *testing.T) { holdsBaresip(t, true) })
}

// holdsBaresip is TestUAHoldsBaresip over RTP or SRTP.
func holdsBaresip(t *testing.T, secure bool) {
	o := baresipOptions{user: "1001", codecs: "PCMU", toneHz: 440, trace: true}
	if secure {
		o.mediaenc = "srtp-mand"
	}
	b := startBaresip(t, o)
	p := listeningPhone(t, "alice", freePort(t), func(c *xphone.Config) {
		if secure {
			c.SRTP = xphone.SRTPMandatory
		}
	})
	ctl := dialBaresipCtl(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c, err := p.Dial(ctx, fmt.Sprintf("sip:1001@127.0.0.1:%d", b.sipPort))
	if err != nil {
		t.Fatalf("Dial baresip: %v", err)
	}
	if got := c.Stats().SRTP; got != secure {
		t.Fatalf("Stats().SRTP = %v, want %v", got, secure)
	}
	ctl.waitEvent(t, "CALL_ESTABLISHED", 10*time.Second)
	go toneTo(c, 1000)
	hearTone(t, c, 440)

	mark := len(b.log())
	if err := c.Hold(ctx); err != nil {
		t.Fatalf("Hold: %v", err)
	}
	if got, want := c.State(), xphone.StateOnHold; got != want {
		t.Errorf("State after Hold: got %v, want %v", got, want)
	}
	// Our offer, then baresip's answer (RFC 3264 §6.1: sendonly is
	// answered recvonly).
	eventually(t, 5*time.Second, "the hold offer and answer in baresip's trace", func() error {
		if got, want := b.directions(mark), []string{"sendonly", "recvonly"}; !slices.Equal(got, want) {
			return fmt.Errorf("directions: got %v, want %v", got, want)
		}
		return nil
	})
	// Stay held for a second of our own sending (we send throughout):
	// had baresip not honoured recvonly, it would send 50 packets more
	// than we accept (a held call drops what arrives).
	sent := c.Stats().PacketsSent
	eventually(t, 10*time.Second, "a second of the call on hold", func() error {
		if got := c.Stats().PacketsSent; got < sent+50 {
			return fmt.Errorf("sent %d packets since the hold, want 50", got-sent)
		}
		return nil
	})

	mark = len(b.log())
	if err := c.Resume(ctx); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if got, want := c.State(), xphone.StateActive; got != want {
		t.Errorf("State after Resume: got %v, want %v", got, want)
	}
	eventually(t, 5*time.Second, "the resume offer and answer in baresip's trace", func() error {
		if got, want := b.directions(mark), []string{"sendrecv", "sendrecv"}; !slices.Equal(got, want) {
			return fmt.Errorf("directions: got %v, want %v", got, want)
		}
		return nil
	})
	hearTone(t, c, 440)
	hear(t, c, 50) // a second more of our tone into baresip's recording
	if err := c.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	ctl.waitEvent(t, "CALL_CLOSED", 10*time.Second)
	checkHeardBeforeHold(t, b)
	checkReceivedAll(t, b, c)
	// baresip sent nothing while held: all it sent, we accepted, but for
	// a packet or two around each direction change and the BYE.
	bsent, _ := b.rtpCounts(t)
	st := c.Stats()
	accepted := int(st.PacketsReceived)
	t.Logf("RTP packets: baresip sent %d, we accepted %d, lost %d", bsent, accepted, st.PacketsLost)
	if bsent-accepted > 4 || bsent < accepted {
		t.Errorf("baresip sent %d RTP packets and we accepted %d: want at most 4 unaccepted (it sends nothing while held)", bsent, accepted)
	}
}

// TestUAHeldByBaresip: baresip calls our phone and holds it (its "hold"
// command: a re-INVITE with a=sendonly). Our call reports StateOnHold and
// stops sending (we answered recvonly) while baresip's audio still comes
// in; "resume" brings StateActive back and our 1000 Hz reaches baresip's
// recording again. Once over RTP, once with SRTP mandatory (our answers
// keep our key, which baresip goes on decrypting with).
func TestUAHeldByBaresip(t *testing.T) {
	t.Run("RTP", func(t *testing.T) { heldByBaresip(t, false) })
	t.Run("SRTP", func(t *testing.T) { heldByBaresip(t, true) })
}

// heldByBaresip is TestUAHeldByBaresip over RTP or SRTP.
func heldByBaresip(t *testing.T, secure bool) {
	o := baresipOptions{user: "1001", codecs: "PCMU", toneHz: 440}
	if secure {
		o.mediaenc = "srtp-mand"
	}
	b := startBaresip(t, o)
	port := freePort(t)
	p, addr := listeningPhone(t, "bob", port, func(c *xphone.Config) {
		if secure {
			c.SRTP = xphone.SRTPMandatory
		}
	}), fmt.Sprintf("127.0.0.1:%d", port)
	calls := make(chan xphone.Call, 1)
	p.OnIncoming(func(c xphone.Call) {
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
		calls <- c
	})
	ctl := dialBaresipCtl(t, b)
	ctl.command(t, "dial", "sip:bob@"+addr)
	c := referRecv(t, calls, "bob")
	if got := c.Stats().SRTP; got != secure {
		t.Fatalf("Stats().SRTP = %v, want %v", got, secure)
	}
	states := stateWatch(c)
	ctl.waitEvent(t, "CALL_ESTABLISHED", 10*time.Second)
	go toneTo(c, 1000)
	hearTone(t, c, 440)

	ctl.command(t, "hold", "")
	waitState(t, states, xphone.StateOnHold, 10*time.Second)
	// While held neither side sends (baresip's hold stops its stream
	// too), so no event marks time: watch our count for a second.
	sent := c.Stats().PacketsSent
	select {
	case <-c.Context().Done():
		t.Fatalf("call ended while held: %v", context.Cause(c.Context()))
	case <-time.After(time.Second):
	}
	// One packet may already be on its way when the re-INVITE's answer
	// reaches the media loop.
	if got := c.Stats().PacketsSent; got > sent+1 {
		t.Errorf("packets sent while held: got %d, want at most 1", got-sent)
	}

	ctl.command(t, "resume", "")
	waitState(t, states, xphone.StateActive, 10*time.Second)
	eventually(t, 10*time.Second, "a second of our audio sent after the resume", func() error {
		if got := c.Stats().PacketsSent; got < sent+50 {
			return fmt.Errorf("sent %d packets since the resume, want 50", got-sent)
		}
		return nil
	})
	hearTone(t, c, 440)
	hear(t, c, 50)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	ctl.waitEvent(t, "CALL_CLOSED", 10*time.Second)
	checkHeardBeforeHold(t, b)
	checkReceivedAll(t, b, c)
}

// TestUADTMFFromBaresip: baresip (default mode: RFC 4733 telephone-event)
// sends digits with its "sndcode" command, one command per digit; each
// arrives exactly once through OnDTMF, in order. A last digit sent after
// the others proves no duplicate of the others trails behind.
//
// baresip 1.0.0 cannot send DTMF by SIP INFO: it has no dtmfmode account
// parameter (added in later releases) and only receives INFO.
func TestUADTMFFromBaresip(t *testing.T) {
	b := startBaresip(t, baresipOptions{user: "1001", codecs: "PCMU", toneHz: 440})
	p, addr, _ := referPhone(t, "bob", false)
	digits := make(chan rune, 32)
	calls := make(chan xphone.Call, 1)
	p.OnIncoming(func(c xphone.Call) {
		c.OnDTMF(func(d rune) { digits <- d })
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
		calls <- c
	})
	ctl := dialBaresipCtl(t, b)
	ctl.command(t, "dial", "sip:bob@"+addr)
	c := referRecv(t, calls, "bob")
	ctl.waitEvent(t, "CALL_ESTABLISHED", 10*time.Second)
	go toneTo(c, 1000)
	const want = "19*#0A5"
	var got []rune
	for _, d := range want {
		ctl.command(t, "sndcode", string(d))
		select {
		case r := <-digits:
			got = append(got, r)
			if r != d {
				t.Fatalf("digits: got %q, want %q", string(got), want[:len(got)])
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("digit %q: not received after 10 s (got %q)", d, string(got))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	select {
	case r := <-digits:
		t.Errorf("digit %q received after the last one", r)
	default:
	}
}

// TestUAInfoDTMFFromSIPp: baresip 1.0.0 cannot send SIP INFO DTMF, so SIPp
// (uac-info-dtmf.xml) calls our phone and sends 1 9 * # as four INFO
// requests (application/dtmf-relay). Each is answered 200 (SIPp exits 0)
// and each digit arrives exactly once through OnDTMF, in order: all of
// them before OnEnded, which runs after every earlier callback. SIPp's
// BYE carries Reason: Q.850;cause=16, which the call's context cause
// wraps as PeerReasons.
func TestUAInfoDTMFFromSIPp(t *testing.T) {
	p, addr, _ := referPhone(t, "xphone", false)
	digits := make(chan rune, 32)
	ended := make(chan xphone.EndReason, 1)
	calls := make(chan xphone.Call, 1)
	p.OnIncoming(func(c xphone.Call) {
		calls <- c
		c.OnDTMF(func(d rune) { digits <- d })
		c.OnEnded(func(r xphone.EndReason) { ended <- r })
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("Accept: %v", err)
		}
	})
	sipp, _ := startSIPp(t, "uac-info-dtmf", "-s", "xphone", "-key", "caller", "sipp", "-d", "200", addr)
	if err := sipp.wait(t, 20*time.Second); err != nil {
		t.Fatalf("SIPp exited with %v, want success (every INFO answered 200)", err)
	}
	select {
	case r := <-ended:
		if r != xphone.EndRemoteHangup {
			t.Errorf("end reason: got %v, want %v", r, xphone.EndRemoteHangup)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end on SIPp's BYE")
	}
	var why xphone.PeerReasons
	cause := context.Cause((<-calls).Context())
	if !errors.As(cause, &why) || why.Cause("Q.850") != 16 || why[0].Text != "Normal call clearing" {
		t.Errorf("context cause: got %v, want the BYE's Q.850 cause 16", cause)
	}
	var got []rune
	for len(digits) > 0 {
		got = append(got, <-digits)
	}
	if string(got) != "19*#" {
		t.Errorf("digits: got %q, want %q", string(got), "19*#")
	}
}

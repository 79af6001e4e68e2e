//go:build interop

package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// baresipRTCP is the rtcp_stats object of baresip's CALL_RTCP event, which
// baresip 1.0.0 sends on its control channel each time an RTCP packet of
// ours arrives (libre's struct rtcp_stats for the call's audio stream).
type baresipRTCP struct {
	// RTT is baresip's round-trip time in µs, from the report block about
	// its stream in our SR or RR (LSR and DLSR echo its own SR): 0 until
	// one does.
	RTT int `json:"rtt"`
	// RX is our stream as baresip receives it: Sent counts the packets it
	// received from us, Lost those it counts lost, Jit its interarrival
	// jitter (µs, computed with the RTP clock rate of the SDP).
	RX rtcpCounts `json:"rx"`
	// TX is baresip's stream: Sent counts the packets it sent; Lost and
	// Jit (µs) are what our last report block said about it.
	TX rtcpCounts `json:"tx"`
}

type rtcpCounts struct {
	Sent int `json:"sent"`
	Lost int `json:"lost"`
	Jit  int `json:"jit"`
}

// ctlEvent is one event from baresip's control channel, or the read error
// that ended the stream of events.
type ctlEvent struct {
	m   map[string]any
	err error
}

// typ returns the event's type, e.g. "CALL_RTCP".
func (e ctlEvent) typ() string { s, _ := e.m["type"].(string); return s }

// rtcp returns the rtcp_stats of a CALL_RTCP event about the audio stream.
func (e ctlEvent) rtcp() (baresipRTCP, bool) {
	var r baresipRTCP
	if e.typ() != "CALL_RTCP" || e.m["param"] != "audio" || e.m["rtcp_stats"] == nil {
		return r, false
	}
	raw, err := json.Marshal(e.m["rtcp_stats"])
	if err != nil || json.Unmarshal(raw, &r) != nil {
		return r, false
	}
	return r, true
}

// events hands every event baresip sends on c from now on to the returned
// channel, from a goroutine that owns c until it closes the channel: after
// CALL_CLOSED, or after a read error (the last value; reads end at
// deadline). Read it up to CALL_CLOSED or the end, and use c no more.
func (c *baresipCtl) events(deadline time.Time) <-chan ctlEvent {
	ch := make(chan ctlEvent, 256)
	go func() {
		defer close(ch)
		for {
			var m map[string]any
			var err error
			if len(c.pending) > 0 {
				m, c.pending = c.pending[0], c.pending[1:]
			} else if m, err = c.next(deadline); err != nil {
				ch <- ctlEvent{err: err}
				return
			}
			if m["event"] != true {
				continue
			}
			ch <- ctlEvent{m: m}
			if m["type"] == "CALL_CLOSED" {
				return
			}
		}
	}()
	return ch
}

// waitClosed reads events until CALL_CLOSED, failing the test on a read
// error or timeout.
func waitClosed(t *testing.T, events <-chan ctlEvent, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatal("baresip's control channel ended before CALL_CLOSED")
			}
			if e.err != nil {
				t.Fatalf("waiting for CALL_CLOSED: %v", e.err)
			}
			if e.typ() == "CALL_CLOSED" {
				return
			}
		case <-timeout:
			t.Fatalf("no CALL_CLOSED from baresip within %v", d)
		}
	}
}

// rtcpSummaryRE matches the line baresip's rtcpsummary module logs for each
// stream when a call closes: call setup (ms) and duration (s), packets
// received and sent, lost (received, sent), discarded (received, sent),
// jitter in ms (received, sent), delay in ms.
var rtcpSummaryRE = regexp.MustCompile(`EX=BareSip;CS=(\d+);CD=(\d+);PR=(\d+);PS=(\d+);PL=(-?\d+),(-?\d+);PD=(-?\d+),(-?\d+);JI=([\d.]+),([\d.]+);DL=([\d.]+);`)

// rtcpMaxRTT bounds a round-trip time measured on loopback, where both
// ends stamp their reports on the same clock: tenths of a millisecond are
// seen on an idle machine, 14 ms under load, 1.3 s once while fuzzers
// starved ours (load 14 on 2 cores). A report block read at the wrong
// offset gives anything up to 9 hours; a DLSR not subtracted, up to the
// ~6 s between reports.
const rtcpMaxRTT = 2 * time.Second

// TestUARTCPBaresip: a PCMU call with baresip lasts until RTCP reports
// have crossed both ways (RFC 3550 §6.2: 5 s nominal, randomized). baresip's
// receiver reports reach us and are understood: CallStats.RTT turns
// non-zero (its report block echoes our SR in LSR and DLSR, so baresip
// parsed our SR) and below rtcpMaxRTT, RemotePacketsLost is 0 on
// loopback and RemoteJitter turns non-zero (the interarrival jitter
// baresip measured of our stream, from its report blocks). baresip understands ours: its CALL_RTCP events show an RTT
// from our report blocks, none of our packets lost and our report of its
// stream lossless; and its rtcpsummary line (the module is loaded into
// this baresip only, with the insmod command) counts as received from us
// the packets we sent, none lost. The same with SRTP mandatory on both
// sides: the reports cross as SRTCP (RFC 3711 §3.4), authenticated and
// encrypted.
func TestUARTCPBaresip(t *testing.T) {
	t.Run("RTP", func(t *testing.T) { rtcpWithBaresip(t, false) })
	t.Run("SRTP", func(t *testing.T) { rtcpWithBaresip(t, true) })
}

// rtcpWithBaresip is TestUARTCPBaresip over RTP or SRTP.
func rtcpWithBaresip(t *testing.T, secure bool) {
	o := baresipOptions{user: "1001", codecs: "PCMU", toneHz: 440}
	if secure {
		o.mediaenc = "srtp-mand"
	}
	b := startBaresip(t, o)
	ctl := dialBaresipCtl(t, b)
	if out := ctl.command(t, "insmod", "rtcpsummary"); !strings.Contains(out, "loaded module rtcpsummary") {
		t.Fatalf("baresip insmod rtcpsummary: %q", out)
	}
	events := ctl.events(time.Now().Add(100 * time.Second))
	p := listeningPhone(t, "xphone", 0, func(c *xphone.Config) {
		c.Codecs = []xphone.Codec{xphone.CodecPCMU}
		if secure {
			c.SRTP = xphone.SRTPMandatory
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	start := time.Now()
	c, err := p.Dial(ctx, fmt.Sprintf("sip:1001@127.0.0.1:%d", b.sipPort))
	if err != nil {
		t.Fatalf("Dial baresip: %v", err)
	}
	if got := c.Codec(); got != xphone.CodecPCMU {
		t.Fatalf("Call.Codec() = %q, want PCMU", got)
	}
	if got := c.Stats().SRTP; got != secure {
		t.Fatalf("Stats().SRTP = %v, want %v", got, secure)
	}
	go toneTo(c, 1000)
	go func() {
		for range c.PCMReader() { // read as an application would, until the call ends
		}
	}()

	// Wait for both conditions: our RTT from baresip's report, and
	// baresip's RTT from ours. Several report intervals (baresip: 5 s)
	// may pass: each side needs the other's SR before its report can
	// echo it, and on a path this short the rounding of the timestamps
	// can make LSR + DLSR exceed our arrival time, which
	// rtp.RoundTripTime refuses (seen: the first RTT after 5.1 s mostly,
	// 10.1 s sometimes, 25.1 s once in about 20 runs).
	const wait = 60 * time.Second
	timeout := time.After(wait)
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	var ours xphone.CallStats
	var theirs baresipRTCP
	var remoteJitter time.Duration // the first non-zero jitter baresip reported of our stream
	reports := 0
	for ours.RTT == 0 || theirs.RTT == 0 || remoteJitter == 0 {
		select {
		case <-poll.C:
			st := c.Stats()
			if ours.RTT == 0 && st.RTT > 0 {
				ours = st
				t.Logf("%.1f s: our RTT %v from baresip's report (remote lost %d, remote jitter %v); sent %d",
					time.Since(start).Seconds(), st.RTT, st.RemotePacketsLost, st.RemoteJitter, st.PacketsSent)
			}
			if remoteJitter == 0 && st.RemoteJitter > 0 {
				remoteJitter = st.RemoteJitter
				t.Logf("%.1f s: baresip reports a jitter of %v of our stream", time.Since(start).Seconds(), remoteJitter)
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
			if r, ok := e.rtcp(); ok {
				reports++
				t.Logf("%.1f s: baresip got our RTCP: %+v", time.Since(start).Seconds(), r)
				if theirs.RTT == 0 && r.RTT > 0 {
					theirs = r
				}
			}
		case <-timeout:
			t.Fatalf("after %v: our RTT %v (want > 0), baresip's RTT %d µs (want > 0) over %d of our reports it got, remote jitter %v (want > 0)",
				wait, c.Stats().RTT, theirs.RTT, reports, remoteJitter)
		}
	}

	// Our view of baresip's reports.
	if ours.RTT >= rtcpMaxRTT {
		t.Errorf("our RTT %v on loopback, want below %v", ours.RTT, rtcpMaxRTT)
	}
	if ours.RemotePacketsLost != 0 {
		t.Errorf("baresip reported %d of our packets lost on loopback, want 0", ours.RemotePacketsLost)
	}
	if remoteJitter >= rtcpMaxRTT {
		t.Errorf("baresip reported a jitter of %v of our stream on loopback, want below %v", remoteJitter, rtcpMaxRTT)
	}
	// baresip's view of our reports and our stream.
	if rtt := time.Duration(theirs.RTT) * time.Microsecond; rtt >= rtcpMaxRTT {
		t.Errorf("baresip's RTT %v on loopback, want below %v", rtt, rtcpMaxRTT)
	}
	if theirs.RX.Sent == 0 || theirs.RX.Lost != 0 {
		t.Errorf("baresip received %d of our packets with %d lost, want some and none lost", theirs.RX.Sent, theirs.RX.Lost)
	}
	if theirs.TX.Lost != 0 {
		t.Errorf("our report told baresip %d of its packets were lost, want 0 on loopback", theirs.TX.Lost)
	}

	if err := c.End(ctx); err != nil {
		t.Fatalf("End: %v", err)
	}
	waitClosed(t, events, 10*time.Second)
	st := c.Stats()
	t.Logf("our final stats: sent %d, received %d, lost %d, jitter %v, RTT %v, remote lost %d",
		st.PacketsSent, st.PacketsReceived, st.PacketsLost, st.Jitter, st.RTT, st.RemotePacketsLost)

	var m []string
	eventually(t, 5*time.Second, "baresip's rtcpsummary logged", func() error {
		log := b.log()
		if strings.Contains(log, "EX=BareSip;ERROR=") {
			return fmt.Errorf("rtcpsummary found no RTCP stats")
		}
		if m = rtcpSummaryRE.FindStringSubmatch(log); m == nil {
			return fmt.Errorf("no rtcpsummary line in baresip's log")
		}
		return nil
	})
	t.Logf("baresip's rtcpsummary: %s", m[0])
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	received, lostRx, lostTx := n(3), n(5), n(6)
	// On loopback every packet arrives, but the last one or two may still
	// be on their way when baresip takes the BYE.
	if sent := int(st.PacketsSent); received > sent || received < sent-2 {
		t.Errorf("rtcpsummary: baresip received %d of our packets (PR), want the %d we sent (-2)", received, sent)
	}
	if lostRx != 0 || lostTx != 0 {
		t.Errorf("rtcpsummary: lost %d of ours and %d of its own by our report (PL), want 0,0", lostRx, lostTx)
	}
}

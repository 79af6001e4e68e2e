package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/g711"
	"github.com/xphone-go/xphone/rtp"
)

type uacCounters struct {
	attempted, established, failed, dropped, hungUp, hangupErr atomic.Int64
	active, sent, recv, corrupt, short, writeErr               atomic.Int64
	outDropped, concealed                                      atomic.Int64 // from each call's Stats at its end
	lateness, rtt                                              *hist

	errMu    sync.Mutex
	errKinds map[string]int
}

func (c *uacCounters) noteErr(kind string, err error) {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	c.errMu.Lock()
	c.errKinds[kind+": "+s]++
	c.errMu.Unlock()
}

// runUAC places the calls, runs the steady phase, hangs up and prints the
// RESULT line.
func runUAC(ctx context.Context, ph xphone.Phone, o options) {
	ph.OnIncoming(func(c xphone.Call) { c.Reject(context.Background(), 403, "") })
	target := "sip:echo@" + o.target
	tone := toneOctets()
	k := &uacCounters{
		lateness: newHist(10*time.Microsecond, 2*time.Second),
		rtt:      newHist(100*time.Microsecond, 10*time.Second),
		errKinds: map[string]int{},
	}
	go statsLoop(ctx, o.statsEvery, func() string {
		return fmt.Sprintf("attempted=%d established=%d failed=%d active=%d sent=%d recv=%d",
			k.attempted.Load(), k.established.Load(), k.failed.Load(), k.active.Load(), k.sent.Load(), k.recv.Load())
	})

	stopSend := make(chan struct{}) // closed at the end of the steady phase
	hangupGo := make(chan struct{}) // closed when the hangup ramp starts (hangupStart set before)
	var hangupStart time.Time
	var setupWG, callWG sync.WaitGroup
	start := time.Now().Add(100 * time.Millisecond)
	for i := range o.calls {
		setupWG.Add(1)
		callWG.Add(1)
		go func() {
			defer callWG.Done()
			time.Sleep(time.Until(start.Add(time.Duration(int64(o.ramp) * int64(i) / int64(o.calls)))))
			k.attempted.Add(1)
			ictx, icancel := context.WithTimeout(ctx, o.inviteTimeout)
			c, err := ph.Dial(ictx, target, xphone.WithTimeout(o.inviteTimeout))
			icancel()
			if err != nil {
				k.failed.Add(1)
				k.noteErr("invite", err)
				setupWG.Done()
				return
			}
			k.established.Add(1)
			k.active.Add(1)
			setupWG.Done()
			defer k.active.Add(-1)
			slot := time.Duration(int64(o.hangupRamp) * int64(i) / int64(o.calls))
			runCall(c, o.read, tone, k, stopSend, hangupGo, func() time.Time { return hangupStart.Add(slot) })
		}()
	}

	// Steady phase: starts once every call attempt has returned.
	setupWG.Wait()
	steadyStart := time.Now()
	s0 := sampleAll(o.uasPID)
	sent0, recv0 := k.sent.Load(), k.recv.Load()
	fmt.Fprintf(os.Stderr, "steady phase start: %.1fs after first INVITE, established=%d failed=%d\n",
		steadyStart.Sub(start).Seconds(), k.established.Load(), k.failed.Load())
	var gMid int
	select {
	case <-time.After(o.duration / 2):
		gMid = runtime.NumGoroutine()
		select {
		case <-time.After(o.duration - o.duration/2):
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	s1 := sampleAll(o.uasPID)
	sent1, recv1 := k.sent.Load(), k.recv.Load()
	steady := time.Since(steadyStart)
	close(stopSend)
	time.Sleep(o.drain)
	hangupStart = time.Now()
	close(hangupGo)
	waitTimeout(&callWG, o.hangupRamp+30*time.Second)
	uasMem := ""
	if o.uasPID > 0 {
		uasMem = memStatus(o.uasPID)
	}

	const tck = 100.0 // CLK_TCK on Linux
	cpu := func(a, b int64) float64 { return 100 * float64(b-a) / tck / steady.Seconds() }
	nSent, nRecv := k.sent.Load(), k.recv.Load()
	loss, steadyLoss, busy := 0.0, 0.0, 0.0
	if nSent > 0 {
		loss = 100 * (1 - float64(nRecv)/float64(nSent))
	}
	if sent1 > sent0 {
		steadyLoss = 100 * (1 - float64(recv1-recv0)/float64(sent1-sent0))
	}
	if s1.machTotal > s0.machTotal {
		busy = 100 * float64(s1.machBusy-s0.machBusy) / float64(s1.machTotal-s0.machTotal)
	}
	k.errMu.Lock()
	kinds := make([]string, 0, len(k.errKinds))
	for e := range k.errKinds {
		kinds = append(kinds, e)
	}
	slices.Sort(kinds)
	for _, e := range kinds {
		fmt.Fprintf(os.Stderr, "error x%d: %s\n", k.errKinds[e], e)
	}
	k.errMu.Unlock()

	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }
	fields := []string{
		"calls=" + strconv.Itoa(o.calls),
		fmt.Sprintf("established=%d failed=%d dropped=%d hungup=%d hangup_err=%d",
			k.established.Load(), k.failed.Load(), k.dropped.Load(), k.hungUp.Load(), k.hangupErr.Load()),
		fmt.Sprintf("sent=%d recv=%d loss_pct=%.3f steady_loss_pct=%.3f corrupt=%d short=%d write_err=%d",
			nSent, nRecv, loss, steadyLoss, k.corrupt.Load(), k.short.Load(), k.writeErr.Load()),
		fmt.Sprintf("expected_steady_frames=%d steady_sent=%d",
			int64(float64(k.established.Load())*steady.Seconds()/frameDur.Seconds()), sent1-sent0),
		"late_mean_ms=" + ms(k.lateness.mean()), "late_p99_ms=" + ms(k.lateness.quantile(0.99)),
		"late_max_ms=" + ms(time.Duration(k.lateness.max.Load())),
		"rtt_mean_ms=" + ms(k.rtt.mean()), "rtt_p50_ms=" + ms(k.rtt.quantile(0.5)),
		"rtt_p99_ms=" + ms(k.rtt.quantile(0.99)), "rtt_max_ms=" + ms(time.Duration(k.rtt.max.Load())),
		fmt.Sprintf("steady_s=%.1f uac_cpu_pct=%.1f uas_cpu_pct=%.1f machine_busy_pct=%.1f",
			steady.Seconds(), cpu(s0.self, s1.self), cpu(s0.uas, s1.uas), busy),
		fmt.Sprintf("udp_rcvbuf_errors=%d udp_in_errors=%d", s1.rcvbufErr-s0.rcvbufErr, s1.inErr-s0.inErr),
		fmt.Sprintf("uac_goroutines_mid=%d read=%s uac_out_dropped=%d uac_concealed=%d", gMid, o.read, k.outDropped.Load(), k.concealed.Load()),
		"uac_" + strings.ReplaceAll(memStatus(os.Getpid()), " ", " uac_"),
	}
	if uasMem != "" {
		fields = append(fields, "uas_"+strings.ReplaceAll(uasMem, " ", " uas_"))
	}
	fmt.Println("RESULT " + strings.Join(fields, " "))
}

// runCall drives one established call on the calling goroutine: a frame
// every 20 ms on an absolute schedule until stopSend, the echo read
// throughout, and End at the call's slot of the hangup ramp.
func runCall(c xphone.Call, read string, tone []byte, k *uacCounters, stopSend, hangupGo <-chan struct{}, hangupAt func() time.Time) {
	var raw <-chan *rtp.Packet
	var pcm <-chan []int16
	if read == "raw" {
		raw = c.RTPRawReader()
	} else {
		pcm = c.PCMReader()
	}
	w := c.PCMWriter()
	ended := c.Context().Done()
	defer func() {
		st := c.Stats()
		k.outDropped.Add(int64(st.OutboundDropped))
		k.concealed.Add(int64(st.FramesConcealed))
	}()
	frame := slices.Clone(tone)
	back := make([]byte, 0, frameOctets)
	check := func(p []byte) {
		now := time.Since(procStart)
		if len(p) != frameOctets {
			k.short.Add(1)
			return
		}
		t, ok := getMark(p)
		if !ok || t > now || string(p[markOctets:]) != string(tone[markOctets:]) {
			k.corrupt.Add(1)
			return
		}
		k.recv.Add(1)
		k.rtt.add(now - t)
	}

	next := time.Now()
	send := time.NewTimer(0)
	defer send.Stop()
	var hangup <-chan time.Time
	for {
		select {
		case p, ok := <-raw:
			if !ok {
				raw = nil
				continue
			}
			check(p.Payload)
		case f, ok := <-pcm:
			if !ok {
				pcm = nil
				continue
			}
			back = g711.EncodeUlaw(back[:0], f)
			check(back)
		case <-send.C:
			k.lateness.add(time.Since(next))
			putMark(frame, time.Since(procStart))
			select {
			case w <- g711.DecodeUlaw(make([]int16, 0, frameOctets), frame): // the call owns it now
				k.sent.Add(1)
			default:
				k.writeErr.Add(1)
			}
			next = next.Add(frameDur)
			send.Reset(time.Until(next))
		case <-stopSend:
			stopSend = nil
			send.Stop()
		case <-hangupGo:
			hangupGo = nil
			hangup = time.After(time.Until(hangupAt()))
		case <-hangup:
			hctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := c.End(hctx)
			cancel()
			if err != nil && c.State() != xphone.StateEnded {
				k.hangupErr.Add(1)
				k.noteErr("hangup", err)
			} else if err != nil {
				k.noteErr("hangup (already ended)", err)
			} else {
				k.hungUp.Add(1)
			}
			return
		case <-ended:
			if stopSend != nil {
				k.dropped.Add(1) // ended by the other side during the test
			}
			k.noteErr("ended", context.Cause(c.Context()))
			return
		}
	}
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		fmt.Fprintf(os.Stderr, "warning: gave up waiting after %s\n", d)
	}
}

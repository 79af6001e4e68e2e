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
	callMinRTT                                                 *hist // each call's lowest echo RTT: a standing queue on its path
	steadyRTT                                                  *hist // echo RTT in the steady phase only (rtt includes the ramps)
	steady                                                     atomic.Bool

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
		lateness:   newHist(10*time.Microsecond, 2*time.Second),
		rtt:        newHist(100*time.Microsecond, 10*time.Second),
		callMinRTT: newHist(100*time.Microsecond, 10*time.Second),
		steadyRTT:  newHist(100*time.Microsecond, 10*time.Second),
		errKinds:   map[string]int{},
	}
	go statsLoop(ctx, o.statsEvery, func() string {
		return fmt.Sprintf("attempted=%d established=%d failed=%d active=%d sent=%d recv=%d",
			k.attempted.Load(), k.established.Load(), k.failed.Load(), k.active.Load(), k.sent.Load(), k.recv.Load())
	})

	stopSend := make(chan struct{}) // closed at the end of the steady phase
	snd := &sender{k: k, pcm: o.write == "pcm"}
	go snd.run(stopSend)
	hangs := &hangups{k: k}
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
			runCall(c, o.read, tone, k, snd, hangs, slot)
		}()
	}

	// Steady phase: starts once every call attempt has returned.
	setupWG.Wait()
	steadyStart := time.Now()
	k.steady.Store(true)
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
	k.steady.Store(false)
	sent1, recv1 := k.sent.Load(), k.recv.Load()
	steady := time.Since(steadyStart)
	close(stopSend)
	time.Sleep(o.drain)
	hangs.start()
	waitTimeout(&callWG, o.hangupRamp+30*time.Second)
	waitTimeout(&hangs.wg, 10*time.Second)
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
		"steady_rtt_p50_ms=" + ms(k.steadyRTT.quantile(0.5)), "steady_rtt_p99_ms=" + ms(k.steadyRTT.quantile(0.99)),
		"call_min_rtt_p50_ms=" + ms(k.callMinRTT.quantile(0.5)), "call_min_rtt_p99_ms=" + ms(k.callMinRTT.quantile(0.99)),
		fmt.Sprintf("steady_s=%.1f uac_cpu_pct=%.1f uas_cpu_pct=%.1f machine_busy_pct=%.1f",
			steady.Seconds(), cpu(s0.self, s1.self), cpu(s0.uas, s1.uas), busy),
		fmt.Sprintf("udp_rcvbuf_errors=%d udp_in_errors=%d", s1.rcvbufErr-s0.rcvbufErr, s1.inErr-s0.inErr),
		fmt.Sprintf("uac_goroutines_mid=%d read=%s write=%s uac_out_dropped=%d uac_concealed=%d", gMid, o.read, o.write, k.outDropped.Load(), k.concealed.Load()),
		"uac_" + strings.ReplaceAll(memStatus(os.Getpid()), " ", " uac_"),
	}
	if uasMem != "" {
		fields = append(fields, "uas_"+strings.ReplaceAll(uasMem, " ", " uas_"))
	}
	fmt.Println("RESULT " + strings.Join(fields, " "))
}

// runCall reads one established call's echo on the calling goroutine
// until the call ends (the sender writes its frames; hangups schedules
// its end): a plain range over the reader, so that each packet costs one
// channel receive, not a select over the call's control channels.
func runCall(c xphone.Call, read string, tone []byte, k *uacCounters, snd *sender, h *hangups, slot time.Duration) {
	out := snd.add(c, tone)
	ours := h.add(c, slot)
	minRTT := time.Duration(-1)
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
		if k.steady.Load() {
			k.steadyRTT.add(now - t)
		}
		if minRTT < 0 || now-t < minRTT {
			minRTT = now - t
		}
	}
	if read == "raw" {
		for p := range c.RTPRawReader() { // closed when the call ends
			check(p.Payload)
		}
	} else {
		back := make([]byte, 0, frameOctets)
		for f := range c.PCMReader() {
			back = g711.EncodeUlaw(back[:0], f)
			check(back)
		}
	}
	out.stop.Store(true)
	if minRTT >= 0 {
		k.callMinRTT.add(minRTT)
	}
	<-c.Context().Done()
	st := c.Stats()
	k.outDropped.Add(int64(st.OutboundDropped))
	k.concealed.Add(int64(st.FramesConcealed))
	if !ours.Load() {
		k.dropped.Add(1) // ended by the other side before the hangup ramp
		k.noteErr("ended", context.Cause(c.Context()))
	}
}

// hangups ends the calls once the hangup ramp starts, each at its slot
// of the ramp, from a timer rather than a goroutine per call.
type hangups struct {
	k     *uacCounters
	mu    sync.Mutex
	calls []hangup
	wg    sync.WaitGroup // the End calls in progress
}

type hangup struct {
	c    xphone.Call
	slot time.Duration
	ours *atomic.Bool // set when the ramp ends the call
}

func (h *hangups) add(c xphone.Call, slot time.Duration) *atomic.Bool {
	ours := new(atomic.Bool)
	h.mu.Lock()
	h.calls = append(h.calls, hangup{c, slot, ours})
	h.mu.Unlock()
	return ours
}

// start schedules every call's End, counted from now.
func (h *hangups) start() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.calls {
		h.wg.Add(1)
		time.AfterFunc(e.slot, func() {
			defer h.wg.Done()
			if e.c.State() == xphone.StateEnded {
				return // ended by the other side: runCall counts it
			}
			e.ours.Store(true)
			hctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := e.c.End(hctx)
			cancel()
			switch {
			case err == nil:
				h.k.hungUp.Add(1)
			case e.c.State() != xphone.StateEnded:
				h.k.hangupErr.Add(1)
				h.k.noteErr("hangup", err)
			default:
				h.k.noteErr("hangup (already ended)", err)
			}
		})
	}
}

// sender writes every call's frames from one goroutine: a frame per call
// every 20 ms, the calls spread over four 5 ms slots of the frame (as
// diago-load's calls, each on its own schedule, spread over the ramp).
// Each frame is sent on the call's RTPWriter (the PCMU payload as is, as
// diago-load's WriteSamples writes encoded audio), or with -write pcm
// decoded onto its PCMWriter.
type sender struct {
	k    *uacCounters
	pcm  bool
	mu   sync.Mutex
	next int
	slot [4][]*outCall
}

type outCall struct {
	rtpW  chan<- *rtp.Packet
	pcmW  chan<- []int16
	frame []byte
	stop  atomic.Bool // the call stopped sending
}

func (s *sender) add(c xphone.Call, tone []byte) *outCall {
	o := &outCall{frame: slices.Clone(tone)}
	if s.pcm {
		o.pcmW = c.PCMWriter()
	} else {
		o.rtpW = c.RTPWriter()
	}
	s.mu.Lock()
	s.slot[s.next%len(s.slot)] = append(s.slot[s.next%len(s.slot)], o)
	s.next++
	s.mu.Unlock()
	return o
}

// run sends until stop is closed. Slot m is due at start + m quanta; a
// slot the goroutine was too late for is still served, at once.
func (s *sender) run(stop <-chan struct{}) {
	const quantum = frameDur / 4
	start := time.Now()
	t := time.NewTicker(quantum)
	defer t.Stop()
	last := int64(0)
	for {
		select {
		case <-t.C:
		case <-stop:
			return
		}
		cur := int64(time.Since(start) / quantum)
		for m := last + 1; m <= cur; m++ {
			s.serve(m, start.Add(time.Duration(m)*quantum))
		}
		last = max(last, cur)
	}
}

func (s *sender) serve(m int64, due time.Time) {
	i := m % int64(len(s.slot))
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := s.slot[i][:0]
	for _, o := range s.slot[i] {
		if o.stop.Load() {
			continue
		}
		keep = append(keep, o)
		s.k.lateness.add(time.Since(due))
		s.send(o)
	}
	clear(s.slot[i][len(keep):])
	s.slot[i] = keep
}

// send writes one frame of o, marked with the time.
func (s *sender) send(o *outCall) {
	putMark(o.frame, time.Since(procStart))
	var ok bool
	if o.rtpW != nil {
		select {
		case o.rtpW <- &rtp.Packet{Payload: slices.Clone(o.frame)}: // the call owns it now
			ok = true
		default:
		}
	} else {
		select {
		case o.pcmW <- g711.DecodeUlaw(make([]int16, 0, frameOctets), o.frame):
			ok = true
		default:
		}
	}
	if ok {
		s.k.sent.Add(1)
	} else {
		s.k.writeErr.Add(1)
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

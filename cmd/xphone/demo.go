package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/phonetest"
)

// The demo's fixed script: two users on the in-process PBX, the tones each
// side plays (distinct, so each direction is told apart), and the digits.
const (
	demoRate       = 16000 // G.722 PCM rate
	demoToneA      = 1000  // Hz, alice → bob
	demoToneB      = 1500  // Hz, bob → alice
	demoResumeA    = 700   // Hz, alice → bob after resume
	demoResumeB    = 1200  // Hz, bob → alice after resume
	demoToneLen    = 800 * time.Millisecond
	demoSpeechLen  = 1200 * time.Millisecond
	demoResumeLen  = 600 * time.Millisecond
	demoDigitsA    = "123#"
	demoDigitsB    = "9*"
	demoPeak       = 8000
	demoTimeout    = 30 * time.Second // the whole demo, a safety net only
	demoStepWait   = 5 * time.Second  // each wait for an event
	demoOnsetLevel = 400              // RMS that counts as audio arriving
)

// demoReport tallies steps and prints one line per step.
type demoReport struct {
	w      io.Writer
	failed []string
	last   time.Time // when the previous step ended
}

func (r *demoReport) step(name string, detail string, err error) bool {
	took := ""
	if !r.last.IsZero() {
		if d := time.Since(r.last); d >= 100*time.Millisecond {
			took = fmt.Sprintf(" [%.1fs]", d.Seconds())
		}
	}
	r.last = time.Now()
	if err != nil {
		r.failed = append(r.failed, name)
		fmt.Fprintf(r.w, "  %-28s FAILED: %v%s\n", name, err, took)
		return false
	}
	if detail != "" {
		detail = " (" + detail + ")"
	}
	fmt.Fprintf(r.w, "  %-28s ok%s%s\n", name, detail, took)
	return true
}

// demoSide is one of the two phones with what it heard.
type demoSide struct {
	name  string
	phone xphone.Phone
	call  xphone.Call
	rec   *recorder
	dtmf  chan rune
	state chan xphone.CallState
	ended chan xphone.EndReason
	src   *source
	addrs []string // where its SIP messages come from and go to

	// What arrives outside calls (demo_events.go).
	voicemail chan xphone.VoicemailStatus
	messages  chan xphone.Message
}

// runDemo is `xphone demo`: see the package documentation. It returns the
// process exit status.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory for the WAV files (default: a new temporary directory)")
	logLevel := fs.String("log", "", "log level of the phones: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "xphone demo: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	logger, err := newLogger(*logLevel, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "xphone demo: %v\n", err)
		return exitUsage
	}
	dir := *out
	if dir == "" {
		if dir, err = os.MkdirTemp("", "xphone-demo-"); err != nil {
			fmt.Fprintf(stderr, "xphone demo: %v\n", err)
			return exitFailure
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "xphone demo: %v\n", err)
		return exitFailure
	}
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	start := time.Now()
	rep := &demoReport{w: stdout}
	fmt.Fprintln(stdout, "xphone demo: two phones call each other through an in-process PBX on loopback")
	d := &demo{rep: rep, out: stdout, dir: dir, logger: logger}
	d.run(ctx)
	fmt.Fprintf(stdout, "\n%d step(s) failed", len(rep.failed))
	if len(rep.failed) > 0 {
		fmt.Fprintf(stdout, ": %s", strings.Join(rep.failed, ", "))
	}
	fmt.Fprintf(stdout, "; %.1f s\n", time.Since(start).Seconds())
	if len(rep.failed) > 0 {
		fmt.Fprintln(stdout, "xphone demo: FAILED")
		return exitFailure
	}
	fmt.Fprintln(stdout, "xphone demo: ok")
	return exitOK
}

type demo struct {
	rep    *demoReport
	out    io.Writer
	dir    string
	logger *slog.Logger
	pbx    *phonetest.PBX
	trace  ladder
	a, b   *demoSide
}

// run executes the steps in order, skipping those that depend on a failed
// one (they are reported as FAILED with the reason).
func (d *demo) run(ctx context.Context) {
	defer d.teardown()
	users := map[string]string{"alice": "alice-secret", "bob": "bob-secret"}
	onMessage := d.trace.record
	if d.logger.Enabled(ctx, slog.LevelDebug) {
		// --log debug: every SIP message in full, as the PBX saw it.
		onMessage = func(e phonetest.MessageEvent) {
			d.trace.record(e)
			dir := "received from"
			if e.Sent {
				dir = "sent to"
			}
			d.logger.Debug("pbx: SIP message "+dir+" "+e.Remote, "transport", e.Transport,
				"message", string(e.Msg.AppendTo(nil)))
		}
	}
	pbx, err := phonetest.NewPBX(phonetest.PBXConfig{Users: users, OnMessage: onMessage})
	if !d.rep.step("start PBX", "", err) {
		return
	}
	d.pbx = pbx
	fmt.Fprintf(d.out, "  (PBX at %s, realm %q, WAV files in %s)\n", pbx.URI(), pbx.Realm(), d.dir)

	d.a, d.b = &demoSide{name: "alice"}, &demoSide{name: "bob"}
	for _, s := range []*demoSide{d.a, d.b} {
		err := d.register(ctx, s, users[s.name])
		if !d.rep.step("register "+s.name, "digest auth, "+pbx.UserURI(s.name), err) {
			return
		}
	}

	// Call alice → bob with G.722, SRTP offered.
	incoming := make(chan xphone.Call, 1)
	d.b.phone.OnIncoming(func(c xphone.Call) {
		d.b.watch(c)
		if err := c.Accept(context.Background()); err != nil {
			d.logger.Warn("accept", "err", err)
		}
		incoming <- c
	})
	dctx, cancel := context.WithTimeout(ctx, demoStepWait)
	c, err := d.a.phone.Dial(dctx, d.pbx.UserURI("bob"), xphone.WithCodecs(xphone.CodecG722))
	cancel()
	if err == nil {
		d.a.watch(c)
		select {
		case d.b.call = <-incoming:
		case <-time.After(demoStepWait):
			err = errors.New("bob's phone never got the call")
		}
	}
	if !d.rep.step("call alice → bob", "", err) {
		return
	}
	d.a.call = c
	d.rep.step("codec G.722", "", wantCodec(d.a.call, d.b.call, xphone.CodecG722))
	srtp := d.a.call.Stats().SRTP && d.b.call.Stats().SRTP
	var srtpErr error
	if !srtp {
		srtpErr = fmt.Errorf("media is not encrypted (alice %v, bob %v)", d.a.call.Stats().SRTP, d.b.call.Stats().SRTP)
	}
	d.rep.step("SRTP (SDES)", "", srtpErr)
	d.a.rec, d.b.rec = startRecorder(d.a.call), startRecorder(d.b.call)
	d.a.src, d.b.src = startSource(d.a.call), startSource(d.b.call)

	d.audio(ctx)
	d.dtmfStep(ctx)
	resumed := d.holdResume(ctx)
	if resumed {
		d.afterResume(ctx)
	}
	d.hangup(ctx)
	d.beyondCalls(ctx)
	d.wavs()
}

func (s *demoSide) watch(c xphone.Call) {
	s.dtmf = make(chan rune, 16)
	s.state = make(chan xphone.CallState, 16)
	s.ended = make(chan xphone.EndReason, 1)
	c.OnDTMF(func(r rune) {
		select {
		case s.dtmf <- r:
		default:
		}
	})
	c.OnState(func(st xphone.CallState) {
		select {
		case s.state <- st:
		default:
		}
	})
	c.OnEnded(func(r xphone.EndReason) { s.ended <- r })
}

func (d *demo) register(ctx context.Context, s *demoSide, pass string) error {
	addr := d.pbx.Addr()
	p, err := xphone.New(xphone.Config{
		Username: s.name, Password: pass,
		Host: addr.Addr().String(), Port: int(addr.Port()), Transport: "udp",
		ListenAddr: "127.0.0.1:0", RTPAddress: netip.MustParseAddr("127.0.0.1"),
		Codecs: []xphone.Codec{xphone.CodecG722, xphone.CodecPCMU},
		SRTP:   xphone.SRTPOptional, MediaTimeout: 10 * time.Second,
		NATKeepaliveInterval: -1, Logger: d.logger, UserAgent: "xphone-demo",
		MWI: true,
	})
	if err != nil {
		return err
	}
	s.listen(p)
	cctx, cancel := context.WithTimeout(ctx, demoStepWait)
	defer cancel()
	if err := p.Connect(cctx); err != nil {
		return err
	}
	s.phone = p
	bs := d.pbx.Bindings(s.name)
	if len(bs) == 0 {
		return errors.New("the PBX has no binding")
	}
	for _, b := range bs {
		s.addrs = append(s.addrs, hostPort(b.Source), hostPort(b.Contact))
	}
	return nil
}

func wantCodec(a, b xphone.Call, want xphone.Codec) error {
	if a.Codec() != want || b.Codec() != want {
		return fmt.Errorf("got %v and %v, want %v", a.Codec(), b.Codec(), want)
	}
	return nil
}

// audio plays a tone then speech-like audio both ways at once and checks
// what arrived: the tone's frequency, and the speech by correlation with
// what was sent.
func (d *demo) audio(ctx context.Context) {
	toneN := int(demoToneLen / time.Millisecond * demoRate / 1000)
	speechN := int(demoSpeechLen / time.Millisecond * demoRate / 1000)
	speech := speechLike(demoRate, speechN, demoPeak)
	progA := append(tone(demoToneA, demoRate, toneN, demoPeak), speech...)
	progB := append(tone(demoToneB, demoRate, toneN, demoPeak), speech...)
	markA, markB := d.a.rec.len(), d.b.rec.len()
	fmt.Fprintf(d.out, "  … playing %v of tone and %v of speech-like audio each way\n", demoToneLen, demoSpeechLen)
	errs := playBoth(ctx, d.a.src, progA, d.b.src, progB)
	// Let the jitter buffers drain: wait until each side heard as much
	// as was sent (plus 200 ms) or the wait ends.
	d.a.rec.waitLen(ctx, markA+len(progB)+demoRate*3/10, demoStepWait)
	d.b.rec.waitLen(ctx, markB+len(progA)+demoRate*3/10, demoStepWait)
	for _, dir := range []struct {
		name  string
		heard []int16
		freq  float64
		err   error
	}{
		{"alice → bob", d.b.rec.since(markB), demoToneA, errs[0]},
		{"bob → alice", d.a.rec.since(markA), demoToneB, errs[1]},
	} {
		if dir.err != nil {
			d.rep.step("tone "+dir.name, "", dir.err)
			d.rep.step("speech "+dir.name, "", dir.err)
			continue
		}
		at := onset(dir.heard, demoRate/50, demoOnsetLevel)
		if at < 0 {
			err := errors.New("no audio arrived")
			d.rep.step("tone "+dir.name, "", err)
			d.rep.step("speech "+dir.name, "", err)
			continue
		}
		f, err := toneAt(window(dir.heard, at+demoRate/5, demoRate*3/10), dir.freq)
		d.rep.step("tone "+dir.name, fmt.Sprintf("%.0f Hz sent, %.0f Hz heard", dir.freq, f), err)
		// Speech: compare it with what was sent, 100 ms at a time, each
		// block aligned on its own (the jitter buffer may shift playout).
		med, frac := blockCorrelation(speech, dir.heard, at+toneN, demoRate/10, demoRate*8/100)
		var serr error
		if med < 0.6 {
			serr = fmt.Errorf("median correlation with what was sent %.2f, want ≥ 0.6", med)
		}
		d.rep.step("speech "+dir.name, fmt.Sprintf("median correlation %.2f, %.0f%% of blocks ≥ 0.6, level %.1f dBFS",
			med, frac*100, dBFS(rms(window(dir.heard, at+toneN, speechN)))), serr)
	}
}

// window returns samples[from:from+n], clipped to the slice.
func window(s []int16, from, n int) []int16 {
	if from < 0 {
		from = 0
	}
	if from > len(s) {
		return nil
	}
	return s[from:min(from+n, len(s))]
}

// blockCorrelation compares sent with heard[at:] in blocks of n samples:
// each block of sent that is not silent is aligned within ±maxLag (80 ms) of where
// the previous block matched, and its normalized correlation taken. It
// returns the median correlation and the fraction of blocks of at least 0.6.
func blockCorrelation(sent, heard []int16, at, n, maxLag int) (median, good float64) {
	var cs []float64
	drift, lag := 0, maxLag // search widely until a block matches
	for off := 0; off+n <= len(sent); off += n {
		ref := sent[off : off+n]
		if rms(ref) < 100 {
			continue
		}
		c, l := bestCorrelation(ref, heard, at+off+drift, lag)
		if c >= 0.6 {
			drift += l
			lag = maxLag / 4 // the next block is near this one
		} else {
			lag = maxLag
		}
		cs = append(cs, c)
	}
	if len(cs) == 0 {
		return 0, 0
	}
	slices.Sort(cs)
	for _, c := range cs {
		if c >= 0.6 {
			good++
		}
	}
	return cs[len(cs)/2], good / float64(len(cs))
}

// bestCorrelation returns the highest normalized cross-correlation of ref
// with heard[at+lag:] for lag in ±maxLag, and that lag.
func bestCorrelation(ref, heard []int16, at, maxLag int) (float64, int) {
	var er float64
	for _, x := range ref {
		er += float64(x) * float64(x)
	}
	corr := func(lag int) float64 {
		start := at + lag
		if er == 0 || start < 0 || start+len(ref) > len(heard) {
			return -1
		}
		var xy, eh float64
		for i, x := range ref {
			y := float64(heard[start+i])
			xy += float64(x) * y
			eh += y * y
		}
		if eh == 0 {
			return -1
		}
		return xy / math.Sqrt(er*eh)
	}
	// A coarse pass every 2 samples (the audio is band-limited well below
	// a quarter of the rate), then the neighbours of the best.
	best, bestLag := -1.0, 0
	for lag := -maxLag; lag <= maxLag; lag += 2 {
		if c := corr(lag); c > best {
			best, bestLag = c, lag
		}
	}
	for _, lag := range []int{bestLag - 1, bestLag + 1} {
		if c := corr(lag); c > best {
			best, bestLag = c, lag
		}
	}
	return best, bestLag
}

// playBoth plays a through sa and b through sb at the same time, paced at
// real time, and returns each sender's error.
func playBoth(ctx context.Context, sa *source, a []int16, sb *source, b []int16) [2]error {
	var errs [2]error
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = sa.play(ctx, a) })
	wg.Go(func() { errs[1] = sb.play(ctx, b) })
	wg.Wait()
	return errs
}

func (d *demo) dtmfStep(ctx context.Context) {
	for _, dir := range []struct {
		name     string
		from, to *demoSide
		digits   string
	}{{"DTMF alice → bob", d.a, d.b, demoDigitsA}, {"DTMF bob → alice", d.b, d.a, demoDigitsB}} {
		sctx, cancel := context.WithTimeout(ctx, demoStepWait)
		err := dir.from.call.SendDTMF(sctx, dir.digits)
		got := ""
		if err == nil {
			got, err = collectDigits(sctx, dir.to.dtmf, len(dir.digits))
			if err == nil && got != dir.digits {
				err = fmt.Errorf("got %q, want %q", got, dir.digits)
			}
		}
		cancel()
		d.rep.step(dir.name, fmt.Sprintf("sent %q, received %q, RFC 4733", dir.digits, got), err)
	}
}

// collectDigits reads n digits from ch, or fails when ctx ends.
func collectDigits(ctx context.Context, ch <-chan rune, n int) (string, error) {
	var b strings.Builder
	for b.Len() < n {
		select {
		case r := <-ch:
			b.WriteRune(r)
		case <-ctx.Done():
			return b.String(), fmt.Errorf("received %q before the wait ended", b.String())
		}
	}
	return b.String(), nil
}

// holdResume holds the call from alice's side, checks both sides see it,
// and resumes. It reports whether the call is active again.
func (d *demo) holdResume(ctx context.Context) bool {
	hctx, cancel := context.WithTimeout(ctx, demoStepWait)
	defer cancel()
	err := d.a.call.Hold(hctx)
	if err == nil {
		wctx, cancel := context.WithTimeout(hctx, time.Second)
		err = waitState(wctx, d.b, xphone.StateOnHold)
		cancel()
	}
	if err == nil && d.a.call.State() != xphone.StateOnHold {
		err = fmt.Errorf("alice's call is %v, want OnHold", d.a.call.State())
	}
	d.rep.step("hold (re-INVITE sendonly)", "", err)
	if d.a.call.State() != xphone.StateOnHold {
		d.rep.step("resume (re-INVITE sendrecv)", "", errors.New("alice's call is not on hold"))
		return d.a.call.State() == xphone.StateActive
	}
	err = d.a.call.Resume(hctx)
	if err == nil {
		err = waitState(hctx, d.b, xphone.StateActive)
	}
	if err == nil && d.a.call.State() != xphone.StateActive {
		err = fmt.Errorf("alice's call is %v, want Active", d.a.call.State())
	}
	d.rep.step("resume (re-INVITE sendrecv)", "", err)
	return err == nil
}

// waitState waits until s's call reports state want.
func waitState(ctx context.Context, s *demoSide, want xphone.CallState) error {
	for s.call.State() != want {
		select {
		case <-s.state:
		case <-ctx.Done():
			return fmt.Errorf("%s's call is %v, want %v", s.name, s.call.State(), want)
		}
	}
	return nil
}

// afterResume checks that audio flows both ways again after the resume.
func (d *demo) afterResume(ctx context.Context) {
	n := int(demoResumeLen / time.Millisecond * demoRate / 1000)
	markA, markB := d.a.rec.len(), d.b.rec.len()
	errs := playBoth(ctx, d.a.src, tone(demoResumeA, demoRate, n, demoPeak), d.b.src, tone(demoResumeB, demoRate, n, demoPeak))
	d.a.rec.waitLen(ctx, markA+n+demoRate*3/10, demoStepWait)
	d.b.rec.waitLen(ctx, markB+n+demoRate*3/10, demoStepWait)
	for i, dir := range []struct {
		name  string
		heard []int16
		freq  float64
	}{{"audio after resume a→b", d.b.rec.since(markB), demoResumeA}, {"audio after resume b→a", d.a.rec.since(markA), demoResumeB}} {
		err := errs[i]
		if err == nil {
			err = findTone(dir.heard, dir.freq, n)
		}
		d.rep.step(dir.name, fmt.Sprintf("%.0f Hz", dir.freq), err)
	}
}

// findTone checks that heard contains a tone of freq about n samples long.
func findTone(heard []int16, freq float64, n int) error {
	at := onset(heard, demoRate/50, demoOnsetLevel)
	if at < 0 {
		return errors.New("no audio arrived")
	}
	_, err := toneAt(window(heard, at+demoRate/10, min(n-demoRate/5, demoRate*3/10)), freq)
	return err
}

// toneAt finds the dominant frequency of samples (at demoRate) and checks
// that it is freq ± 20 Hz carrying most of the energy (Goertzel).
func toneAt(samples []int16, freq float64) (float64, error) {
	f, rel := audiotest.DominantFrequency(samples, demoRate)
	if math.Abs(f-freq) > 20 || rel < audiotest.MinToneRelativePower {
		return f, fmt.Errorf("dominant frequency %.0f Hz with %.0f%% of the energy, want %.0f Hz with at least %.0f%%",
			f, rel*100, freq, audiotest.MinToneRelativePower*100)
	}
	return f, nil
}

func (d *demo) hangup(ctx context.Context) {
	hctx, cancel := context.WithTimeout(ctx, demoStepWait)
	defer cancel()
	err := d.a.call.End(hctx)
	if err == nil {
		select {
		case r := <-d.b.ended:
			if r != xphone.EndRemoteHangup {
				err = fmt.Errorf("bob's call ended with %v, want %v", r.String(), xphone.EndRemoteHangup.String())
			}
		case <-hctx.Done():
			err = errors.New("bob's call did not end")
		}
	}
	d.rep.step("hang up (BYE)", "", err)
	d.a.rec.wait()
	d.b.rec.wait()
}

func (d *demo) stats() {
	fmt.Fprintln(d.out, "\nMedia statistics:")
	fmt.Fprintf(d.out, "  %-6s %-5s %-5s %8s %8s %5s %9s %9s %6s\n", "side", "codec", "srtp", "sent", "received", "lost", "jitter", "concealed", "heard")
	for _, s := range []*demoSide{d.a, d.b} {
		st := s.call.Stats()
		fmt.Fprintf(d.out, "  %-6s %-5s %-5v %8d %8d %5d %9s %9d %5.1fs\n", s.name, st.Codec, st.SRTP,
			st.PacketsSent, st.PacketsReceived, st.PacketsLost, st.Jitter.Round(10*time.Microsecond),
			st.FramesConcealed, float64(s.rec.len())/demoRate)
	}
}

func (d *demo) wavs() {
	var files []string
	var err error
	for _, s := range []*demoSide{d.a, d.b} {
		path := filepath.Join(d.dir, s.name+"-heard.wav")
		if err = writeWAVFile(path, demoRate, s.rec.samples()); err != nil {
			break
		}
		// Read it back: the file must hold what was heard.
		back, rerr := readWAVFile(path, demoRate)
		if rerr != nil || len(back) != s.rec.len() {
			err = fmt.Errorf("%s: read back %d samples, want %d (%v)", path, len(back), s.rec.len(), rerr)
			break
		}
		files = append(files, path)
	}
	d.rep.step("write WAV files", strings.Join(files, ", "), err)
}

// teardown unregisters the phones, closes the PBX and prints the ladder.
func (d *demo) teardown() {
	ctx, cancel := context.WithTimeout(context.Background(), demoStepWait)
	defer cancel()
	for _, s := range []*demoSide{d.a, d.b} {
		if s == nil || s.phone == nil {
			continue
		}
		err := s.phone.Disconnect(ctx)
		if err == nil && d.pbx.Registered(s.name) {
			err = errors.New("still registered at the PBX")
		}
		d.rep.step("unregister "+s.name, "", err)
	}
	if d.pbx == nil {
		return
	}
	names := map[string]int{}
	for side, s := range map[int]*demoSide{0: d.a, 2: d.b} {
		if s != nil && s.phone != nil {
			// Bindings are gone after unregistering; the ladder learned
			// the addresses while registered.
			for _, a := range s.addrs {
				names[a] = side
			}
		}
	}
	d.rep.step("stop PBX", "", d.pbx.Close())
	fmt.Fprintln(d.out, "\nSIP ladder (as the PBX saw it):")
	d.trace.print(d.out, "alice", "bob", names)
	if d.a != nil && d.a.call != nil && d.b.call != nil && d.a.rec != nil {
		d.stats()
	}
}

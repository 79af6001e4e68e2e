package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xphone-go/xphone"
)

// result is what register, call and answer report: as text on stdout, or
// as one JSON object with --json. Field names are a contract with scripts.
type result struct {
	Command      string     `json:"command"`
	OK           bool       `json:"ok"`
	ExitCode     int        `json:"exit_code"`
	Error        string     `json:"error,omitempty"`
	Server       string     `json:"server,omitempty"`
	User         string     `json:"user,omitempty"`
	Transport    string     `json:"transport"`
	Listen       string     `json:"listen,omitempty"`
	Registered   bool       `json:"registered"`
	Target       string     `json:"target,omitempty"`
	Call         *callJSON  `json:"call,omitempty"`
	Stats        *statsJSON `json:"stats,omitempty"`
	DTMFSent     string     `json:"dtmf_sent,omitempty"`
	DTMFReceived string     `json:"dtmf_received,omitempty"`
	Recorded     string     `json:"recorded,omitempty"`
	RecordedMS   int64      `json:"recorded_ms,omitempty"`
}

type callJSON struct {
	ID         string `json:"id"`
	CallID     string `json:"call_id"`
	Direction  string `json:"direction"`
	From       string `json:"from"`
	To         string `json:"to"`
	Codec      string `json:"codec"`
	SRTP       bool   `json:"srtp"`
	DurationMS int64  `json:"duration_ms"`
	EndReason  string `json:"end_reason"`
	// PeerReason is what the peer's BYE or CANCEL said (RFC 3326), if
	// anything: `Q.850 cause 16 "Normal call clearing"`.
	PeerReason string `json:"peer_reason,omitempty"`
}

type statsJSON struct {
	PacketsSent       uint64  `json:"packets_sent"`
	PacketsReceived   uint64  `json:"packets_received"`
	BytesSent         uint64  `json:"bytes_sent"`
	BytesReceived     uint64  `json:"bytes_received"`
	PacketsLost       int64   `json:"packets_lost"`
	PacketsLate       uint64  `json:"packets_late"`
	FramesConcealed   uint64  `json:"frames_concealed"`
	JitterMS          float64 `json:"jitter_ms"`
	RTTMS             float64 `json:"rtt_ms"`
	RemotePacketsLost int64   `json:"remote_packets_lost"`
	InboundDropped    uint64  `json:"inbound_dropped"`
	OutboundDropped   uint64  `json:"outbound_dropped"`
}

func toStatsJSON(s xphone.CallStats) *statsJSON {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return &statsJSON{
		PacketsSent: s.PacketsSent, PacketsReceived: s.PacketsReceived,
		BytesSent: s.BytesSent, BytesReceived: s.BytesReceived,
		PacketsLost: s.PacketsLost, PacketsLate: s.PacketsLate, FramesConcealed: s.FramesConcealed,
		JitterMS: ms(s.Jitter), RTTMS: ms(s.RTT), RemotePacketsLost: s.RemotePacketsLost,
		InboundDropped: s.InboundDropped, OutboundDropped: s.OutboundDropped,
	}
}

// playTail is how long a call stays up after --play ended, when neither
// --duration nor the peer ends it first.
const playTail = 500 * time.Millisecond

// cli carries the streams and flags of one command run.
type cli struct {
	o              *options
	stdout, stderr io.Writer
	mu             sync.Mutex // serializes status lines
	res            result
}

func newCLI(o *options, stdout, stderr io.Writer) *cli {
	c := &cli{o: o, stdout: stdout, stderr: stderr}
	c.res = result{Command: o.cmd, Server: o.server, User: o.user, Transport: strings.ToLower(o.transport), Target: o.target}
	return c
}

// status prints a progress line on stderr.
func (c *cli) status(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.stderr, "xphone: "+format+"\n", a...)
}

// finish records the outcome, prints the result and returns code.
func (c *cli) finish(code int, err error) int {
	c.res.ExitCode, c.res.OK = code, code == exitOK
	if err != nil {
		c.res.Error = err.Error()
	}
	if c.o.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(c.res) //nolint:errcheck // nothing to do if stdout is gone
		return code
	}
	r := &c.res
	if r.Call != nil {
		why := ""
		if r.Call.PeerReason != "" {
			why = " (" + r.Call.PeerReason + ")"
		}
		fmt.Fprintf(c.stdout, "call %s %s → %s: codec %s, srtp %v, %.1f s, ended: %s%s\n", r.Call.Direction,
			r.Call.From, r.Call.To, r.Call.Codec, r.Call.SRTP, float64(r.Call.DurationMS)/1000, r.Call.EndReason, why)
	}
	if s := r.Stats; s != nil {
		fmt.Fprintf(c.stdout, "media: sent %d packets, received %d, lost %d, late %d, concealed %d frames, jitter %.2f ms, rtt %.2f ms\n",
			s.PacketsSent, s.PacketsReceived, s.PacketsLost, s.PacketsLate, s.FramesConcealed, s.JitterMS, s.RTTMS)
	}
	if r.DTMFSent != "" || r.DTMFReceived != "" {
		fmt.Fprintf(c.stdout, "dtmf: sent %q, received %q\n", r.DTMFSent, r.DTMFReceived)
	}
	if r.Recorded != "" {
		fmt.Fprintf(c.stdout, "recorded %.1f s to %s\n", float64(r.RecordedMS)/1000, r.Recorded)
	}
	if err != nil {
		fmt.Fprintf(c.stdout, "FAILED: %v\n", err)
	} else {
		fmt.Fprintln(c.stdout, "ok")
	}
	return code
}

// connect creates the phone and connects it: registers with --server, or
// listens on --listen. The exit code is exitOK or the failure's.
// setup, if not nil, runs before Connect, to set handlers that must be in
// place before the first request arrives.
func (c *cli) connect(ctx context.Context, setup func(xphone.Phone)) (xphone.Phone, int, error) {
	o := c.o
	if o.listen != "" {
		l, err := resolveListen(o.listen)
		if err != nil {
			return nil, exitUsage, err
		}
		o.listen = l
		c.res.Listen = l
	} else if o.server == "" {
		o.listen = "0.0.0.0:0"
	}
	p, err := xphone.New(o.config(c.stderr))
	if err != nil {
		return nil, exitUsage, err
	}
	if setup != nil {
		setup(p)
	}
	p.OnVoicemail(func(s xphone.VoicemailStatus) {
		c.status("voicemail: %d new, %d old (%d and %d urgent), waiting: %v", s.New, s.Old, s.NewUrgent, s.OldUrgent, s.Waiting)
	})
	cctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if o.server != "" {
		c.status("registering %s at %s over %s…", o.user, o.server, strings.ToLower(o.transport))
	}
	if err := p.Connect(cctx); err != nil {
		if o.server != "" {
			return nil, exitRegistration, err
		}
		return nil, exitFailure, err
	}
	if o.server != "" {
		c.res.Registered = true
		c.status("registered as sip:%s@%s", o.user, o.server)
	}
	if o.listen != "" && o.cmd != "call" {
		c.status("listening on sip:%s (%s)", o.listen, strings.ToLower(o.transport))
	}
	return p, exitOK, nil
}

// resolveListen replaces port 0 in addr by a port free for both UDP and
// TCP, so that it can be printed and given to callers: the Phone does not
// report the port it bound.
func resolveListen(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--listen %q: %v", addr, err)
	}
	if port != "0" {
		return addr, nil
	}
	for range 20 {
		u, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
		if err != nil {
			return "", fmt.Errorf("--listen %q: %v", addr, err)
		}
		p := u.LocalAddr().(*net.UDPAddr).Port
		t, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		u.Close()
		if err != nil {
			continue
		}
		t.Close()
		return net.JoinHostPort(host, strconv.Itoa(p)), nil
	}
	return "", fmt.Errorf("--listen %q: no port free for both UDP and TCP", addr)
}

func disconnect(p xphone.Phone) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.Disconnect(ctx) //nolint:errcheck // best effort on the way out
}

// runRegister is `xphone register`.
func runRegister(ctx context.Context, o *options, stdout, stderr io.Writer) int {
	c := newCLI(o, stdout, stderr)
	p, code, err := c.connect(ctx, nil)
	if err != nil {
		return c.finish(code, err)
	}
	defer disconnect(p)
	if o.duration > 0 {
		c.status("staying registered for %v (Ctrl-C to stop)", o.duration)
		t := time.NewTimer(o.duration)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		if p.State() != xphone.PhoneRegistered {
			return c.finish(exitRegistration, fmt.Errorf("registration lost: phone is %v", p.State()))
		}
	}
	return c.finish(exitOK, nil)
}

// runCall is `xphone call <uri>`.
func runCall(ctx context.Context, o *options, stdout, stderr io.Writer) int {
	c := newCLI(o, stdout, stderr)
	p, code, err := c.connect(ctx, nil)
	if err != nil {
		return c.finish(code, err)
	}
	defer disconnect(p)
	c.status("calling %s…", o.target)
	opts := []xphone.DialOption{xphone.WithTimeout(o.timeout)}
	call, err := p.Dial(ctx, o.target, opts...)
	if err != nil {
		return c.finish(exitCall, err)
	}
	return c.finish(c.session(ctx, call))
}

// runAnswer is `xphone answer`: it waits for a call, answers it and runs
// the media the flags ask for. With --auto-answer it keeps answering calls,
// one at a time, until interrupted, and reports the last.
func runAnswer(ctx context.Context, o *options, stdout, stderr io.Writer) int {
	c := newCLI(o, stdout, stderr)
	calls := make(chan xphone.Call, 1)
	p, code, err := c.connect(ctx, func(p xphone.Phone) {
		p.OnIncoming(func(call xphone.Call) {
			select {
			case calls <- call:
			default:
				call.Reject(context.Background(), 486, "") //nolint:errcheck // busy with another call
			}
		})
	})
	if err != nil {
		return c.finish(code, err)
	}
	defer disconnect(p)
	c.status("waiting for a call (Ctrl-C to stop)")
	code, err = exitCall, errors.New("no call arrived")
	for {
		select {
		case call := <-calls:
			c.status("incoming call from %s", caller(call))
			actx, cancel := context.WithTimeout(ctx, o.timeout)
			aerr := call.Accept(actx)
			cancel()
			if aerr != nil {
				code, err = exitCall, aerr
			} else {
				code, err = c.session(ctx, call)
			}
			if !o.autoAnswer {
				return c.finish(code, err)
			}
			c.status("call done (%v); waiting for the next one", errOK(err))
		case <-ctx.Done():
			if o.autoAnswer && c.res.Call != nil {
				return c.finish(code, err)
			}
			return c.finish(exitCall, errors.New("interrupted before a call arrived"))
		}
	}
}

// caller names who is calling: the party's name and number when a server
// vouches for them (P-Asserted-Identity), marked so when the caller asked
// for privacy, and the From URI.
func caller(call xphone.Call) string {
	p := call.RemoteParty()
	who := call.From()
	if p.Asserted {
		who = fmt.Sprintf("%q <%s> (asserted; From %s)", p.Name, p.URI, call.From())
	} else if p.Name != "" {
		who = fmt.Sprintf("%q <%s>", p.Name, call.From())
	}
	if p.Private {
		who += " (private: do not pass on)"
	}
	return who
}

func errOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// session runs an answered call per the flags (play, record, echo, dtmf,
// duration), waits for its end and fills the result.
func (c *cli) session(ctx context.Context, call xphone.Call) (int, error) {
	o := c.o
	start := time.Now()
	st := call.Stats()
	c.status("call up: codec %s, srtp %v", call.Codec(), st.SRTP)
	var digitsMu sync.Mutex
	var digits strings.Builder
	call.OnDTMF(func(r rune) {
		digitsMu.Lock()
		digits.WriteRune(r)
		digitsMu.Unlock()
		c.status("received DTMF %c", r)
	})
	rec := startRecorderEcho(call, o.echo)
	var src *source
	if !o.echo {
		src = startSource(call)
	}
	code, err := exitOK, error(nil)
	var failMu sync.Mutex
	fail := func(cd int, e error) { // the first failure decides the exit code
		failMu.Lock()
		defer failMu.Unlock()
		if err == nil {
			code, err = cd, e
		}
	}
	var wg sync.WaitGroup
	playDone := make(chan struct{})
	if o.play != "" {
		samples, rerr := readWAVFile(o.play, call.Codec().SampleRate())
		if rerr != nil {
			fail(exitMedia, fmt.Errorf("--play %s: %w", o.play, rerr))
			close(playDone)
		} else {
			c.status("playing %s (%.1f s)", o.play, float64(len(samples))/float64(call.Codec().SampleRate()))
			wg.Go(func() {
				defer close(playDone)
				if perr := src.play(ctx, samples); perr != nil && call.Context().Err() == nil {
					fail(exitMedia, fmt.Errorf("playing %s: %w", o.play, perr))
				}
			})
		}
	}
	if o.dtmf != "" {
		dctx, cancel := context.WithTimeout(ctx, o.timeout)
		if derr := call.SendDTMF(dctx, o.dtmf); derr != nil {
			fail(exitMedia, fmt.Errorf("sending DTMF: %w", derr))
		} else {
			c.res.DTMFSent = o.dtmf
			c.status("sent DTMF %s", o.dtmf)
		}
		cancel()
	}
	// How the call ends: after --duration, after --play, or when the
	// peer hangs up (or Ctrl-C).
	var until <-chan time.Time
	switch {
	case o.duration > 0:
		t := time.NewTimer(o.duration - time.Since(start))
		defer t.Stop()
		until = t.C
		c.status("hanging up in %v", o.duration)
	case o.play != "":
		ch := make(chan time.Time, 1)
		go func() {
			<-playDone
			// A moment more for the peer's answer to what we played
			// (an echo, a reply) to cross its jitter buffer.
			t := time.NewTimer(playTail)
			defer t.Stop()
			select {
			case <-t.C:
			case <-call.Context().Done():
			}
			ch <- time.Now()
		}()
		until = ch
	default:
		c.status("in call until the peer hangs up (Ctrl-C to hang up)")
	}
	select {
	case <-until:
	case <-ctx.Done():
	case <-call.Context().Done():
	}
	if call.Context().Err() == nil {
		ectx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if eerr := call.End(ectx); eerr != nil && call.Context().Err() == nil {
			fail(exitCall, fmt.Errorf("hanging up: %w", eerr))
		}
		cancel()
	}
	rec.wait()
	wg.Wait()
	var reason xphone.EndReason
	errors.As(context.Cause(call.Context()), &reason)
	switch reason {
	case xphone.EndMediaTimeout:
		fail(exitMedia, context.Cause(call.Context()))
	case xphone.EndError:
		fail(exitCall, context.Cause(call.Context()))
	}
	stats := call.Stats()
	if (o.echo || o.record != "") && stats.PacketsReceived == 0 {
		fail(exitMedia, errors.New("no audio arrived from the peer"))
	}
	if o.play != "" && reason == xphone.EndRemoteHangup && o.duration == 0 {
		select {
		case <-playDone:
		default:
			fail(exitCall, errors.New("the peer hung up before --play ended"))
		}
	}
	if o.record != "" {
		samples := rec.samples()
		rate := call.Codec().SampleRate()
		if werr := writeWAVFile(o.record, rate, samples); werr != nil {
			fail(exitMedia, fmt.Errorf("--record: %w", werr))
		} else {
			c.res.Recorded = o.record
			c.res.RecordedMS = int64(len(samples)) * 1000 / int64(rate)
		}
	}
	digitsMu.Lock()
	c.res.DTMFReceived = digits.String()
	digitsMu.Unlock()
	c.res.Call = &callJSON{
		ID: call.ID(), CallID: call.CallID(), Direction: call.Direction().String(),
		From: call.From(), To: call.To(), Codec: string(call.Codec()), SRTP: stats.SRTP,
		DurationMS: time.Since(start).Milliseconds(), EndReason: reason.String(),
	}
	var why xphone.PeerReasons
	if errors.As(context.Cause(call.Context()), &why) {
		c.res.Call.PeerReason = why.String()
	}
	c.res.Stats = toStatsJSON(stats)
	return code, err
}

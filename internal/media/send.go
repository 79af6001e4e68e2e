package media

import (
	"time"

	"github.com/xphone-go/xphone/rtp"
)

// drainWriters moves what the application wrote since the last tick into
// the session's queues, dropping the newest when a queue is full (the
// outbound overflow rule). A writer channel the application closed is
// forgotten: that writer has ended, the call goes on.
func (l *loop) drainWriters() {
	s := l.s
	if l.rtpIn == nil && !l.rtpEnded {
		l.rtpIn = s.rtpIn.load()
	}
	if l.pcmIn == nil && !l.pcmEnded {
		l.pcmIn = s.pcmIn.load()
	}
	if l.pacedIn == nil && !l.pacedEnded {
		l.pacedIn = s.pacedIn.load()
	}
	for l.rtpIn != nil {
		select {
		case p, ok := <-l.rtpIn:
			if !ok {
				l.rtpIn, l.rtpEnded = nil, true
				break
			}
			if p == nil {
				continue
			}
			l.rawMode, l.quiet = true, 0
			if !l.rtpQ.push(p) {
				s.ctr.droppedOut.Add(1)
			}
			continue
		default:
		}
		break
	}
	for l.pcmIn != nil {
		select {
		case f, ok := <-l.pcmIn:
			if !ok {
				l.pcmIn, l.pcmEnded = nil, true
				break
			}
			if l.rawMode {
				continue // RTPWriter took over
			}
			l.quiet = 0
			if !l.pcmQ.push(f) {
				s.ctr.droppedOut.Add(1)
			}
			continue
		default:
		}
		break
	}
}

// nextFrame returns this tick's outbound audio frame, if any.
func (l *loop) nextFrame() ([]int16, bool) {
	if f, ok := l.pcmQ.pop(); ok {
		return f, true
	}
	return l.nextPaced()
}

// nextPaced cuts the next frame from what the application wrote on
// PacedPCMWriter, whose chunks may have any length: a chunk longer than a
// frame lasts several ticks, and a frame may be assembled from the end of
// one chunk and the start of the next. When the writer has nothing more
// for now, a partial frame is padded with silence.
func (l *loop) nextPaced() ([]int16, bool) {
	n := len(l.pacedBuf)
	if n == 0 {
		return nil, false
	}
	if len(l.pacedRest) >= n {
		f := l.pacedRest[:n]
		l.pacedRest = l.pacedRest[n:]
		return f, !l.rawMode
	}
	m := copy(l.pacedBuf, l.pacedRest)
	l.pacedRest = nil
	for m < n && l.pacedIn != nil {
		select {
		case f, ok := <-l.pacedIn:
			if !ok {
				l.pacedIn, l.pacedEnded = nil, true
				continue
			}
			c := copy(l.pacedBuf[m:], f)
			m += c
			l.pacedRest = f[c:]
			l.quiet = 0
			continue
		default:
		}
		break
	}
	if m == 0 || l.rawMode {
		return nil, false
	}
	clear(l.pacedBuf[m:])
	return l.pacedBuf, true
}

// clearOutput empties the outbound queues and s's writer channels
// (Session.ClearOutput) and returns the duration of what it dropped. The
// loop may not have started: s is not taken from it.
func (l *loop) clearOutput(s *Session) time.Duration {
	frames := l.pcmQ.n + l.rtpQ.n
	for l.pcmQ.n > 0 {
		l.pcmQ.pop()
	}
	for l.rtpQ.n > 0 {
		l.rtpQ.pop()
	}
	frames += drain(s.pcmIn.load()) + drain(s.rtpIn.load())
	samples := len(l.pacedRest)
	l.pacedRest = nil
	if ch := s.pacedIn.load(); ch != nil {
		for len(ch) > 0 {
			f, ok := <-ch
			if !ok {
				break // closed by the application: the loop forgets it
			}
			samples += len(f)
		}
	}
	perFrame := l.appN
	if perFrame == 0 {
		perFrame = max(s.opts.PCMRate, 8000) * int(FrameDuration/time.Millisecond) / 1000
	}
	return time.Duration(frames)*FrameDuration + time.Duration(samples)*FrameDuration/time.Duration(perFrame)
}

// drain takes what is waiting on ch (nil: nothing) and returns how many
// values it took.
func drain[T any](ch chan T) int {
	n := 0
	for len(ch) > 0 {
		if _, ok := <-ch; !ok {
			break
		}
		n++
	}
	return n
}

// skipTicks accounts for k ticks the loop missed: the RTP timestamp moves on
// as the sampling clock did (RFC 3550 §5.1), and the queued PCMWriter frames
// that were due in those ticks are dropped and counted, oldest first.
func (l *loop) skipTicks(k int) {
	l.ts += uint32(k) * l.ci.tsPerFrame
	for range k {
		if _, ok := l.pcmQ.pop(); !ok {
			break
		}
		l.s.ctr.droppedOut.Add(1)
	}
}

// send runs the outbound half of a tick: one DTMF, audio or raw packet,
// or nothing. The RTP timestamp advances by one frame every tick whether
// or not a packet goes out, so it follows the sampling clock (RFC 3550
// §5.1) across pauses.
//
// Frames the application writes on PCMWriter or RTPWriter go out as soon
// as the scheduler sees them (sendPending, each quantum), not at the next
// send half: when the application has a writer that wrote within the
// last quietTicks but has not yet written this tick's frame, the tick
// stays open (l.late) until the next one, and a frame that comes for it
// goes out with its timestamp; a frame that comes after the tick's was
// sent goes out at once as the next tick's (l.ahead), which then sends
// nothing. The stream thus runs at most one frame ahead of the session's
// clock, and an echo or a voice bot that answers what it hears waits a
// quantum per hop, not up to a frame. (Only the talking ones were waited
// for once: the first frame of an echo then came just too late, and every
// later one waited a whole frame.) A tick that ends without its frame ends
// the talkspurt.
func (l *loop) send(now time.Time) {
	s := l.s
	defer func() { l.ts += l.ci.tsPerFrame }()
	l.quiet = min(l.quiet+1, quietTicks+1)
	if l.late {
		l.late = false
		l.talking = false // the last tick's frame never came
	}
	if l.ahead {
		// This tick's frame went out early (sendPending); what is still
		// queued or written counts as left by it.
		l.ahead = false
		if s.opts.TrimBacklog {
			l.drainWriters()
			l.trimBacklog()
		}
		l.catchUp(now)
		return
	}
	l.drainWriters()
	raw, haveRaw := l.rtpQ.pop()
	frame, haveFrame := l.nextFrame()
	if s.opts.TrimBacklog {
		l.trimBacklog()
	}
	sends := l.cfg.Direction.sends()

	// DTMF takes the place of audio for its duration (RFC 4733 §2.5.1):
	// the audio of those ticks is consumed and discarded.
	if l.dtmfOn || (l.dtmfGap == 0 && len(s.dtmfIn) > 0 && l.cfg.DTMFPayloadType != 0) {
		if l.sendEvent(now, sends) {
			return
		}
	}
	if l.dtmfGap > 0 {
		l.dtmfGap--
	}
	if !sends || l.remoteRTP.Port() == 0 {
		l.talking = false
		return
	}
	if s.muted.Load() {
		if s.opts.MuteMode == MuteSilence {
			l.sendAudio(now, l.silence)
		} else {
			l.talking = false
		}
		return
	}
	switch {
	case haveRaw:
		l.sendRaw(now, raw)
	case haveFrame:
		l.sendFrame(now, frame)
	case l.quiet <= quietTicks && (l.pcmIn != nil || l.pacedIn != nil || l.rtpIn != nil):
		l.late, l.lateTS = true, l.ts // the frame may still come this tick
		return
	default:
		l.talking = false
		return // nothing written for a while: send nothing (DTX)
	}
	l.catchUp(now)
	l.sendAhead(now)
}

// sendAhead sends, right after the tick's own, a frame or packet still
// queued from PCMWriter or RTPWriter as the next tick's (l.ahead), as
// sendPending would have at the next quantum.
func (l *loop) sendAhead(now time.Time) {
	if l.ahead {
		return
	}
	l.ts += l.ci.tsPerFrame
	l.ahead = l.sendQueued(now)
	l.ts -= l.ci.tsPerFrame
}

// sendQueued sends the next packet or frame queued from RTPWriter or
// PCMWriter, if any, and reports whether it did.
func (l *loop) sendQueued(now time.Time) bool {
	if raw, ok := l.rtpQ.pop(); ok {
		l.sendRaw(now, raw)
		return true
	}
	if l.rawMode {
		return false
	}
	frame, ok := l.pcmQ.pop()
	if ok {
		l.sendFrame(now, frame)
	}
	return ok
}

// StandingTicks is how many ticks in a row a writer may stay one or two
// frames behind the session's clock before catchUp sends an extra frame.
const StandingTicks = 25

// catchUp ends a standing queue: a writer that keeps pace but fell one
// or two frames behind (its first frames came before the session's first
// tick, or the scheduler paused) would otherwise add that delay to every
// frame for the rest of the call. After StandingTicks sends in a row that
// left one or two frames queued, the next frame goes out now, with the
// next tick's timestamp: the stream runs a frame ahead of the session's
// clock from then on, which a receiver sees as one packet 20 ms early.
// A deeper queue is an application writing ahead on purpose and is paced
// as written.
func (l *loop) catchUp(now time.Time) {
	left := l.pcmQ.n + l.rtpQ.n + len(l.pcmIn) + len(l.rtpIn)
	if left < 1 || left > 2 || l.s.opts.TrimBacklog {
		l.standing = 0
		return
	}
	if l.standing++; l.standing < StandingTicks {
		return
	}
	l.standing = 0
	l.ts += l.ci.tsPerFrame
	l.drainWriters()
	l.sendQueued(now)
}

// quietTicks is how long a writer may write nothing before its ticks are
// no longer held open for it (1 s).
const quietTicks = 50

// sendPending sends what the application wrote since the send half on
// PCMWriter or RTPWriter, if anything (see send): the open tick's frame,
// with its timestamp, or else the next tick's, early. It reports whether
// nothing more can go out before the next send half.
func (l *loop) sendPending(now time.Time) bool {
	if l.ahead {
		return true
	}
	s := l.s
	if !l.cfg.Direction.sends() || l.remoteRTP.Port() == 0 {
		return true
	}
	if s.muted.Load() || l.dtmfOn || len(s.dtmfIn) > 0 {
		return false // the next tick decides
	}
	l.drainWriters()
	raw, haveRaw := l.rtpQ.pop()
	var frame []int16
	haveFrame := false
	switch {
	case haveRaw:
	case l.late:
		frame, haveFrame = l.nextFrame()
	case !l.rawMode:
		frame, haveFrame = l.pcmQ.pop() // PacedPCMWriter keeps to the send half
	}
	if !haveRaw && !haveFrame {
		return false
	}
	ts := l.ts
	if l.late {
		l.late = false
		l.ts = l.lateTS
	} else {
		l.ahead = true
	}
	if haveRaw {
		l.sendRaw(now, raw)
	} else {
		l.sendFrame(now, frame)
	}
	l.ts = ts
	return l.ahead
}

// waitsForWriter reports whether, after a send half, a frame from the
// application may still go out before the next one (sendPending).
func (l *loop) waitsForWriter() bool {
	return l.late || (!l.ahead && l.quiet <= quietTicks && (l.pcmIn != nil || l.rtpIn != nil))
}

// sendFrame sends one frame of the application's PCM.
func (l *loop) sendFrame(now time.Time, frame []int16) {
	if l.rs != nil { // Options.PCMRate: the frame is at the application's rate
		m := copy(l.appFrame, frame)
		clear(l.appFrame[m:])
		frame = l.convert(l.frame, l.appFrame)
	}
	l.sendAudio(now, frame)
}

// Backlog trimming (Options.TrimBacklog): a backlog of 1 to BacklogFrames
// frames left after BacklogTicks sends in a row loses its oldest frame.
const (
	BacklogFrames = 8
	BacklogTicks  = 25
)

// trimBacklog runs once per tick, after this tick's frame or packet was
// taken from the writer queues.
func (l *loop) trimBacklog() {
	left := l.pcmQ.n + l.rtpQ.n
	if left < 1 || left > BacklogFrames {
		l.backlogTicks = 0
		return
	}
	if l.backlogTicks++; l.backlogTicks < BacklogTicks {
		return
	}
	l.backlogTicks = 0
	if _, ok := l.rtpQ.pop(); !ok {
		l.pcmQ.pop()
	}
	l.s.ctr.droppedOut.Add(1)
}

// sendEvent sends the next packet of the current or next digit and
// reports whether it did.
func (l *loop) sendEvent(now time.Time, sends bool) bool {
	s := l.s
	if !l.dtmfOn {
		var code uint8
		select {
		case code = <-s.dtmfIn:
		default:
			return false
		}
		durTS := uint32(s.opts.DTMFDuration/time.Millisecond) * uint32(l.ci.clockRate) / 1000
		if durTS > 0xffff {
			durTS = 0xffff
		}
		// RFC 4733 §2.5.1.2: updates every packetization interval,
		// all with the event's start timestamp.
		l.dtmf.Start(code, 10, uint16(durTS), uint16(l.ci.tsPerFrame))
		l.dtmfOn = true
		l.dtmfTS, l.dtmfPT = l.ts, l.cfg.DTMFPayloadType
	}
	ev, marker, ok := l.dtmf.Next()
	if !ok || l.dtmf.Done() {
		defer s.dtmfFinished() // after the final packet went out
		l.dtmfOn = false
		l.dtmfGap = int(s.opts.DTMFGap / FrameDuration)
		l.talking = false // audio after a digit starts a new talkspurt
	}
	if !ok {
		return false
	}
	if !sends || l.remoteRTP.Port() == 0 {
		return true
	}
	p := &l.txPkt
	p.Header = rtp.Header{
		Marker:         marker,
		PayloadType:    l.dtmfPT, // an Update that changed it lets the digit end
		SequenceNumber: l.seq,
		Timestamp:      l.dtmfTS,
		SSRC:           l.ssrc,
	}
	p.Payload = ev.AppendTo(l.evPayload[:0])
	l.write(now, p)
	return true
}

func (l *loop) sendAudio(now time.Time, frame []int16) {
	n := len(l.frame)
	if len(frame) != n {
		m := copy(l.frame, frame)
		clear(l.frame[m:])
		frame = l.frame
	}
	p := &l.txPkt
	p.Header = rtp.Header{
		// RFC 3551 §4.1: the marker bit flags the first packet of a
		// talkspurt.
		Marker:         !l.talking,
		PayloadType:    l.cfg.PayloadType,
		SequenceNumber: l.seq,
		Timestamp:      l.ts,
		SSRC:           l.ssrc,
	}
	// Encode straight after the 12-byte header in the send buffer.
	const hdr = 12
	payload := l.lc.enc.encode(l.bufs().send[hdr:hdr], frame)
	p.Payload = payload
	l.talking = true
	l.write(now, p)
}

func (l *loop) sendRaw(now time.Time, u *rtp.Packet) {
	p := &l.txPkt
	pt := u.PayloadType
	if pt == 0 {
		pt = l.cfg.PayloadType
	}
	p.Header = rtp.Header{
		Marker:         u.Marker || !l.talking,
		PayloadType:    pt,
		SequenceNumber: l.seq,
		Timestamp:      l.ts,
		SSRC:           l.ssrc,
	}
	p.Payload = u.Payload
	l.talking = true
	l.write(now, p)
}

// write marshals p (its payload may already sit in place after the
// header), protects it and sends it.
func (l *loop) write(now time.Time, p *rtp.Packet) {
	s := l.s
	size := p.MarshalSize()
	sb := l.bufs().send
	if size+64 > cap(sb) {
		s.ctr.droppedOut.Add(1) // too large for one datagram with SRTP
		return
	}
	buf := sb[:size]
	if _, err := p.MarshalTo(buf); err != nil {
		return
	}
	l.seq++
	if c := l.lc.rtpSend; c != nil {
		var err error
		if buf, err = c.EncryptRTP(buf[:0], buf); err != nil {
			return
		}
	}
	if !l.sendTo(s.rtpSock, buf, l.remoteRTP, len(p.Payload)) {
		return
	}
	l.sentAny = true
	l.pktCount++
	l.octCount += uint32(len(p.Payload))
	// The media clock of this tick: an event packet carries the
	// timestamp of its event's start (RFC 4733 §2.3.1), which the
	// RTP time of our sender reports must not fall back to (RFC 3550
	// §6.4.1).
	l.lastSRTS = l.ts
	l.lastSent = now
	s.ctr.packetsSent.Add(1)
	s.ctr.bytesSent.Add(uint64(len(p.Payload)))
}

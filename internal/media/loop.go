package media

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"time"

	"github.com/xphone-go/xphone/jitter"
	"github.com/xphone-go/xphone/rtp"
	"github.com/xphone-go/xphone/srtp"
	"github.com/xphone-go/xphone/stun"
)

// loopConfig is a validated Config with its codec and SRTP state built,
// ready for the loop to swap in.
type loopConfig struct {
	cfg                Config
	ci                 codecInfo
	enc                encoder
	dec                decoder
	rtpSend, rtpRecv   *srtp.Context
	rtcpSend, rtcpRecv *srtp.Context
	oldRTCP            *sock // the RTCP socket rtcp-mux replaced, for the loop to close
}

func (lc *loopConfig) close() {
	if lc == nil {
		return
	}
	if lc.enc != nil {
		lc.enc.close()
	}
	if lc.dec != nil {
		lc.dec.close()
	}
	for _, c := range []*srtp.Context{lc.rtpSend, lc.rtpRecv, lc.rtcpSend, lc.rtcpRecv} {
		if c != nil {
			c.Close()
		}
	}
	if lc.oldRTCP != nil {
		lc.oldRTCP.Close()
		lc.oldRTCP = nil
	}
}

func (s *Session) buildConfig(cfg Config) (*loopConfig, error) {
	ci, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	lc := &loopConfig{cfg: cfg, ci: ci}
	if lc.enc, err = newEncoder(ci); err != nil {
		return nil, err
	}
	if lc.dec, err = newDecoder(ci); err != nil {
		lc.close()
		return nil, err
	}
	if cfg.SRTPSend != nil {
		// RTP and RTCP get a Context each, so that the RTCP reader and
		// the loop never share one (srtp.Context is single-goroutine).
		mk := func(c *srtp.Crypto) (*srtp.Context, error) { return c.NewContext() }
		for _, p := range []struct {
			dst **srtp.Context
			c   *srtp.Crypto
		}{{&lc.rtpSend, cfg.SRTPSend}, {&lc.rtcpSend, cfg.SRTPSend}, {&lc.rtpRecv, cfg.SRTPRecv}, {&lc.rtcpRecv, cfg.SRTPRecv}} {
			if *p.dst, err = mk(p.c); err != nil {
				lc.close()
				return nil, err
			}
		}
	}
	return lc, nil
}

// loop is the state of a running session: the receive path is driven by
// the session's reader goroutine, the 20 ms ticks by the shared scheduler,
// both under Session.loopMu.
type loop struct {
	s   *Session
	lc  *loopConfig
	cfg Config
	ci  codecInfo

	jb     *jitter.Buffer
	player *jitter.Player

	remoteRTP, remoteRTCP netip.AddrPort
	latched               bool

	// schedule: the time of the next tick on the scheduler's nominal
	// 20 ms grid (zero until the first visit), and how many ticks' send
	// halves are due.
	next time.Time
	owed int

	// receive side
	// prevRecv is the SRTP receive context a rekey replaced, kept until
	// prevUntil for the packets protected with its key that were still on
	// their way (rekeyGrace); rekeyBuf is where packets are decrypted
	// meanwhile, as a failure with one key must leave them for the other.
	prevRecv  *srtp.Context
	prevUntil time.Time
	rekeyBuf  []byte
	rx        rtp.Packet
	rstats    rtp.Stats
	haveSrc   bool
	rssrc     uint32
	skips     seqSkips // non-audio numbers of the source, for jitter numbering
	events    rtp.EventReceiver
	lastRTP   time.Time // last RTP accepted for playout or DTMF
	lastHeard time.Time // last valid RTP, whatever the direction
	timedOut  bool
	// lateBefore and concealedBefore are the Late and Concealed counts of
	// the jitter buffers a codec change replaced: Stats counts on.
	lateBefore, concealedBefore uint64
	slab                        []int16
	// With Options.PCMRate other than the codec's: frames at the channels
	// have appN samples; rs converts, decoded holds a frame at the codec's
	// rate before it is converted, appFrame a written frame padded to appN.
	appN     int
	rs       *resampler
	decoded  []int16
	appFrame []int16

	// send side
	ssrc     uint32
	seq      uint16
	ts       uint32
	talking  bool
	late     bool   // this tick's frame is still awaited (send, sendPending)
	ahead    bool   // the next tick's frame went out early (sendPending)
	lateTS   uint32 // its RTP timestamp
	standing int    // sends in a row that left a short queue (catchUp)
	quiet    int    // ticks since a writer last gave a frame or packet
	sentAny  bool   // sent RTP since the last report (RFC 3550 §6.4)
	sentPrev bool   // sent RTP in the interval before that one (we_sent, §6.3.8)
	pktCount uint32
	octCount uint32
	lastSRTS uint32
	lastSent time.Time
	silence  []int16
	frame    []int16
	pcmQ     ring[[]int16]
	rtpQ     ring[*rtp.Packet]
	// The writer channels, once the application asked for them; a
	// writer the application closed is ended for good.
	pcmIn                          <-chan []int16
	pacedIn                        <-chan []int16
	pacedBuf                       []int16 // one frame cut from paced chunks
	pacedRest                      []int16 // the part of the last paced chunk not yet sent
	rtpIn                          <-chan *rtp.Packet
	pcmEnded, pacedEnded, rtpEnded bool
	backlogTicks                   int // ticks in a row with a small backlog left (TrimBacklog)
	rawMode                        bool
	dtmf                           rtp.EventSender
	dtmfOn                         bool
	dtmfTS                         uint32
	dtmfPT                         uint8 // the payload type the current digit started with
	dtmfGap                        int
	txPkt                          rtp.Packet
	evPayload                      [rtp.TelephoneEventSize]byte

	// RTCP
	rtcpPoll *rtcpPoller // nil with rtcp-mux or where pollRTCP is false
	rtcpWait int         // ticks until the RTCP socket is read again
	nextRTCP time.Time
	rtcpOut  rtp.Compound

	// buf is the scratch buffers of the current visit: the shard's while
	// the scheduler serves the session, else own (made on first use).
	buf, own *scratch
}

// scratch is the buffers the send path and the RTCP poll work in. Nothing
// in them outlives a visit, so the scheduler lends its shard's to the
// session it serves, and a call does not keep 3.5 KB of buffers between
// visits. Outside a visit (a reader goroutine answering STUN, the BYE at
// Close, tests) a session uses its own, made on first use.
type scratch struct {
	send   []byte // one RTP packet, encoded in place
	rtcp   []byte // one outgoing RTCP compound
	rtcpIn []byte // one datagram read from the RTCP socket
	sh     *shard // the shard whose scratch it is, which batches sends; nil for a session's own
}

func newScratch() *scratch {
	return &scratch{send: make([]byte, 0, 1500), rtcp: make([]byte, 0, 512), rtcpIn: make([]byte, 1500)}
}

// bufs returns the scratch buffers to use now.
func (l *loop) bufs() *scratch {
	if l.buf == nil {
		if l.own == nil {
			l.own = newScratch()
		}
		l.buf = l.own
	}
	return l.buf
}

// ring is a FIFO of at most ChannelDepth entries. Its storage grows on
// demand, so a writer that keeps pace costs a few entries, not 256.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

func (r *ring[T]) push(v T) bool {
	if r.n == len(r.buf) {
		if r.n == ChannelDepth {
			return false
		}
		nb := make([]T, min(max(4, 2*len(r.buf)), ChannelDepth))
		for i := range r.n {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
	return true
}

func (r *ring[T]) pop() (T, bool) {
	var zero T
	if r.n == 0 {
		return zero, false
	}
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return v, true
}

func (l *loop) init(s *Session, lc *loopConfig) error {
	l.s = s
	l.ssrc = randUint32()
	l.seq = uint16(randUint32())
	l.ts = randUint32()
	l.lastRTP = time.Now()
	l.lastHeard = l.lastRTP
	l.nextRTCP = l.lastRTP.Add(s.rtcpInterval() / 2) // RFC 3550 §6.2: first report at half the interval
	if s.rtcpSock != nil && pollRTCP {
		l.rtcpPoll = newRTCPPoller(s.rtcpSock)
	}
	l.apply(lc)
	return nil
}

// apply swaps in a new configuration. The send stream keeps its SSRC,
// sequence and timestamp across changes; the receive side restarts when
// the codec changes.
func (l *loop) apply(lc *loopConfig) {
	old := l.lc
	l.lc = lc
	codecChanged := old == nil || old.ci != lc.ci || old.cfg.PayloadType != lc.cfg.PayloadType || old.cfg.RecvPayloadType != lc.cfg.RecvPayloadType
	l.cfg, l.ci = lc.cfg, lc.ci
	if lc.cfg.RTCPMux {
		l.rtcpPoll = nil
	}
	if lc.oldRTCP != nil {
		l.closeSock(lc.oldRTCP) // no longer read: the RTCP reader goroutine, if any, exits
		lc.oldRTCP = nil
	}
	// A new remote address replaces the latched one, unless there was
	// none before: then it is the late answer of a lookup of the host
	// the SDP named (ua's lookupMedia), and the peer's packets have
	// shown where it really is.
	moved := old != nil && old.cfg.RemoteRTP.IsValid() && old.cfg.RemoteRTP != lc.cfg.RemoteRTP
	if moved {
		// So is where the peer's RTCP came from (Options.Latch).
		l.s.rtcpMu.Lock()
		l.s.latchedRTCP = netip.AddrPort{}
		l.s.rtcpMu.Unlock()
	}
	switch {
	case !l.latched || old == nil || moved:
		l.remoteRTP, l.remoteRTCP, l.latched = lc.cfg.RemoteRTP, lc.cfg.remoteRTCP(), false
	case !l.remoteRTCP.IsValid():
		l.remoteRTCP = lc.cfg.remoteRTCP() // RTCP not on the RTP port: the lookup's
	}
	if codecChanged {
		l.rstats.SetClockRate(lc.ci.clockRate) // the source may keep its SSRC
		if l.jb != nil {
			js := l.jb.Stats() // the counters Stats reports go on
			l.lateBefore += js.Late
			l.concealedBefore += js.Concealed
		}
		l.jb, l.player = nil, nil // made again on first use (playback)
		oldAppN := l.appN
		n := lc.ci.samples()
		l.silence = make([]int16, n)
		l.frame = make([]int16, n)
		l.appN, l.rs, l.decoded, l.appFrame = n, nil, nil, nil
		if r := l.s.opts.PCMRate; r != 0 && r != lc.ci.sampleRate {
			l.appN = r * int(FrameDuration/time.Millisecond) / 1000
			l.rs = newResampler(min(n, l.appN))
			l.decoded = make([]int16, n)
			l.appFrame = make([]int16, l.appN)
		}
		l.pacedBuf = make([]int16, l.appN)
		if l.appN != oldAppN && len(l.pacedRest) > 0 {
			// The rest of a paced chunk at the application's old rate
			// cannot go on at the new one: counted, not lost unseen.
			l.s.ctr.droppedOut.Add(uint64((len(l.pacedRest) + oldAppN - 1) / oldAppN))
			l.pacedRest = nil
		}
		l.slab = nil
		l.talking = false
	} else {
		// Keep the running codec state; the new lc's are unused.
		lc.enc.close()
		lc.dec.close()
		lc.enc, lc.dec = old.enc, old.dec
		old.enc, old.dec = nil, nil
	}
	if old != nil && old.cfg.Direction.receives() && !lc.cfg.Direction.receives() {
		// Held or inactive: stop playing now, rather than concealing
		// the silence for a while.
		if l.jb != nil {
			l.jb.Reset()
		}
		l.lc.dec.reset()
	}
	if old != nil && old.cfg.Direction != lc.cfg.Direction {
		// Hold or resume: the timeout starts afresh.
		l.lastRTP, l.lastHeard = time.Now(), time.Now()
		l.timedOut = false
	}
	l.applySRTP(old, lc)
	if old != nil {
		old.close()
	}
	if lc.cfg.DTMFPayloadType == 0 {
		l.dropQueuedDTMF()
	}
	l.s.statsMu.Lock()
	l.s.snap.Codec = lc.ci.name
	l.s.clockRate = lc.ci.clockRate
	l.s.snap.SampleRate = lc.ci.sampleRate
	if r := l.s.opts.PCMRate; r != 0 {
		l.s.snap.SampleRate = r
	}
	l.s.statsMu.Unlock()
}

// dropQueuedDTMF gives up the digits still queued once telephone-event is
// no longer negotiated (an Update dropped it): they count as done for
// SendDTMFWait, which would wait for them for ever, and as dropped
// outbound. A digit under way ends under the payload type it began with.
func (l *loop) dropQueuedDTMF() {
	s := l.s
	for {
		select {
		case <-s.dtmfIn:
			s.ctr.droppedOut.Add(1)
			s.dtmfFinished()
		default:
			return
		}
	}
}

// applySRTP carries the SRTP state over a change from old (nil at Start)
// to lc. A key that stays keeps its contexts, taken into lc: packet
// indexes go on, so no keystream is used twice (RFC 3711 §9.1), and replay
// windows stay. A new key gets the new contexts with the stream's rollover
// counter (RFC 3711 §3.3.1); the peer's replaced key is kept a while
// (rekeyGrace) for its packets still on their way. The SRTCP receive
// context moves to the session.
func (l *loop) applySRTP(old, lc *loopConfig) {
	keepSend := old != nil && old.rtpSend != nil && lc.rtpSend != nil && sameKeys(old.cfg.SRTPSend, lc.cfg.SRTPSend)
	keepRecv := old != nil && old.rtpRecv != nil && lc.rtpRecv != nil && sameKeys(old.cfg.SRTPRecv, lc.cfg.SRTPRecv)
	rekeyed := old != nil && old.rtpRecv != nil && lc.rtpRecv != nil && !keepRecv
	switch {
	case keepSend:
		lc.rtpSend, old.rtpSend = old.rtpSend, lc.rtpSend
		lc.rtcpSend, old.rtcpSend = old.rtcpSend, lc.rtcpSend
	case old != nil && old.rtpSend != nil && lc.rtpSend != nil:
		carryIndex(old.rtpSend, lc.rtpSend, l.ssrc)
	}
	switch {
	case keepRecv:
		lc.rtpRecv, old.rtpRecv = old.rtpRecv, lc.rtpRecv
		lc.rtcpRecv.Close() // the session's stays
	case rekeyed:
		if l.haveSrc {
			carryIndex(old.rtpRecv, lc.rtpRecv, l.rssrc)
		}
		until := time.Now().Add(rekeyGrace)
		l.s.setRTCPRecv(lc.rtcpRecv, until)
		l.dropPrevRecv()
		l.prevRecv, l.prevUntil = old.rtpRecv, until
		old.rtpRecv = nil // not closed with the rest
	default:
		l.s.setRTCPRecv(lc.rtcpRecv, time.Time{})
	}
	lc.rtcpRecv = nil // the session's now, or closed
}

// carryIndex starts the stream ssrc of to, a new key's context, where it
// stands in from, the replaced key's: at its highest packet index, or at
// the rollover counter from was given before any packet.
func carryIndex(from, to *srtp.Context, ssrc uint32) {
	if idx, ok := from.Index(ssrc); ok {
		to.SetIndex(ssrc, idx)
	} else if roc, ok := from.ROC(ssrc); ok {
		to.SetROC(ssrc, roc)
	}
}

// setRTCPRecv makes c the SRTCP receive context. The one it replaces is
// kept until keepUntil when that is set (a rekey), else closed.
func (s *Session) setRTCPRecv(c *srtp.Context, keepUntil time.Time) {
	s.rtcpMu.Lock()
	old := s.rtcpRecv
	s.rtcpRecv = c
	var drop *srtp.Context
	if !keepUntil.IsZero() && old != nil && old != c {
		drop, s.rtcpPrev, s.rtcpPrevUntil = s.rtcpPrev, old, keepUntil
		old = nil
	}
	s.rtcpMu.Unlock()
	for _, x := range []*srtp.Context{old, drop} {
		if x != nil && x != c {
			x.Close()
		}
	}
}

// tick runs a whole 20 ms tick: both halves, as the scheduler runs them
// half a frame apart.
func (l *loop) tick(now time.Time) {
	l.tickReceive(now)
	l.tickSend(now)
}

// applyPending applies the configuration of a pending Update, if any.
// Both halves of a tick and a frame sent between them call it first, so
// that a direction change (hold) stops sending at once rather than at the
// next receive half.
func (l *loop) applyPending() {
	s := l.s
	if !s.hasPending.Load() {
		return
	}
	s.mu.Lock()
	lc := s.pending
	s.pending = nil
	s.hasPending.Store(false)
	s.mu.Unlock()
	if lc != nil {
		l.apply(lc)
	}
}

// tickReceive is the receive half of a tick: a pending Update, the RTCP
// socket, one frame played out, the media timeout and the statistics.
func (l *loop) tickReceive(now time.Time) {
	s := l.s
	l.applyPending()
	// RTCP arrives every few seconds and carries its kernel receive time,
	// so the socket is read a few times per report interval (at most every
	// 0.5 s) rather than every tick: one empty read per call per 20 ms was
	// a tenth of the CPU of a loaded answering process.
	l.rtcpWait--
	if l.rtcpPoll != nil && l.rtcpWait <= 0 {
		l.rtcpWait = min(max(int(s.rtcpInterval()/(4*FrameDuration)), 1), 25)
		for {
			b, from, at, ok := l.rtcpPoll.next(l.bufs().rtcpIn)
			if !ok {
				break
			}
			s.receiveRTCP(b, from, at)
		}
	}
	l.playout(now)
	l.checkTimeout(now)
	l.snapshot()
}

// tickSend is the send half of a tick: one frame, DTMF or raw packet (or
// nothing), and an RTCP report when one is due.
func (l *loop) tickSend(now time.Time) {
	l.send(now)
	if !now.Before(l.nextRTCP) {
		l.sendReport(now, false)
		l.nextRTCP = now.Add(l.s.rtcpInterval())
	}
}

// checkTimeout fires OnMediaTimeout once per silence of the peer:
// MediaTimeout without RTP while receiving, HoldTimeout without RTP or
// RTCP while not.
func (l *loop) checkTimeout(now time.Time) {
	s := l.s
	limit, since := s.opts.MediaTimeout, l.lastRTP
	if !l.cfg.Direction.receives() {
		limit, since = s.opts.HoldTimeout, l.lastHeard
		if limit <= 0 {
			return
		}
		s.rtcpMu.Lock()
		if s.remote.lastRTCP.After(since) {
			since = s.remote.lastRTCP
		}
		s.rtcpMu.Unlock()
	}
	if limit < 0 {
		return
	}
	if now.Sub(since) < limit {
		l.timedOut = false // heard from the peer again
		return
	}
	if l.timedOut {
		return
	}
	l.timedOut = true
	s.log.Debug("media: timeout", "after", limit)
	if f := s.opts.OnMediaTimeout; f != nil {
		f()
	}
}

// receive handles one datagram from the RTP socket. A pending Update
// applies first: after a rekey the peer's first packets under its new key
// can come before the next tick.
func (l *loop) receive(buf []byte, from netip.AddrPort, now time.Time) {
	l.applyPending()
	switch stun.Classify(buf) {
	case stun.KindRTP:
		l.receiveRTP(buf, from, now)
	case stun.KindRTCP:
		l.s.receiveRTCP(buf, from, now)
	case stun.KindSTUN:
		l.answerSTUN(buf, from)
	default:
		l.s.ctr.discarded.Add(1) // RFC 7983 §7: drop what we do not speak
	}
}

// answerSTUN answers a plain Binding request (an RTP keepalive or a peer
// learning its reflexive address) with the source address, and ignores
// anything else, ICE connectivity checks included.
func (l *loop) answerSTUN(buf []byte, from netip.AddrPort) {
	var m stun.Message
	if m.Decode(buf) != nil || m.Type != stun.BindingRequest {
		return
	}
	if _, ok := m.Get(stun.AttrUsername); ok {
		return // needs ICE credentials we do not have
	}
	var b stun.Builder
	b.Reset(l.bufs().send[:0], stun.BindingSuccess, m.TransactionID)
	b.AddXORMappedAddress(from)
	b.AddFingerprint()
	if out, err := b.Build(); err == nil {
		l.sendTo(l.s.rtpSock, out, from, -1)
	}
}

// sendTo sends b from c to dst: queued on the shard serving the session,
// to go out with the rest of its pass (package udpsock's Ring), or at
// once. payload is the octets of an RTP packet's payload, or -1. It
// reports whether b was sent or queued.
func (l *loop) sendTo(c *sock, b []byte, dst netip.AddrPort, payload int) bool {
	if sh := l.bufs().sh; sh != nil && sh.queueSend(c, b, dst, l.s, payload) {
		return true
	}
	return c.WriteTo(b, dst) == nil
}

// closeSock closes c once nothing the shard queued uses it.
func (l *loop) closeSock(c *sock) {
	if sh := l.bufs().sh; sh == nil || !sh.queueClose(c) {
		c.Close()
	}
}

func (l *loop) receiveRTP(buf []byte, from netip.AddrPort, now time.Time) {
	s := l.s
	if c := l.lc.rtpRecv; c != nil {
		var err error
		if l.prevRecv != nil {
			buf, err = l.decryptRekeyed(buf, now)
		} else {
			buf, err = c.DecryptRTP(buf[:0], buf)
		}
		if err != nil {
			s.ctr.authFailed.Add(1)
			return
		}
	}
	p := &l.rx
	if p.Unmarshal(buf) != nil {
		s.ctr.discarded.Add(1)
		return
	}
	pt := p.PayloadType
	// The peer sends with our numbers (RFC 3264 §5.1); some send with
	// their own, taken too where they do not mean something else to us.
	c := &l.cfg
	isEvent := c.DTMFPayloadType != 0 && (pt == c.DTMFRecvPayloadType || pt == c.DTMFPayloadType && pt != c.RecvPayloadType)
	if !isEvent && pt != c.RecvPayloadType && (pt != c.PayloadType || c.DTMFPayloadType != 0 && pt == c.DTMFRecvPayloadType) {
		// Comfort noise (13), a payload type we did not negotiate, or a
		// stray of a previous codec: not ours to play.
		s.ctr.discarded.Add(1)
		if pt != 13 {
			return
		}
	}
	l.lastHeard = now
	if !l.cfg.Direction.receives() {
		s.ctr.discarded.Add(1)
		return
	}
	if s.opts.Latch && from != l.remoteRTP {
		// Symmetric RTP: the packet decoded (and authenticated), so
		// the peer really sends from here.
		l.remoteRTP, l.latched = from, true
		if l.cfg.RTCPMux {
			l.remoteRTCP = from
		}
	}
	if !l.haveSrc || p.SSRC != l.rssrc {
		l.haveSrc, l.rssrc = true, p.SSRC
		l.skips.reset()
		l.rstats = rtp.Stats{SSRC: p.SSRC, ClockRate: l.ci.clockRate}
		l.events.Reset()
	}
	l.rstats.Update(p.SequenceNumber, p.Timestamp, now)
	s.ctr.packetsReceived.Add(1)
	s.ctr.bytesReceived.Add(uint64(len(p.Payload)))
	l.lastRTP = now
	if isEvent || pt == 13 {
		// Keep the audio's sequence numbers contiguous for the jitter
		// buffer, so a digit does not count as lost audio.
		l.skips.skip(p.SequenceNumber)
		if isEvent {
			l.receiveEvent(p)
		}
		return
	}
	if ch := s.rtpRawOut.load(); ch != nil {
		offerOldest(ch, p.Clone(), &s.ctr.droppedIn)
		if s.rawOnly() {
			return
		}
	}
	l.playback()
	l.jb.Push(jitter.Packet{
		SSRC:        p.SSRC,
		Seq:         l.skips.audio(p.SequenceNumber),
		Timestamp:   p.Timestamp,
		Marker:      p.Marker,
		PayloadType: pt,
		Payload:     p.Payload,
	}, l.playable(now))
}

// rekeyGrace is how long after a rekey packets protected with the peer's
// replaced key are still taken: those it sent before it had our answer,
// or before it switched keys, and those still queued on the way, which a
// round trip or two bounds.
const rekeyGrace = 2 * time.Second

// decryptRekeyed decrypts the SRTP packet buf while the receive key a
// rekey replaced is kept: with the new key, else, when the packet fails
// authentication with it (a forgery or the old key; not a replay), with
// the old one. Past rekeyGrace the old key is dropped.
func (l *loop) decryptRekeyed(buf []byte, now time.Time) ([]byte, error) {
	if !now.Before(l.prevUntil) {
		l.dropPrevRecv()
		return l.lc.rtpRecv.DecryptRTP(buf[:0], buf)
	}
	if l.rekeyBuf == nil {
		l.rekeyBuf = make([]byte, 0, max(len(buf), 1500))
	}
	out, err := l.lc.rtpRecv.DecryptRTP(l.rekeyBuf[:0], buf)
	if errors.Is(err, srtp.ErrAuthFailed) {
		out, err = l.prevRecv.DecryptRTP(l.rekeyBuf[:0], buf)
	}
	return out, err
}

// dropPrevRecv closes the receive context a rekey replaced, if kept.
func (l *loop) dropPrevRecv() {
	if l.prevRecv != nil {
		l.prevRecv.Close()
	}
	l.prevRecv, l.rekeyBuf = nil, nil
}

// sameKeys reports whether a and b, both non-nil, are the same suite with
// the same master keys and salts and session parameters.
func sameKeys(a, b *srtp.Crypto) bool {
	if a == nil || b == nil || a.Suite != b.Suite || len(a.Keys) != len(b.Keys) || !slices.Equal(a.SessionParams, b.SessionParams) {
		return false
	}
	for i := range a.Keys {
		if !bytes.Equal(a.Keys[i].KeySalt, b.Keys[i].KeySalt) {
			return false
		}
	}
	return true
}

// playable returns when a packet read at now can first be played: at the
// session's next receive half, where the scheduler reads sockets more
// often than it plays (pollRTP). The jitter buffer is given that time, not
// the read time, so that the wait for the playout tick counts as transit
// jitter; given read times 5 ms apart against 20 ms playout ticks, it
// sized its delay too short and played 5% of the packets of a 30 ± 30 ms
// link late (TestFaultMediaImpairedLink; about 0.5% this way, as when
// sockets were read only at the receive half).
func (l *loop) playable(now time.Time) time.Time {
	if l.next.After(now) {
		return l.next
	}
	return now
}

// receiveEvent reports each key press once (RFC 4733 §2.5.2).
func (l *loop) receiveEvent(p *rtp.Packet) {
	ev, isNew, err := l.events.Push(p.Timestamp, p.Payload)
	if err != nil || !isNew {
		return
	}
	r, ok := rtp.DTMFRune(ev.Event)
	if !ok {
		return
	}
	l.s.ctr.dtmfReceived.Add(1)
	if f := l.s.opts.OnDTMF; f != nil {
		f(r)
	}
}

// decodeFrame is the jitter.Player's DecodeFunc: it feeds the post-jitter
// tap and decodes.
func (l *loop) decodeFrame(dst []int16, f *jitter.Frame) []int16 {
	if f.Resync {
		l.lc.dec.reset()
	}
	if ch := l.s.rtpOut.load(); ch != nil {
		p := &rtp.Packet{
			Header: rtp.Header{
				Marker:         f.Marker,
				PayloadType:    f.PayloadType,
				SequenceNumber: f.Seq,
				Timestamp:      f.Timestamp,
				SSRC:           f.SSRC,
			},
			Payload: append([]byte(nil), f.Payload...),
		}
		offerOldest(ch, p, &l.s.ctr.droppedIn)
	}
	return l.lc.dec.decode(dst, f.Payload)
}

// slabFrames is how many received frames share one allocation. A slab
// lives as long as any of its frames (the application keeps them), so a
// small one holds less memory per call: 4 frames are 1.3 KB at 8 kHz.
const slabFrames = 4

// playout produces this tick's received frame.
func (l *loop) playout(now time.Time) {
	if l.s.rawOnly() {
		return
	}
	n := l.appN
	if len(l.slab) < n {
		l.slab = make([]int16, n*slabFrames)
	}
	dst := l.slab[:0:n]
	if l.rs != nil {
		dst = l.decoded[:0]
	}
	out, st := l.playback().Next(dst, now)
	if st == jitter.Silence {
		return
	}
	// The reader channel is made here, not before: a session whose
	// application reads raw packets only never plays out and never pays
	// for it, while audio that comes before the application asks for
	// PCMReader waits in it.
	ch := getChan(l.s, &l.s.pcmOut, true)
	if l.rs != nil {
		out = l.convert(l.slab[:n], out)
	}
	l.slab = l.slab[n:]
	offerOldest(ch, out, &l.s.ctr.droppedIn)
}

// playback returns the jitter buffer's player, making it and the buffer
// for the current codec first: a session whose application reads raw
// packets only (rawOnly) never needs them, nor the decoder's concealer.
func (l *loop) playback() *jitter.Player {
	if l.player != nil {
		return l.player
	}
	jc := l.s.opts.Jitter
	jc.ClockRate = l.ci.clockRate
	jc.FrameDuration = FrameDuration
	if jc.Capacity == 0 {
		// MaxDelay of packets and 120 ms more for a burst, rounded up to
		// a power of two by the jitter package: 16 packets (320 ms) with
		// the default 200 ms, a quarter of the jitter package's default
		// and of its memory. Packets beyond it would wait longer than
		// MaxDelay.
		maxDelay := jc.MaxDelay
		if maxDelay <= 0 {
			maxDelay = jitter.DefaultMaxDelay
		}
		jc.Capacity = int(maxDelay/FrameDuration) + 6
	}
	l.jb = jitter.New(jc)
	l.player = jitter.NewPlayer(l.jb, l.ci.samples(), l.decodeFrame, l.lc.dec.concealer())
	return l.player
}

// convert resamples frame into dst (Options.PCMRate): dst and frame are
// one frame at the two rates.
func (l *loop) convert(dst, frame []int16) []int16 {
	if len(dst) < len(frame) {
		l.rs.downsample(dst, frame)
	} else {
		l.rs.upsample(dst, frame)
	}
	return dst
}

// offerOldest sends v on ch, dropping the oldest queued value when ch is
// full (the inbound overflow rule). Only the loop sends on ch.
func offerOldest[T any](ch chan T, v T, dropped interface{ Add(uint64) uint64 }) {
	select {
	case ch <- v:
		return
	default:
	}
	select {
	case <-ch:
		dropped.Add(1)
	default:
	}
	select {
	case ch <- v:
	default:
		dropped.Add(1)
	}
}

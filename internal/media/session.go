package media

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xphone-go/xphone/rtp"
	"github.com/xphone-go/xphone/srtp"
)

// Session is the media of one call: an RTP/RTCP socket pair (or one socket
// with rtcp-mux), the codec, jitter buffer, loss concealment, DTMF, RTCP
// and the channels the application reads and writes.
//
// A started Session runs no goroutine of its own on Linux (amd64, arm64):
// its 20 ms work (reading the RTP socket without blocking, playout,
// sending, RTCP, timeouts) is done by a scheduler shared by every session
// of the process, GOMAXPROCS goroutines that exist only while sessions
// run. Elsewhere a session runs one reader goroutine that blocks on the
// RTP socket, and, without rtcp-mux, a second one that reads RTCP.
//
// All methods are safe for concurrent use. None blocks for long: Close
// waits for a visit of the scheduler in progress, sends the RTCP BYE and
// waits for the session's goroutines, which exit at once.
type Session struct {
	opts    Options
	log     *slog.Logger
	rtpSock *sock
	// rtcpSock is nil with rtcp-mux; the loop polls it (pollRTCP) or a
	// goroutine reads it.
	rtcpSock *sock
	cname    string

	// Application channels, made when first asked for. Readers are
	// closed exactly once by the session; writers are never closed by it
	// (see PCMWriter).
	pcmOut    lazyChan[[]int16]
	rtpOut    lazyChan[*rtp.Packet]
	rtpRawOut lazyChan[*rtp.Packet]
	pcmIn     lazyChan[[]int16]
	pacedIn   lazyChan[[]int16]
	rtpIn     lazyChan[*rtp.Packet]
	dtmfIn    chan uint8
	done      chan struct{}

	// Digits queued on dtmfIn so far and digits finished (sent, or
	// consumed while not sending); dtmfWake is closed and replaced each
	// time one finishes. dtmfMu orders queueing with dtmfQueued.
	dtmfMu     sync.Mutex
	dtmfQueued uint64
	dtmfSent   atomic.Uint64
	dtmfWake   atomic.Pointer[chan struct{}]

	muted      atomic.Bool
	hasPending atomic.Bool
	pcmAsked   atomic.Bool // PCMReader was called

	// The scheduler's shard and phase; set by Start (sched.add).
	shard *shard
	phase int
	// polled: the shard's poller watches the RTP socket (pollRTP); set
	// before the shard first visits the session.
	polled bool

	mu        sync.Mutex // guards the fields below
	started   bool
	closed    bool
	cfg       Config // the config most recently given
	pending   *loopConfig
	closeOnce sync.Once
	ended     bool // reader channels closed
	wg        sync.WaitGroup

	// rtcpMu guards the inbound RTCP state, touched by the RTCP reader
	// (or the loop with rtcp-mux) and by Stats.
	rtcpMu   sync.Mutex
	rtcpRecv *srtp.Context
	// rtcpPrev is the SRTCP receive context a rekey replaced, kept until
	// rtcpPrevUntil as loop.prevRecv is for SRTP.
	rtcpPrev      *srtp.Context
	rtcpPrevUntil time.Time
	rtcpIn        rtp.Compound
	rtcpBuf       []byte
	remote        remoteView
	// latchedRTCP is where the peer's RTCP comes from, when latching.
	latchedRTCP netip.AddrPort

	statsMu   sync.Mutex
	snap      Stats
	clockRate int // RTP clock rate of our stream, for RemoteJitter; guarded by statsMu

	ctr counters

	// loopMu guards l and stopped: the reader goroutine holds it for one
	// datagram, the scheduler for one half-tick.
	loopMu  sync.Mutex
	stopped bool
	l       loop
}

// remoteView is what the peer's RTCP tells us.
type remoteView struct {
	rtt          time.Duration
	fractionLost uint8
	lost         int64
	jitter       uint32 // in RTP timestamp units of our stream
	srNTP        uint64
	srArrival    time.Time
	srPending    bool
	lastRTCP     time.Time // arrival of the last valid RTCP
}

// counters are updated by the loop and read by Stats.
type counters struct {
	packetsSent, bytesSent         atomic.Uint64
	packetsReceived, bytesReceived atomic.Uint64
	droppedIn, droppedOut          atomic.Uint64
	discarded, authFailed          atomic.Uint64
	dtmfReceived                   atomic.Uint64
}

// New binds the session's sockets from the configured port range and
// returns a Session that is not running yet: give the local address to
// SDP (LocalRTP, LocalRTCP), then call Start with the negotiated Config.
// It returns an error wrapping ErrNoRTPPort when the range is exhausted.
func New(opts Options) (*Session, error) {
	opts.defaults()
	if opts.PCMRate != 0 && opts.PCMRate != 8000 && opts.PCMRate != 16000 {
		return nil, fmt.Errorf("media: PCMRate %d, want 0, 8000 or 16000", opts.PCMRate)
	}
	if opts.PortMin < 1 || opts.PortMax > 65535 || opts.PortMin > opts.PortMax {
		return nil, fmt.Errorf("media: bad port range %d-%d", opts.PortMin, opts.PortMax)
	}
	rtpSock, rtcpSock, err := allocate(opts.Address, opts.PortMin, opts.PortMax, opts.MuxOnly)
	if err != nil {
		return nil, err
	}
	s := &Session{
		opts:     opts,
		log:      opts.Logger,
		rtpSock:  rtpSock,
		rtcpSock: rtcpSock,
		cname:    opts.CNAME,
		dtmfIn:   make(chan uint8, 64),
		done:     make(chan struct{}),
	}
	wake := make(chan struct{})
	s.dtmfWake.Store(&wake)
	if s.cname == "" {
		var b [12]byte
		rand.Read(b[:])
		s.cname = hex.EncodeToString(b[:]) // RFC 7022 §4.2: random CNAME
	}
	return s, nil
}

// allocate binds an even RTP port and the next odd one for RTCP (RFC 3550
// §11), or one port when mux, starting at a random place in the range so
// that concurrent sessions rarely race for the same pair.
func allocate(addr netip.Addr, lo, hi int, mux bool) (*sock, *sock, error) {
	first := lo + lo%2 // the first even port
	if first > hi || (!mux && first+1 > hi) {
		return nil, nil, fmt.Errorf("%w %d-%d", ErrNoRTPPort, lo, hi)
	}
	last := hi
	if !mux {
		last = hi - 1
	}
	pairs := (last-first)/2 + 1
	start := 0
	if n, err := rand.Int(rand.Reader, big.NewInt(int64(pairs))); err == nil {
		start = int(n.Int64())
	}
	for i := range pairs {
		port := first + 2*((start+i)%pairs)
		a, err := listenSock(netip.AddrPortFrom(addr, uint16(port)))
		if err != nil {
			continue
		}
		if mux {
			return a, nil, nil
		}
		b, err := listenSock(netip.AddrPortFrom(addr, uint16(port+1)))
		if err != nil {
			a.Close()
			continue
		}
		return a, b, nil
	}
	return nil, nil, fmt.Errorf("%w %d-%d", ErrNoRTPPort, lo, hi)
}

// LocalRTP returns the address the RTP socket is bound to, for the SDP
// m= line and c= line.
func (s *Session) LocalRTP() netip.AddrPort {
	return s.rtpSock.LocalAddr()
}

// LocalRTCP returns the address of the RTCP socket: the RTP address with
// rtcp-mux (Options.MuxOnly, or after Start with Config.RTCPMux).
func (s *Session) LocalRTCP() netip.AddrPort {
	s.mu.Lock()
	c := s.rtcpSock
	s.mu.Unlock()
	if c == nil {
		return s.LocalRTP()
	}
	return c.LocalAddr()
}

// Start applies the negotiated cfg and puts the session on the shared
// scheduler (and, where the scheduler does not read sockets, starts its
// reader goroutine).
// A Config with RTCPMux releases the RTCP socket of a pair.
func (s *Session) Start(cfg Config) error {
	lc, err := s.buildConfig(cfg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		lc.close()
		return ErrClosed
	}
	if s.started {
		lc.close()
		return errors.New("media: session already started")
	}
	if cfg.RTCPMux && s.rtcpSock != nil {
		s.rtcpSock.Close()
		s.rtcpSock = nil
	}
	if !cfg.RTCPMux && s.rtcpSock == nil {
		lc.close()
		return errors.New("media: session bound for rtcp-mux only")
	}
	s.started = true
	s.cfg = cfg
	if err := s.l.init(s, lc); err != nil {
		lc.close()
		return err
	}
	s.startReaders()
	sched.add(s)
	return nil
}

// Update applies a changed configuration from a re-INVITE or UPDATE: a new
// remote address, codec, direction (hold and resume) or SRTP keys (rekey).
// It takes effect at the session's next visit by its scheduler, before
// anything more is sent or played. rtcp-mux cannot be turned off
// once on (RFC 5761 §5.1.3).
func (s *Session) Update(cfg Config) error {
	lc, err := s.buildConfig(cfg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		lc.close()
		return ErrClosed
	}
	if !s.started {
		lc.close()
		return errors.New("media: session not started")
	}
	if s.cfg.RTCPMux && !cfg.RTCPMux {
		lc.close()
		return errors.New("media: rtcp-mux cannot be turned off")
	}
	if cfg.RTCPMux && !s.cfg.RTCPMux {
		// The loop, which may be reading it, closes the RTCP socket when
		// it applies lc; until then reports go out on the RTP socket.
		lc.oldRTCP = s.rtcpSock
		s.rtcpSock = nil
	}
	s.cfg = cfg
	if s.pending != nil {
		if lc.oldRTCP == nil {
			lc.oldRTCP, s.pending.oldRTCP = s.pending.oldRTCP, nil
		}
		s.pending.close()
	}
	s.pending = lc
	s.hasPending.Store(true)
	return nil
}

// Config returns the configuration most recently given to Start or Update.
func (s *Session) Config() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Close sends an RTCP BYE (when started), takes the session off the
// scheduler, closes the sockets and the reader channels, and waits for the
// session's goroutines. It is idempotent and returns nil. It must not be
// called from OnDTMF or OnMediaTimeout.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		s.wg.Wait()
		return nil
	}
	s.closed = true
	started := s.started
	s.mu.Unlock()
	if started && s.shard != nil {
		s.shard.remove(s)
		s.loopMu.Lock() // waits for a visit of the scheduler or a datagram in progress
		s.stopped = true
		s.l.sendReport(time.Now(), true) // RFC 3550 §6.6: BYE when leaving
		s.loopMu.Unlock()
		s.shard.barrier() // the shard may have queued sends on our sockets
		s.l.lc.close()
		s.l.dropPrevRecv()
	}
	s.shutdown()
	s.wg.Wait()
	return nil
}

// shutdown releases everything; it runs once, in Close.
func (s *Session) shutdown() {
	s.closeOnce.Do(func() {
		s.rtpSock.Close()
		s.mu.Lock()
		if s.rtcpSock != nil {
			s.rtcpSock.Close()
		}
		if s.pending != nil {
			s.pending.close()
			s.pending = nil
		}
		s.ended = true
		s.pcmOut.close()
		s.rtpOut.close()
		s.rtpRawOut.close()
		s.mu.Unlock()
		s.rtcpMu.Lock()
		for _, c := range []**srtp.Context{&s.rtcpRecv, &s.rtcpPrev} {
			if *c != nil {
				(*c).Close()
				*c = nil
			}
		}
		s.rtcpMu.Unlock()
		close(s.done)
	})
}

// Done returns a channel closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// PCMReader returns the channel of received audio: mono 20 ms frames at
// SampleRate (160 samples at 8 kHz, 320 for G.722 and Opus), one per 20 ms
// while the peer sends audio (decoded, or concealed across losses), none
// while it sends nothing. It holds ChannelDepth frames; when the
// application falls behind the oldest frame is dropped and counted in
// Stats.DroppedInbound. Each frame is the application's to keep. The
// channel is closed exactly once, when the session ends.
func (s *Session) PCMReader() <-chan []int16 {
	s.pcmAsked.Store(true)
	return getChan(s, &s.pcmOut, true)
}

// rawOnly reports whether the application reads received audio only as
// raw packets: it took RTPRawReader and neither PCMReader nor RTPReader.
// The session then skips the jitter buffer and decoding.
func (s *Session) rawOnly() bool {
	return !s.pcmAsked.Load() && s.rtpOut.load() == nil && s.rtpRawOut.load() != nil
}

// RTPReader returns the channel of received audio RTP packets after the
// jitter buffer (in order, de-duplicated, before decoding). It is fed only
// after the first call. Each packet is the application's. Overflow drops
// the oldest; the channel is closed exactly once when the session ends.
func (s *Session) RTPReader() <-chan *rtp.Packet {
	return getChan(s, &s.rtpOut, true)
}

// RTPRawReader returns the channel of received audio RTP packets as they
// arrive, before the jitter buffer (telephone-events excluded). It is fed
// only after the first call; otherwise as RTPReader. An application that
// takes it and neither PCMReader nor RTPReader reads raw packets only: the
// session then stops feeding the jitter buffer and decoding (a raw echo or
// relay costs no codec work), until one of those is asked for.
func (s *Session) RTPRawReader() <-chan *rtp.Packet {
	return getChan(s, &s.rtpRawOut, true)
}

// PCMWriter returns the channel for audio to send: 20 ms mono frames at
// SampleRate (shorter frames are padded with silence, longer ones cut).
// A frame goes out at the scheduler's next quantum (5 ms) after it comes,
// as long as the stream stays at most one frame ahead of the session's
// 20 ms clock; up to ChannelDepth frames wait, and frames beyond are
// dropped (the newest) and counted in Stats.DroppedOutbound. When nothing is written, nothing is sent (the
// next frame carries the RTP marker bit, RFC 3551 §4.1). A written frame
// belongs to the session: do not modify it afterwards.
//
// The session never closes this channel. Closing it ends this writer
// without affecting the call. After the session ends the channel is no
// longer read: select on Done when a send could block.
func (s *Session) PCMWriter() chan<- []int16 { return getChan(s, &s.pcmIn, false) }

// PacedPCMWriter returns a channel for audio produced faster than real
// time (a file, a TTS engine): each send may carry any number of samples,
// and the session sends them out one 20 ms frame per tick, joining the end
// of one chunk to the start of the next; a full channel (ChannelDepth
// chunks) blocks the writer rather than dropping. Frames waiting in PCMWriter's queue go first. Closing and
// ownership are as for PCMWriter.
func (s *Session) PacedPCMWriter() chan<- []int16 { return getChan(s, &s.pacedIn, false) }

// RTPWriter returns the channel for raw mode: the application supplies
// encoded payloads. Once a packet has been written here, PCMWriter and
// PacedPCMWriter frames are discarded for the rest of the session.
// Packets are sent as PCMWriter's frames are; each keeps its payload,
// payload type (0 means the codec's) and marker bit, while SSRC, sequence number and
// timestamp are the session's so that the stream stays continuous with
// DTMF. Queueing, closing and ownership are as for PCMWriter.
func (s *Session) RTPWriter() chan<- *rtp.Packet { return getChan(s, &s.rtpIn, false) }

// lazyChan is a channel made on first use, so that a session does not pay
// for the ChannelDepth buffers of channels its application never uses.
type lazyChan[T any] struct{ p atomic.Pointer[chan T] }

// load returns the channel, or nil when nobody asked for it yet.
func (c *lazyChan[T]) load() chan T {
	if p := c.p.Load(); p != nil {
		return *p
	}
	return nil
}

// close closes a reader channel that exists; s.mu is held.
func (c *lazyChan[T]) close() {
	if ch := c.load(); ch != nil {
		close(ch)
	}
}

// getChan returns c's channel, making it first. A reader channel asked for
// after the session ended is returned closed.
func getChan[T any](s *Session, c *lazyChan[T], reader bool) chan T {
	if ch := c.load(); ch != nil {
		return ch
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := c.load(); ch != nil {
		return ch
	}
	ch := make(chan T, ChannelDepth)
	if reader && s.ended {
		close(ch)
	}
	c.p.Store(&ch)
	return ch
}

// SampleRate returns the PCM rate of the current codec's frames, or 0
// before Start.
func (s *Session) SampleRate() int {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.snap.SampleRate
}

// RestartTimeout starts the media timeout (Options.MediaTimeout) afresh
// from now, as if RTP had just come: for a call answered after early media
// during which the peer sent nothing, or whose timeout fired then and was
// not acted on.
func (s *Session) RestartTimeout() {
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	now := time.Now()
	s.l.lastRTP, s.l.lastHeard, s.l.timedOut = now, now, false
}

// ClearOutput drops the audio written for sending that has not gone out:
// the frames waiting from PCMWriter, the rest of what PacedPCMWriter was
// given, and the packets waiting from RTPWriter. What is written next
// goes out at once: a voice agent stops talking when the caller talks
// over it. A frame being sent as ClearOutput runs may still go out. It
// returns how much audio was dropped: 20 ms per frame or packet, and
// paced samples at the session's PCM rate (before Start, at
// Options.PCMRate, else 8 kHz). Like Close, it must not be called from
// OnDTMF or OnMediaTimeout, which run with the session locked.
func (s *Session) ClearOutput() time.Duration {
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	return s.l.clearOutput(s)
}

// SetMute mutes or unmutes outbound audio: while muted, frames the
// application writes are discarded and Options.MuteMode says what is
// sent instead. Inbound audio is unaffected.
func (s *Session) SetMute(on bool) { s.muted.Store(on) }

// Muted reports whether outbound audio is muted.
func (s *Session) Muted() bool { return s.muted.Load() }

// SendDTMF queues digits ('0'–'9', '*', '#', 'A'–'D') to send as RFC 4733
// telephone-events, each Options.DTMFDuration long followed by
// Options.DTMFGap. It does not block; it fails when telephone-event was
// not negotiated, a digit is invalid, or 64 digits are already waiting.
// SendDTMFWait also waits for them to be sent.
func (s *Session) SendDTMF(digits string) error {
	_, err := s.queueDTMF(digits)
	return err
}

// SendDTMFWait queues digits as SendDTMF does and blocks until the last of
// them has been sent (its final end packet, RFC 4733 §2.5.1.4), ctx ends
// (ctx.Err()) or the session closes (ErrClosed). Digits already sent stay
// sent; those still queued when ctx ends are sent anyway. Digits still
// queued when an Update drops telephone-event are given up and count as
// done (and in Stats.DroppedOutbound).
func (s *Session) SendDTMFWait(ctx context.Context, digits string) error {
	target, err := s.queueDTMF(digits)
	if err != nil {
		return err
	}
	for {
		wake := *s.dtmfWake.Load()
		if s.dtmfSent.Load() >= target {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return ErrClosed
		}
	}
}

// queueDTMF puts digits on the queue and returns the count of digits ever
// queued once they are in.
func (s *Session) queueDTMF(digits string) (uint64, error) {
	s.mu.Lock()
	pt, closed := s.cfg.DTMFPayloadType, s.closed
	s.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	if pt == 0 {
		return 0, errors.New("media: telephone-event not negotiated")
	}
	codes := make([]uint8, 0, len(digits))
	for _, r := range digits {
		c, ok := rtp.DTMFEvent(r)
		if !ok {
			return 0, fmt.Errorf("media: %q is not a DTMF digit", r)
		}
		codes = append(codes, c)
	}
	s.dtmfMu.Lock()
	defer s.dtmfMu.Unlock()
	if len(codes) > cap(s.dtmfIn)-len(s.dtmfIn) {
		return 0, errors.New("media: DTMF queue full")
	}
	for _, c := range codes {
		s.dtmfIn <- c // room was checked, and only queueDTMF sends, under dtmfMu
	}
	s.dtmfQueued += uint64(len(codes))
	return s.dtmfQueued, nil
}

// dtmfFinished counts one digit as sent and wakes SendDTMFWait.
func (s *Session) dtmfFinished() {
	s.dtmfSent.Add(1)
	next := make(chan struct{})
	close(*s.dtmfWake.Swap(&next))
}

// randUint32 returns a cryptographically random number, as RFC 3550 §5.1
// asks for the initial SSRC, sequence number and timestamp.
func randUint32() uint32 {
	var b [4]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

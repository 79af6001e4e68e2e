package media

import (
	"time"

	"github.com/xphone-go/xphone/jitter"
)

// Stats describes a session's media quality and traffic.
type Stats struct {
	// Codec is the SDP encoding name in use; SampleRate its PCM rate.
	Codec      string
	SampleRate int
	// PacketsSent and BytesSent count RTP packets sent and their payload
	// octets (the SR counts of RFC 3550 §6.4.1), DTMF included.
	PacketsSent, BytesSent uint64
	// PacketsReceived and BytesReceived count valid RTP packets of the
	// negotiated payload types received while receiving, and their
	// payload octets.
	PacketsReceived, BytesReceived uint64
	// Lost is the cumulative number of packets lost (RFC 3550 A.3) of
	// the current source; negative when duplicates outnumber losses.
	Lost int64
	// Late counts packets that arrived after their playout time.
	Late uint64
	// Concealed counts frames the loss concealment made up.
	Concealed uint64
	// Jitter is the interarrival jitter (RFC 3550 §6.4.1).
	Jitter time.Duration
	// JitterDelay is the jitter buffer's current playout delay.
	JitterDelay time.Duration
	// RTT is the round-trip time from the peer's last report about us
	// (0 until one arrives).
	RTT time.Duration
	// RemoteFractionLost (1/256 units) and RemoteLost are the peer's
	// view of the loss of our stream, from its last report, and
	// RemoteJitter its interarrival jitter of our stream.
	RemoteFractionLost uint8
	RemoteLost         int64
	RemoteJitter       time.Duration
	// DroppedInbound counts frames and packets dropped because the
	// application did not read a reader channel in time (oldest dropped).
	DroppedInbound uint64
	// DroppedOutbound counts frames and packets dropped because a writer
	// queue was full (newest dropped).
	DroppedOutbound uint64
	// Discarded counts datagrams ignored: unknown payload types, packets
	// received while not receiving, malformed or foreign datagrams.
	Discarded uint64
	// AuthFailed counts SRTP and SRTCP packets that failed
	// authentication or replay checks.
	AuthFailed uint64
	// DTMFReceived counts key presses received by RFC 4733.
	DTMFReceived uint64
}

// snapshot publishes the loop-owned figures, once per tick.
func (l *loop) snapshot() {
	var js jitter.Stats
	if l.jb != nil {
		js = l.jb.Stats()
	}
	s := l.s
	s.statsMu.Lock()
	s.snap.Late = l.lateBefore + js.Late
	s.snap.Concealed = l.concealedBefore + js.Concealed
	s.snap.JitterDelay = js.Delay
	if l.haveSrc {
		s.snap.Lost = l.rstats.PacketsLost()
		if l.ci.clockRate > 0 {
			s.snap.Jitter = time.Duration(uint64(l.rstats.Jitter()) * uint64(time.Second) / uint64(l.ci.clockRate))
		}
	}
	s.statsMu.Unlock()
}

// Stats returns the session's current figures. Counters are live; the
// jitter buffer figures are at most one frame time old. Safe for
// concurrent use.
func (s *Session) Stats() Stats {
	s.statsMu.Lock()
	st, clock := s.snap, s.clockRate
	s.statsMu.Unlock()
	s.rtcpMu.Lock()
	st.RTT = s.remote.rtt
	st.RemoteFractionLost = s.remote.fractionLost
	st.RemoteLost = s.remote.lost
	if clock > 0 {
		st.RemoteJitter = time.Duration(uint64(s.remote.jitter) * uint64(time.Second) / uint64(clock))
	}
	s.rtcpMu.Unlock()
	c := &s.ctr
	st.PacketsSent = c.packetsSent.Load()
	st.BytesSent = c.bytesSent.Load()
	st.PacketsReceived = c.packetsReceived.Load()
	st.BytesReceived = c.bytesReceived.Load()
	st.DroppedInbound = c.droppedIn.Load()
	st.DroppedOutbound = c.droppedOut.Load()
	st.Discarded = c.discarded.Load()
	st.AuthFailed = c.authFailed.Load()
	st.DTMFReceived = c.dtmfReceived.Load()
	return st
}

package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/xphone-go/xphone/g722"
	"github.com/xphone-go/xphone/internal/opus"
	"github.com/xphone-go/xphone/jitter"
	"github.com/xphone-go/xphone/srtp"
)

// Direction is the media direction of a session from our side, as
// negotiated by the SDP direction attributes (RFC 3264 §5.1, §6.1).
type Direction uint8

const (
	// SendRecv sends and receives audio. It is the zero value.
	SendRecv Direction = iota
	// SendOnly sends audio and drops what arrives (we hold the peer with
	// music, or the peer put us on hold with a=recvonly).
	SendOnly
	// RecvOnly receives audio and sends none (the peer holds us with
	// a=sendonly).
	RecvOnly
	// Inactive neither sends nor receives audio. RTCP keeps flowing
	// (RFC 3264 §5.1).
	Inactive
)

// String returns the SDP attribute name of d.
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

func (d Direction) sends() bool    { return d == SendRecv || d == SendOnly }
func (d Direction) receives() bool { return d == SendRecv || d == RecvOnly }

// MuteMode says what a muted session sends.
type MuteMode uint8

const (
	// MuteSilence sends an encoded silent frame every 20 ms while muted,
	// so the peer's media timeout and NAT bindings stay fed. Default.
	MuteSilence MuteMode = iota
	// MuteNothing sends no RTP while muted (RTCP continues).
	MuteNothing
)

// Codec names accepted in Config.Codec (the SDP encoding names, matched
// without regard to case).
const (
	CodecPCMU = "PCMU"
	CodecPCMA = "PCMA"
	CodecG722 = "G722"
	CodecOpus = "opus"
)

// FrameDuration is the length of every PCM frame at the channel API and
// of every RTP packet the session sends: 20 ms.
const FrameDuration = 20 * time.Millisecond

// ChannelDepth is the capacity, in frames or packets, of every channel and
// queue the session hands to the application (about 5 s of audio).
const ChannelDepth = 256

// Errors callers branch on.
var (
	// ErrNoRTPPort means no even/odd port pair (or single port with
	// rtcp-mux) of the configured range could be bound. A UAS answers
	// 500 with it; a UAC fails the dial.
	ErrNoRTPPort = errors.New("media: no free RTP port in range")
	// ErrClosed is returned by methods of a closed Session.
	ErrClosed = errors.New("media: session closed")
	// ErrCodec is returned when Config names a codec this build cannot
	// run (Opus without the opus build tag, or an unknown name).
	ErrCodec = errors.New("media: unsupported codec")
)

// Options are the per-session settings that do not come from SDP
// negotiation and are fixed for the session's life. The zero value works:
// ports 10000–20000 on all IPv4 interfaces, defaults below.
type Options struct {
	// Address is the local address to bind. Zero means 0.0.0.0.
	Address netip.Addr
	// PortMin and PortMax bound the RTP port (inclusive). The RTP port is
	// even and RTCP uses the next odd one (RFC 3550 §11). Zero values
	// select 10000 and 20000.
	PortMin, PortMax int
	// MuxOnly binds a single socket for RTP and RTCP (RFC 5761), for a
	// session whose offer is known to use rtcp-mux. Without it a pair is
	// bound, and Start releases the RTCP socket when Config.RTCPMux is set.
	MuxOnly bool
	// Latch enables symmetric RTP (RFC 4961 behaviour towards peers behind
	// NAT): RTP is sent to the address the peer's RTP really comes from,
	// and RTCP to where its RTCP comes from, once packets that decode
	// (and, with SRTP, authenticate) arrive from there.
	Latch bool
	// MediaTimeout is how long without received RTP, while the direction
	// says we should be receiving, before OnMediaTimeout fires. Zero
	// selects 30 s; negative disables it.
	MediaTimeout time.Duration
	// HoldTimeout applies instead while the direction says we do not
	// receive (hold, inactive): OnMediaTimeout fires when neither RTP nor
	// RTCP came from the peer for that long (RFC 3264 §5.1 keeps RTCP
	// flowing on hold). Zero or negative disables it, the default, since
	// some peers send nothing at all while held.
	HoldTimeout time.Duration
	// RTCPInterval is the nominal RTCP report interval, before RFC 3550
	// §6.3.1 randomization. Zero selects 5 s (RFC 3550 §6.2 minimum);
	// tests may use less.
	RTCPInterval time.Duration
	// CNAME is the SDES CNAME (RFC 3550 §6.5.1). Empty selects a random
	// one per session (RFC 7022).
	CNAME string
	// Jitter configures the playout buffer; ClockRate and FrameDuration
	// are set by the session.
	Jitter jitter.Config
	// MuteMode says what is sent while muted.
	MuteMode MuteMode
	// PCMRate fixes the rate of the PCM frames at the channels: 8000 or
	// 16000 (160 or 320 samples per frame), resampled from and to the
	// codec's rate when they differ. Zero means the codec's rate.
	PCMRate int
	// TrimBacklog bounds the latency of a real-time writer. Frames written
	// to PCMWriter (or packets to RTPWriter) wait in a queue taken one per
	// 20 ms, so a writer that once got a frame ahead (its first frame
	// written before the session's first send, a late wake-up) adds 20 ms
	// to every later frame for the rest of the call, and each hiccup adds
	// another 20 ms. With TrimBacklog, when between 1 and BacklogFrames
	// frames were left waiting after every send for BacklogTicks ticks in
	// a row, the oldest is dropped and counted in Stats.DroppedOutbound. A
	// burst written at once (a prompt) drains through that band in fewer
	// ticks and loses nothing. Off by default: frames then wait up to
	// ChannelDepth.
	TrimBacklog bool
	// DTMFDuration and DTMFGap are the tone and pause lengths of digits
	// sent with SendDTMF. Zero selects 100 ms and 60 ms.
	DTMFDuration, DTMFGap time.Duration
	// OnDTMF is called once per key press received by RFC 4733. It runs
	// on the session's reader goroutine, with the session locked, and
	// must not block or call Close: hand the event to the call's own
	// loop.
	OnDTMF func(digit rune)
	// OnMediaTimeout is called once each time MediaTimeout (or, on hold,
	// HoldTimeout) passes without media; it fires again only after media
	// resumed and stopped again. It
	// runs on a goroutine of the shared scheduler, which serves other
	// calls too, with the session locked: like OnDTMF, it must neither
	// block nor call Close.
	OnMediaTimeout func()
	// Logger receives debug logs; nil means slog.Default().
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if !o.Address.IsValid() {
		o.Address = netip.IPv4Unspecified()
	}
	if o.PortMin == 0 && o.PortMax == 0 {
		o.PortMin, o.PortMax = 10000, 20000
	}
	if o.MediaTimeout == 0 {
		o.MediaTimeout = 30 * time.Second
	}
	if o.RTCPInterval <= 0 {
		o.RTCPInterval = 5 * time.Second
	}
	if o.DTMFDuration <= 0 {
		o.DTMFDuration = 100 * time.Millisecond
	}
	if o.DTMFGap <= 0 {
		o.DTMFGap = 60 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Config holds the parameters negotiated by SDP offer/answer. It is given
// to Start and, on a re-INVITE, to Update. The session keeps no reference
// to the slices inside it.
type Config struct {
	// Codec is the SDP encoding name of the audio codec: PCMU, PCMA, G722
	// or opus.
	Codec string
	// PayloadType is the codec's RTP payload type in what we send: the
	// peer's number for it (RFC 3264 §5.1).
	PayloadType uint8
	// RecvPayloadType is the codec's payload type in what we receive: our
	// number for it, which differs from PayloadType when the answer to our
	// offer renumbered the codec. Packets with either are taken. Zero means
	// PayloadType, but for PCMU, whose static number is 0.
	RecvPayloadType uint8
	// ClockRate is the codec's RTP clock rate; zero selects the codec's
	// (8000, 8000 for G722 per RFC 3551 §4.5.2, 48000 for Opus).
	ClockRate int
	// PTime is the packetization time; zero or 20 ms. Other values are
	// refused: every frame and packet is 20 ms.
	PTime time.Duration
	// DTMFPayloadType is the payload type of telephone-event (RFC 4733)
	// in what we send; zero means none was negotiated.
	// DTMFRecvPayloadType is its payload type in what we receive, as
	// RecvPayloadType is the codec's; zero means DTMFPayloadType.
	DTMFPayloadType, DTMFRecvPayloadType uint8
	// RemoteRTP is where to send RTP. RemoteRTCP is where to send RTCP;
	// zero means RemoteRTP's port + 1, or RemoteRTP with RTCPMux.
	RemoteRTP, RemoteRTCP netip.AddrPort
	// RTCPMux says RTP and RTCP share the RTP port (RFC 5761).
	RTCPMux bool
	// Direction is our media direction.
	Direction Direction
	// SRTPSend and SRTPRecv are the SDES keys (RFC 4568) for what we send
	// (our a=crypto) and what we receive (the peer's). Both nil means
	// plain RTP; both must be set for SRTP.
	SRTPSend, SRTPRecv *srtp.Crypto
}

// codecInfo describes one codec of the session.
type codecInfo struct {
	name       string
	clockRate  int // RTP clock
	sampleRate int // PCM at the channel API
	tsPerFrame uint32
}

func (i codecInfo) samples() int { return i.sampleRate * int(FrameDuration/time.Millisecond) / 1000 }

func lookupCodec(name string) (codecInfo, error) {
	switch {
	case strings.EqualFold(name, CodecPCMU):
		return codecInfo{CodecPCMU, 8000, 8000, 160}, nil
	case strings.EqualFold(name, CodecPCMA):
		return codecInfo{CodecPCMA, 8000, 8000, 160}, nil
	case strings.EqualFold(name, CodecG722):
		// RFC 3551 §4.5.2: 8000 Hz RTP clock for 16 kHz audio.
		return codecInfo{CodecG722, g722.RTPClockRate, g722.SampleRate, 160}, nil
	case strings.EqualFold(name, CodecOpus):
		if !opus.Available() {
			return codecInfo{}, fmt.Errorf("%w: opus (build with -tags opus)", ErrCodec)
		}
		// RFC 7587 §4.1: 48000 Hz RTP clock whatever the audio rate.
		return codecInfo{CodecOpus, opus.RTPClockRate, 16000, 960}, nil
	}
	return codecInfo{}, fmt.Errorf("%w: %q", ErrCodec, name)
}

// validate checks c and returns the codec it names.
func (c *Config) validate() (codecInfo, error) {
	ci, err := lookupCodec(c.Codec)
	if err != nil {
		return ci, err
	}
	if c.ClockRate != 0 && c.ClockRate != ci.clockRate {
		return ci, fmt.Errorf("media: clock rate %d for %s, want %d", c.ClockRate, ci.name, ci.clockRate)
	}
	if c.PTime != 0 && c.PTime != FrameDuration {
		return ci, fmt.Errorf("media: ptime %v not supported, want 20ms", c.PTime)
	}
	if c.RecvPayloadType == 0 && ci.name != CodecPCMU {
		c.RecvPayloadType = c.PayloadType
	}
	if c.DTMFRecvPayloadType == 0 {
		c.DTMFRecvPayloadType = c.DTMFPayloadType
	}
	if max(c.PayloadType, c.RecvPayloadType, c.DTMFPayloadType, c.DTMFRecvPayloadType) > 127 {
		return ci, errors.New("media: payload type above 127")
	}
	if c.DTMFPayloadType != 0 && (c.DTMFPayloadType == c.PayloadType || c.DTMFRecvPayloadType == c.RecvPayloadType) {
		return ci, errors.New("media: telephone-event shares the codec's payload type")
	}
	if (c.SRTPSend == nil) != (c.SRTPRecv == nil) {
		return ci, errors.New("media: SRTP needs both send and receive keys")
	}
	if c.Direction > Inactive {
		return ci, fmt.Errorf("media: bad direction %d", c.Direction)
	}
	return ci, nil
}

func (c *Config) remoteRTCP() netip.AddrPort {
	if c.RemoteRTCP.IsValid() {
		return c.RemoteRTCP
	}
	if c.RTCPMux || !c.RemoteRTP.IsValid() {
		return c.RemoteRTP
	}
	return netip.AddrPortFrom(c.RemoteRTP.Addr(), c.RemoteRTP.Port()+1)
}

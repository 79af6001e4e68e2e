package sdp

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/xphone-go/xphone/srtp"
)

// ErrNotAcceptable means an offer (or answer) has nothing we can use: no
// audio stream, no common codec, or an SRTP requirement one side cannot meet.
// A UA answers such an offer with 488 Not Acceptable Here (RFC 3261 §21.4.26,
// RFC 3264 §6). Errors wrapping it say why.
var ErrNotAcceptable = errors.New("sdp: not acceptable")

func notAcceptable(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNotAcceptable}, args...)...)
}

// SRTPMode says whether a Session protects media with SRTP keyed by SDES
// (RFC 4568).
type SRTPMode uint8

const (
	// SRTPOff offers plain RTP/AVP and refuses RTP/SAVP offers; a=crypto
	// lines in an RTP/AVP offer are ignored.
	SRTPOff SRTPMode = iota
	// SRTPOptional is best-effort SRTP. RFC 3264 gives an m= line a single
	// profile, so the common practice is followed (baresip's "srtp",
	// Asterisk's and FreeSWITCH's optional modes): offer RTP/AVP with a=crypto
	// lines. A peer that answers with a=crypto gets SRTP; one that ignores
	// them gets plain RTP. As answerer, RTP/SAVP offers and RTP/AVP offers
	// with a usable a=crypto get SRTP, others plain RTP.
	SRTPOptional
	// SRTPMandatory offers RTP/SAVP with a=crypto and refuses any offer or
	// answer that does not lead to SRTP. An RTP/AVP offer with a usable
	// a=crypto is accepted with SRTP.
	SRTPMandatory
)

// The codec names Config.Codecs accepts (compared case-insensitively).
const (
	PCMU = "PCMU" // G.711 µ-law, static payload type 0
	PCMA = "PCMA" // G.711 A-law, static payload type 8
	G722 = "G722" // G.722, static payload type 9; RTP clock 8000 Hz for 16 kHz audio (RFC 3551 §4.5.2)
	Opus = "opus" // Opus (RFC 7587), dynamic payload type, opus/48000/2
)

// codecDef is a codec this package negotiates.
type codecDef struct {
	name       string
	pt         uint8 // default payload type
	clock      uint32
	channels   int
	sampleRate int
	fmtp       string // what we write in our own a=fmtp
}

var knownCodecs = []codecDef{
	{PCMU, 0, 8000, 1, 8000, ""},
	{PCMA, 8, 8000, 1, 8000, ""},
	{G722, 9, 8000, 1, 16000, ""},
	{Opus, 111, 48000, 2, 48000, "useinbandfec=1"},
}

func lookupCodec(name string) (codecDef, bool) {
	for _, c := range knownCodecs {
		if strings.EqualFold(c.name, name) {
			return c, true
		}
	}
	return codecDef{}, false
}

// matches reports whether a payload format described by an SDP is def.
func (def codecDef) matches(c Codec) bool {
	if !strings.EqualFold(c.Name, def.name) || c.ClockRate != def.clock {
		return false
	}
	// RFC 7587 §7 writes opus as /48000/2 whatever is sent; accept /1 too.
	return def.name == Opus || c.Channels == def.channels
}

// telephoneEvent is the RFC 4733 encoding name.
const telephoneEvent = "telephone-event"

// dtmfPT is our default payload type of telephone-event at each clock rate.
func dtmfPT(clock uint32) uint8 {
	switch clock {
	case 8000:
		return 101
	case 16000:
		return 102
	case 48000:
		return 110
	}
	return 103
}

// Config is what a Session offers and accepts: the local codecs and media
// address. Only Address and Port are required; every other zero value has a
// documented default. A Config is copied by NewSession.
type Config struct {
	// Address is the local media address written in c= and o=. IPv4 or IPv6.
	Address netip.Addr
	// Port is the local RTP port (1-65535).
	Port int
	// RTCPPort is the local RTCP port; 0 means Port+1, which is then not
	// written. Another value is written as a=rtcp (RFC 3605).
	RTCPPort int
	// RTCPMux offers and accepts RTP and RTCP on one port (RFC 5761).
	RTCPMux bool
	// Codecs lists the codecs to offer and accept, most preferred first:
	// PCMU, PCMA, G722, Opus. nil means PCMU, PCMA, G722.
	Codecs []string
	// PreferLocalOrder makes an answer choose the first of Codecs that the
	// offer lists. By default the answer honours the offerer's order: the
	// first payload format of the offer that is in Codecs wins, as RFC 3264
	// §6.1 describes the offer's list as the offerer's preference.
	PreferLocalOrder bool
	// NoTelephoneEvent leaves RFC 4733 telephone-event out of offers and
	// answers, for SIP INFO only DTMF. By default it is offered at the clock
	// rate of each offered codec and answered at the chosen codec's rate.
	NoTelephoneEvent bool
	// Ptime is the packet time in milliseconds written as a=ptime; 0 means 20.
	Ptime int
	// SRTP is the SRTP mode; the zero value is SRTPOff.
	SRTP SRTPMode
	// SRTPProfiles lists the SDES crypto suites to offer and accept, most
	// preferred first. nil means AES_CM_128_HMAC_SHA1_80 and
	// AES_CM_128_HMAC_SHA1_32, the suites every SDES peer has.
	SRTPProfiles []srtp.Profile
	// Username and SessionName fill o= and s=; "" means "-".
	Username, SessionName string
	// Rand is the source of session IDs and SRTP master keys; nil means
	// crypto/rand.
	Rand io.Reader
}

// Negotiated is the outcome of an offer/answer exchange for the audio
// stream: what the media session needs to send and receive.
type Negotiated struct {
	Codec      string // "PCMU", "PCMA", "G722" or "opus"
	PT         uint8  // payload type to send with (the peer's number for the codec)
	RecvPT     uint8  // payload type expected on received packets (ours); equal to PT unless the answerer renumbered
	ClockRate  uint32 // RTP clock rate: 8000 for G.722 too (RFC 3551 §4.5.2)
	SampleRate int    // audio sample rate of the codec: 8000, 16000 for G.722, 48000 for Opus
	Channels   int    // channels of the rtpmap: 2 for Opus (RFC 7587 §7), else 1
	FMTP       string // the peer's a=fmtp for the codec, "" when none
	Ptime      int    // the peer's a=ptime in ms, 20 when absent
	MaxPtime   int    // the peer's a=maxptime in ms, 0 when absent

	DTMF       bool  // RFC 4733 telephone-event was negotiated
	DTMFPT     uint8 // telephone-event payload type to send with
	DTMFRecvPT uint8 // telephone-event payload type expected from the peer

	// RemoteRTP is where to send RTP. When the peer's c= address is a host
	// name, RemoteRTP has an invalid address (and the port) and RemoteHost
	// holds the name for the caller to resolve.
	RemoteRTP  netip.AddrPort
	RemoteRTCP netip.AddrPort // where to send RTCP: RemoteRTP with rtcp-mux, else a=rtcp or port+1
	RemoteHost string
	RTCPMux    bool // RTP and RTCP share one port both ways (RFC 5761)

	Direction       Direction // our direction: whether we send and receive
	RemoteDirection Direction // the peer's, with an old-style c=0.0.0.0 hold read as not receiving

	// LocalCrypto keys what we send and RemoteCrypto what we receive;
	// both nil when media is plain RTP.
	LocalCrypto, RemoteCrypto *srtp.Crypto
}

// SRTP reports whether media is protected with SRTP.
func (n *Negotiated) SRTP() bool { return n.LocalCrypto != nil }

// Session is one side of an RFC 3264 offer/answer session, for the life of
// a call: it builds our offers and answers, keeps the o= line (incrementing
// its version by one whenever our description changes, RFC 3264 §8), the
// payload type numbers in use, our SRTP keys and the m= line layout, and
// works out the Negotiated media after each exchange.
//
// A Session is not safe for concurrent use: the call that owns it drives it.
// Its methods do no I/O and never block, except for reading Config.Rand.
type Session struct {
	cfg     Config
	codecs  []codecDef
	dir     Direction // what we want: SendRecv, or SendOnly/Inactive to hold
	origin  Origin
	started bool   // an SDP of ours went out
	last    []byte // our last SDP, as sent
	layout  []Media
	audio   int            // index of our audio stream in layout
	pts     map[string]int // codec key → payload type in use
	keys    map[srtp.Profile]srtp.Crypto
	pending *offerState // our offer awaiting an answer
	settled *offerState // our last offer an answer settled, for another fork's answer (ProcessForkAnswer)
	neg     Negotiated
	hasNeg  bool
}

// NewSession returns a Session for cfg, with a random o= session ID.
func NewSession(cfg Config) (*Session, error) {
	if !cfg.Address.IsValid() {
		return nil, errors.New("sdp: no local media address")
	}
	cfg.Address = cfg.Address.Unmap()
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("sdp: local RTP port %d out of range", cfg.Port)
	}
	if cfg.RTCPPort < 0 || cfg.RTCPPort > 65535 {
		return nil, fmt.Errorf("sdp: local RTCP port %d out of range", cfg.RTCPPort)
	}
	if cfg.Ptime < 0 || cfg.Ptime > 1000 {
		return nil, fmt.Errorf("sdp: ptime %d out of range", cfg.Ptime)
	}
	if cfg.Ptime == 0 {
		cfg.Ptime = 20
	}
	if cfg.SRTP > SRTPMandatory {
		return nil, fmt.Errorf("sdp: unknown SRTP mode %d", cfg.SRTP)
	}
	s := &Session{pts: map[string]int{}, keys: map[srtp.Profile]srtp.Crypto{}}
	names := cfg.Codecs
	if names == nil {
		names = []string{PCMU, PCMA, G722}
	}
	for _, n := range names {
		def, ok := lookupCodec(n)
		if !ok {
			return nil, fmt.Errorf("sdp: unsupported codec %q", n)
		}
		for _, d := range s.codecs {
			if d.name == def.name {
				return nil, fmt.Errorf("sdp: codec %q listed twice", n)
			}
		}
		s.codecs = append(s.codecs, def)
	}
	if len(s.codecs) == 0 {
		return nil, errors.New("sdp: no codecs")
	}
	cfg.Codecs = append([]string(nil), names...)
	if cfg.SRTPProfiles == nil {
		cfg.SRTPProfiles = []srtp.Profile{srtp.ProfileAES128CMSHA1_80, srtp.ProfileAES128CMSHA1_32}
	} else {
		cfg.SRTPProfiles = append([]srtp.Profile(nil), cfg.SRTPProfiles...)
	}
	if cfg.SRTP != SRTPOff && len(cfg.SRTPProfiles) == 0 {
		return nil, errors.New("sdp: SRTP enabled without profiles")
	}
	for _, p := range cfg.SRTPProfiles {
		if _, err := srtp.ParseProfile(p.String()); err != nil {
			return nil, fmt.Errorf("sdp: invalid SRTP profile %v", p)
		}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	var b [4]byte
	if _, err := io.ReadFull(cfg.Rand, b[:]); err != nil {
		return nil, fmt.Errorf("sdp: session id: %w", err)
	}
	// Below 2^30 so peers that keep o= numbers in 32 bits cope with the
	// version increments too.
	id := uint64(binary.BigEndian.Uint32(b[:])>>2) + 1
	s.cfg = cfg
	s.origin = Origin{
		Username:       orDash(cfg.Username),
		SessionID:      strconv.FormatUint(id, 10),
		SessionVersion: id,
		NetType:        "IN",
		AddrType:       addrType(cfg.Address),
		Address:        cfg.Address.String(),
	}
	return s, nil
}

func addrType(a netip.Addr) string {
	if a.Is4() {
		return "IP4"
	}
	return "IP6"
}

// SetDirection sets the direction we want for the audio stream, used by
// later offers and answers: SendRecv normally, SendOnly to put the peer on
// hold, Inactive to hold while the peer holds us too (RFC 3264 §8.4), and
// SendRecv again to resume. Changing it does not send anything: make a new
// Offer.
func (s *Session) SetDirection(d Direction) { s.dir = d }

// Direction returns the direction we want, as SetDirection last set it.
func (s *Session) Direction() Direction { return s.dir }

// Negotiated returns the media agreed by the last completed exchange, and
// false before the first one.
func (s *Session) Negotiated() (Negotiated, bool) { return s.neg, s.hasNeg }

// Origin returns our o= line as last sent.
func (s *Session) Origin() Origin { return s.origin }

// DiscardOffer forgets our outstanding offer, when the peer refused it
// (a failed re-INVITE, RFC 3264 §8: the previous session stays in force).
func (s *Session) DiscardOffer() { s.pending, s.settled = nil, nil }

func codecKey(name string, clock uint32) string {
	return strings.ToLower(name) + "/" + strconv.FormatUint(uint64(clock), 10)
}

// localKey returns our master key for profile p, with the given tag.
func (s *Session) localKey(p srtp.Profile, tag uint32) (srtp.Crypto, error) {
	c, ok := s.keys[p]
	if !ok {
		var err error
		c, err = srtp.NewCrypto(tag, p, s.cfg.Rand)
		if err != nil {
			return srtp.Crypto{}, fmt.Errorf("sdp: %w", err)
		}
		s.keys[p] = c
	}
	c.Tag = tag
	return c, nil
}

// stamp fills d's o= line and records d as our latest SDP, incrementing the
// version by one when d differs from what we sent before (RFC 3264 §8).
func (s *Session) stamp(d *Description) {
	d.Origin = s.origin
	b := d.AppendTo(nil)
	if s.started && !bytes.Equal(b, s.last) {
		s.origin.SessionVersion++
		d.Origin = s.origin
		b = d.AppendTo(b[:0])
	}
	s.started = true
	s.last = b
}

// skeleton returns a description with our session-level lines.
func (s *Session) skeleton() *Description {
	return &Description{
		SessionName: orDash(s.cfg.SessionName),
		Connection:  Connection{NetType: "IN", AddrType: addrType(s.cfg.Address), Address: s.cfg.Address.String()},
		Times:       []Timing{{}},
	}
}

// rejected returns the answer (or re-offer) form of a stream we do not use:
// port 0, the same proto and format list (RFC 3264 §6).
func rejected(m *Media) Media {
	f := m.Formats
	if len(f) == 0 {
		f = []string{"0"}
	}
	return Media{Type: m.Type, Proto: m.Proto, Formats: append([]string(nil), f...)}
}

// remoteTarget sets the peer's addresses in n from media i of d.
func remoteTarget(d *Description, i int, n *Negotiated) error {
	m := &d.Media[i]
	c := d.ConnectionFor(i)
	if c.IsZero() {
		return notAcceptable("no c= line for the audio stream")
	}
	addr, ok := c.Addr()
	if !ok {
		host, _, _ := strings.Cut(c.Address, "/")
		n.RemoteHost = host
	}
	n.RemoteRTP = netip.AddrPortFrom(addr, uint16(m.Port))
	n.RTCPMux = n.RTCPMux && m.RTCPMux()
	switch port, raddr, ok := m.RTCP(); {
	case n.RTCPMux:
		n.RemoteRTCP = n.RemoteRTP
	case ok:
		if !raddr.IsValid() {
			raddr = addr
		}
		n.RemoteRTCP = netip.AddrPortFrom(raddr, uint16(port))
	default:
		n.RemoteRTCP = netip.AddrPortFrom(addr, uint16(m.Port+1))
	}
	n.Ptime, n.MaxPtime = m.Ptime()
	if n.Ptime == 0 {
		n.Ptime = 20
	}
	return nil
}

// usableCrypto reports whether c names one of profiles and is an attribute
// the srtp package can honour: one key, no MKI, no session parameters.
func usableCrypto(c srtp.Crypto, profiles []srtp.Profile) (srtp.Profile, bool) {
	p, err := c.Profile()
	if err != nil || len(c.Keys) != 1 || len(c.SessionParams) != 0 || c.Tag == 0 {
		return 0, false
	}
	allowed := false
	for _, q := range profiles {
		allowed = allowed || q == p
	}
	if !allowed {
		return 0, false
	}
	ctx, err := c.NewContext()
	if err != nil {
		return 0, false
	}
	ctx.Close()
	return p, true
}

// String returns "off", "optional" or "mandatory".
func (m SRTPMode) String() string {
	switch m {
	case SRTPOff:
		return "off"
	case SRTPOptional:
		return "optional"
	case SRTPMandatory:
		return "mandatory"
	}
	return "SRTPMode(" + strconv.Itoa(int(m)) + ")"
}

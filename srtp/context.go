package srtp

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Errors a caller may branch on. Others (malformed packets, bad keys) are
// plain errors prefixed "srtp: ".
var (
	// ErrAuthFailed means a packet's authentication tag did not verify: it was
	// forged, corrupted, or protected with other keys. Nothing was decrypted.
	ErrAuthFailed = errors.New("srtp: authentication failed")
	// ErrReplayed means a packet's index was already received or is older
	// than the replay window (RFC 3711 §3.3.2). Such packets are dropped.
	ErrReplayed = errors.New("srtp: replayed packet")
	// ErrClosed is returned by every method of a closed Context.
	ErrClosed = errors.New("srtp: context closed")
)

var (
	errShortRTP   = errors.New("srtp: malformed or truncated RTP packet")
	errShortRTCP  = errors.New("srtp: malformed or truncated RTCP packet")
	errExhausted  = errors.New("srtp: packet index space exhausted, rekey required")
	errIndexRange = errors.New("srtp: packet index out of range")
)

// Option configures a Context in [NewContext].
type Option func(*config)

type config struct {
	window                int
	plainSRTP, plainSRTCP bool
}

// WithUnencryptedSRTP makes SRTP packets authenticated but not encrypted,
// as negotiated by the UNENCRYPTED_SRTP session parameter (RFC 4568 §6.3.2;
// for AEAD profiles, the tag-only mode of RFC 7714 §16.1.3).
func WithUnencryptedSRTP() Option { return func(c *config) { c.plainSRTP = true } }

// WithUnencryptedSRTCP makes EncryptRTCP send SRTCP packets with the E flag
// clear: authenticated, not encrypted (UNENCRYPTED_SRTCP, RFC 4568 §6.3.2).
// DecryptRTCP follows each packet's E flag whatever this option says.
func WithUnencryptedSRTCP() Option { return func(c *config) { c.plainSRTCP = true } }

// WithReplayWindow sets the replay window, in packets, for SRTP and SRTCP
// (RFC 3711 §3.3.2). The default is [DefaultReplayWindow]; n is rounded up to
// a multiple of 64 and capped at 1024; n <= 0 disables replay protection,
// which a receiver should do only when something else rejects duplicates.
func WithReplayWindow(n int) Option {
	return func(c *config) {
		switch {
		case n <= 0:
			c.window = 0
		case n > maxReplayWindow:
			c.window = maxReplayWindow
		default:
			c.window = (n + 63) &^ 63
		}
	}
}

// Context is one direction of an SRTP session: it protects outgoing packets
// (EncryptRTP, EncryptRTCP) or unprotects incoming ones (DecryptRTP,
// DecryptRTCP) for any number of SSRCs under one master key (RFC 3711 §3.2).
// Use two Contexts for a two-way session, one per direction.
//
// A Context is not safe for concurrent use: it keeps per-SSRC rollover
// counters and replay windows, which must see packets one at a time. Its
// methods never block.
type Context struct {
	profile     Profile
	window      int
	plainSRTP   bool
	plainSRTCP  bool
	rtp, rtcp   transform
	rtpStreams  map[uint32]*rtpStream
	rtcpStreams map[uint32]*rtcpStream
	lastSSRC    uint32
	last        *rtpStream
	closed      bool
	aad         []byte // scratch for SRTCP tag-only AAD
}

// NewContext returns a Context for profile, deriving the session keys from
// masterKey and masterSalt with a key derivation rate of 0 (RFC 3711 §4.3).
// masterKey must be profile.KeyLen() octets and masterSalt profile.SaltLen()
// octets (14, or 12 for the AEAD profiles, RFC 7714 §12). The Context keeps
// no reference to the slices.
func NewContext(profile Profile, masterKey, masterSalt []byte, opts ...Option) (*Context, error) {
	if !profile.valid() {
		return nil, fmt.Errorf("%w %s", ErrUnknownProfile, profile)
	}
	if len(masterKey) != profile.KeyLen() {
		return nil, fmt.Errorf("srtp: %s master key is %d octets, want %d", profile, len(masterKey), profile.KeyLen())
	}
	if len(masterSalt) != profile.SaltLen() {
		return nil, fmt.Errorf("srtp: %s master salt is %d octets, want %d", profile, len(masterSalt), profile.SaltLen())
	}
	c := newContext(profile, opts)
	if err := c.rtp.keys.derive(profile, masterKey, masterSalt, false); err != nil {
		return nil, err
	}
	if err := c.rtcp.keys.derive(profile, masterKey, masterSalt, true); err != nil {
		return nil, err
	}
	if err := c.initTransforms(); err != nil {
		return nil, err
	}
	return c, nil
}

func newContext(profile Profile, opts []Option) *Context {
	cfg := config{window: DefaultReplayWindow}
	for _, o := range opts {
		o(&cfg)
	}
	return &Context{
		profile:     profile,
		window:      cfg.window,
		plainSRTP:   cfg.plainSRTP,
		plainSRTCP:  cfg.plainSRTCP,
		rtpStreams:  make(map[uint32]*rtpStream),
		rtcpStreams: make(map[uint32]*rtcpStream),
	}
}

func (c *Context) initTransforms() error {
	if err := c.rtp.init(c.profile, c.profile.AuthTagLen()); err != nil {
		return err
	}
	return c.rtcp.init(c.profile, c.profile.RTCPAuthTagLen())
}

// Profile returns the profile the Context was made with.
func (c *Context) Profile() Profile { return c.profile }

// Close zeroizes the session keys and the per-SSRC state held by the
// Context; every later call returns [ErrClosed]. The expanded AES key
// schedules inside crypto/aes cannot be wiped and are left to the garbage
// collector. Close is idempotent.
func (c *Context) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.rtp.zero()
	c.rtcp.zero()
	clear(c.rtpStreams)
	clear(c.rtcpStreams)
	c.last = nil
	clear(c.aad)
	return nil
}

// SetROC sets the rollover counter of the SRTP stream ssrc, for a stream
// joined mid-session or after a rekey (RFC 3711 §3.3.1): the next packet of
// that SSRC gets the index roc*65536 + SEQ, and index tracking continues from
// there. It also clears the stream's replay window.
func (c *Context) SetROC(ssrc, roc uint32) {
	if c.closed {
		return
	}
	s := c.stream(ssrc)
	s.roc, s.started, s.index = roc, false, 0
	s.replay = replayWindow{}
	s.replay.init(c.window)
}

// ROC returns the current rollover counter of the SRTP stream ssrc and
// whether the Context has state for it.
func (c *Context) ROC(ssrc uint32) (roc uint32, ok bool) {
	s := c.rtpStreams[ssrc]
	if s == nil {
		return 0, false
	}
	if !s.started {
		return s.roc, true
	}
	return uint32(s.index >> 16), true
}

// Index returns the highest packet index (ROC<<16 | SEQ, RFC 3711 §3.3.1)
// the Context sent or accepted in the SRTP stream ssrc, and whether it has
// one.
func (c *Context) Index(ssrc uint32) (index uint64, ok bool) {
	s := c.rtpStreams[ssrc]
	if s == nil || !s.started {
		return 0, false
	}
	return s.index, true
}

// SetIndex makes index the highest packet index of the SRTP stream ssrc,
// for a stream that goes on under this Context's key after a rekey: the
// next packet's index is estimated from it (RFC 3711 §3.3.1), so a rekey
// at a sequence-number wrap keeps the rollover counter right, where
// SetROC, which takes the next packet's SEQ as it comes, would not. It
// clears the stream's replay window.
func (c *Context) SetIndex(ssrc uint32, index uint64) {
	if c.closed {
		return
	}
	s := c.stream(ssrc)
	s.index, s.started = index&(1<<48-1), true
	s.roc = uint32(s.index >> 16)
	s.replay = replayWindow{}
	s.replay.init(c.window)
}

func (c *Context) stream(ssrc uint32) *rtpStream {
	if c.last != nil && c.lastSSRC == ssrc {
		return c.last
	}
	s := c.rtpStreams[ssrc]
	if s == nil {
		s = &rtpStream{}
		s.replay.init(c.window)
		c.rtpStreams[ssrc] = s
	}
	c.last, c.lastSSRC = s, ssrc
	return s
}

func (c *Context) rtcpStream(ssrc uint32) *rtcpStream {
	s := c.rtcpStreams[ssrc]
	if s == nil {
		s = &rtcpStream{}
		s.replay.init(c.window)
		c.rtcpStreams[ssrc] = s
	}
	return s
}

// grow returns dst extended by n octets, reusing its capacity when it can.
func grow(dst []byte, n int) []byte {
	return slices.Grow(dst, n)[:len(dst)+n]
}

// EncryptRTP protects the RTP packet and appends the SRTP packet to dst,
// returning the extended slice (RFC 3711 §3.3; RFC 7714 §8 for AEAD): the
// header stays in the clear, the payload (with any padding) is encrypted and
// the authentication tag is appended. It adds profile.AuthTagLen() octets;
// with that much spare capacity in dst it does not allocate.
//
// dst may be packet[:0] to protect in place; otherwise dst and packet must
// not overlap. The SSRC's rollover counter follows the sequence numbers.
func (c *Context) EncryptRTP(dst, packet []byte) ([]byte, error) {
	if c.closed {
		return dst, ErrClosed
	}
	hl, ok := rtpHeaderLen(packet)
	if !ok {
		return dst, errShortRTP
	}
	ssrc := binary.BigEndian.Uint32(packet[8:])
	seq := binary.BigEndian.Uint16(packet[2:])
	s := c.stream(ssrc)
	idx, ok := s.estimate(seq)
	if !ok {
		return dst, errIndexRange
	}
	if idx>>16 == 0xffffffff && uint16(idx) == 0xffff {
		return dst, errExhausted
	}
	n := len(packet)
	t := &c.rtp
	ret := grow(dst, n+t.tagLen)
	out := ret[len(dst):]
	switch {
	case t.gcm != nil && c.plainSRTP:
		copy(out, packet)
		iv := t.gcmIV(ssrc, idx)
		t.gcm.Seal(out[n:n], iv, nil, out[:n])
	case t.gcm != nil:
		copy(out[:hl], packet[:hl])
		iv := t.gcmIV(ssrc, idx)
		t.gcm.Seal(out[hl:hl], iv, packet[hl:], out[:hl])
	default:
		copy(out[:hl], packet[:hl])
		if c.plainSRTP {
			copy(out[hl:n], packet[hl:n])
		} else {
			t.xorCM(out[hl:n], packet[hl:n], ssrc, idx)
		}
		copy(out[n:], t.mac.mac(out[:n], t.rocWord(idx)))
	}
	s.update(idx)
	return ret, nil
}

// DecryptRTP verifies and decrypts the SRTP packet and appends the RTP packet
// to dst, returning the extended slice. On any error dst is returned
// unchanged and no decrypted octet is written: the tag is checked before
// decryption (AES-CM), or the output is cleared on failure (AES-GCM).
// Packets whose index was seen or is older than the replay window fail with
// [ErrReplayed], forged ones with [ErrAuthFailed]. With len(packet) octets of
// spare capacity in dst it does not allocate.
//
// dst may be packet[:0] to decrypt in place; otherwise they must not overlap.
func (c *Context) DecryptRTP(dst, packet []byte) ([]byte, error) {
	if c.closed {
		return dst, ErrClosed
	}
	t := &c.rtp
	hl, ok := rtpHeaderLen(packet)
	if !ok || len(packet)-t.tagLen < hl {
		return dst, errShortRTP
	}
	ssrc := binary.BigEndian.Uint32(packet[8:])
	seq := binary.BigEndian.Uint16(packet[2:])
	s := c.rtpStreams[ssrc]
	var fresh rtpStream
	if s == nil {
		s = &fresh
	}
	idx, ok := s.estimate(seq)
	if !ok {
		return dst, ErrReplayed
	}
	if !s.replay.check(idx) {
		return dst, ErrReplayed
	}
	n := len(packet) - t.tagLen
	var ret []byte
	switch {
	case t.gcm != nil && c.plainSRTP:
		iv := t.gcmIV(ssrc, idx)
		if _, err := t.gcm.Open(t.ks[:0], iv, packet[n:], packet[:n]); err != nil {
			return dst, ErrAuthFailed
		}
		ret = append(dst, packet[:n]...)
	case t.gcm != nil:
		ret = grow(dst, n)
		out := ret[len(dst):]
		iv := t.gcmIV(ssrc, idx)
		if _, err := t.gcm.Open(out[hl:hl], iv, packet[hl:], packet[:hl]); err != nil {
			return dst, ErrAuthFailed
		}
		copy(out[:hl], packet[:hl])
	default:
		if subtle.ConstantTimeCompare(t.mac.mac(packet[:n], t.rocWord(idx))[:t.tagLen], packet[n:]) != 1 {
			return dst, ErrAuthFailed
		}
		ret = grow(dst, n)
		out := ret[len(dst):]
		copy(out[:hl], packet[:hl])
		if c.plainSRTP {
			copy(out[hl:n], packet[hl:n])
		} else {
			t.xorCM(out[hl:n], packet[hl:n], ssrc, idx)
		}
	}
	if s == &fresh {
		s = c.stream(ssrc)
	}
	s.update(idx)
	return ret, nil
}

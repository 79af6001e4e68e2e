package sdp

import (
	"strconv"

	"github.com/xphone-go/xphone/srtp"
)

// offered is one payload format of our outstanding offer.
type offered struct {
	def codecDef
	pt  uint8
}

// offerState is what ProcessAnswer needs to know about our offer.
type offerState struct {
	codecs  []offered
	dtmf    map[uint32]uint8 // clock rate → our telephone-event payload type
	cryptos []srtp.Crypto
	dir     Direction
	mux     bool
	nmedia  int
	audio   int
	// secure says the offer is a re-offer of a session that runs SRTP:
	// an answer without it is not taken (no silent fall back to RTP).
	secure bool
}

// format is a payload format as we write it in an m= section.
type format struct {
	pt     uint8
	rtpmap string // "PCMU/8000"
	fmtp   string
}

func rtpmapOf(name string, clock uint32, channels int) string {
	s := name + "/" + strconv.FormatUint(uint64(clock), 10)
	if channels > 1 {
		s += "/" + strconv.Itoa(channels)
	}
	return s
}

// buildAudio writes our audio m= section.
func (s *Session) buildAudio(proto string, fmts []format, cryptos []srtp.Crypto, mux bool, dir Direction) Media {
	m := Media{Type: "audio", Port: s.cfg.Port, Proto: proto}
	for _, f := range fmts {
		pt := strconv.Itoa(int(f.pt))
		m.Formats = append(m.Formats, pt)
		m.Attributes = append(m.Attributes, Attribute{"rtpmap", pt + " " + f.rtpmap})
		if f.fmtp != "" {
			m.Attributes = append(m.Attributes, Attribute{"fmtp", pt + " " + f.fmtp})
		}
	}
	m.Attributes = append(m.Attributes, Attribute{"ptime", strconv.Itoa(s.cfg.Ptime)})
	if p := s.cfg.RTCPPort; p != 0 && p != s.cfg.Port+1 {
		// RFC 3605 §2.1.
		m.Attributes = append(m.Attributes, Attribute{"rtcp", strconv.Itoa(p)})
	}
	if mux {
		m.Attributes = append(m.Attributes, Attribute{"rtcp-mux", ""})
	}
	for _, c := range cryptos {
		m.Attributes = append(m.Attributes, Attribute{"crypto", c.String()})
	}
	m.Attributes = append(m.Attributes, Attribute{dir.String(), ""})
	return m
}

// Offer returns our offer (RFC 3264 §5): the initial one, or a re-offer
// for hold, resume or a refresh, with the direction set by SetDirection.
// It lists the configured codecs with telephone-event, keeps the payload
// type numbers already in use in the session (RFC 3264 §8.3.2) and every
// m= line of the session, other streams with port 0. The o= version is one
// more than in our previous SDP when the content changed, and unchanged
// otherwise (RFC 3264 §8).
//
// The offer awaits ProcessAnswer (or DiscardOffer); a later Offer replaces
// it. The returned Description is the caller's.
func (s *Session) Offer() (*Description, error) {
	st := &offerState{dtmf: map[uint32]uint8{}, dir: s.dir, mux: s.cfg.RTCPMux}
	used := map[int]bool{}
	// A number the session gave a format stays that format's: a format
	// new to the session does not get it by default (RFC 3264 §8.3.2).
	given := map[int]bool{}
	for _, pt := range s.pts {
		given[pt] = true
	}
	assign := func(key string, def uint8) uint8 {
		pt, mine := s.pts[key]
		if !mine {
			pt = int(def)
		}
		for p := 96; (used[pt] || !mine && given[pt]) && p < 128; p++ {
			pt = p
		}
		used[pt] = true
		return uint8(pt)
	}
	var fmts []format
	for _, def := range s.codecs {
		pt := assign(codecKey(def.name, def.clock), def.pt)
		st.codecs = append(st.codecs, offered{def, pt})
		fmts = append(fmts, format{pt, rtpmapOf(def.name, def.clock, def.channels), def.fmtp})
	}
	if !s.cfg.NoTelephoneEvent {
		for _, def := range s.codecs {
			if _, ok := st.dtmf[def.clock]; ok {
				continue
			}
			pt := assign(codecKey(telephoneEvent, def.clock), dtmfPT(def.clock))
			st.dtmf[def.clock] = pt
			// RFC 4733 §2.4.1: events 0-15 are the DTMF digits, 16 flash.
			fmts = append(fmts, format{pt, rtpmapOf(telephoneEvent, def.clock, 1), "0-16"})
		}
	}
	proto := "RTP/AVP"
	st.secure = s.hasNeg && s.neg.LocalCrypto != nil
	if s.cfg.SRTP != SRTPOff {
		// A re-offer keeps the profile of a session on RTP/SAVP.
		if s.cfg.SRTP == SRTPMandatory || st.secure && s.layout != nil && s.layout[s.audio].Transport() == TransportRTPSAVP {
			proto = "RTP/SAVP"
		}
		for i, p := range s.cfg.SRTPProfiles {
			c, err := s.localKey(p, uint32(i+1))
			if err != nil {
				return nil, err
			}
			st.cryptos = append(st.cryptos, c)
		}
	}
	audio := s.buildAudio(proto, fmts, st.cryptos, st.mux, st.dir)
	d := s.skeleton()
	if s.layout == nil {
		s.layout, s.audio = []Media{audio}, 0
	}
	d.Media = make([]Media, len(s.layout))
	for i := range s.layout {
		if i == s.audio {
			d.Media[i] = audio
		} else {
			d.Media[i] = rejected(&s.layout[i])
		}
	}
	s.layout[s.audio] = rejected(&audio)
	st.nmedia, st.audio = len(d.Media), s.audio
	s.stamp(d)
	s.pending, s.settled = st, nil
	return d, nil
}

// ProcessAnswer applies the peer's answer to our outstanding offer and
// returns the Negotiated media (RFC 3264 §7): the first codec of the answer
// that we offered, with the answer's payload type for sending and ours for
// receiving; telephone-event at that codec's clock rate; the peer's
// address, RTCP port and direction; and SRTP keys when the answer accepted
// one of our a=crypto lines (matched by tag and suite). It fails with an
// error wrapping ErrNotAcceptable when the answer rejects the audio stream,
// has no codec we offered, or does not meet our SRTP mode; the previous
// Negotiated then stays in force. Either way the offer is settled.
func (s *Session) ProcessAnswer(answer *Description) (Negotiated, error) {
	st := s.pending
	if st == nil {
		return Negotiated{}, errNoOffer
	}
	s.pending, s.settled = nil, st
	if len(answer.Media) != st.nmedia {
		return Negotiated{}, notAcceptable("answer has %d m= lines, the offer %d", len(answer.Media), st.nmedia)
	}
	m := &answer.Media[st.audio]
	if m.Type != "audio" || m.Port == 0 {
		return Negotiated{}, notAcceptable("audio stream rejected")
	}
	t := m.Transport()
	if t != TransportRTPAVP && t != TransportRTPSAVP {
		return Negotiated{}, notAcceptable("answer uses transport %q", m.Proto)
	}
	codecs := m.Codecs()
	var n Negotiated
	found := false
	for _, c := range codecs {
		for _, o := range st.codecs {
			if o.def.matches(c) {
				n = Negotiated{
					Codec: o.def.name, PT: c.PT, RecvPT: o.pt, ClockRate: c.ClockRate,
					SampleRate: o.def.sampleRate, Channels: c.Channels, FMTP: c.FMTP,
				}
				found = true
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		return Negotiated{}, notAcceptable("answer has no codec we offered")
	}
	if ours, ok := st.dtmf[n.ClockRate]; ok {
		for _, c := range codecs {
			if isTelephoneEvent(c) && c.ClockRate == n.ClockRate && c.PT != n.PT {
				n.DTMF, n.DTMFPT, n.DTMFRecvPT = true, c.PT, ours
				break
			}
		}
	}
	unusable := false // the answer took one of our a=crypto with a key we cannot use
	if len(st.cryptos) > 0 {
	match:
		for _, rc := range m.Cryptos() {
			for _, oc := range st.cryptos {
				if oc.Tag != rc.Tag || oc.Suite != rc.Suite {
					continue
				}
				if _, ok := usableCrypto(rc, s.cfg.SRTPProfiles); ok {
					local, remote := oc, rc
					n.LocalCrypto, n.RemoteCrypto = &local, &remote
					break match
				}
				unusable = true
			}
		}
	}
	switch {
	case n.LocalCrypto == nil && unusable:
		// The peer will send SRTP we cannot read (an MKI, say): not
		// plain RTP either (RFC 4568 §7.1.3).
		return Negotiated{}, notAcceptable("answer takes our a=crypto with a key we cannot use")
	case n.LocalCrypto == nil && s.cfg.SRTP == SRTPMandatory:
		return Negotiated{}, notAcceptable("answer without a usable a=crypto, and SRTP is mandatory")
	case n.LocalCrypto == nil && t == TransportRTPSAVP:
		return Negotiated{}, notAcceptable("RTP/SAVP answer without a usable a=crypto")
	case n.LocalCrypto == nil && st.secure:
		return Negotiated{}, notAcceptable("answer without a usable a=crypto to a re-offer of an SRTP session")
	}
	n.RTCPMux = st.mux
	if err := remoteTarget(answer, st.audio, &n); err != nil {
		return Negotiated{}, err
	}
	n.RemoteDirection = answer.Direction(st.audio)
	n.Direction = intersect(st.dir, n.RemoteDirection.Reverse())
	s.neg, s.hasNeg = n, true
	return n, nil
}

// ProcessForkAnswer applies an answer to the offer an earlier answer
// settled, from another dialog of the same forked INVITE (RFC 3261
// §13.2.2.4: each dialog a fork creates carries its own answer), as
// ProcessAnswer does: the media follow the dialog the call goes on in, such
// as the 2xx of a fork other than the one whose 183 brought early media. It
// fails like ProcessAnswer when no offer was answered since our last offer
// or the peer's.
func (s *Session) ProcessForkAnswer(answer *Description) (Negotiated, error) {
	if s.pending == nil {
		s.pending = s.settled
	}
	return s.ProcessAnswer(answer)
}

func isTelephoneEvent(c Codec) bool { return equalFold(c.Name, telephoneEvent) }

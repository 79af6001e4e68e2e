package sdp

import (
	"errors"
	"strings"

	"github.com/xphone-go/xphone/srtp"
)

var errNoOffer = errors.New("sdp: no offer outstanding")

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

// Answer answers the peer's offer (RFC 3264 §6) and returns our answer with
// the Negotiated media. It uses the first audio stream with a non-zero port
// that it can accept, and answers every other m= line with port 0 and the
// offer's proto and format list. For that stream it:
//
//   - takes RTP/AVP and RTP/SAVP; RTP/AVPF, RTP/SAVPF and UDP/TLS/RTP/SAVPF
//     (WebRTC, which needs ICE and DTLS) are refused;
//   - chooses the first payload format of the offer that is one of our
//     codecs, or with Config.PreferLocalOrder the first of ours that the
//     offer lists, and answers with that one codec under the offer's payload
//     type number;
//   - echoes telephone-event at the chosen codec's clock rate with the
//     offer's payload type (RFC 4733 §2.1);
//   - answers sendonly with recvonly, recvonly with sendonly, inactive with
//     inactive and sendrecv with sendrecv, each limited by SetDirection
//     (so a held call answers sendrecv with sendonly), and reads an
//     old-style hold (c=0.0.0.0, RFC 3264 §8.4) as the peer not receiving;
//   - with SRTP enabled, picks the first a=crypto whose suite is in
//     Config.SRTPProfiles and answers it with the same tag and suite and our
//     own key (RFC 4568 §5.1.2), following the SRTPMode rules;
//   - answers a=rtcp-mux with a=rtcp-mux when Config.RTCPMux is set.
//
// When no stream can be accepted it returns an error wrapping
// ErrNotAcceptable that says why, and the Session is unchanged. An offer
// that arrives while ours is outstanding replaces it.
func (s *Session) Answer(offer *Description) (*Description, Negotiated, error) {
	if len(offer.Media) == 0 {
		return nil, Negotiated{}, notAcceptable("offer has no media")
	}
	ans := s.skeleton()
	ans.Media = make([]Media, len(offer.Media))
	chosen := -1
	var (
		n      Negotiated
		reason error
	)
	for i := range offer.Media {
		m := &offer.Media[i]
		if chosen < 0 && m.Type == "audio" && m.Port != 0 {
			med, neg, err := s.answerAudio(offer, i)
			if err == nil {
				ans.Media[i], n, chosen = med, neg, i
				continue
			}
			if reason == nil {
				reason = err
			}
		}
		ans.Media[i] = rejected(m)
	}
	if chosen < 0 {
		if reason == nil {
			reason = notAcceptable("offer has no audio stream")
		}
		return nil, Negotiated{}, reason
	}
	// RFC 3264 §8.3.2: the payload type numbers stay for the session.
	s.pts[codecKey(n.Codec, n.ClockRate)] = int(n.RecvPT)
	if n.DTMF {
		s.pts[codecKey(telephoneEvent, n.ClockRate)] = int(n.DTMFRecvPT)
	}
	s.stamp(ans)
	s.layout = make([]Media, len(ans.Media))
	for i := range ans.Media {
		s.layout[i] = rejected(&ans.Media[i])
	}
	s.audio = chosen
	s.pending, s.settled = nil, nil
	s.neg, s.hasNeg = n, true
	return ans, n, nil
}

// answerAudio answers audio stream i of offer.
func (s *Session) answerAudio(offer *Description, i int) (Media, Negotiated, error) {
	m := &offer.Media[i]
	t := m.Transport()
	if t != TransportRTPAVP && t != TransportRTPSAVP {
		return Media{}, Negotiated{}, notAcceptable("unsupported transport %q", m.Proto)
	}
	codecs := m.Codecs()
	c, def, ok := s.choose(codecs)
	if !ok {
		var names []string
		for _, c := range codecs {
			names = append(names, c.Name)
		}
		return Media{}, Negotiated{}, notAcceptable("no common codec (offered: %s)", strings.Join(names, " "))
	}
	var remote *srtp.Crypto
	var profile srtp.Profile
	if s.cfg.SRTP != SRTPOff {
		for _, rc := range m.Cryptos() {
			if p, ok := usableCrypto(rc, s.cfg.SRTPProfiles); ok {
				remote, profile = &rc, p
				break
			}
		}
	}
	switch {
	case t == TransportRTPSAVP && s.cfg.SRTP == SRTPOff:
		return Media{}, Negotiated{}, notAcceptable("RTP/SAVP offered and SRTP is off")
	case t == TransportRTPSAVP && remote == nil:
		return Media{}, Negotiated{}, notAcceptable("no usable a=crypto in an RTP/SAVP offer")
	case remote == nil && s.cfg.SRTP == SRTPMandatory:
		return Media{}, Negotiated{}, notAcceptable("SRTP is mandatory and the offer has no usable a=crypto")
	}
	n := Negotiated{
		Codec: def.name, PT: c.PT, RecvPT: c.PT, ClockRate: c.ClockRate,
		SampleRate: def.sampleRate, Channels: c.Channels, FMTP: c.FMTP,
		RTCPMux: s.cfg.RTCPMux,
	}
	fmts := []format{{c.PT, rtpmapOf(c.Name, c.ClockRate, c.Channels), def.fmtp}}
	if !s.cfg.NoTelephoneEvent {
		for _, e := range codecs {
			if isTelephoneEvent(e) && e.ClockRate == c.ClockRate && e.PT != c.PT {
				n.DTMF, n.DTMFPT, n.DTMFRecvPT = true, e.PT, e.PT
				fmts = append(fmts, format{e.PT, rtpmapOf(e.Name, e.ClockRate, 1), "0-16"})
				break
			}
		}
	}
	var cryptos []srtp.Crypto
	if remote != nil {
		local, err := s.localKey(profile, remote.Tag)
		if err != nil {
			return Media{}, Negotiated{}, err
		}
		n.LocalCrypto, n.RemoteCrypto = &local, remote
		cryptos = []srtp.Crypto{local}
	}
	if err := remoteTarget(offer, i, &n); err != nil {
		return Media{}, Negotiated{}, err
	}
	n.RemoteDirection = offer.Direction(i)
	n.Direction = intersect(s.dir, n.RemoteDirection.Reverse())
	return s.buildAudio(m.Proto, fmts, cryptos, n.RTCPMux, n.Direction), n, nil
}

// choose picks the codec to answer with from the offer's formats.
func (s *Session) choose(codecs []Codec) (Codec, codecDef, bool) {
	if s.cfg.PreferLocalOrder {
		for _, def := range s.codecs {
			for _, c := range codecs {
				if def.matches(c) {
					return c, def, true
				}
			}
		}
		return Codec{}, codecDef{}, false
	}
	for _, c := range codecs {
		for _, def := range s.codecs {
			if def.matches(c) {
				return c, def, true
			}
		}
	}
	return Codec{}, codecDef{}, false
}

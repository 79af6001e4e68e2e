package sdp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xphone-go/xphone/srtp"
)

// countReader is a deterministic Rand for tests.
type countReader struct{ n byte }

func (r *countReader) Read(p []byte) (int, error) {
	for i := range p {
		r.n++
		p[i] = r.n
	}
	return len(p), nil
}

func newSession(t testing.TB, cfg Config) *Session {
	t.Helper()
	if !cfg.Address.IsValid() {
		cfg.Address = netip.MustParseAddr("192.0.2.10")
	}
	if cfg.Port == 0 {
		cfg.Port = 40000
	}
	if cfg.Rand == nil {
		cfg.Rand = &countReader{}
	}
	s, err := NewSession(cfg)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	return s
}

// checkAnswer checks the basic RFC 3264 §6 rules of an answer to offer:
// it parses back to itself, has as many m= lines of the same types and
// protos, rejected streams have port 0 and the offer's formats, and the
// chosen payload types were in the offer.
func checkAnswer(offer, ans *Description, n Negotiated) error {
	b := ans.AppendTo(nil)
	back, err := Parse(b)
	if err != nil {
		return fmt.Errorf("answer does not parse: %v\n%s", err, b)
	}
	if string(back.AppendTo(nil)) != string(b) {
		return fmt.Errorf("answer does not round-trip:\n%s", b)
	}
	if len(back.Media) != len(offer.Media) {
		return fmt.Errorf("answer has %d m= lines, offer %d", len(back.Media), len(offer.Media))
	}
	used := 0
	for i, m := range back.Media {
		o := &offer.Media[i]
		if m.Type != o.Type || m.Proto != o.Proto {
			return fmt.Errorf("m= line %d: got %s %s, want %s %s", i, m.Type, m.Proto, o.Type, o.Proto)
		}
		if m.Port == 0 {
			if len(o.Formats) > 0 && !slices.Equal(m.Formats, o.Formats) {
				return fmt.Errorf("rejected m= line %d: got formats %v, want %v", i, m.Formats, o.Formats)
			}
			continue
		}
		used++
		if o.Port == 0 || m.Type != "audio" {
			return fmt.Errorf("m= line %d: accepted a %s stream with offer port %d", i, o.Type, o.Port)
		}
		for _, f := range m.Formats {
			if !slices.Contains(o.Formats, f) {
				return fmt.Errorf("answer format %s not in the offer %v", f, o.Formats)
			}
		}
		if m.Formats[0] != strconv.Itoa(int(n.PT)) {
			return fmt.Errorf("first answer format %s, negotiated PT %d", m.Formats[0], n.PT)
		}
		od := offer.Direction(i)
		ad := back.Direction(i)
		if (ad.Sends() && !od.Receives()) || (ad.Receives() && !od.Sends()) {
			return fmt.Errorf("answer direction %v to offer %v", ad, od)
		}
	}
	if used != 1 {
		return fmt.Errorf("answer uses %d streams, want 1", used)
	}
	return nil
}

// TestAnswerVectors answers each real-world body (offers and, for the
// WebRTC cases, answers too) with the default Config: PCMU, PCMA, G722 in the
// offerer's order, SRTP off.
func TestAnswerVectors(t *testing.T) {
	tests := []struct {
		file       string
		codecs     []string
		wantErr    string // "" when an answer is expected
		codec      string
		pt, dtmfPT uint8
		dtmf       bool
		remote     string // RemoteRTP
		rtcp       string // RemoteRTCP
		host       string
	}{
		{file: "asterisk-13-webrtc-answer.sdp", wantErr: `unsupported transport "RTP/SAVPF"`},
		// The redacted address is not an IP literal: it comes back as a host name.
		{file: "asterisk-16-pjsip-offer.sdp", codec: PCMA, pt: 8, dtmf: true, dtmfPT: 101, remote: "invalid AddrPort", rtcp: "invalid AddrPort", host: "10.17.XX.XXX"},
		{file: "baresip-0.6.3-offer.sdp", codec: PCMU, pt: 0, dtmf: true, dtmfPT: 101, remote: "10.0.2.15:16906", rtcp: "10.0.2.15:16907"},
		// AMR-WB, AMR and opus come first; G722 is the first one we have. DTMF on PT 10.
		{file: "baresip-android-offer.sdp", codec: G722, pt: 9, dtmf: true, dtmfPT: 10, remote: "192.168.168.187:8570", rtcp: "192.168.168.187:8571"},
		{file: "baresip-android-offer.sdp", codecs: []string{Opus, PCMU}, codec: Opus, pt: 98, remote: "192.168.168.187:8570", rtcp: "192.168.168.187:8571"},
		{file: "chrome-webrtc-offer-2013.sdp", wantErr: `unsupported transport "RTP/SAVPF"`},
		{file: "chrome-webrtc-offer-2018.sdp", wantErr: `unsupported transport "UDP/TLS/RTP/SAVPF"`},
		{file: "chrome-webrtc-offer-2024.sdp", wantErr: `unsupported transport "UDP/TLS/RTP/SAVPF"`},
		{file: "firefox-webrtc-offer-2018.sdp", wantErr: `unsupported transport "UDP/TLS/RTP/SAVPF"`},
		{file: "freeswitch-1.6.12-answer-opus.sdp", wantErr: "no common codec (offered: opus telephone-event)"},
		// With Opus: telephone-event/8000 does not match opus' 48000 clock, so no DTMF.
		// The body is sendonly, so the answer is recvonly.
		{file: "freeswitch-1.6.12-answer-opus.sdp", codecs: []string{Opus}, codec: Opus, pt: 99, remote: "10.0.2.15:24196", rtcp: "10.0.2.15:24197"},
		{file: "freeswitch-webrtc-answer.sdp", wantErr: `unsupported transport "UDP/TLS/RTP/SAVPF"`},
		// Speex first, then GSM; PCMU is ours. The video stream is answered with port 0.
		{file: "linphone-offer.sdp", codec: PCMU, pt: 0, dtmf: true, dtmfPT: 101, remote: "192.168.0.18:7078", rtcp: "192.168.0.18:7079"},
		{file: "telnyx-offer.sdp", codec: G722, pt: 9, dtmf: true, dtmfPT: 101, remote: "64.16.248.213:21250", rtcp: "64.16.248.213:21251"},
		{file: "telnyx-offer.sdp", codecs: []string{PCMA, PCMU}, codec: PCMU, pt: 0, dtmf: true, dtmfPT: 101, remote: "64.16.248.213:21250", rtcp: "64.16.248.213:21251"},
		{file: "twilio-offer.sdp", codec: PCMU, pt: 0, dtmf: true, dtmfPT: 101, remote: "10.0.13.72:40150", rtcp: "10.0.13.72:40151"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+strings.Join(tt.codecs, ","), func(t *testing.T) {
			offer := mustParse(t, string(readVector(t, tt.file)))
			s := newSession(t, Config{Codecs: tt.codecs})
			ans, n, err := s.Answer(offer)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrNotAcceptable) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want ErrNotAcceptable with %q", err, tt.wantErr)
				}
				if _, ok := s.Negotiated(); ok {
					t.Errorf("got a Negotiated after a failed answer, want none")
				}
				return
			}
			if err != nil {
				t.Fatalf("Answer: %v", err)
			}
			if err := checkAnswer(offer, ans, n); err != nil {
				t.Error(err)
			}
			if n.Codec != tt.codec || n.PT != tt.pt || n.RecvPT != tt.pt {
				t.Errorf("codec: got %s %d/%d, want %s %d", n.Codec, n.PT, n.RecvPT, tt.codec, tt.pt)
			}
			if n.DTMF != tt.dtmf || n.DTMFPT != tt.dtmfPT {
				t.Errorf("DTMF: got %v %d, want %v %d", n.DTMF, n.DTMFPT, tt.dtmf, tt.dtmfPT)
			}
			if n.RemoteRTP.String() != tt.remote || n.RemoteRTCP.String() != tt.rtcp || n.RemoteHost != tt.host {
				t.Errorf("remote: got %v %v %q, want %s %s %q", n.RemoteRTP, n.RemoteRTCP, n.RemoteHost, tt.remote, tt.rtcp, tt.host)
			}
			if tt.host != "" && n.RemoteRTP.Port() != uint16(offer.Media[0].Port) {
				t.Errorf("port with a host name: got %d, want %d", n.RemoteRTP.Port(), offer.Media[0].Port)
			}
			if want := offer.Direction(0).Reverse(); n.Direction != want {
				t.Errorf("direction: got %v, want %v", n.Direction, want)
			}
			if c := ans.Connection.Address; c != "192.0.2.10" {
				t.Errorf("answer c=: got %q, want 192.0.2.10", c)
			}
		})
	}
}

// exchange runs a full offer/answer between two Sessions.
func exchange(t *testing.T, offerer, answerer *Session) (offer, answer *Description, no, na Negotiated) {
	t.Helper()
	offer, err := offerer.Offer()
	if err != nil {
		t.Fatalf("Offer: %v", err)
	}
	// Go through the wire form, as a UA does.
	offer = mustParse(t, offer.String())
	answer, na, err = answerer.Answer(offer)
	if err != nil {
		t.Fatalf("Answer: %v\noffer:\n%s", err, offer)
	}
	if err := checkAnswer(offer, answer, na); err != nil {
		t.Fatal(err)
	}
	answer = mustParse(t, answer.String())
	no, err = offerer.ProcessAnswer(answer)
	if err != nil {
		t.Fatalf("ProcessAnswer: %v\nanswer:\n%s", err, answer)
	}
	return offer, answer, no, na
}

func TestOfferAnswerBetweenSessions(t *testing.T) {
	a := newSession(t, Config{Codecs: []string{G722, PCMU}, RTCPMux: true, Port: 30000})
	b := newSession(t, Config{Address: netip.MustParseAddr("198.51.100.7"), Port: 50000, RTCPPort: 50011})
	offer, answer, no, na := exchange(t, a, b)
	if got := offer.Media[0].Formats; !slices.Equal(got, []string{"9", "0", "101"}) {
		t.Errorf("offer formats: got %v, want [9 0 101]", got)
	}
	if v, _ := answer.Media[0].Attr("rtcp"); v != "50011" {
		t.Errorf("answer a=rtcp: got %q, want 50011", v)
	}
	if answer.Media[0].RTCPMux() {
		t.Errorf("answerer without RTCPMux answered a=rtcp-mux")
	}
	if no.Codec != G722 || no.SampleRate != 16000 || no.ClockRate != 8000 || na.Codec != G722 {
		t.Errorf("got %s %d Hz (clock %d) / %s, want G722 16000 Hz (clock 8000)", no.Codec, no.SampleRate, no.ClockRate, na.Codec)
	}
	if no.RemoteRTP.String() != "198.51.100.7:50000" || no.RemoteRTCP.String() != "198.51.100.7:50011" || no.RTCPMux {
		t.Errorf("offerer remote: got %v %v mux %v, want 198.51.100.7:50000 198.51.100.7:50011 false", no.RemoteRTP, no.RemoteRTCP, no.RTCPMux)
	}
	if na.RemoteRTP.String() != "192.0.2.10:30000" || na.RemoteRTCP.String() != "192.0.2.10:30001" {
		t.Errorf("answerer remote: got %v %v, want 192.0.2.10:30000 192.0.2.10:30001", na.RemoteRTP, na.RemoteRTCP)
	}
	if !no.DTMF || no.DTMFPT != 101 || no.DTMFRecvPT != 101 || no.Ptime != 20 {
		t.Errorf("got DTMF %v %d/%d ptime %d, want true 101/101 20", no.DTMF, no.DTMFPT, no.DTMFRecvPT, no.Ptime)
	}
	if no.Direction != SendRecv || na.Direction != SendRecv || no.SRTP() || na.SRTP() {
		t.Errorf("got %v/%v SRTP %v/%v, want sendrecv both, no SRTP", no.Direction, na.Direction, no.SRTP(), na.SRTP())
	}
}

func TestRTCPMux(t *testing.T) {
	a := newSession(t, Config{RTCPMux: true})
	b := newSession(t, Config{RTCPMux: true, Port: 41000})
	_, answer, no, na := exchange(t, a, b)
	if !answer.Media[0].RTCPMux() || !no.RTCPMux || !na.RTCPMux {
		t.Fatalf("rtcp-mux: got answer %v, %v/%v, want true", answer.Media[0].RTCPMux(), no.RTCPMux, na.RTCPMux)
	}
	if no.RemoteRTCP != no.RemoteRTP || no.RemoteRTCP.Port() != 41000 {
		t.Errorf("muxed RTCP: got %v, want %v", no.RemoteRTCP, no.RemoteRTP)
	}
}

func TestHoldResume(t *testing.T) {
	a := newSession(t, Config{})
	b := newSession(t, Config{Port: 42000})
	offer, _, _, _ := exchange(t, a, b)
	v := offer.Origin.SessionVersion
	steps := []struct {
		name       string
		aDir, bDir Direction // what each side asks for
		offerAttr  string
		answerAttr string
		aGot, bGot Direction
		version    uint64 // offset from the first offer's version
	}{
		{"a holds", SendOnly, SendRecv, "sendonly", "recvonly", SendOnly, RecvOnly, 1},
		{"a holds again, unchanged", SendOnly, SendRecv, "sendonly", "recvonly", SendOnly, RecvOnly, 1},
		{"both hold", Inactive, SendOnly, "inactive", "inactive", Inactive, Inactive, 2},
		{"a resumes while b holds", SendRecv, SendOnly, "sendrecv", "sendonly", RecvOnly, SendOnly, 3},
		{"b resumes", SendRecv, SendRecv, "sendrecv", "sendrecv", SendRecv, SendRecv, 3},
		{"a offers recvonly", RecvOnly, SendRecv, "recvonly", "sendonly", RecvOnly, SendOnly, 4},
	}
	for _, st := range steps {
		a.SetDirection(st.aDir)
		b.SetDirection(st.bDir)
		offer, answer, no, na := exchange(t, a, b)
		if _, ok := offer.Media[0].Attr(st.offerAttr); !ok {
			t.Errorf("%s: offer has no a=%s:\n%s", st.name, st.offerAttr, offer)
		}
		if _, ok := answer.Media[0].Attr(st.answerAttr); !ok {
			t.Errorf("%s: answer has no a=%s:\n%s", st.name, st.answerAttr, answer)
		}
		if no.Direction != st.aGot || na.Direction != st.bGot {
			t.Errorf("%s: got %v/%v, want %v/%v", st.name, no.Direction, na.Direction, st.aGot, st.bGot)
		}
		if got := offer.Origin.SessionVersion; got != v+st.version {
			t.Errorf("%s: o= version got %d, want %d", st.name, got, v+st.version)
		}
		if offer.Origin.SessionID != a.Origin().SessionID || answer.Connection.Address == "0.0.0.0" {
			t.Errorf("%s: got session id %s c=%s", st.name, offer.Origin.SessionID, answer.Connection.Address)
		}
	}
}

// TestOldStyleHold answers an RFC 2543 hold (c=0.0.0.0) with recvonly and
// our real address (RFC 3264 §8.4).
func TestOldStyleHold(t *testing.T) {
	offer := mustParse(t, "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n")
	s := newSession(t, Config{})
	ans, n, err := s.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	if n.Direction != RecvOnly || n.RemoteDirection != SendOnly {
		t.Errorf("got %v (peer %v), want recvonly (peer sendonly)", n.Direction, n.RemoteDirection)
	}
	if _, ok := ans.Media[0].Attr("recvonly"); !ok || ans.Connection.Address != "192.0.2.10" {
		t.Errorf("answer:\n%s\nwant a=recvonly and c=192.0.2.10", ans)
	}
}

func TestVersionUnchangedForIdenticalOffers(t *testing.T) {
	s := newSession(t, Config{SRTP: SRTPOptional})
	o1, _ := s.Offer()
	o2, _ := s.Offer()
	if o1.String() != o2.String() {
		t.Errorf("identical re-offer changed:\n%s\n%s", o1, o2)
	}
	s.SetDirection(SendOnly) // a hold: a new version, the same key
	o3, _ := s.Offer()
	if o3.Origin.SessionVersion != o1.Origin.SessionVersion+1 || o3.Media[0].Cryptos()[0].String() != o1.Media[0].Cryptos()[0].String() {
		t.Errorf("hold offer: got version %d and key %v, want %d and the key %v", o3.Origin.SessionVersion, o3.Media[0].Cryptos()[0], o1.Origin.SessionVersion+1, o1.Media[0].Cryptos()[0])
	}
	s.DiscardOffer()
	if _, err := s.ProcessAnswer(o1); !errors.Is(err, errNoOffer) {
		t.Errorf("answer after DiscardOffer: got %v, want %v", err, errNoOffer)
	}
}

func TestSRTPModes(t *testing.T) {
	tests := []struct {
		offerer, answerer SRTPMode
		proto             string
		wantSRTP          bool
		answerErr         string
	}{
		{SRTPOff, SRTPOff, "RTP/AVP", false, ""},
		{SRTPOff, SRTPOptional, "RTP/AVP", false, ""},
		{SRTPOff, SRTPMandatory, "RTP/AVP", false, "SRTP is mandatory"},
		{SRTPOptional, SRTPOff, "RTP/AVP", false, ""},
		{SRTPOptional, SRTPOptional, "RTP/AVP", true, ""},
		{SRTPOptional, SRTPMandatory, "RTP/AVP", true, ""},
		{SRTPMandatory, SRTPOff, "RTP/SAVP", false, "RTP/SAVP offered and SRTP is off"},
		{SRTPMandatory, SRTPOptional, "RTP/SAVP", true, ""},
		{SRTPMandatory, SRTPMandatory, "RTP/SAVP", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.offerer.String()+"-"+tt.answerer.String(), func(t *testing.T) {
			a := newSession(t, Config{SRTP: tt.offerer})
			b := newSession(t, Config{SRTP: tt.answerer, Rand: &countReader{n: 100}})
			offer, err := a.Offer()
			if err != nil {
				t.Fatal(err)
			}
			if offer.Media[0].Proto != tt.proto {
				t.Errorf("offer proto: got %s, want %s", offer.Media[0].Proto, tt.proto)
			}
			if got, want := len(offer.Media[0].Cryptos()), map[bool]int{false: 0, true: 2}[tt.offerer != SRTPOff]; got != want {
				t.Errorf("offer a=crypto lines: got %d, want %d", got, want)
			}
			ans, na, err := b.Answer(mustParse(t, offer.String()))
			if tt.answerErr != "" {
				if !errors.Is(err, ErrNotAcceptable) || !strings.Contains(err.Error(), tt.answerErr) {
					t.Fatalf("got %v, want ErrNotAcceptable with %q", err, tt.answerErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			no, err := a.ProcessAnswer(mustParse(t, ans.String()))
			if err != nil {
				t.Fatal(err)
			}
			if no.SRTP() != tt.wantSRTP || na.SRTP() != tt.wantSRTP {
				t.Fatalf("SRTP: got %v/%v, want %v", no.SRTP(), na.SRTP(), tt.wantSRTP)
			}
			if !tt.wantSRTP {
				return
			}
			// Each side's send key is the other's receive key, under the first offered tag.
			if no.LocalCrypto.String() != na.RemoteCrypto.String() || na.LocalCrypto.String() != no.RemoteCrypto.String() {
				t.Errorf("keys do not cross:\n%v\n%v\n%v\n%v", no.LocalCrypto, na.RemoteCrypto, na.LocalCrypto, no.RemoteCrypto)
			}
			if no.LocalCrypto.String() == no.RemoteCrypto.String() {
				t.Errorf("both directions use the same key %v", no.LocalCrypto)
			}
			if na.LocalCrypto.Tag != 1 || na.LocalCrypto.Suite != "AES_CM_128_HMAC_SHA1_80" {
				t.Errorf("answer crypto: got %d %s, want 1 AES_CM_128_HMAC_SHA1_80", na.LocalCrypto.Tag, na.LocalCrypto.Suite)
			}
			if _, err := no.LocalCrypto.NewContext(); err != nil {
				t.Errorf("negotiated crypto unusable: %v", err)
			}
		})
	}
}

func TestSRTPSuiteChoice(t *testing.T) {
	a := newSession(t, Config{SRTP: SRTPMandatory})
	b := newSession(t, Config{SRTP: SRTPMandatory, SRTPProfiles: []srtp.Profile{srtp.ProfileAES128CMSHA1_32}, Rand: &countReader{n: 7}})
	_, _, no, na := exchange(t, a, b)
	if na.LocalCrypto.Tag != 2 || no.RemoteCrypto.Suite != "AES_CM_128_HMAC_SHA1_32" || no.LocalCrypto.Suite != "AES_CM_128_HMAC_SHA1_32" {
		t.Errorf("got tag %d %s/%s, want tag 2 AES_CM_128_HMAC_SHA1_32", na.LocalCrypto.Tag, no.RemoteCrypto.Suite, no.LocalCrypto.Suite)
	}
	// The Chrome 2013 offer's a=crypto parses, though its transport is refused.
	d := mustParse(t, string(readVector(t, "chrome-webrtc-offer-2013.sdp")))
	if c := d.Media[0].Cryptos(); len(c) != 1 || c[0].Tag != 1 || len(c[0].Keys[0].KeySalt) != 30 {
		t.Errorf("chrome crypto: got %+v", c)
	}
}

// TestSRTPAnswerMandatoryMismatch: an answer that drops our a=crypto fails
// in mandatory mode and gives plain RTP in optional mode.
func TestSRTPAnswerWithoutCrypto(t *testing.T) {
	for _, mode := range []SRTPMode{SRTPOptional, SRTPMandatory} {
		a := newSession(t, Config{SRTP: mode})
		offer, _ := a.Offer()
		ans := mustParse(t, "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 6000 "+offer.Media[0].Proto+" 0\r\n")
		n, err := a.ProcessAnswer(ans)
		if mode == SRTPOptional && (err != nil || n.SRTP()) {
			t.Errorf("optional: got %v SRTP %v, want plain RTP", err, n.SRTP())
		}
		if mode == SRTPMandatory && !errors.Is(err, ErrNotAcceptable) {
			t.Errorf("mandatory: got %v, want ErrNotAcceptable", err)
		}
	}
}

func TestAnswerRejections(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	tests := []struct {
		name, body, want string
	}{
		{"no common codec", head + "m=audio 4000 RTP/AVP 18 3\r\na=rtpmap:18 G729/8000\r\n", "no common codec (offered: G729 GSM)"},
		{"no media", head, "offer has no media"},
		{"video only", head + "m=video 4000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n", "offer has no audio stream"},
		{"audio port 0", head + "m=audio 0 RTP/AVP 0\r\n", "offer has no audio stream"},
		{"no c=", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", "no c= line"},
		{"wrong clock", head + "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n", "no common codec"},
		{"SAVP without crypto", head + "m=audio 4000 RTP/SAVP 0\r\n", "RTP/SAVP offered and SRTP is off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t, Config{})
			_, _, err := s.Answer(mustParse(t, tt.body))
			if !errors.Is(err, ErrNotAcceptable) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrNotAcceptable with %q", err, tt.want)
			}
		})
	}
}

// TestAnswerPortZeroAndSecondAudio: a disabled first audio stream and a video
// stream are answered with port 0; the second audio stream is used.
func TestAnswerPortZeroAndSecondAudio(t *testing.T) {
	offer := mustParse(t, "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"+
		"m=audio 0 RTP/AVP 0\r\nm=video 5002 RTP/AVP 96 97\r\na=rtpmap:96 VP8/90000\r\nm=audio 5004 RTP/AVP 8 0\r\n")
	s := newSession(t, Config{})
	ans, n, err := s.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAnswer(offer, ans, n); err != nil {
		t.Fatal(err)
	}
	ports := []int{ans.Media[0].Port, ans.Media[1].Port, ans.Media[2].Port}
	if !slices.Equal(ports, []int{0, 0, 40000}) || !slices.Equal(ans.Media[1].Formats, []string{"96", "97"}) {
		t.Errorf("got ports %v video formats %v, want [0 0 40000] [96 97]", ports, ans.Media[1].Formats)
	}
	if n.Codec != PCMA || n.RemoteRTP.Port() != 5004 {
		t.Errorf("got %s port %d, want PCMA 5004", n.Codec, n.RemoteRTP.Port())
	}
	// A re-offer of ours keeps all three m= lines, the others at port 0.
	re, err := s.Offer()
	if err != nil {
		t.Fatal(err)
	}
	if len(re.Media) != 3 || re.Media[0].Port != 0 || re.Media[1].Port != 0 || re.Media[1].Type != "video" || re.Media[2].Port != 40000 {
		t.Errorf("re-offer layout:\n%s", re)
	}
	// Payload type numbers stay (RFC 3264 §8.3.2): PCMA keeps 8.
	if re.Media[2].Formats[1] != "8" {
		t.Errorf("re-offer formats: got %v, want PCMA on 8", re.Media[2].Formats)
	}
}

func TestIPv6(t *testing.T) {
	a := newSession(t, Config{Address: netip.MustParseAddr("2001:db8::1")})
	b := newSession(t, Config{Address: netip.MustParseAddr("2001:db8::2"), Port: 43000})
	offer, answer, no, na := exchange(t, a, b)
	if offer.Connection != (Connection{"IN", "IP6", "2001:db8::1"}) || offer.Origin.AddrType != "IP6" {
		t.Errorf("offer c=/o=: got %+v %+v", offer.Connection, offer.Origin)
	}
	if answer.Connection.AddrType != "IP6" {
		t.Errorf("answer c=: got %+v", answer.Connection)
	}
	if no.RemoteRTP.String() != "[2001:db8::2]:43000" || na.RemoteRTP.String() != "[2001:db8::1]:40000" {
		t.Errorf("remote: got %v / %v", no.RemoteRTP, na.RemoteRTP)
	}
	// An IP4 address type with an IPv6 literal is not trusted as an address.
	if _, ok := (Connection{"IN", "IP4", "2001:db8::1"}).Addr(); ok {
		t.Errorf("IP4 connection with an IPv6 address accepted")
	}
}

// TestProcessAnswerRenumbered: an answerer that renumbers telephone-event
// gets its number for sending; we keep ours for receiving.
func TestProcessAnswerRenumbered(t *testing.T) {
	a := newSession(t, Config{Codecs: []string{PCMU, Opus}})
	offer, _ := a.Offer()
	if got := offer.Media[0].Formats; !slices.Equal(got, []string{"0", "111", "101", "110"}) {
		t.Errorf("offer formats: got %v, want [0 111 101 110]", got)
	}
	ans := mustParse(t, "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\na=ptime:30\r\na=maxptime:60\r\na=rtcp:7000 IN IP4 192.0.2.99\r\na=sendonly\r\n")
	n, err := a.ProcessAnswer(ans)
	if err != nil {
		t.Fatal(err)
	}
	want := Negotiated{
		Codec: PCMU, PT: 0, RecvPT: 0, ClockRate: 8000, SampleRate: 8000, Channels: 1,
		Ptime: 30, MaxPtime: 60, DTMF: true, DTMFPT: 96, DTMFRecvPT: 101,
		RemoteRTP:  netip.MustParseAddrPort("192.0.2.9:6000"),
		RemoteRTCP: netip.MustParseAddrPort("192.0.2.99:7000"),
		Direction:  RecvOnly, RemoteDirection: SendOnly,
	}
	if n != want {
		t.Errorf("got %+v, want %+v", n, want)
	}
	if got, _ := a.Negotiated(); got != want {
		t.Errorf("Negotiated(): got %+v", got)
	}
}

// TestProcessForkAnswer: after an answer settled our offer, the answer of
// another fork of the same INVITE (its own dialog, RFC 3261 §13.2.2.4)
// settles it again, with that fork's address and codec; after a new offer
// of ours, or the peer's offer answered, there is none to settle.
func TestProcessForkAnswer(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nt=0 0\r\n"
	a := newSession(t, Config{Codecs: []string{PCMU, PCMA}})
	if _, err := a.Offer(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ProcessAnswer(mustParse(t, head+"c=IN IP4 192.0.2.9\r\nm=audio 6000 RTP/AVP 0\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ProcessAnswer(mustParse(t, head+"c=IN IP4 192.0.2.10\r\nm=audio 7000 RTP/AVP 8\r\n")); err != errNoOffer {
		t.Errorf("a second ProcessAnswer: got %v, want %v", err, errNoOffer)
	}
	n, err := a.ProcessForkAnswer(mustParse(t, head+"c=IN IP4 192.0.2.10\r\nm=audio 7000 RTP/AVP 8\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if n.Codec != PCMA || n.RemoteRTP != netip.MustParseAddrPort("192.0.2.10:7000") {
		t.Errorf("fork answer: got %s at %v, want PCMA at 192.0.2.10:7000", n.Codec, n.RemoteRTP)
	}
	if got, _ := a.Negotiated(); got != n {
		t.Errorf("Negotiated(): got %+v, want the fork's", got)
	}
	// The peer's offer answered: no offer of ours is left to settle.
	if _, _, err := a.Answer(mustParse(t, head+"c=IN IP4 192.0.2.10\r\nm=audio 7000 RTP/AVP 8\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ProcessForkAnswer(mustParse(t, head+"c=IN IP4 192.0.2.9\r\nm=audio 6000 RTP/AVP 0\r\n")); err != errNoOffer {
		t.Errorf("fork answer after the peer's offer: got %v, want %v", err, errNoOffer)
	}
	// A new offer of ours: an answer to it is not a fork's of the old one.
	if _, err := a.Offer(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ProcessForkAnswer(mustParse(t, head+"c=IN IP4 192.0.2.9\r\nm=audio 6000 RTP/AVP 0\r\n")); err != nil {
		t.Errorf("ProcessForkAnswer with an offer outstanding (ProcessAnswer): %v", err)
	}
}

func TestProcessAnswerErrors(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"
	tests := []struct{ name, body, want string }{
		{"rejected", head + "m=audio 0 RTP/AVP 0\r\n", "audio stream rejected"},
		{"two lines", head + "m=audio 5000 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n", "answer has 2 m= lines, the offer 1"},
		{"unoffered codec", head + "m=audio 5000 RTP/AVP 18\r\n", "answer has no codec we offered"},
		{"webrtc", head + "m=audio 5000 UDP/TLS/RTP/SAVPF 0\r\n", "answer uses transport"},
	}
	for _, tt := range tests {
		s := newSession(t, Config{})
		if _, err := s.ProcessAnswer(mustParse(t, tt.body)); err != errNoOffer {
			t.Errorf("%s without an offer: got %v, want %v", tt.name, err, errNoOffer)
		}
		if _, err := s.Offer(); err != nil {
			t.Fatal(err)
		}
		_, err := s.ProcessAnswer(mustParse(t, tt.body))
		if !errors.Is(err, ErrNotAcceptable) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want ErrNotAcceptable with %q", tt.name, err, tt.want)
		}
	}
}

func TestPreferLocalOrder(t *testing.T) {
	offer := mustParse(t, string(readVector(t, "telnyx-offer.sdp"))) // 9 0 8 18 101
	for _, tt := range []struct {
		local bool
		want  string
	}{{false, PCMU}, {true, PCMA}} {
		s := newSession(t, Config{Codecs: []string{PCMA, PCMU}, PreferLocalOrder: tt.local})
		_, n, err := s.Answer(offer)
		if err != nil || n.Codec != tt.want {
			t.Errorf("PreferLocalOrder %v: got %s %v, want %s", tt.local, n.Codec, err, tt.want)
		}
	}
}

func TestNoTelephoneEvent(t *testing.T) {
	s := newSession(t, Config{NoTelephoneEvent: true})
	offer, _ := s.Offer()
	if got := offer.Media[0].Formats; !slices.Equal(got, []string{"0", "8", "9"}) {
		t.Errorf("offer formats: got %v, want [0 8 9]", got)
	}
	ans, n, err := newSession(t, Config{NoTelephoneEvent: true}).Answer(mustParse(t, string(readVector(t, "twilio-offer.sdp"))))
	if err != nil || n.DTMF || len(ans.Media[0].Formats) != 1 {
		t.Errorf("got %v DTMF %v formats %v, want one format, no DTMF", err, n.DTMF, ans.Media[0].Formats)
	}
}

func TestNewSessionErrors(t *testing.T) {
	addr := netip.MustParseAddr("192.0.2.1")
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no address", Config{Port: 1}, "no local media address"},
		{"port", Config{Address: addr, Port: 70000}, "port 70000 out of range"},
		{"codec", Config{Address: addr, Port: 1, Codecs: []string{"G729"}}, `unsupported codec "G729"`},
		{"empty codecs", Config{Address: addr, Port: 1, Codecs: []string{}}, "no codecs"},
		{"duplicate", Config{Address: addr, Port: 1, Codecs: []string{"pcmu", PCMU}}, "listed twice"},
		{"profiles", Config{Address: addr, Port: 1, SRTP: SRTPOptional, SRTPProfiles: []srtp.Profile{}}, "without profiles"},
		{"bad profile", Config{Address: addr, Port: 1, SRTPProfiles: []srtp.Profile{99}}, "invalid SRTP profile"},
	}
	for _, tt := range tests {
		_, err := NewSession(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "sdp: ") {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestReofferKeepsPeerNumbers: after answering baresip's offer, which puts
// telephone-event on 10, our re-offer keeps 10 and G.722 on 9.
func TestReofferKeepsPeerNumbers(t *testing.T) {
	s := newSession(t, Config{})
	ans, _, err := s.Answer(mustParse(t, string(readVector(t, "baresip-android-offer.sdp"))))
	if err != nil {
		t.Fatal(err)
	}
	re, err := s.Offer()
	if err != nil {
		t.Fatal(err)
	}
	if got := re.Media[0].Formats; !slices.Equal(got, []string{"0", "8", "9", "10"}) {
		t.Errorf("re-offer formats: got %v, want [0 8 9 10]", got)
	}
	if re.Origin.SessionVersion != ans.Origin.SessionVersion+1 || re.Origin.SessionID != ans.Origin.SessionID {
		t.Errorf("re-offer o=: got %+v after %+v, want the version one higher", re.Origin, ans.Origin)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{TransportDTLS.String(), "UDP/TLS/RTP/SAVPF"},
		{TransportRTPSAVP.String(), "RTP/SAVP"},
		{Transport(42).String(), "Transport(42)"},
		{SRTPOptional.String(), "optional"},
		{Inactive.String(), "inactive"},
		{Direction(9).String(), "Direction(9)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestReofferKeepsDynamicMeanings: after we answered an offer whose
// telephone-event/48000 is 101 (Linphone's numbering), our re-offer, which
// adds telephone-event/8000 for PCMU, does not give it 101: a dynamic
// number keeps its meaning for the session (RFC 3264 §8.3.2).
func TestReofferKeepsDynamicMeanings(t *testing.T) {
	offer := mustParse(t, "v=0\r\no=linphone 1 1 IN IP4 192.0.2.1\r\ns=Talk\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"+
		"m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100\r\n"+
		"a=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\n"+
		"a=rtpmap:97 speex/16000\r\na=rtpmap:98 speex/8000\r\n"+
		"a=rtpmap:101 telephone-event/48000\r\na=rtpmap:99 telephone-event/16000\r\na=rtpmap:100 telephone-event/8000\r\n")
	s := newSession(t, Config{Codecs: []string{PCMU, Opus}})
	ans, _, err := s.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	maps := func(d *Description) map[string]string {
		out := map[string]string{}
		for _, a := range d.Media[0].Attributes {
			if a.Key == "rtpmap" {
				pt, v, _ := strings.Cut(a.Value, " ")
				out[pt] = strings.ToLower(v)
			}
		}
		return out
	}
	before := maps(ans)
	s.SetDirection(SendOnly)
	re, err := s.Offer()
	if err != nil {
		t.Fatal(err)
	}
	after := maps(re)
	for pt, v := range before {
		if got, ok := after[pt]; ok && got != v {
			t.Errorf("payload type %s: %q in our answer, %q in our re-offer", pt, v, got)
		}
	}
	if len(after) <= len(before) {
		t.Errorf("re-offer's formats %v: want those of the answer %v and more", after, before)
	}
}

// TestReofferKeepsSRTP: with SRTPOptional, a session that an RTP/SAVP
// offer set up on SRTP is re-offered on RTP/SAVP, and an answer without
// a=crypto to that re-offer is not taken: a hold does not silently turn
// an SRTP call into plain RTP.
func TestReofferKeepsSRTP(t *testing.T) {
	peer := newSession(t, Config{SRTP: SRTPMandatory, Address: netip.MustParseAddr("192.0.2.1"), Port: 5000})
	s := newSession(t, Config{SRTP: SRTPOptional})
	off, err := peer.Offer()
	if err != nil {
		t.Fatal(err)
	}
	if _, n, err := s.Answer(mustParse(t, off.String())); err != nil || !n.SRTP() {
		t.Fatalf("answer to an RTP/SAVP offer: SRTP %v, %v", n.SRTP(), err)
	}
	s.SetDirection(SendOnly)
	re, err := s.Offer()
	if err != nil {
		t.Fatal(err)
	}
	if re.Media[0].Proto != "RTP/SAVP" || len(re.Media[0].Cryptos()) == 0 {
		t.Errorf("re-offer of an SRTP session:\n%s\nwant RTP/SAVP with a=crypto", re)
	}
	plain := mustParse(t, "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=recvonly\r\n")
	if n, err := s.ProcessAnswer(plain); !errors.Is(err, ErrNotAcceptable) {
		t.Errorf("a plain answer to it: got SRTP %v, %v; want %v", n.SRTP(), err, ErrNotAcceptable)
	}
	if n, _ := s.Negotiated(); !n.SRTP() {
		t.Error("the session is no longer SRTP after the refused answer")
	}
}

// TestAnswerCryptoWithMKI: with SRTPOptional, an answer that takes our
// a=crypto (tag and suite) with a key that has an MKI, which we cannot
// use, is not acceptable: the peer would send SRTP, so plain RTP is no
// fall back (RFC 4568 §7.1.3).
func TestAnswerCryptoWithMKI(t *testing.T) {
	s := newSession(t, Config{SRTP: SRTPOptional})
	off, err := s.Offer()
	if err != nil {
		t.Fatal(err)
	}
	c := off.Media[0].Cryptos()[0]
	body := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n" +
		"a=crypto:" + strconv.Itoa(int(c.Tag)) + " " + c.Suite + " inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\r\n"
	if n, err := s.ProcessAnswer(mustParse(t, body)); !errors.Is(err, ErrNotAcceptable) {
		t.Errorf("answer with an MKI key: got SRTP %v, %v; want %v", n.SRTP(), err, ErrNotAcceptable)
	}
}

package sdp

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const vectorDir = "../../testdata/vectors/sdp"

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t testing.TB, body string) *Description {
	t.Helper()
	d, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return d
}

// TestVectorsParse parses every real-world body and checks fields of each.
func TestVectorsParse(t *testing.T) {
	tests := []struct {
		file        string
		user        string
		version     uint64
		session     string
		media       int
		mtype       string
		port        int
		proto       string
		formats     int
		conn        string // effective c= address of media 0
		dir         Direction
		transport   Transport
		rtcpMux     bool
		rtcpPort    int // 0: no a=rtcp
		ptime, maxp int
		codec0      string // first codec name of media 0
		cryptos     int
	}{
		{"asterisk-13-webrtc-answer.sdp", "root", 1296162881, "Asterisk PBX 13.3.2", 1, "audio", 17202, "RTP/SAVPF", 3, "31.186.99.61", SendRecv, TransportRTPSAVPF, false, 0, 0, 150, "PCMA", 0},
		{"asterisk-16-pjsip-offer.sdp", "-", 1429284841, "Asterisk", 1, "audio", 12752, "RTP/AVP", 6, "10.17.XX.XXX", SendRecv, TransportRTPAVP, false, 0, 20, 150, "PCMA", 0},
		{"baresip-0.6.3-offer.sdp", "-", 1649997976, "-", 1, "audio", 16906, "RTP/AVP", 3, "10.0.2.15", SendRecv, TransportRTPAVP, false, 0, 20, 0, "PCMU", 0},
		{"baresip-android-offer.sdp", "-", 647389653, "-", 1, "audio", 8570, "RTP/AVP", 14, "192.168.168.187", SendRecv, TransportRTPAVP, false, 0, 20, 0, "AMR-WB", 0},
		{"chrome-webrtc-offer-2013.sdp", "-", 2, "-", 2, "audio", 1, "RTP/SAVPF", 10, "0.0.0.0", SendOnly, TransportRTPSAVPF, true, 1, 0, 60, "opus", 1},
		{"chrome-webrtc-offer-2018.sdp", "-", 2, "-", 1, "audio", 45076, "UDP/TLS/RTP/SAVPF", 13, "192.168.99.58", SendRecv, TransportDTLS, true, 9, 0, 0, "opus", 0},
		{"chrome-webrtc-offer-2024.sdp", "-", 2, "-", 1, "audio", 9, "UDP/TLS/RTP/SAVPF", 7, "0.0.0.0", SendOnly, TransportDTLS, true, 9, 0, 0, "opus", 0},
		{"firefox-webrtc-offer-2018.sdp", "mozilla...THIS_IS_SDPARTA-58.0.1", 1, "-", 1, "audio", 45274, "UDP/TLS/RTP/SAVPF", 5, "192.168.99.58", SendRecv, TransportDTLS, true, 38612, 0, 0, "opus", 0},
		{"freeswitch-1.6.12-answer-opus.sdp", "FreeSWITCH", 1480231473, "FreeSWITCH", 1, "audio", 24196, "RTP/AVP", 2, "10.0.2.15", SendOnly, TransportRTPAVP, false, 0, 20, 0, "opus", 0},
		{"freeswitch-webrtc-answer.sdp", "FreeSWITCH", 1538380017, "FreeSWITCH", 1, "audio", 16628, "UDP/TLS/RTP/SAVPF", 2, "1.2.3.4", SendRecv, TransportDTLS, true, 16628, 20, 0, "PCMA", 0},
		{"linphone-offer.sdp", "jehan-mac", 1239, "Talk", 2, "audio", 7078, "RTP/AVP", 6, "192.168.0.18", SendRecv, TransportRTPAVP, false, 0, 0, 0, "speex", 0},
		{"telnyx-offer.sdp", "Telnyx", 1564556151, "Telnyx", 1, "audio", 21250, "RTP/AVP", 5, "64.16.248.213", SendRecv, TransportRTPAVP, false, 21251, 20, 0, "G722", 0},
		{"twilio-offer.sdp", "root", 81565042, "Twilio Media Gateway", 1, "audio", 40150, "RTP/AVP", 3, "10.0.13.72", SendRecv, TransportRTPAVP, false, 40151, 20, 20, "PCMU", 0},
	}
	files, err := filepath.Glob(filepath.Join(vectorDir, "*.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Errorf("got %d vector files, want %d (one table row each)", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d, err := Parse(readVector(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if d.Origin.Username != tt.user || d.Origin.SessionVersion != tt.version {
				t.Errorf("origin: got %q %d, want %q %d", d.Origin.Username, d.Origin.SessionVersion, tt.user, tt.version)
			}
			if d.SessionName != tt.session {
				t.Errorf("s=: got %q, want %q", d.SessionName, tt.session)
			}
			if len(d.Media) != tt.media {
				t.Fatalf("media: got %d, want %d", len(d.Media), tt.media)
			}
			m := &d.Media[0]
			if m.Type != tt.mtype || m.Port != tt.port || m.Proto != tt.proto || len(m.Formats) != tt.formats {
				t.Errorf("m=: got %s %d %s %d formats, want %s %d %s %d", m.Type, m.Port, m.Proto, len(m.Formats), tt.mtype, tt.port, tt.proto, tt.formats)
			}
			if got := d.ConnectionFor(0).Address; got != tt.conn {
				t.Errorf("c=: got %q, want %q", got, tt.conn)
			}
			if got := d.Direction(0); got != tt.dir {
				t.Errorf("direction: got %v, want %v", got, tt.dir)
			}
			if got := m.Transport(); got != tt.transport {
				t.Errorf("transport: got %v, want %v", got, tt.transport)
			}
			if got := m.RTCPMux(); got != tt.rtcpMux {
				t.Errorf("rtcp-mux: got %v, want %v", got, tt.rtcpMux)
			}
			if port, _, _ := m.RTCP(); port != tt.rtcpPort {
				t.Errorf("a=rtcp: got %d, want %d", port, tt.rtcpPort)
			}
			if p, mp := m.Ptime(); p != tt.ptime || mp != tt.maxp {
				t.Errorf("ptime: got %d/%d, want %d/%d", p, mp, tt.ptime, tt.maxp)
			}
			codecs := m.Codecs()
			if len(codecs) == 0 || codecs[0].Name != tt.codec0 {
				t.Errorf("first codec: got %v, want %s", codecs, tt.codec0)
			}
			if got := len(m.Cryptos()); got != tt.cryptos {
				t.Errorf("a=crypto: got %d, want %d", got, tt.cryptos)
			}
			// Round trip: format, parse again, same model.
			d2, err := Parse(d.AppendTo(nil))
			if err != nil {
				t.Fatalf("reparse: %v", err)
			}
			if !reflect.DeepEqual(d, d2) {
				t.Errorf("round trip: got %+v, want %+v", d2, d)
			}
		})
	}
}

// TestVectorsByteExact checks that formatting reproduces each vector whose
// lines are already in RFC 8866 order byte for byte.
func TestVectorsByteExact(t *testing.T) {
	for _, f := range []string{"asterisk-16-pjsip-offer.sdp", "baresip-android-offer.sdp", "telnyx-offer.sdp", "twilio-offer.sdp", "linphone-offer.sdp", "chrome-webrtc-offer-2013.sdp"} {
		t.Run(f, func(t *testing.T) {
			b := readVector(t, f)
			d, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.String(); got != string(b) {
				t.Errorf("got\n%s\nwant\n%s", got, b)
			}
		})
	}
}

func TestCodecDetails(t *testing.T) {
	tests := []struct {
		file string
		pt   uint8
		want Codec
	}{
		{"firefox-webrtc-offer-2018.sdp", 109, Codec{109, "opus", 48000, 2, "maxplaybackrate=48000;stereo=1;useinbandfec=1"}},
		{"firefox-webrtc-offer-2018.sdp", 9, Codec{9, "G722", 8000, 1, ""}},
		{"baresip-android-offer.sdp", 10, Codec{10, "telephone-event", 8000, 1, "0-15"}},
		{"freeswitch-1.6.12-answer-opus.sdp", 99, Codec{99, "opus", 48000, 2, "useinbandfec=1; minptime=10; maxptime=40"}},
		{"chrome-webrtc-offer-2018.sdp", 110, Codec{110, "telephone-event", 48000, 1, ""}},
		{"chrome-webrtc-offer-2024.sdp", 63, Codec{63, "red", 48000, 2, "111/111"}},
		{"telnyx-offer.sdp", 18, Codec{18, "G729", 8000, 1, "annexb=no"}},
	}
	for _, tt := range tests {
		d := mustParse(t, string(readVector(t, tt.file)))
		var got Codec
		for _, c := range d.Media[0].Codecs() {
			if c.PT == tt.pt {
				got = c
			}
		}
		if got != tt.want {
			t.Errorf("%s PT %d: got %+v, want %+v", tt.file, tt.pt, got, tt.want)
		}
	}
}

func TestStaticPayloadTypesWithoutRTPMap(t *testing.T) {
	d := mustParse(t, "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0 8 9 96 x\n")
	got := d.Media[0].Codecs()
	want := []Codec{{0, "PCMU", 8000, 1, ""}, {8, "PCMA", 8000, 1, ""}, {9, "G722", 8000, 1, ""}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseLenient(t *testing.T) {
	// Bare LF, no final line ending, no s= and no t=, two spaces in o=,
	// an unknown line type and a blank line.
	d := mustParse(t, "v=0\no=-  5 7 IN IP6 ::1\nx=custom\n\nc=IN IP6 2001:db8::1\nm=audio 5000 RTP/AVP 0\nq=media extra\na=sendonly")
	if d.SessionName != "-" || len(d.Times) != 1 || d.Origin.SessionVersion != 7 {
		t.Errorf("got s=%q t=%v version %d, want \"-\" [{0 0}] 7", d.SessionName, d.Times, d.Origin.SessionVersion)
	}
	if want := []Line{{'x', "custom"}}; !reflect.DeepEqual(d.Extra, want) {
		t.Errorf("session extra: got %v, want %v", d.Extra, want)
	}
	if want := []Line{{'q', "media extra"}}; !reflect.DeepEqual(d.Media[0].Extra, want) {
		t.Errorf("media extra: got %v, want %v", d.Media[0].Extra, want)
	}
	a, ok := d.ConnectionFor(0).Addr()
	if !ok || a.String() != "2001:db8::1" {
		t.Errorf("c= address: got %v %v, want 2001:db8::1", a, ok)
	}
	out := d.String()
	if !strings.Contains(out, "x=custom\r\n") || !strings.Contains(out, "q=media extra\r\n") || strings.Contains(out, "\n\n") {
		t.Errorf("format: got %q", out)
	}
	for _, l := range strings.SplitAfter(out, "\n") {
		if l != "" && !strings.HasSuffix(l, "\r\n") {
			t.Errorf("line %q does not end in CRLF", l)
		}
	}
}

func TestParseErrors(t *testing.T) {
	base := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
	tests := []struct {
		name string
		body string
		line int
		want string
	}{
		{"empty", "", 0, "empty body"},
		{"not v first", "o=- 1 1 IN IP4 1.2.3.4\r\n", 1, "first line is not v="},
		{"version 1", "v=1\r\n", 1, "unsupported version"},
		{"no o", "v=0\r\ns=-\r\n", 0, "no o= line"},
		{"short o", "v=0\r\no=- 1 1 IN IP4\r\n", 2, "o= line needs 6 fields"},
		{"bad o version", "v=0\r\no=- 1 x IN IP4 1.2.3.4\r\n", 2, "bad session version"},
		{"garbage line", base + "hello\r\n", 5, "not a <type>=<value> line"},
		{"upper case type", base + "A=x\r\n", 5, "not a <type>=<value> line"},
		{"bad port", base + "m=audio 70000 RTP/AVP 0\r\n", 5, "bad port"},
		{"short m", base + "m=audio 7000\r\n", 5, "m= line needs at least 3 fields"},
		{"o in media", base + "m=audio 7000 RTP/AVP 0\r\no=- 1 1 IN IP4 1.2.3.4\r\n", 6, "o= line inside a media description"},
		{"two c in media", base + "m=audio 7000 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.5\r\n", 7, "repeated c= line in a media description"},
		{"two s", base + "s=again\r\n", 5, "repeated s= line"},
		{"two v", base + "v=0\r\n", 5, "repeated v= line"},
		{"bad c", base + "c=IN IP4\r\n", 5, "c= line needs 3 fields"},
		{"bad b", base + "b=AS\r\n", 5, "bad b= line"},
		{"bad t", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=x 0\r\n", 3, "bad time"},
		{"r before t", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nr=7d 1h 0\r\n", 3, "r= line before any t= line"},
		{"empty attribute", base + "a=:x\r\n", 5, "empty attribute name"},
		{"NUL", base + "a=x\x00y\r\n", 5, "NUL or CR inside a line"},
		{"too large", base + strings.Repeat("a=x\r\n", MaxSize/5), 0, "exceeds"},
		{"too many lines", base + strings.Repeat("\n", MaxLines), MaxLines + 1, "more than 2048 lines"},
		{"too many media", base + strings.Repeat("m=audio 0 RTP/AVP 0\r\n", MaxMedia+1), 5 + MaxMedia, "more than 32 media descriptions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.body))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Error(), tt.want) {
				t.Errorf("got line %d %q, want line %d containing %q", pe.Line, pe.Error(), tt.line, tt.want)
			}
			if !strings.HasPrefix(pe.Error(), "sdp: ") || len(pe.Quote) > 80 {
				t.Errorf("got %q (quote %d bytes), want an \"sdp: \" prefix and a quote of at most 80 bytes", pe.Error(), len(pe.Quote))
			}
		})
	}
}

func TestAttributeForms(t *testing.T) {
	d := mustParse(t, "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\na=msid-semantic: WMS x\r\na=recvonly\r\nm=audio 0 RTP/AVP 0\r\na=rtcp-fb:100 nack \r\n")
	if v, ok := d.Attr("msid-semantic"); !ok || v != " WMS x" {
		t.Errorf("msid-semantic: got %q %v, want \" WMS x\" true", v, ok)
	}
	if v, ok := d.Media[0].Attr("rtcp-fb"); !ok || v != "100 nack " {
		t.Errorf("rtcp-fb: got %q %v, want trailing space kept", v, ok)
	}
	if got := d.Direction(0); got != RecvOnly {
		t.Errorf("session-level direction: got %v, want recvonly", got)
	}
}

func TestDirectionOldHold(t *testing.T) {
	tests := []struct {
		conn string
		attr string
		want Direction
	}{
		{"IN IP4 0.0.0.0", "sendrecv", SendOnly},
		{"IN IP4 0.0.0.0", "recvonly", Inactive},
		{"IN IP4 0.0.0.0", "sendonly", SendOnly},
		{"IN IP6 ::", "sendrecv", SendOnly},
		{"IN IP4 192.0.2.1", "inactive", Inactive},
		{"IN IP4 192.0.2.1", "", SendRecv},
	}
	for _, tt := range tests {
		body := "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=" + tt.conn + "\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
		if tt.attr != "" {
			body += "a=" + tt.attr + "\r\n"
		}
		if got := mustParse(t, body).Direction(0); got != tt.want {
			t.Errorf("c=%s a=%s: got %v, want %v", tt.conn, tt.attr, got, tt.want)
		}
	}
}

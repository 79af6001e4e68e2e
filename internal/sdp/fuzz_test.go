package sdp

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func addSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(vectorDir, "*.sdp"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed vectors: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("v=0\no=- 1 1 IN IP6 ::1\nc=IN IP4 0.0.0.0\nm=audio 4000 RTP/SAVP 0 101\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\na=rtpmap:101 telephone-event/8000\na=inactive\nm=video 0 RTP/AVP 96\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\ni=x\r\nu=http://x\r\ne=a@b\r\np=+1\r\nb=AS:64\r\nt=1 2\r\nr=7d 1h 0 25h\r\nz=0 -1h\r\nk=prompt\r\nx=unknown\r\nm=audio 4000/2 RTP/AVP 0\r\ni=m\r\nb=TIAS:64000\r\nk=clear:x\r\n"))
}

// FuzzParse checks that any body Parse accepts formats to a body that
// parses to the same Description and formats to the same bytes.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := Parse(body)
		if err != nil {
			return
		}
		out := d.AppendTo(nil)
		d2, err := Parse(out)
		if err != nil {
			t.Fatalf("formatted body does not parse: %v\n%q", err, out)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("round trip changed the description:\n%+v\n%+v", d, d2)
		}
		if out2 := d2.AppendTo(nil); string(out2) != string(out) {
			t.Fatalf("format not stable:\n%q\n%q", out, out2)
		}
	})
}

// FuzzAnswer answers any parseable offer with several configurations: it
// must not panic, and an answer must satisfy checkAnswer. The body is also
// fed to ProcessAnswer as an answer to our offer.
func FuzzAnswer(f *testing.F) {
	addSeeds(f)
	cfgs := []Config{
		{},
		{Codecs: []string{Opus, G722, PCMA, PCMU}, SRTP: SRTPOptional, RTCPMux: true, PreferLocalOrder: true},
		{Codecs: []string{PCMA}, SRTP: SRTPMandatory, NoTelephoneEvent: true},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		offer, err := Parse(body)
		if err != nil {
			return
		}
		for i, cfg := range cfgs {
			cfg.Address = netip.MustParseAddr("192.0.2.10")
			cfg.Port = 40000
			cfg.Rand = &countReader{}
			s, err := NewSession(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ans, n, err := s.Answer(offer)
			if err == nil {
				if err := checkAnswer(offer, ans, n); err != nil {
					t.Fatalf("config %d: %v", i, err)
				}
				if got, ok := s.Negotiated(); !ok || !reflect.DeepEqual(got, n) {
					t.Fatalf("config %d: Negotiated() = %+v, want %+v", i, got, n)
				}
			}
			if _, err := s.Offer(); err != nil {
				t.Fatal(err)
			}
			_, _ = s.ProcessAnswer(offer)
		}
	})
}

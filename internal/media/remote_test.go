package media

import (
	"testing"
	"time"

	"github.com/xphone-go/xphone/rtp"
)

// TestRemoteReportFigures: a receiver report about our stream sets the
// peer's view in Stats: fraction and number lost, and its interarrival
// jitter converted from RTP timestamp units at our stream's clock rate
// (G.722: 8,000 units a second, though it samples at 16 kHz). A report
// about another source changes nothing.
func TestRemoteReportFigures(t *testing.T) {
	for _, tt := range []struct {
		codec string
		want  time.Duration // 800 timestamp units
	}{{CodecPCMU, 100 * time.Millisecond}, {CodecG722, 100 * time.Millisecond}} {
		t.Run(tt.codec, func(t *testing.T) {
			t.Parallel()
			// The peer is a session never started: no report but ours.
			a, b := newSession(t, testOptions()), newSession(t, testOptions())
			if err := a.Start(Config{Codec: tt.codec, RemoteRTP: b.LocalRTP(), RemoteRTCP: b.LocalRTCP()}); err != nil {
				t.Fatal(err)
			}
			report := func(ssrc uint32) {
				rr := rtp.ReceiverReport{SSRC: 0x1234, Reports: []rtp.ReceptionReport{
					{SSRC: ssrc, FractionLost: 25, PacketsLost: 3, Jitter: 800}}}
				b, err := rr.AppendTo(nil)
				if err != nil {
					t.Fatal(err)
				}
				a.receiveRTCP(b, a.LocalRTP(), time.Now())
			}
			report(a.l.ssrc + 1)
			if st := a.Stats(); st.RemoteJitter != 0 || st.RemoteLost != 0 {
				t.Errorf("report about another source: jitter %v, lost %d; want 0, 0", st.RemoteJitter, st.RemoteLost)
			}
			report(a.l.ssrc)
			st := a.Stats()
			if st.RemoteJitter != tt.want || st.RemoteLost != 3 || st.RemoteFractionLost != 25 {
				t.Errorf("got jitter %v, lost %d, fraction %d; want %v, 3, 25", st.RemoteJitter, st.RemoteLost, st.RemoteFractionLost, tt.want)
			}
		})
	}
}

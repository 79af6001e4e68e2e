package media

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/xphone-go/xphone/rtp"
	"github.com/xphone-go/xphone/srtp"
)

// rtcpInterval returns the time to the next report: the nominal interval
// randomized over [0.5, 1.5] and divided by e−3/2 to compensate for timer
// reconsideration (RFC 3550 §6.3.1, Appendix A.7). With two participants
// and voice bandwidth the nominal interval is the 5 s minimum (§6.2).
func (s *Session) rtcpInterval() time.Duration {
	const compensation = 1.21828
	f := (0.5 + rand.Float64()) / compensation
	return time.Duration(float64(s.opts.RTCPInterval) * f)
}

// sendReport sends an SR when we sent RTP since the last report, an RR
// otherwise (RFC 3550 §6.4), with the SDES CNAME (§6.5.1) and, when
// leaving, a BYE (§6.6).
func (l *loop) sendReport(now time.Time, bye bool) {
	s := l.s
	if l.lc == nil || l.remoteRTCP.Port() == 0 {
		return
	}
	l.applySR()
	c := &l.rtcpOut
	c.Reset()
	var blocks []rtp.ReceptionReport
	if l.haveSrc {
		blocks = []rtp.ReceptionReport{l.rstats.Report(now)} // one block, every 5 s
	}
	// A sender report while we sent since the last report or the one
	// before (RFC 3550 §6.4, we_sent of §6.3.8).
	if l.sentAny || l.sentPrev {
		// RTP timestamp of now, extrapolated from the last packet sent
		// (RFC 3550 §6.4.1).
		rtpTime := l.lastSRTS + uint32(now.Sub(l.lastSent).Seconds()*float64(l.ci.clockRate))
		c.SenderReports = append(c.SenderReports, rtp.SenderReport{
			SSRC:        l.ssrc,
			NTPTime:     rtp.NTPTime(now),
			RTPTime:     rtpTime,
			PacketCount: l.pktCount,
			OctetCount:  l.octCount,
			Reports:     blocks,
		})
	} else {
		c.ReceiverReports = append(c.ReceiverReports, rtp.ReceiverReport{SSRC: l.ssrc, Reports: blocks})
	}
	l.sentPrev, l.sentAny = l.sentAny, false
	c.SourceDescriptions = append(c.SourceDescriptions, rtp.SourceDescription{
		Chunks: []rtp.SDESChunk{{Source: l.ssrc, Items: []rtp.SDESItem{{Type: rtp.SDESCNAME, Text: []byte(s.cname)}}}},
	})
	if bye {
		c.Goodbyes = append(c.Goodbyes, rtp.Goodbye{Sources: []uint32{l.ssrc}})
	}
	sc := l.bufs()
	buf, err := c.AppendTo(sc.rtcp[:0])
	if err != nil {
		return
	}
	if ctx := l.lc.rtcpSend; ctx != nil {
		if buf, err = ctx.EncryptRTCP(buf[:0], buf); err != nil {
			return
		}
	}
	sc.rtcp = buf[:0]
	conn := s.rtpSock
	if !l.cfg.RTCPMux {
		s.mu.Lock()
		if s.rtcpSock != nil {
			conn = s.rtcpSock
		}
		s.mu.Unlock()
	}
	dst := l.remoteRTCP
	if s.opts.Latch {
		s.rtcpMu.Lock()
		if s.latchedRTCP.IsValid() {
			dst = s.latchedRTCP
		}
		s.rtcpMu.Unlock()
	}
	l.sendTo(conn, buf, dst, -1)
}

// applySR hands a sender report received by the RTCP reader to the
// receive statistics, which only the loop touches.
func (l *loop) applySR() {
	s := l.s
	s.rtcpMu.Lock()
	r := s.remote
	s.remote.srPending = false
	s.rtcpMu.Unlock()
	if r.srPending && l.haveSrc {
		l.rstats.ReceivedSR(r.srNTP, r.srArrival)
	}
}

// receiveRTCP unprotects and parses an RTCP compound packet and records
// what it says about us: round-trip time (RFC 3550 §6.4.1) and the
// peer's loss and jitter figures.
func (s *Session) receiveRTCP(buf []byte, from netip.AddrPort, now time.Time) {
	s.rtcpMu.Lock()
	defer s.rtcpMu.Unlock()
	if c := s.rtcpRecv; c != nil {
		if cap(s.rtcpBuf) < len(buf) {
			s.rtcpBuf = make([]byte, 0, max(len(buf), 1500))
		}
		in := buf
		var err error
		buf, err = c.DecryptRTCP(s.rtcpBuf[:0], in)
		if p := s.rtcpPrev; p != nil && errors.Is(err, srtp.ErrAuthFailed) {
			if now.Before(s.rtcpPrevUntil) {
				buf, err = p.DecryptRTCP(s.rtcpBuf[:0], in) // under the key a rekey replaced
			} else {
				p.Close()
				s.rtcpPrev = nil
			}
		}
		if err != nil {
			s.ctr.authFailed.Add(1)
			return
		}
		s.rtcpBuf = buf[:0]
	}
	c := &s.rtcpIn
	if c.Unmarshal(buf) != nil {
		s.ctr.discarded.Add(1)
		return
	}
	s.remote.lastRTCP = now
	if s.opts.Latch {
		s.latchedRTCP = from
	}
	ssrc := s.l.ssrc // set before the goroutines start, never changed
	check := func(rs []rtp.ReceptionReport) {
		for i := range rs {
			if rs[i].SSRC != ssrc {
				continue
			}
			if rtt, ok := rtp.RoundTripTime(&rs[i], now); ok {
				s.remote.rtt = rtt
			}
			s.remote.fractionLost = rs[i].FractionLost
			s.remote.lost = int64(rs[i].PacketsLost)
			s.remote.jitter = rs[i].Jitter
		}
	}
	for i := range c.SenderReports {
		sr := &c.SenderReports[i]
		s.remote.srNTP, s.remote.srArrival, s.remote.srPending = sr.NTPTime, now, true
		check(sr.Reports)
	}
	for i := range c.ReceiverReports {
		check(c.ReceiverReports[i].Reports)
	}
}

package media

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/xphone-go/xphone/g711"
	"github.com/xphone-go/xphone/internal/audiotest"
	"github.com/xphone-go/xphone/rtp"
	"github.com/xphone-go/xphone/srtp"
)

// pipe is a session whose loop state is driven by hand, without its
// goroutines, on a simulated clock: the per-packet receive path and the
// per-frame send path run exactly as in the loop.
type pipe struct {
	s     *Session
	sink  *net.UDPConn
	from  netip.AddrPort
	now   time.Time
	pkt   rtp.Packet
	wire  []byte // the next packet as it arrives
	buf   []byte // a copy, as the socket would fill it
	enc   *srtp.Context
	frame []int16
}

func newPipe(tb testing.TB, secure bool) *pipe {
	tb.Helper()
	sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sink.Close() })
	s, err := New(testOptions())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	cfg := Config{Codec: CodecPCMU, RemoteRTP: sink.LocalAddr().(*net.UDPAddr).AddrPort()}
	p := &pipe{s: s, sink: sink, from: netip.AddrPortFrom(loopback, 40000), now: time.Unix(1e9, 0)}
	if secure {
		k1, k2, err := keys()
		if err != nil {
			tb.Fatal(err)
		}
		cfg.SRTPSend, cfg.SRTPRecv = k1, k2
		if p.enc, err = k2.NewContext(); err != nil {
			tb.Fatal(err)
		}
	}
	lc, err := s.buildConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.l.init(s, lc); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.l.lc.close() })
	pcm := audiotest.Tone(440, 8000, 8000, 160)
	p.pkt = rtp.Packet{
		Header:  rtp.Header{PayloadType: 0, SequenceNumber: 1, Timestamp: 1000, SSRC: 0x1234},
		Payload: g711.EncodeUlaw(nil, pcm),
	}
	p.wire = make([]byte, 0, 1500)
	p.buf = make([]byte, 1500)
	p.frame = pcm
	return p
}

func keys() (*srtp.Crypto, *srtp.Crypto, error) {
	c1, err := srtp.NewCrypto(1, srtp.ProfileAES128CMSHA1_80, nil)
	if err != nil {
		return nil, nil, err
	}
	c2, err := srtp.NewCrypto(1, srtp.ProfileAES128CMSHA1_80, nil)
	return &c1, &c2, err
}

// receiveOne delivers the next packet and plays out one frame.
func (p *pipe) receiveOne() {
	w, _ := p.pkt.AppendTo(p.wire[:0])
	if p.enc != nil {
		w, _ = p.enc.EncryptRTP(w[:0], w)
	}
	n := copy(p.buf, w)
	p.s.l.receive(p.buf[:n], p.from, p.now)
	p.s.l.playout(p.now)
	select {
	case <-p.s.PCMReader():
	default:
	}
	p.pkt.SequenceNumber++
	p.pkt.Timestamp += 160
	p.now = p.now.Add(FrameDuration)
}

// sendOne queues one frame and runs the send half of a tick.
func (p *pipe) sendOne() {
	p.s.l.pcmQ.push(p.frame)
	p.s.l.send(p.now)
	p.now = p.now.Add(FrameDuration)
}

func TestAllocs(t *testing.T) {
	for _, secure := range []bool{false, true} {
		p := newPipe(t, secure)
		for range 100 {
			p.receiveOne()
			p.sendOne()
		}
		// Playout hands the application frames it keeps, carved from
		// one allocation per slabFrames (4) frames, which AllocsPerRun
		// reports as 0: its average is an integer.
		if got := testing.AllocsPerRun(slabFrames*8, p.receiveOne); got != 0 {
			t.Errorf("secure=%v: receive path: got %v allocs per packet, want 0", secure, got)
		}
		if got := testing.AllocsPerRun(200, p.sendOne); got != 0 {
			t.Errorf("secure=%v: send path: got %v allocs per packet, want 0", secure, got)
		}
		// A whole tick as the loop runs it: pending update check, RTCP
		// poll, playout, send, timeout check, stats snapshot.
		p.s.l.nextRTCP = p.now.Add(time.Hour)
		full := func() {
			w, _ := p.pkt.AppendTo(p.wire[:0])
			if p.enc != nil {
				w, _ = p.enc.EncryptRTP(w[:0], w)
			}
			n := copy(p.buf, w)
			p.s.l.receive(p.buf[:n], p.from, p.now)
			p.s.l.pcmQ.push(p.frame)
			p.s.l.tick(p.now)
			select {
			case <-p.s.pcmOut.load():
			default:
			}
			p.pkt.SequenceNumber++
			p.pkt.Timestamp += 160
			p.now = p.now.Add(FrameDuration)
		}
		if got := testing.AllocsPerRun(slabFrames*8, full); got != 0 {
			t.Errorf("secure=%v: whole tick: got %v allocs, want 0", secure, got)
		}
		if st := p.s.Stats(); st.PacketsSent < 300 || st.PacketsReceived < 100+slabFrames*8 || st.AuthFailed != 0 {
			t.Errorf("secure=%v: got %d sent, %d received, %d auth failures", secure, st.PacketsSent, st.PacketsReceived, st.AuthFailed)
		}
	}
}

// BenchmarkMediaReceive measures the receive path of one 20 ms PCMU
// packet: (SRTP unprotect,) RTP parse, statistics, jitter buffer, decode,
// concealer bookkeeping and delivery of the PCM frame.
func BenchmarkMediaReceive(b *testing.B) {
	for _, v := range []struct {
		name   string
		secure bool
	}{{"impl=ours", false}, {"impl=ours-srtp", true}} {
		b.Run(v.name, func(b *testing.B) {
			p := newPipe(b, v.secure)
			b.ReportAllocs()
			b.SetBytes(160)
			for b.Loop() {
				p.receiveOne()
			}
		})
	}
}

// BenchmarkMediaSend measures the send path of one 20 ms frame: encode to
// PCMU, RTP packetize, (SRTP protect,) and the UDP send on loopback.
func BenchmarkMediaSend(b *testing.B) {
	for _, v := range []struct {
		name   string
		secure bool
	}{{"impl=ours", false}, {"impl=ours-srtp", true}} {
		b.Run(v.name, func(b *testing.B) {
			p := newPipe(b, v.secure)
			b.ReportAllocs()
			b.SetBytes(320)
			for b.Loop() {
				p.sendOne()
			}
		})
	}
}

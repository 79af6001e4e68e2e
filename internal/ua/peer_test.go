package ua

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/sipmsg"
)

// peer is a scripted SIP endpoint on a raw loopback UDP socket, for tests
// that need exact control of what the UA receives.
type peer struct {
	t    *testing.T
	pc   *net.UDPConn
	in   chan peerMsg
	wg   sync.WaitGroup
	port int
}

type peerMsg struct {
	m    *sipmsg.Message
	from netip.AddrPort
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, pc: pc, in: make(chan peerMsg, 256), port: pc.LocalAddr().(*net.UDPAddr).Port}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if n <= 4 {
				continue // keepalive
			}
			m, err := sipmsg.Parse(append([]byte(nil), buf[:n]...))
			if err != nil {
				continue
			}
			select {
			case p.in <- peerMsg{m, from}:
			default:
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); p.wg.Wait() })
	return p
}

func (p *peer) uri(user string) string { return fmt.Sprintf("sip:%s@127.0.0.1:%d", user, p.port) }

func (p *peer) send(m *sipmsg.Message, to netip.AddrPort) {
	p.t.Helper()
	m.SetContentLength()
	if _, err := p.pc.WriteToUDPAddrPort([]byte(m.String()), to); err != nil {
		p.t.Errorf("peer send: %v", err)
	}
}

// next returns the next message match accepts, skipping others, or fails
// the test after 10 s.
func (p *peer) next(what string, match func(*sipmsg.Message) bool) peerMsg {
	p.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case pm := <-p.in:
			if match(pm.m) {
				return pm
			}
		case <-deadline:
			p.t.Fatalf("peer: no %s arrived", what)
		}
	}
}

// within returns the next message match accepts if one arrives within d.
func (p *peer) within(d time.Duration, match func(*sipmsg.Message) bool) (peerMsg, bool) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	for {
		select {
		case pm := <-p.in:
			if match(pm.m) {
				return pm, true
			}
		case <-tm.C:
			return peerMsg{}, false
		}
	}
}

// none reports a message match accepts that arrives within d.
func (p *peer) none(d time.Duration, match func(*sipmsg.Message) bool) *sipmsg.Message {
	if pm, ok := p.within(d, match); ok {
		return pm.m
	}
	return nil
}

func isReq(method string) func(*sipmsg.Message) bool {
	return func(m *sipmsg.Message) bool { return m.IsRequest() && m.Method == method }
}

// isNewReq is isReq for a test that must not take a retransmission for
// the next request: on a loaded machine a request can be sent again
// (Timer A or E) before the test answers it, and the copy waits in the
// peer's queue. It accepts each request (top Via branch) once.
func isNewReq(method string) func(*sipmsg.Message) bool {
	seen := make(map[string]bool)
	return func(m *sipmsg.Message) bool {
		if !m.IsRequest() || m.Method != method {
			return false
		}
		v, _ := m.Via()
		if seen[v.Branch()] {
			return false
		}
		seen[v.Branch()] = true
		return true
	}
}

func isResp(code int, method string) func(*sipmsg.Message) bool {
	return func(m *sipmsg.Message) bool {
		cs, _ := m.CSeq()
		return !m.IsRequest() && m.StatusCode == code && cs.Method == method
	}
}

func token() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// respond answers req with code, a To tag, our Contact and an optional SDP
// body.
func (p *peer) respond(pm peerMsg, code int, tag, body string, extra ...string) *sipmsg.Message {
	p.t.Helper()
	r := sipmsg.NewResponse(pm.m, code, "")
	if code > 100 {
		r.SetToTag(tag)
	}
	r.Add("Contact", fmt.Sprintf("<sip:peer@127.0.0.1:%d>", p.port))
	for i := 0; i+1 < len(extra); i += 2 {
		r.Add(extra[i], extra[i+1])
	}
	if body != "" {
		r.Add("Content-Type", "application/sdp")
		r.Body = []byte(body)
	}
	p.send(r, pm.from)
	return r
}

// invite builds an INVITE from the peer to target with body (may be empty).
func (p *peer) invite(target, body string) *sipmsg.Message {
	uri, err := sipmsg.ParseURI(target)
	if err != nil {
		p.t.Fatal(err)
	}
	m := sipmsg.NewRequest("INVITE", uri)
	m.Add("Via", fmt.Sprintf("SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s", p.port, token()))
	m.Add("From", fmt.Sprintf("<sip:peer@127.0.0.1:%d>;tag=%s", p.port, token()))
	m.Add("To", "<"+target+">")
	m.Add("Call-ID", token()+"@peer")
	m.Add("CSeq", "1 INVITE")
	m.Add("Max-Forwards", "70")
	m.Add("Contact", fmt.Sprintf("<sip:peer@127.0.0.1:%d>", p.port))
	if body != "" {
		m.Add("Content-Type", "application/sdp")
		m.Body = []byte(body)
	}
	return m
}

// ack builds the ACK for a 2xx to inv (RFC 3261 §13.2.2.4), with body.
func (p *peer) ack(inv, ok *sipmsg.Message, body string) *sipmsg.Message {
	c, err := ok.Contact()
	if err != nil {
		p.t.Fatalf("2xx without Contact: %v", err)
	}
	m := sipmsg.NewRequest("ACK", c.URI)
	m.Add("Via", fmt.Sprintf("SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s", p.port, token()))
	m.Add("From", inv.Get("From"))
	m.Add("To", ok.Get("To"))
	m.Add("Call-ID", inv.CallID())
	cs, _ := inv.CSeq()
	m.Add("CSeq", fmt.Sprintf("%d ACK", cs.Seq))
	m.Add("Max-Forwards", "70")
	if body != "" {
		m.Add("Content-Type", "application/sdp")
		m.Body = []byte(body)
	}
	return m
}

// peerSDP is an SDP description of the peer's media at rtpPort.
func peerSDP(rtpPort int, codecs ...string) string {
	pts := map[string]string{"PCMU": "0", "PCMA": "8", "G722": "9"}
	var fmts, maps []string
	for _, c := range codecs {
		fmts = append(fmts, pts[c])
		rate := "8000"
		maps = append(maps, "a=rtpmap:"+pts[c]+" "+c+"/"+rate)
	}
	fmts = append(fmts, "101")
	maps = append(maps, "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15")
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\n%s\r\na=sendrecv\r\n",
		rtpPort, strings.Join(fmts, " "), strings.Join(maps, "\r\n"))
}

// rtpSink is a UDP socket that counts the RTP packets it receives.
type rtpSink struct {
	pc   *net.UDPConn
	got  chan struct{}
	port int
}

func newRTPSink(t *testing.T) *rtpSink {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &rtpSink{pc: pc, got: make(chan struct{}, 1), port: pc.LocalAddr().(*net.UDPAddr).Port}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, err := pc.Read(buf)
			if err != nil {
				return
			}
			if n >= 12 && buf[0]>>6 == 2 {
				select {
				case s.got <- struct{}{}:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	return s
}

func (s *rtpSink) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no RTP arrived at the peer")
	}
}

// newUA connects a UA on loopback with test defaults; mod adjusts cfg.
func newUA(t *testing.T, mod func(*Config)) *UA {
	t.Helper()
	cfg := Config{
		Username:   "test",
		ListenAddr: "127.0.0.1:0",
		UserAgent:  "xphone-test",
		Media:      media.Options{Address: netip.MustParseAddr("127.0.0.1"), MediaTimeout: -1},
		Codecs:     []string{"PCMU"},
	}
	if mod != nil {
		mod(&cfg)
	}
	u := New(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := u.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		if u.Connected() {
			u.Disconnect(context.Background())
		}
	})
	return u
}

func waitDone(t *testing.T, c *Call) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("call did not end (state %v)", c.State())
	}
}

// dialAsync runs Dial in a goroutine; the result arrives on the channel.
type dialResult struct {
	c   *Call
	err error
}

func dialAsync(ctx context.Context, u *UA, target string, o DialOptions) chan dialResult {
	ch := make(chan dialResult, 1)
	go func() {
		c, err := u.Dial(ctx, target, o)
		ch <- dialResult{c, err}
	}()
	return ch
}

func recvDial(t *testing.T, ch chan dialResult) dialResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("Dial did not return")
	}
	return dialResult{}
}

// hangupFrom ends c and answers its BYE.
func (p *peer) hangupFrom(c *Call) {
	p.t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.End(context.Background()) }()
	p.respond(p.next("BYE", isReq("BYE")), 200, "", "")
	if err := <-done; err != nil {
		p.t.Errorf("End: %v", err)
	}
}

// answered is an outbound call of u that the peer answered 200 (PCMU, to
// sink) and the UA ACKed.
type answered struct {
	c    *Call
	inv  peerMsg         // the INVITE
	ok   *sipmsg.Message // the peer's 200
	tag  string          // the peer's To tag
	sink *rtpSink
}

// dialAnswered has u call the peer and the peer answer; it returns once
// the ACK of the 200 arrived.
func (p *peer) dialAnswered(ctx context.Context, u *UA) answered {
	p.t.Helper()
	res := dialAsync(ctx, u, p.uri("bob"), DialOptions{})
	a := answered{inv: p.next("INVITE", isReq("INVITE")), tag: token(), sink: newRTPSink(p.t)}
	a.ok = p.respond(a.inv, 200, a.tag, peerSDP(a.sink.port, "PCMU"))
	r := recvDial(p.t, res)
	if r.err != nil {
		p.t.Fatalf("Dial: %v", r.err)
	}
	a.c = r.c
	p.next("ACK of the 200", isReq("ACK"))
	return a
}

// callIn has the peer call u with a PCMU offer to port 40000, ACKs the
// 200 and returns the call u accepted (its OnIncoming sends it on calls),
// once Active, with the peer's INVITE and the 200.
func (p *peer) callIn(u *UA, calls chan *Call) (*Call, *sipmsg.Message, peerMsg) {
	p.t.Helper()
	inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
	p.send(inv, netipAddr(u))
	ok := p.next("200", isResp(200, "INVITE"))
	p.send(p.ack(inv, ok.m, ""), ok.from)
	c := recvCall(p.t, calls)
	waitState(p.t, c, StateActive)
	return c, inv, ok
}

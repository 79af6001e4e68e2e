package phonetest

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/sipmsg"
)

// pbxWait bounds every wait for a message; nothing is asserted about time.
const pbxWait = 10 * time.Second

// testUA is a minimal SIP endpoint over a raw UDP socket, scripted by the
// test: it builds requests and responses with sipmsg, answers challenges
// with digest.Client, and hands what arrives to expect.
type testUA struct {
	t      testing.TB
	pbx    *PBX
	user   string
	conn   *net.UDPConn
	tcp    net.Conn // when set, u speaks TCP over it instead of UDP
	addr   netip.AddrPort
	in     chan *sipmsg.Message
	client *digest.Client
	tag    string
	callID string

	mu     sync.Mutex
	seq    uint32
	branch int
}

func newTestUA(t testing.TB, pbx *PBX, user, password string) *testUA {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	u := &testUA{
		t: t, pbx: pbx, user: user, conn: conn,
		addr:   conn.LocalAddr().(*net.UDPAddr).AddrPort(),
		in:     make(chan *sipmsg.Message, 256),
		client: &digest.Client{Username: user, Password: password},
		tag:    user + "-tag",
		callID: user + "-call@test",
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(u.in)
				return
			}
			m, err := sipmsg.Parse(buf[:n])
			if err != nil {
				continue
			}
			select {
			case u.in <- m:
			default: // the test is not reading: drop, as a network would
			}
		}
	})
	t.Cleanup(func() {
		_ = conn.Close()
		wg.Wait()
	})
	return u
}

// newTCPTestUA is a testUA that speaks TCP over one connection to the PBX
// and registers a Contact with transport=tcp.
func newTCPTestUA(t testing.TB, pbx *PBX, user, password string) *testUA {
	t.Helper()
	conn, err := net.Dial("tcp", pbx.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	u := &testUA{
		t: t, pbx: pbx, user: user, tcp: conn,
		addr:   conn.LocalAddr().(*net.TCPAddr).AddrPort(),
		in:     make(chan *sipmsg.Message, 256),
		client: &digest.Client{Username: user, Password: password},
		tag:    user + "-tag",
		callID: user + "-call@test",
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		r := sipmsg.NewReader(conn, nil)
		for {
			m, _, err := r.Read()
			if err != nil {
				close(u.in)
				return
			}
			if m == nil {
				continue
			}
			select {
			case u.in <- m:
			default:
			}
		}
	})
	t.Cleanup(func() {
		_ = conn.Close()
		wg.Wait()
	})
	return u
}

func (u *testUA) contact() string {
	if u.tcp != nil {
		return "sip:" + u.user + "@" + u.addr.String() + ";transport=tcp"
	}
	return "sip:" + u.user + "@" + u.addr.String()
}

func (u *testUA) proto() string {
	if u.tcp != nil {
		return "TCP"
	}
	return "UDP"
}

func (u *testUA) nextBranch() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.branch++
	return fmt.Sprintf("z9hG4bK-%s-%d", u.user, u.branch)
}

func (u *testUA) nextSeq() uint32 {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seq++
	return u.seq
}

// request builds an out-of-dialog request from u to toURI with Request-URI
// ruri, a fresh branch and the next CSeq.
func (u *testUA) request(method, ruri, toURI string) *sipmsg.Message {
	u.t.Helper()
	uri, err := sipmsg.ParseURI(ruri)
	if err != nil {
		u.t.Fatal(err)
	}
	m := sipmsg.NewRequest(method, uri)
	m.Add("Via", "SIP/2.0/"+u.proto()+" "+u.addr.String()+";branch="+u.nextBranch()+";rport")
	m.Add("Max-Forwards", "70")
	m.Add("From", "<"+u.pbx.UserURI(u.user)+">;tag="+u.tag)
	m.Add("To", "<"+toURI+">")
	m.Add("Call-ID", u.callID)
	m.Add("CSeq", fmt.Sprintf("%d %s", u.nextSeq(), method))
	m.Add("Contact", "<"+u.contact()+">")
	m.SetContentLength()
	return m
}

func (u *testUA) send(m *sipmsg.Message) {
	u.t.Helper()
	var err error
	if u.tcp != nil {
		_, err = u.tcp.Write(m.AppendTo(nil))
	} else {
		_, err = u.conn.WriteToUDPAddrPort(m.AppendTo(nil), u.pbx.Addr())
	}
	if err != nil {
		u.t.Fatal(err)
	}
}

// expect returns the first message that arrives and satisfies pred,
// skipping others (retransmissions, 100 Trying); it fails the test after
// pbxWait.
func (u *testUA) expect(what string, pred func(*sipmsg.Message) bool) *sipmsg.Message {
	u.t.Helper()
	timer := time.NewTimer(pbxWait)
	defer timer.Stop()
	for {
		select {
		case m, ok := <-u.in:
			if !ok {
				u.t.Fatalf("%s: socket closed while waiting for %s", u.user, what)
			}
			if pred(m) {
				return m
			}
		case <-timer.C:
			u.t.Fatalf("%s: no %s within %v", u.user, what, pbxWait)
		}
	}
}

// answers reports whether m is a response to req: same branch, same method.
func answers(m, req *sipmsg.Message) bool {
	if m.IsRequest() || branchOf(m) != branchOf(req) {
		return false
	}
	cs, err := m.CSeq()
	return err == nil && cs.Method == req.Method
}

func branchOf(m *sipmsg.Message) string {
	v, err := m.Via()
	if err != nil {
		return ""
	}
	return v.Branch()
}

// response waits for the first response to req above 100.
func (u *testUA) response(req *sipmsg.Message) *sipmsg.Message {
	u.t.Helper()
	return u.expect("response to "+req.Method, func(m *sipmsg.Message) bool {
		return answers(m, req) && m.StatusCode > 100
	})
}

// final waits for the final response to req.
func (u *testUA) final(req *sipmsg.Message) *sipmsg.Message {
	u.t.Helper()
	return u.expect("final response to "+req.Method, func(m *sipmsg.Message) bool {
		return answers(m, req) && m.StatusCode >= 200
	})
}

// requestFor waits for a request of method.
func (u *testUA) requestFor(method string) *sipmsg.Message {
	u.t.Helper()
	return u.expect(method, func(m *sipmsg.Message) bool { return m.IsRequest() && m.Method == method })
}

// authorized answers the 401 or 407 resp to req: it acknowledges the
// challenge of an INVITE and returns req again with credentials, a new
// branch and the next CSeq, not yet sent.
func (u *testUA) authorized(req, resp *sipmsg.Message) *sipmsg.Message {
	u.t.Helper()
	if req.Method == "INVITE" {
		ack, err := sipmsg.NewAck(req, resp)
		if err != nil {
			u.t.Fatal(err)
		}
		u.send(ack)
	}
	hdr, credHdr := "WWW-Authenticate", "Authorization"
	if resp.StatusCode == 407 {
		hdr, credHdr = "Proxy-Authenticate", "Proxy-Authorization"
	}
	var chals []digest.Challenge
	for _, v := range resp.Values(hdr) {
		c, err := digest.ParseChallenge(v)
		if err != nil {
			u.t.Fatalf("%s: %v", hdr, err)
		}
		chals = append(chals, c)
	}
	i := digest.Strongest(chals)
	if i < 0 {
		u.t.Fatalf("no usable challenge in %d %s", resp.StatusCode, resp.Reason)
	}
	cr, err := u.client.Authorize(&chals[i], digest.Request{Method: req.Method, URI: req.RequestURI.String(), Body: req.Body})
	if err != nil {
		u.t.Fatal(err)
	}
	again := req.Clone()
	via, _ := again.Via()
	via.Params = via.Params.Set("branch", u.nextBranch())
	if err := again.SetVia(via); err != nil {
		u.t.Fatal(err)
	}
	again.Set("CSeq", fmt.Sprintf("%d %s", u.nextSeq(), req.Method))
	again.Del(credHdr)
	again.Add(credHdr, cr.String())
	return again
}

// do sends req, answers one challenge and returns the first response above
// 100 to the request that was sent last, and that request.
func (u *testUA) do(req *sipmsg.Message) (resp, sent *sipmsg.Message) {
	u.t.Helper()
	u.send(req)
	resp = u.response(req)
	if resp.StatusCode == 401 || resp.StatusCode == 407 {
		req = u.authorized(req, resp)
		u.send(req)
		resp = u.response(req)
	}
	return resp, req
}

// register registers u's contact for expires seconds and returns the
// final response.
func (u *testUA) register(expires string) *sipmsg.Message {
	u.t.Helper()
	req := u.request("REGISTER", u.pbx.URI(), u.pbx.UserURI(u.user))
	req.Set("Call-ID", u.user+"-reg@test")
	if expires != "" {
		req.Add("Expires", expires)
	}
	resp, _ := u.do(req)
	return resp
}

// answer builds u's response to req with u's To tag and, for a 2xx to an
// INVITE, a Contact.
func (u *testUA) answer(req *sipmsg.Message, code int) *sipmsg.Message {
	r := sipmsg.NewResponse(req, code, "")
	_ = r.SetToTag(u.tag)
	if req.Method == "INVITE" && code >= 200 && code < 300 {
		r.Add("Contact", "<"+u.contact()+">")
	}
	return r
}

// fakeClock is a clock the test moves forward.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

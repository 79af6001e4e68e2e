package transaction

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/leakcheck"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

var (
	addrA = netip.MustParseAddrPort("192.0.2.1:5060")
	addrB = netip.MustParseAddrPort("192.0.2.2:5060")
)

// sent is one message a recorder saw.
type sent struct {
	at  time.Duration
	msg *sipmsg.Message
	dst transport.Addr
}

// recorder is a Sender that records what it is asked to send, with the
// (bubble) time since it was made; it can be told to fail.
type recorder struct {
	mu    sync.Mutex
	start time.Time
	log   []sent
	fail  error
}

func newRecorder() *recorder { return &recorder{start: time.Now()} }

func (r *recorder) Send(_ context.Context, m *sipmsg.Message, dst transport.Addr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	// Re-parse as the peer would, so that tests inspect the wire form.
	c, err := sipmsg.Parse(m.AppendTo(nil))
	if err != nil {
		panic(err)
	}
	r.log = append(r.log, sent{time.Since(r.start), c, dst})
	return nil
}

func (r *recorder) setFail(err error) {
	r.mu.Lock()
	r.fail = err
	r.mu.Unlock()
}

// sends returns what was sent so far; it clears the log when reset is set.
func (r *recorder) sends() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sent(nil), r.log...)
}

// times returns the send times of messages whose start line begins with
// prefix ("INVITE", "ACK", "SIP/2.0 486", ...).
func (r *recorder) times(prefix string) []time.Duration {
	var ts []time.Duration
	for _, s := range r.sends() {
		if strings.HasPrefix(startLine(s.msg), prefix) {
			ts = append(ts, s.at)
		}
	}
	return ts
}

func startLine(m *sipmsg.Message) string {
	s := m.String()
	return s[:strings.Index(s, "\r\n")]
}

// tu is a TU for tests: it records what the layer hands it and can answer
// new requests through onRequest.
type tu struct {
	mu        sync.Mutex
	requests  []*ServerTx
	outside   []transport.Inbound
	errs      []error
	onRequest func(tx *ServerTx)
}

func (u *tu) HandleRequest(tx *ServerTx) {
	u.mu.Lock()
	u.requests = append(u.requests, tx)
	f := u.onRequest
	u.mu.Unlock()
	if f != nil {
		f(tx)
	}
}

func (u *tu) HandleOutside(in transport.Inbound) {
	u.mu.Lock()
	u.outside = append(u.outside, in)
	u.mu.Unlock()
}

func (u *tu) HandleServerError(tx *ServerTx, err error) {
	u.mu.Lock()
	u.errs = append(u.errs, err)
	u.mu.Unlock()
}

func (u *tu) snapshot() (reqs []*ServerTx, outside []transport.Inbound, errs []error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append(reqs, u.requests...), append(outside, u.outside...), append(errs, u.errs...)
}

func udp(ap netip.AddrPort) transport.Addr {
	return transport.Addr{Protocol: transport.UDP, AddrPort: ap}
}

// request builds a request from alice at 192.0.2.1 with the given method,
// branch (a missing one when "") and transport.
func request(t testing.TB, method, branch, proto string) *sipmsg.Message {
	t.Helper()
	via := "SIP/2.0/" + proto + " 192.0.2.1:5060"
	if branch != "" {
		via += ";branch=" + branch
	}
	return parse(t, method+" sip:bob@192.0.2.2 SIP/2.0\r\n"+
		"Via: "+via+"\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:alice@192.0.2.1>;tag=a1\r\n"+
		"To: <sip:bob@192.0.2.2>\r\n"+
		"Call-ID: c1@192.0.2.1\r\n"+
		"CSeq: 1 "+method+"\r\n"+
		"Contact: <sip:alice@192.0.2.1>\r\n"+
		"Content-Length: 0\r\n\r\n")
}

func parse(t testing.TB, s string) *sipmsg.Message {
	t.Helper()
	m, err := sipmsg.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return m
}

// reply builds the peer's response to req (as it arrived on the wire) with
// To tag "b1".
func reply(t testing.TB, req *sipmsg.Message, code int) *sipmsg.Message {
	t.Helper()
	r := sipmsg.NewResponse(req, code, "")
	if code > 100 {
		if err := r.SetToTag("b1"); err != nil {
			t.Fatal(err)
		}
	}
	return parse(t, r.String())
}

// inbound wraps m as a message from the peer at addrA over proto.
func inbound(m *sipmsg.Message, proto transport.Protocol) transport.Inbound {
	return transport.Inbound{Msg: m, Source: transport.Addr{Protocol: proto, AddrPort: addrA}}
}

// wire returns a fresh parsed copy of m, as a retransmission would arrive.
func wire(t testing.TB, m *sipmsg.Message) *sipmsg.Message {
	t.Helper()
	return parse(t, m.String())
}

// drain reads what is already queued on ch without blocking and reports
// whether ch is closed.
func drain(ch <-chan *sipmsg.Message) (got []int, closed bool) {
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				return got, true
			}
			got = append(got, m.StatusCode)
		default:
			return got, false
		}
	}
}

func checkEmpty(t testing.TB, l *Layer) {
	t.Helper()
	if c, s := l.counts(); c != 0 || s != 0 {
		t.Errorf("live transactions: got %d client, %d server, want 0, 0", c, s)
	}
}

func sec(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var errBoom = errors.New("boom")

package ua

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// FuzzDialog feeds hostile SIP messages to a live call inside a UA: no
// input may panic, go unanswered, or leave a call or a goroutine behind.
//
// An input is a message template. Before it is parsed its placeholders take
// the values of the live call, an inbound call the UA accepted from a
// scripted peer (dialogHarness):
//
//	$CALLID $FROMTAG $TOTAG  the call's dialog (From is the peer)
//	$PEER $UA                host:port of the peer and of the UA
//	$INVBRANCH               the branch of the INVITE that set the call up
//	$BRANCH                  a token new for each input (branches, Call-IDs)
//	$CSEQ                    a CSeq number above any used before
//	$LEN                     the length of the body after the first blank line
//
// A message that parses and validates is handed to the UA's transaction
// layer as the UDP transport hands one over, from the peer (inject). A
// request with a branch not seen before (one holding the new token, or the
// first use of another) starts a transaction and must get a final response
// within hangAfter; other requests (ACK, reused branches, which the layer
// may absorb) are not waited for.
//
// An input that starts with the line $TRANSFER is a blind transfer of the
// live call (we are the transferor, RFC 3515): the harness starts
// BlindTransfer, the peer answers its REFER 202, and the rest of the input,
// split at lines $NEXT into at most maxTransferParts templates (typically
// NOTIFYs of the refer event, RFC 3515 §2.4.4, with message/sipfrag
// bodies, RFC 3420), is delivered as above, where $REFERSEQ is the CSeq
// number of the REFER (the id of its subscription, §2.4.6). Unless an
// input ended it, the harness ends the transfer with a NOTIFY of
// Subscription-State terminated, and ends the call unless the UA answers
// that 200 (or 481: no transfer waits any more). BlindTransfer must then
// return within hangAfter: nil only if a NOTIFY answered 200 reported a
// 2xx status, and, when every part was a NOTIFY, the outcome of the first
// final status (or terminated subscription) such a NOTIFY reported
// (checkTransfer).
func FuzzDialog(f *testing.F) {
	for _, s := range dialogSeeds() {
		f.Add([]byte(s))
	}
	for _, s := range transferSeeds() {
		f.Add([]byte(s))
	}
	addVectorSeeds(f)
	h := newDialogHarness(f)
	f.Fuzz(func(t *testing.T, tmpl []byte) {
		h.ready(t)
		if rest, ok := bytes.CutPrefix(tmpl, []byte(transferMark)); ok {
			h.transfer(t, rest)
			return
		}
		h.send(t, tmpl)
	})
}

// send expands tmpl and delivers it (deliver) if it makes a valid message,
// which it returns, with its final response when one was awaited; waited
// reports whether one was.
func (h *dialogHarness) send(t *testing.T, tmpl []byte) (m, resp *sipmsg.Message, waited bool) {
	fresh := token()
	raw := h.expand(tmpl, fresh)
	if len(raw) > 65507 {
		return nil, nil, false // not a UDP datagram
	}
	m, err := sipmsg.Parse(raw)
	if err != nil || m.Validate() != nil {
		return nil, nil, false // the transport drops it
	}
	resp, waited = h.deliver(t, m, raw, fresh)
	return m, resp, waited
}

// hangAfter bounds each wait: a final response, a call's setup, an End.
const hangAfter = 5 * time.Second

// dialogHarness is one UA (T1 25 ms, session timers, 100rel, optional SRTP,
// no DNS) and a scripted peer on a loopback UDP socket, built once per fuzz
// process. The peer's goroutine (serve) answers every request of the UA 200
// (with SDP to INVITE; 202 to REFER, which it hands to transfer), and
// injects an ACK for every final response to an INVITE and a PRACK for
// every reliable provisional one. Before each input the calls other than
// the live one (made by INVITEs and transfers) are ended, and a new live
// call is set up when the last one ended. At the end
// the UA is disconnected: every call must be over then, and TestMain's
// leakcheck finds goroutines left behind.
type dialogHarness struct {
	u        *UA
	pc       *net.UDPConn
	peer, ua netip.AddrPort
	served   chan struct{}            // closed when serve returns
	want     atomic.Pointer[inflight] // the request last injected
	got      chan answer              // final responses to want
	setup    atomic.Pointer[string]   // Call-ID of the call being set up
	accepted chan *Call               // that call, once Accept returned
	refers   chan referSent           // the REFERs the peer answered, when taken
	pracks   atomic.Uint32

	mu    sync.Mutex
	calls map[*Call]bool // every call not yet seen ended; true while an End runs
	ends  sync.WaitGroup

	live      *Call           // the fuzz goroutine's own from here
	vals      []string        // placeholder, value pairs of the live call
	cseq      int             // the last $CSEQ
	seen      map[string]bool // branches of inputs, but for fresh ones
	lastRefer referSent       // the REFER of the last transfer
}

// inflight is what the peer keeps of the request last injected.
type inflight struct {
	branch, method string
	uri            sipmsg.URI
	body           bool
}

type answer struct {
	w *inflight
	m *sipmsg.Message
}

func newDialogHarness(f *testing.F) *dialogHarness {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	lo := netip.MustParseAddr("127.0.0.1")
	h := &dialogHarness{pc: pc, peer: netip.AddrPortFrom(lo, uint16(pc.LocalAddr().(*net.UDPAddr).Port)),
		served: make(chan struct{}), got: make(chan answer, 1), accepted: make(chan *Call, 1), refers: make(chan referSent, 4),
		calls: map[*Call]bool{}, seen: map[string]bool{}}
	h.setup.Store(new(string))
	noDNS := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("fuzz: no DNS")
	}}
	h.u = New(Config{
		Username: "test", ListenAddr: "127.0.0.1:0", UserAgent: "xphone-fuzz",
		Media:  media.Options{Address: lo, MediaTimeout: -1},
		Codecs: []string{"PCMU", "PCMA", "G722"}, SRTP: sdp.SRTPOptional,
		SessionTimer: 90 * time.Second, T1: 25 * time.Millisecond,
		Resolver: noDNS, Logger: slog.New(slog.DiscardHandler), OnMessage: func(Message) {},
		NewCall: func(c *Call) { h.mu.Lock(); h.calls[c] = false; h.mu.Unlock() },
		OnIncoming: func(c *Call) {
			if c.Accept(context.Background()) == nil && c.CallID() == *h.setup.Load() {
				select {
				case h.accepted <- c:
				default:
				}
			}
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), hangAfter)
	defer cancel()
	if err := h.u.Connect(ctx); err != nil {
		pc.Close()
		f.Fatalf("Connect: %v", err)
	}
	_, port := h.u.LocalAddr()
	h.ua = netip.AddrPortFrom(lo, uint16(port))
	go h.serve()
	f.Cleanup(func() { pc.Close(); <-h.served })
	f.Cleanup(func() { h.close(f) }) // runs first: the peer answers the BYEs
	return h
}

// close disconnects the UA and checks that no call outlived it.
func (h *dialogHarness) close(f *testing.F) {
	ctx, cancel := context.WithTimeout(context.Background(), hangAfter)
	defer cancel()
	h.u.Disconnect(ctx) //nolint:errcheck // connected since newDialogHarness
	h.ends.Wait()
	if n := len(h.u.Calls()); n > 0 {
		f.Errorf("%d calls still listed after Disconnect", n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.calls {
		if !ended(c) {
			f.Errorf("call %s outlived Disconnect in state %v", c.CallID(), c.State())
		}
	}
}

func ended(c *Call) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

// ready ends the calls besides the live one, each on a goroutine of its
// own, and sets up a new live call when the last one ended.
func (h *dialogHarness) ready(t *testing.T) {
	h.mu.Lock()
	for c := range h.calls {
		if ended(c) {
			delete(h.calls, c)
		}
	}
	for _, c := range h.u.Calls() {
		if c != h.live {
			h.endLater(c)
		}
	}
	h.mu.Unlock()
	if h.live == nil || ended(h.live) {
		h.dial(t)
	}
}

// endLater ends c on a goroutine of its own unless an End runs already;
// h.mu is held.
func (h *dialogHarness) endLater(c *Call) {
	if h.calls[c] {
		return
	}
	h.calls[c] = true
	h.ends.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangAfter)
		defer cancel()
		c.End(ctx) //nolint:errcheck // ErrInvalidState while Accept holds it: tried again
		h.mu.Lock()
		if _, ok := h.calls[c]; ok {
			h.calls[c] = false
		}
		h.mu.Unlock()
	})
}

// dial has the peer call the UA, which accepts; the peer ACKs the 200.
func (h *dialogHarness) dial(t *testing.T) {
	fresh := token()
	callID := fresh + "@peer"
	h.setup.Store(&callID)
	inv, err := sipmsg.Parse(h.expand([]byte(outOfDialogSeed("INVITE", "", "application/sdp", peerSDP(40000, "PCMU"))), fresh))
	if err != nil {
		t.Fatal(err)
	}
	w := &inflight{branch: "z9hG4bK" + fresh, method: "INVITE", uri: inv.RequestURI, body: true}
	resp, _ := h.exchange(inv, w, true)
	if resp == nil {
		t.Fatalf("setting up a call: no final response within %v", hangAfter)
	} else if resp.StatusCode != 200 {
		t.Fatalf("setting up a call: got %d, want 200", resp.StatusCode)
	}
	select {
	case h.live = <-h.accepted:
		h.vals = []string{"$CALLID", callID, "$FROMTAG", "f" + fresh, "$TOTAG", resp.ToTag(), "$INVBRANCH", w.branch}
	case <-time.After(hangAfter):
		t.Fatalf("setting up a call: Accept did not return within %v", hangAfter)
	}
}

// expand fills in the placeholders of tmpl into a new buffer.
func (h *dialogHarness) expand(tmpl []byte, fresh string) []byte {
	h.cseq++
	s := strings.NewReplacer(slices.Concat(h.vals, []string{"$PEER", h.peer.String(), "$UA", h.ua.String(),
		"$BRANCH", fresh, "$CSEQ", strconv.Itoa(h.cseq)})...).Replace(string(tmpl))
	if strings.Contains(s, "$LEN") {
		_, body, ok := strings.Cut(s, "\r\n\r\n")
		if !ok {
			_, body, _ = strings.Cut(s, "\n\n")
		}
		s = strings.ReplaceAll(s, "$LEN", strconv.Itoa(len(body)))
	}
	return []byte(s)
}

// deliver injects m, a valid message, and fails t when a request that
// starts a transaction gets no final response. It returns that response;
// waited reports whether m was one to wait for.
func (h *dialogHarness) deliver(t *testing.T, m *sipmsg.Message, raw []byte, fresh string) (resp *sipmsg.Message, waited bool) {
	if !m.IsRequest() {
		h.inject(m)
		return nil, false
	}
	v, _ := m.Via() // checked by Validate
	cs, _ := m.CSeq()
	w := &inflight{branch: v.Branch(), method: cs.Method, uri: m.RequestURI, body: len(m.Body) > 0}
	isNew := strings.Contains(w.branch, fresh)
	if !isNew && !h.seen[w.branch] && len(h.seen) < 1<<16 {
		h.seen[w.branch], isNew = true, true
	}
	expect := isNew && m.Method != "ACK"
	resp, sent := h.exchange(m, w, expect)
	if expect && sent && resp == nil {
		t.Fatalf("no final response within %v (live call %s, %v) to:\n%s", hangAfter, h.live.CallID(), h.live.State(), raw)
	}
	return resp, expect && sent
}

// exchange injects req, described by w, and when wait is set returns its
// final response, nil after hangAfter; sent reports the injection.
func (h *dialogHarness) exchange(req *sipmsg.Message, w *inflight, wait bool) (resp *sipmsg.Message, sent bool) {
	h.want.Store(w)
	select {
	case <-h.got: // one for an earlier request
	default:
	}
	if sent = h.inject(req); !sent || !wait {
		return nil, sent
	}
	timeout := time.NewTimer(hangAfter)
	defer timeout.Stop()
	for {
		select {
		case a := <-h.got:
			if a.w == w {
				return a.m, true
			}
		case <-timeout.C:
			return nil, true
		}
	}
}

// inject hands m to the UA's transaction layer as the UDP transport does
// with a datagram from the peer: a request gets received and rport in its
// top Via (RFC 3581 §4, as for a Via with rport), so that every response
// goes to the peer; a response is taken only when its top Via is the UA's
// (RFC 3261 §18.1.2). It reports whether m was handed over.
func (h *dialogHarness) inject(m *sipmsg.Message) bool {
	return m != nil && injectFrom(h.u, h.peer, h.ua, m)
}

// injectFrom hands m to u's transaction layer as its UDP transport would
// hand over a datagram from peer to local (see dialogHarness.inject).
func injectFrom(u *UA, peer, local netip.AddrPort, m *sipmsg.Message) bool {
	v, err := m.Via()
	if err != nil {
		return false
	}
	if m.IsRequest() {
		v.Params = v.Params.Set("received", peer.Addr().String()).Set("rport", strconv.Itoa(int(peer.Port())))
		if m.SetVia(v) != nil || m.Validate() != nil {
			return false
		}
	} else if !u.ownsSentBy(v.Host, v.Port) {
		return false
	}
	tl, _ := u.layer()
	if tl == nil {
		return false // disconnected
	}
	tl.HandleInbound(transport.Inbound{Msg: m, Source: transport.Addr{Protocol: transport.UDP, AddrPort: peer}, Local: local})
	return true
}

// serve is the peer: it takes what the UA sends until the socket closes.
func (h *dialogHarness) serve() {
	defer close(h.served)
	buf := make([]byte, 65536)
	for {
		n, from, err := h.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		m, err := sipmsg.Parse(append([]byte(nil), buf[:n]...))
		switch {
		case err != nil: // a keepalive
		case m.IsRequest() && m.Method != "ACK":
			code := 200
			if m.Method == "REFER" { // RFC 3515 §2.4.2
				code = 202
				h.referred(m)
			}
			r := sipmsg.NewResponse(m, code, "")
			if m.ToTag() == "" {
				r.SetToTag(token()) //nolint:errcheck // To parsed by the UA that built it
			}
			r.Add("Contact", "<sip:peer@"+h.peer.String()+">")
			if m.Method == "INVITE" || m.Method == "UPDATE" && len(m.Body) > 0 {
				r.Add("Content-Type", "application/sdp")
				r.Body = []byte(peerSDP(40000, "PCMU"))
			}
			r.SetContentLength()
			h.pc.WriteToUDPAddrPort([]byte(r.String()), from) //nolint:errcheck // the UA may be gone
		case !m.IsRequest():
			h.response(m)
		}
	}
}

// response takes a response to an injected request: PRACK for a reliable
// provisional response and ACK for a final one to an INVITE; a final one
// to the request awaited goes to exchange.
func (h *dialogHarness) response(m *sipmsg.Message) {
	v, err := m.Via()
	cs, err2 := m.CSeq()
	if err != nil || err2 != nil {
		return
	}
	w := h.want.Load()
	if w != nil && (w.branch != v.Branch() || w.method != cs.Method) {
		w = nil
	}
	target := h.uaURI()
	if c, err := m.Contact(); err == nil {
		target = c.URI
	}
	if rseq, err := m.RSeq(); err == nil && cs.Method == "INVITE" && m.StatusCode > 100 && m.StatusCode < 200 && m.HasToken("Require", tag100rel) {
		h.inject(h.request("PRACK", target, h.via(), m, cs.Seq+h.pracks.Add(1), fmt.Sprintf("RAck: %d %d INVITE\r\n", rseq, cs.Seq), ""))
	}
	if m.StatusCode < 200 {
		return
	}
	if cs.Method == "INVITE" {
		if m.StatusCode < 300 { // RFC 3261 §13.2.2.4: an ACK of its own
			body := ""
			if w != nil && !w.body && len(m.Body) > 0 {
				body = peerSDP(40000, "PCMU") // the answer to the offer in the 2xx
			}
			h.inject(h.request("ACK", target, h.via(), m, cs.Seq, "", body))
		} else if w != nil { // §17.1.1.3: in the INVITE's transaction
			h.inject(h.request("ACK", w.uri, v.String(), m, cs.Seq, "", ""))
		}
	}
	if w != nil {
		select {
		case h.got <- answer{w, m}:
		default:
		}
	}
}

// request builds a request of the peer in the dialog of resp, nil if it
// does not parse.
func (h *dialogHarness) request(method string, uri sipmsg.URI, via string, resp *sipmsg.Message, seq uint32, extra, body string) *sipmsg.Message {
	if body != "" {
		extra += "Content-Type: application/sdp\r\n"
	}
	m, _ := sipmsg.Parse(fmt.Appendf(nil, "%s %s SIP/2.0\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"+
		"Max-Forwards: 70\r\n%sContent-Length: %d\r\n\r\n%s", method, uri.String(), via, resp.Get("From"), resp.Get("To"),
		resp.CallID(), seq, method, extra, len(body), body))
	return m
}

func (h *dialogHarness) via() string {
	return "SIP/2.0/UDP " + h.peer.String() + ";branch=z9hG4bK" + token() + ";rport"
}

func (h *dialogHarness) uaURI() sipmsg.URI {
	return sipmsg.URI{Scheme: "sip", User: "test", Host: h.ua.Addr().String(), Port: int(h.ua.Port())}
}

// dialogSeeds are one valid request per method the UA takes in a dialog,
// and a few outside one.
func dialogSeeds() []string {
	const sdpType = "application/sdp"
	offer := peerSDP(40000, "PCMU")
	hold := strings.Replace(offer, "a=sendrecv", "a=sendonly", 1)
	in := inDialogSeed
	return []string{
		in("BYE", "Reason: Q.850;cause=16\r\n", "", ""),
		in("INVITE", "", sdpType, hold),
		in("INVITE", "", sdpType, peerSDP(40000, "PCMA", "G722")),
		in("INVITE", "", "", ""),
		in("UPDATE", "", sdpType, hold),
		in("UPDATE", "", "", ""),
		in("INFO", "", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"),
		in("INFO", "", "application/dtmf", "#"),
		in("NOTIFY", "Event: refer\r\nSubscription-State: active;expires=60\r\n", "message/sipfrag;version=2.0", "SIP/2.0 200 OK\r\n"),
		in("REFER", "Refer-To: <sip:carol@$PEER>\r\nReferred-By: <sip:peer@$PEER>\r\n", "", ""),
		in("REFER", "Refer-To: <sip:carol@$PEER?Replaces=x%40peer%3Bto-tag%3Da%3Bfrom-tag%3Db>\r\n", "", ""),
		in("PRACK", "RAck: 1 1 INVITE\r\n", "", ""),
		in("OPTIONS", "Accept: application/sdp\r\n", "", ""),
		in("MESSAGE", "", "text/plain", "hello"),
		in("ACK", "", sdpType, offer),
		in("CANCEL", "", "", ""),
		strings.NewReplacer("z9hG4bK$BRANCH", "$INVBRANCH", "$CSEQ", "1").Replace(in("CANCEL", "", "", "")),
		in("INVITE", "Session-Expires: 90;refresher=uac\r\nMin-SE: 90\r\nSupported: timer\r\n", sdpType, offer),
		in("UPDATE", "Session-Expires: 30\r\nSupported: timer\r\n", "", ""),
		in("INVITE", "Require: 100rel\r\n", sdpType, offer),
		in("INFO", "Require: x-unknown\r\n", "", ""),
		outOfDialogSeed("INVITE", "Replaces: $CALLID;to-tag=$TOTAG;from-tag=$FROMTAG\r\nRequire: replaces\r\n", sdpType, offer),
		outOfDialogSeed("INVITE", "Require: 100rel\r\n", sdpType, offer),
		outOfDialogSeed("INVITE", "Supported: 100rel, timer\r\nSession-Expires: 120\r\n", "", ""),
		outOfDialogSeed("SUBSCRIBE", "Event: dialog\r\nExpires: 60\r\n", "", ""),
		outOfDialogSeed("NOTIFY", "Event: message-summary\r\n", "application/simple-message-summary", "Messages-Waiting: yes\r\n"),
		strings.Replace(in("NOTIFY", "Event: dialog\r\nSubscription-State: active\r\n", "application/dialog-info+xml", "<dialog-info/>"), "$CALLID", "$BRANCH", 1),
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP $UA;branch=z9hG4bK$BRANCH\r\nFrom: <sip:test@$UA>;tag=$TOTAG\r\nTo: <sip:peer@$PEER>;tag=$FROMTAG\r\n" +
			"Call-ID: $CALLID\r\nCSeq: 9 INVITE\r\nContact: <sip:peer@$PEER>\r\nContent-Length: 0\r\n\r\n",
	}
}

// inDialogSeed is a request of the peer in the live call's dialog; extra
// are header lines.
func inDialogSeed(method, extra, ctype, body string) string {
	s := method + " sip:test@$UA SIP/2.0\r\nVia: SIP/2.0/UDP $PEER;branch=z9hG4bK$BRANCH;rport\r\n" +
		"From: <sip:peer@$PEER>;tag=$FROMTAG\r\nTo: <sip:test@$UA>;tag=$TOTAG\r\nCall-ID: $CALLID\r\n" +
		"CSeq: $CSEQ " + method + "\r\nMax-Forwards: 70\r\nContact: <sip:peer@$PEER>\r\n" + extra
	if ctype != "" {
		s += "Content-Type: " + ctype + "\r\n"
	}
	return s + "Content-Length: $LEN\r\n\r\n" + body
}

// outOfDialogSeed is a request of the peer outside any dialog.
func outOfDialogSeed(method, extra, ctype, body string) string {
	return strings.NewReplacer("$UA>;tag=$TOTAG\r", "$UA>\r", "$PEER>;tag=$FROMTAG\r", "$PEER>;tag=f$BRANCH\r",
		"Call-ID: $CALLID", "Call-ID: $BRANCH@peer").Replace(inDialogSeed(method, extra, ctype, body))
}

// addVectorSeeds adds the SIP torture messages of testdata/vectors/sip as
// they are, and the SDP bodies of testdata/vectors/sdp in re-INVITEs.
func addVectorSeeds(f *testing.F) {
	const dir = "../../testdata/vectors/"
	sip, _ := filepath.Glob(dir + "sip/*/*.dat")
	wired, _ := filepath.Glob(dir + "sip/*/wire/*.dat")
	sdps, _ := filepath.Glob(dir + "sdp/*.sdp")
	if len(sip) == 0 || len(sdps) == 0 {
		f.Fatal("no vectors in " + dir)
	}
	for _, p := range slices.Concat(sip, wired, sdps) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if strings.HasSuffix(p, ".sdp") {
			b = []byte(inDialogSeed("INVITE", "", "application/sdp", string(b)))
		}
		f.Add(b)
	}
}

// transferMark starts an input of the transfer mode, transferNext ends
// each of its templates but the last (see FuzzDialog).
const (
	transferMark     = "$TRANSFER\r\n"
	transferNext     = "\r\n$NEXT\r\n"
	maxTransferParts = 4
)

// referSent is a REFER of the UA the peer answered.
type referSent struct {
	callID string
	seq    uint32
}

// referred hands a REFER the peer answers to transfer, unless one waits.
func (h *dialogHarness) referred(m *sipmsg.Message) {
	cs, err := m.CSeq()
	if err != nil {
		return
	}
	select {
	case h.refers <- referSent{m.CallID(), cs.Seq}:
	default:
	}
}

// transferOutcome is what checkTransfer knows of the NOTIFYs of a
// transfer: whether one answered 200 reported a 2xx status, the first
// final status (or -1 for a subscription terminated without one) such a
// NOTIFY reported, whether a part was something else than a NOTIFY whose
// answer was awaited (which may end the call or the transfer).
type transferOutcome struct {
	any2xx bool
	first  int
	other  bool
}

// transfer runs the rest of a transfer-mode input (see FuzzDialog) on the
// live call, joining the BlindTransfer it starts before it returns.
func (h *dialogHarness) transfer(t *testing.T, rest []byte) {
	c := h.live
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for len(h.refers) > 0 { // retransmissions answered after their transfer
		<-h.refers
	}
	out := make(chan error, 1)
	wg.Go(func() { out <- c.BlindTransfer(ctx, "sip:carol@"+h.peer.String()) })
	seq, ok, err := h.awaitRefer(c, out)
	if !ok {
		if err != nil && endsSoon(c) {
			return // an earlier input ended it meanwhile: the next ready replaces it
		}
		t.Fatalf("BlindTransfer on call %s (%v): REFER not answered within %v (returned: %v)", c.CallID(), c.State(), hangAfter, err)
	}
	vals := h.vals
	h.vals = append(slices.Clip(vals), "$REFERSEQ", strconv.FormatUint(uint64(seq), 10))
	defer func() { h.vals = vals }()
	var o transferOutcome
	for _, part := range bytes.SplitN(rest, []byte(transferNext), maxTransferParts) {
		o.note(h.send(t, part))
	}
	select {
	case err = <-out:
	default:
		m, resp, waited := h.send(t, []byte(referNotify("Subscription-State: terminated;reason=noresource\r\n", sipfragType, "SIP/2.0 487 Request Terminated\r\n")))
		o.note(m, resp, waited)
		err = h.awaitTransfer(t, c, out, resp)
	}
	checkTransfer(t, c, o, err)
}

// endsSoon reports whether c ends within hangAfter.
func endsSoon(c *Call) bool {
	wait := time.NewTimer(hangAfter)
	defer wait.Stop()
	select {
	case <-c.Done():
		return true
	case <-wait.C:
		return false
	}
}

// awaitRefer waits for the peer to answer the REFER of c (not one answered
// before, retransmitted): it returns its CSeq number and whether it came,
// with BlindTransfer's error if that returned first.
func (h *dialogHarness) awaitRefer(c *Call, out chan error) (seq uint32, ok bool, err error) {
	timeout := time.NewTimer(hangAfter)
	defer timeout.Stop()
	for {
		select {
		case r := <-h.refers:
			if r.callID == c.CallID() && (r.callID != h.lastRefer.callID || r.seq > h.lastRefer.seq) {
				h.lastRefer = r
				return r.seq, true, nil
			}
		case err := <-out:
			return 0, false, err
		case <-timeout.C:
			return 0, false, nil
		}
	}
}

// awaitTransfer waits for BlindTransfer on c to return after the
// harness's terminating NOTIFY got resp. Unless the UA took that (200: the
// subscription is over; 481: no transfer waits any more), it ends the call
// first (RFC 3261 §12.2.2: a CSeq of the input may have put the NOTIFY's
// behind), as ready ends calls: End returns once the peer answered its
// BYE, and an input may have moved the peer's target away.
func (h *dialogHarness) awaitTransfer(t *testing.T, c *Call, out chan error, resp *sipmsg.Message) error {
	wait := time.NewTimer(hangAfter)
	defer wait.Stop()
	if resp == nil || resp.StatusCode != 200 && resp.StatusCode != 481 {
		h.mu.Lock()
		h.endLater(c)
		h.mu.Unlock()
		select { // for the next ready to see it ended
		case <-c.Done():
		case <-wait.C:
			t.Fatalf("call %s (%v) not ended within %v of End", c.CallID(), c.State(), hangAfter)
		}
	}
	select {
	case err := <-out:
		return err
	case <-wait.C:
		t.Fatalf("BlindTransfer on call %s (%v) did not return within %v of its subscription ending (NOTIFY answered: %v)", c.CallID(), c.State(), hangAfter, resp != nil)
		return nil
	}
}

// note records a part of a transfer delivered by send. A NOTIFY whose
// answer was not awaited (its branch was used before, or it had none) may
// still have started a transaction, and been accepted.
func (o *transferOutcome) note(m, resp *sipmsg.Message, waited bool) {
	if m == nil {
		return
	}
	code := fragStatus(m.Body)
	if !m.IsRequest() || m.Method != "NOTIFY" || !waited {
		o.other = true
		o.any2xx = o.any2xx || m.Method == "NOTIFY" && code >= 200 && code < 300
		return
	}
	ev, err := m.Event()
	if resp == nil || resp.StatusCode != 200 || err != nil || !strings.EqualFold(ev.Type, "refer") {
		return
	}
	o.any2xx = o.any2xx || code >= 200 && code < 300
	ss, err := m.SubscriptionState()
	switch {
	case o.first != 0:
	case code >= 200:
		o.first = code
	case err == nil && strings.EqualFold(ss.State, "terminated"):
		o.first = -1
	}
}

// fragStatus is the status code of the status line that starts a
// message/sipfrag body (RFC 3420 §2: "SIP/2.0 SP 3DIGIT SP reason"), 0
// without one.
func fragStatus(body []byte) int {
	line, _, _ := bytes.Cut(body, []byte("\n"))
	rest, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r "), []byte("SIP/2.0 "))
	if !ok || len(rest) < 3 || len(rest) > 3 && rest[3] != ' ' || rest[0] < '1' || rest[0] > '6' {
		return 0
	}
	code, err := strconv.Atoi(string(rest[:3]))
	if err != nil || code < 100 {
		return 0
	}
	return code
}

// checkTransfer fails t unless BlindTransfer on c returned err as o
// allows: nil (and c ended as transferred) only after a 2xx status; when
// every part was an awaited NOTIFY, nil exactly when the first final
// status was a 2xx.
func checkTransfer(t *testing.T, c *Call, o transferOutcome, err error) {
	t.Helper()
	switch {
	case err == nil && !o.any2xx:
		t.Fatalf("BlindTransfer succeeded, but no NOTIFY answered 200 reported a 2xx status")
	case err == nil && (!ended(c) || c.Reason() != EndTransferred):
		t.Fatalf("BlindTransfer succeeded, but call %s is %v (end reason %v), want ended as transferred", c.CallID(), c.State(), c.Reason())
	case err != nil && !errors.Is(err, ErrTransferFailed):
		t.Fatalf("BlindTransfer: got %v, want an error wrapping ErrTransferFailed", err)
	case o.other || o.first == 0:
	case o.first >= 200 && o.first < 300 && err != nil:
		t.Fatalf("BlindTransfer: got %v after a first final status %d, want nil", err, o.first)
	case (o.first < 200 || o.first >= 300) && err == nil:
		t.Fatalf("BlindTransfer: got nil after a first final status %d (-1: terminated), want an error", o.first)
	}
}

const sipfragType = "message/sipfrag;version=2.0"

// referNotify is a NOTIFY of the peer in the live call's dialog for the
// refer event; extra are header lines.
func referNotify(extra, ctype, body string) string {
	return inDialogSeed("NOTIFY", "Event: refer\r\n"+extra, ctype, body)
}

// transferSeeds are transfer-mode inputs: the NOTIFYs a transferee sends
// (RFC 3515 §2.4.4-§2.4.6), well and badly formed.
func transferSeeds() []string {
	const (
		active = "Subscription-State: active;expires=60\r\n"
		ended  = "Subscription-State: terminated;reason=noresource\r\n"
	)
	seed := func(parts ...string) string { return transferMark + strings.Join(parts, transferNext) }
	n := referNotify
	return []string{
		seed(),
		seed(n(active, sipfragType, "SIP/2.0 100 Trying\r\n")),
		seed(n(active, sipfragType, "SIP/2.0 180 Ringing\r\n")),
		seed(n(ended, sipfragType, "SIP/2.0 200 OK\r\n")),
		seed(n(active, sipfragType, "SIP/2.0 100 Trying\r\n"), n(active, sipfragType, "SIP/2.0 180 Ringing\r\n"), n(ended, sipfragType, "SIP/2.0 200 OK\r\n")),
		seed(n(ended, sipfragType, "SIP/2.0 486 Busy Here\r\n")),
		seed(n(active, sipfragType, "SIP/2.0 100 Trying\r\n"), n(ended, sipfragType, "SIP/2.0 503 Service Unavailable\r\n")),
		seed(n(ended, sipfragType, "SIP/2.0 100 Trying\r\n")),
		seed(n(ended, sipfragType, "")),
		seed(n(active, sipfragType, "SIP/2.0 OK\r\n"), n(ended, sipfragType, "HTTP/1.1 200 OK\r\n")),
		seed(n(active, sipfragType, "SIP/2.0 2000 OK\r\n")),
		seed(n("", sipfragType, "SIP/2.0 200 OK\r\n")),
		seed(strings.Replace(n(ended, sipfragType, "SIP/2.0 200 OK\r\n"), "Event: refer", "Event: refer;id=$REFERSEQ", 1)),
		seed(strings.Replace(n(ended, sipfragType, "SIP/2.0 486 Busy Here\r\n"), "Event: refer", "Event: refer;id=9$REFERSEQ", 1)),
		seed(n(ended, sipfragType, "SIP/2.0 200 OK\r\nContact: <sip:carol@$PEER>\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")),
		seed(n(active, "text/plain", "SIP/2.0 200 OK\r\n")),
		seed(strings.Replace(n(ended, sipfragType, "SIP/2.0 200"), ";branch=z9hG4bK$BRANCH", "", 1)), // RFC 2543 transaction
		seed(n(active, sipfragType, "SIP/2.0 200 OK\r\n"), inDialogSeed("BYE", "", "", "")),
		seed(inDialogSeed("NOTIFY", ended, sipfragType, "SIP/2.0 200 OK\r\n")),
		seed(strings.Replace(n(ended, sipfragType, "SIP/2.0 200 OK\r\n"), "Event: refer", "Event: dialog", 1)),
		seed(n(active, sipfragType, "SIP/2.0 180 Ringing\r\n"), inDialogSeed("REFER", "Refer-To: <sip:carol@$PEER>\r\n", "", "")),
		seed(inDialogSeed("REFER", "Refer-To: <sip:carol@$PEER>\r\n", "", ""), n(active, sipfragType, "SIP/2.0 180 Ringing\r\n"), n(active, sipfragType, "SIP/2.0 180 Ringing\r\n"), n(active, sipfragType, "SIP/2.0 180 Ringing\r\n")),
	}
}

package ua

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
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

	"github.com/xphone-go/xphone/internal/dialoginfo"
	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/internal/pidf"
	"github.com/xphone-go/xphone/sipmsg"
)

// FuzzNotify feeds hostile NOTIFYs, and hostile answers to SUBSCRIBE, to
// the subscriptions a UA holds: no input may panic, go unanswered, keep a
// subscription down, leave a subscription or a goroutine behind, or hand
// a callback a malformed report.
//
// An input is a package, pkg modulo 3 (0 message-summary of Config.MWI,
// 1 dialog of a Watch, 2 presence of a WatchPresence), and a template
// whose placeholders take the values of that live subscription
// (notifyHarness):
//
//	$CALLID $LTAG $RTAG  its Call-ID, our tag and the notifier's
//	$EVENT               its package
//	$PEER $UA            host:port of the notifier and of the UA
//	$BRANCH              a token new for each input
//	$CSEQ                a NOTIFY's CSeq above any before (and above the
//	                     remote sequence number of the subscription's
//	                     dialog); in a response the SUBSCRIBE's
//	$SUBBRANCH           in a response, the SUBSCRIBE's branch
//	$LEN                 the length of the body after the first blank line
//
// A template that parses and validates as a NOTIFY is handed to the UA's
// transaction layer as from the notifier, with a new branch, and must be
// answered within notifyWait. One that starts with "SIP/" answers the
// next SUBSCRIBE of its package: the subscription is kicked into
// refreshing at once and the notifier answers with the template instead
// of its 200 (followed by the 200 when it was provisional or could not be
// handed over); unless the template was a 2xx, or a final answer with a
// Retry-After (RFC 3261 §20.33: no new SUBSCRIBE before it; the next
// ready replaces a subscription it holds off), the notifier must grant a
// SUBSCRIBE again (a retry, a new subscription) within notifyWait.
func FuzzNotify(f *testing.F) {
	for _, s := range notifySeeds(f) {
		f.Add(s.pkg, []byte(s.tmpl))
	}
	h := newNotifyHarness(f)
	f.Fuzz(func(t *testing.T, pkg uint8, tmpl []byte) {
		h.ready(t)
		sl, fresh := h.slots[int(pkg)%len(h.slots)], token()
		if bytes.HasPrefix(tmpl, []byte("SIP/")) {
			h.answerNext(t, sl, tmpl, fresh)
		} else if raw, lost := h.notify(sl.vals, tmpl, fresh); lost {
			t.Fatalf("no final response within %v to:\n%s", notifyWait, raw)
		}
		h.flush(t)
	})
}

// notifyWait bounds each wait: an answer, a SUBSCRIBE, the callbacks.
const notifyWait = 5 * time.Second

// notifyHarness is one UA (T1 25 ms, no registration, MWI, a Watch and a
// WatchPresence towards the notifier, no DNS) and a notifier on a loopback
// UDP socket, built once per fuzz process. The notifier's goroutine
// (serve) grants every SUBSCRIBE 200 with Expires (3600; 0 to remove),
// followed by a NOTIFY (RFC 6665 §4.2.1.2; without one the UA gives the
// subscription up after Timer N, §4.1.2.4), and records the last grant
// (or 2xx template) of each package. Before each input (ready) each
// subscription must be up again: granted under the Call-ID it uses now.
// One the notifier ended for good, or ended with a retry-after still to
// run (RFC 6665 §4.1.3: no new subscription before it), or held off by
// the Retry-After of a failed SUBSCRIBE (RFC 3261 §20.33), or whose dialog
// can take no more NOTIFYs (an input's CSeq was the largest, RFC 3261
// §12.2.2), is stopped and made anew; one whose dialog (or the target an
// early NOTIFY named) leads elsewhere than the notifier is ended by a
// NOTIFY, so that no refresh leaves loopback. Callbacks check what they get (report). At the end the
// UA disconnects: no subscription may be left, and TestMain's leakcheck
// finds goroutines left behind.
type notifyHarness struct {
	u        *UA
	pc       *net.UDPConn
	peer, ua netip.AddrPort
	served   chan struct{} // closed when serve returns
	slots    []*notifySlot
	want     atomic.Pointer[notifyTx] // the NOTIFY last injected

	mu      sync.Mutex           // the notifier's records:
	grants  map[string]notifyRec // by package, the last grant
	pending *notifyPending       // a template for the next SUBSCRIBE of its package
	granted chan struct{}        // a token after each grant

	bad     atomic.Pointer[string] // the first malformed report since the last flush
	reports atomic.Int64
	cseq    atomic.Int64 // the last NOTIFY's $CSEQ, of an input or of serve
}

// notifySlot is one subscription the harness keeps up.
type notifySlot struct {
	event, target string
	s             *subscription
	w             *Watcher     // nil for MWI
	gone          *atomic.Bool // set on the callback goroutine once w stopped
	vals          []string     // placeholders, set by ready
}

type notifyRec struct {
	callID, tag string
	n           int // grants of the package so far
}

type notifyPending struct {
	event, fresh string
	tmpl         []byte
	done         chan [3]int // status injected (0: none), grants before it, its Retry-After (s)
}

type notifyTx struct {
	branch string
	got    chan int // its final status
}

func newNotifyHarness(f *testing.F) *notifyHarness {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	lo := netip.MustParseAddr("127.0.0.1")
	h := &notifyHarness{pc: pc, peer: netip.AddrPortFrom(lo, uint16(pc.LocalAddr().(*net.UDPAddr).Port)),
		served: make(chan struct{}), grants: map[string]notifyRec{}, granted: make(chan struct{}, 1)}
	noDNS := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("fuzz: no DNS")
	}}
	h.u = New(Config{
		Username: "test", AuthUsername: "test", Password: "secret", ListenAddr: "127.0.0.1:0", UserAgent: "xphone-fuzz",
		Host: "127.0.0.1", Port: int(h.peer.Port()), RegisterExpiry: -1, RegisterRetry: time.Millisecond,
		Media: media.Options{Address: lo, MediaTimeout: -1}, Codecs: []string{"PCMU"},
		T1: 25 * time.Millisecond, Resolver: noDNS, Logger: slog.New(slog.DiscardHandler), OnError: func(error) {},
		MWI: true, OnVoicemail: func(s mwi.Summary) { h.report(nil, s) },
	})
	ctx, cancel := context.WithTimeout(context.Background(), notifyWait)
	defer cancel()
	if err := h.u.Connect(ctx); err != nil {
		pc.Close()
		f.Fatalf("Connect: %v", err)
	}
	_, port := h.u.LocalAddr()
	h.ua = netip.AddrPortFrom(lo, uint16(port))
	go h.serve()
	f.Cleanup(func() { pc.Close(); <-h.served })
	f.Cleanup(func() { h.close(f) }) // runs first: the notifier answers the unsubscribes
	h.slots = []*notifySlot{{event: eventMWI, target: "test"}, {event: eventDialog, target: "1002"}, {event: eventPresence, target: "1003"}}
	for _, sl := range h.slots {
		if err := h.start(sl); err != nil {
			f.Fatal(err)
		}
	}
	return h
}

// start makes sl's subscription (Connect made the first MWI one).
func (h *notifyHarness) start(sl *notifySlot) (err error) {
	gone := new(atomic.Bool)
	switch sl.event {
	case eventMWI:
		if sl.s != nil {
			h.u.subscribeMWI()
		}
		h.u.mu.Lock()
		defer h.u.mu.Unlock()
		if i := slices.IndexFunc(h.u.subs, func(s *subscription) bool { return s.event == eventMWI }); i >= 0 {
			sl.s = h.u.subs[i]
			return nil
		}
		return errors.New("no MWI subscription")
	case eventDialog:
		sl.w, err = h.u.Watch(sl.target, func(i dialoginfo.Info) { h.report(gone, i) })
	default:
		sl.w, err = h.u.WatchPresence(sl.target, func(p pidf.Presence) { h.report(gone, p) })
	}
	if err == nil {
		sl.s, sl.gone = sl.w.s, gone
	}
	return err
}

// replace stops sl's subscription, which the notifier ended for good, and
// makes a new one. A Watcher's reports must be over once a function queued
// on the callback goroutine after Stop has run.
func (h *notifyHarness) replace(sl *notifySlot) error {
	ctx, cancel := context.WithTimeout(context.Background(), notifyWait)
	defer cancel()
	if sl.w != nil {
		sl.w.Stop(ctx)
		gone := sl.gone
		h.u.events.do(func() { gone.Store(true) })
	} else {
		(&Watcher{u: h.u, s: sl.s}).Stop(ctx) // what Stop does to any subscription: the MWI one here
	}
	select {
	case <-sl.s.done:
	default:
		return fmt.Errorf("the %s subscription's goroutine outlived Stop", sl.event)
	}
	return h.start(sl)
}

// state reads sl's subscription: its placeholders (the notifier's tag
// from its last grant until the UA took that), where a refresh would go
// (nil: nowhere yet), whether it is to be made anew (the notifier ended it
// for good, a retry-after or Retry-After is not over yet, or its dialog
// can take no more NOTIFYs), and whether the notifier granted the Call-ID
// it uses now. It raises $CSEQ to the remote sequence number of its
// dialog: an input with a CSeq of its own may have put that ahead, and a
// NOTIFY not above it gets 500 (RFC 3261 §12.2.2), which the NOTIFYs that
// ready and close send to end a subscription must not.
func (h *notifyHarness) state(sl *notifySlot) (vals []string, hop *sipmsg.URI, stopped, granted bool) {
	h.mu.Lock()
	g := h.grants[sl.event]
	h.mu.Unlock()
	s := sl.s
	s.mu.Lock()
	defer s.mu.Unlock()
	rtag, hop, seq := g.tag, s.early, s.earlySeq
	if s.dlg != nil {
		next := s.dlg.NextHop()
		hop, rtag, seq = &next, s.dlg.ID.RemoteTag, s.dlg.RemoteSeq
	}
	for cur := h.cseq.Load(); cur < int64(seq); cur = h.cseq.Load() {
		if h.cseq.CompareAndSwap(cur, int64(seq)) { // serve may have taken one meanwhile
			break
		}
	}
	vals = []string{"$CALLID", s.callID, "$LTAG", s.tag, "$RTAG", rtag, "$EVENT", sl.event}
	held := time.Now().Before(s.retryAt)
	return vals, hop, s.stopped || held || seq == math.MaxUint32, s.callID != "" && s.callID == g.callID
}

// ready waits until every subscription is up again (see notifyHarness)
// and sets the placeholders of each.
func (h *notifyHarness) ready(t *testing.T) {
	h.flush(t)
	deadline := time.NewTimer(notifyWait)
	defer deadline.Stop()
	for _, sl := range h.slots {
		for sl.vals = nil; sl.vals == nil; {
			vals, hop, stopped, granted := h.state(sl)
			switch {
			case stopped:
				if err := h.replace(sl); err != nil {
					t.Fatal(err)
				}
			case hop != nil && !h.isPeer(*hop): // end it: the UA subscribes anew, to the notifier
				h.notify(vals, []byte(notifySeed("Subscription-State: terminated;reason=deactivated\r\n", "", "")), token())
			case granted:
				sl.vals = vals
				continue
			}
			select {
			case <-h.granted:
			case <-deadline.C:
				t.Fatalf("the %s subscription is not up again within %v: %q, next hop %v", sl.event, notifyWait, vals, hop)
			}
		}
	}
	h.u.mu.Lock()
	n := len(h.u.subs)
	h.u.mu.Unlock()
	h.u.tasks.mu.Lock()
	tasks := h.u.tasks.n
	h.u.tasks.mu.Unlock()
	if n != len(h.slots) || tasks > 16 {
		t.Fatalf("%d subscriptions listed (want %d), %d goroutines of the UA", n, len(h.slots), tasks)
	}
}

// isPeer reports whether a next hop is the notifier, over UDP.
func (h *notifyHarness) isPeer(u sipmsg.URI) bool {
	tp := u.Params.Value("transport")
	return strings.EqualFold(u.Scheme, "sip") && u.Host == h.peer.Addr().String() && u.Port == int(h.peer.Port()) &&
		(tp == "" || strings.EqualFold(tp, "udp"))
}

// expand fills in the placeholders of tmpl into a new buffer.
func (h *notifyHarness) expand(tmpl []byte, fresh string, vals []string) []byte {
	s := strings.NewReplacer(slices.Concat(vals, []string{"$PEER", h.peer.String(), "$UA", h.ua.String(), "$BRANCH", fresh})...).Replace(string(tmpl))
	if strings.Contains(s, "$LEN") {
		_, body, ok := strings.Cut(s, "\r\n\r\n")
		if !ok {
			_, body, _ = strings.Cut(s, "\n\n")
		}
		s = strings.ReplaceAll(s, "$LEN", strconv.Itoa(len(body)))
	}
	return []byte(s)
}

// notify injects the NOTIFY of tmpl with vals, under a new branch so that
// it reaches the subscription layer rather than the transaction layer's
// handling of retransmissions (FuzzDialog's concern); lost reports that it
// went unanswered.
func (h *notifyHarness) notify(vals []string, tmpl []byte, fresh string) (raw []byte, lost bool) {
	raw = h.expand(tmpl, fresh, append(slices.Clone(vals), "$CSEQ", strconv.FormatInt(h.cseq.Add(1), 10)))
	if len(raw) > 65507 {
		return raw, false // not a UDP datagram
	}
	m, err := sipmsg.Parse(raw)
	if err != nil || m.Validate() != nil || m.Method != "NOTIFY" {
		return raw, false // the transport drops it, or not for this target
	}
	v, _ := m.Via() // checked by Validate
	v.Params = v.Params.Set("branch", "z9hG4bK"+fresh)
	if m.SetVia(v) != nil {
		return raw, false
	}
	code, sent := h.exchange(m, v.Branch())
	return raw, sent && code == 0
}

// exchange injects req, whose branch is given, and returns its final
// status, 0 after notifyWait; sent reports the injection.
func (h *notifyHarness) exchange(req *sipmsg.Message, branch string) (code int, sent bool) {
	w := &notifyTx{branch: branch, got: make(chan int, 1)}
	h.want.Store(w)
	if sent = h.inject(req); !sent {
		return 0, false
	}
	select {
	case code = <-w.got:
	case <-time.After(notifyWait):
	}
	return code, true
}

// answerNext has the notifier answer the next SUBSCRIBE of sl's package
// with tmpl, and kicks sl into refreshing at once.
func (h *notifyHarness) answerNext(t *testing.T, sl *notifySlot, tmpl []byte, fresh string) {
	p := &notifyPending{event: sl.event, fresh: fresh, tmpl: tmpl, done: make(chan [3]int, 1)}
	h.mu.Lock()
	h.pending = p
	h.mu.Unlock()
	select {
	case sl.s.kick <- struct{}{}:
	default: // one waits already
	}
	deadline := time.NewTimer(notifyWait)
	defer deadline.Stop()
	var got [3]int
	select {
	case got = <-p.done:
	case <-deadline.C:
		t.Fatalf("the %s subscription sent no SUBSCRIBE within %v of a kick", sl.event, notifyWait)
	}
	for n := -1; n <= got[1] && got[0]/100 != 2 && (got[0] < 300 || got[2] == 0); {
		select {
		case <-h.granted:
		case <-deadline.C:
			t.Fatalf("the %s subscription did not subscribe again within %v of %d to:\n%s", sl.event, notifyWait, got[0], tmpl)
		}
		h.mu.Lock()
		n = h.grants[sl.event].n
		h.mu.Unlock()
	}
}

// flush waits until the callbacks queued so far have run, and fails t on
// the first malformed report.
func (h *notifyHarness) flush(t *testing.T) {
	done := make(chan struct{})
	h.u.events.do(func() { close(done) })
	select {
	case <-done:
	case <-time.After(notifyWait):
		t.Fatalf("the callbacks did not drain within %v", notifyWait)
	}
	if msg := h.bad.Swap(nil); msg != nil {
		t.Fatal(*msg) // the input that made the report: NOTIFYs are handled on this goroutine
	}
}

// report takes a callback's report, noting the first that is malformed:
// counts out of range, a class or dialog twice, an unknown class or state
// (a terminated dialog too, which Watch drops), an empty id or entity,
// more items than the body packages allow, an empty or untrimmed note, or
// any report once the Watcher stopped.
func (h *notifyHarness) report(gone *atomic.Bool, v any) {
	h.reports.Add(1)
	bad := gone != nil && gone.Load()
	switch v := v.(type) {
	case mwi.Summary:
		bad = bad || strings.ContainsFunc(v.Account, func(r rune) bool { return r <= ' ' || r >= 0x7f })
		bad = bad || len(v.Classes) > 16
		for i, c := range v.Classes {
			bad = bad || !slices.Contains([]string{"voice-message", "fax-message", "pager-message", "multimedia-message", "text-message", "none"}, c.Name) ||
				slices.ContainsFunc(v.Classes[:i], func(d mwi.Class) bool { return d.Name == c.Name }) ||
				min(c.New, c.Old, c.NewUrgent, c.OldUrgent) < 0 || max(c.New, c.Old, c.NewUrgent, c.OldUrgent) > 999999999
		}
	case dialoginfo.Info:
		bad = bad || !v.Full || v.Entity == "" || len(v.Dialogs) > dialoginfo.MaxDialogs
		for i, d := range v.Dialogs {
			bad = bad || d.ID == "" || slices.ContainsFunc(v.Dialogs[:i], func(e dialoginfo.Dialog) bool { return e.ID == d.ID }) ||
				!slices.Contains([]string{dialoginfo.Trying, dialoginfo.Proceeding, dialoginfo.Early, dialoginfo.Confirmed}, d.State) ||
				!slices.Contains([]string{"", "initiator", "recipient"}, d.Direction)
		}
	case pidf.Presence:
		notes := slices.Clone(v.Notes)
		for _, tu := range v.Tuples {
			bad = bad || tu.ID == ""
			notes = append(notes, tu.Notes...)
		}
		bad = bad || v.Entity == "" || len(v.Tuples) > pidf.MaxTuples ||
			slices.ContainsFunc(notes, func(n string) bool { return n == "" || strings.TrimSpace(n) != n })
	}
	if bad {
		msg := fmt.Sprintf("malformed report (or one after Stop) %T: %+v", v, v)
		h.bad.CompareAndSwap(nil, &msg)
	}
}

// inject hands m to the UA as the transport would from the notifier
// (injectFrom).
func (h *notifyHarness) inject(m *sipmsg.Message) bool { return injectFrom(h.u, h.peer, h.ua, m) }

// serve is the notifier: it takes what the UA sends until the socket
// closes. A final response goes to the NOTIFY awaited; a SUBSCRIBE gets
// the pending template of its package (followed by a grant when that was
// provisional or not handed over), else a grant; any other request 200.
func (h *notifyHarness) serve() {
	defer close(h.served)
	buf := make([]byte, 65536)
	for {
		n, from, err := h.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		m, err := sipmsg.Parse(append([]byte(nil), buf[:n]...))
		if err != nil || m.Method == "ACK" {
			continue
		}
		if !m.IsRequest() {
			v, err := m.Via()
			if w := h.want.Load(); err == nil && m.StatusCode >= 200 && w != nil && w.branch == v.Branch() {
				select {
				case w.got <- m.StatusCode:
				default:
				}
			}
			continue
		}
		ev := m.Get("Event")
		h.mu.Lock()
		p := h.pending
		if p == nil || m.Method != "SUBSCRIBE" || ev != p.event || m.Get("Expires") == "0" {
			h.mu.Unlock()
			h.grant(m, from)
			continue
		}
		h.pending = nil
		before := h.grants[ev].n
		h.mu.Unlock()
		code, tag, retry := h.answer(p, m)
		if code/100 == 2 {
			h.record(ev, m.CallID(), tag) // it may make the subscription
		} else if code < 200 { // none, or a provisional one: the real answer follows
			h.grant(m, from)
		}
		p.done <- [3]int{code, before, retry}
	}
}

// grant answers m 200, with Expires to a SUBSCRIBE, and follows the grant
// of a subscription with its NOTIFY: active, without a body (RFC 6665
// §4.2.1.2: a notifier that accepts or refreshes a subscription MUST send
// one at once).
func (h *notifyHarness) grant(m *sipmsg.Message, from netip.AddrPort) {
	r := sipmsg.NewResponse(m, 200, "")
	to, _ := m.To()
	tag := to.Tag()
	if tag == "" {
		tag = token()
		r.SetToTag(tag) //nolint:errcheck // To parsed by the UA that built it
	}
	r.Add("Contact", "<sip:notifier@"+h.peer.String()+">")
	var notify []byte
	switch {
	case m.Method != "SUBSCRIBE":
	case m.Get("Expires") == "0":
		r.Add("Expires", "0")
	default:
		r.Add("Expires", "3600")
		h.record(m.Get("Event"), m.CallID(), tag)
		ltag, _ := m.From()
		notify = h.expand([]byte(notifySeed("Subscription-State: active;expires=3600\r\n", "", "")), token(), []string{"$CALLID", m.CallID(),
			"$LTAG", ltag.Tag(), "$RTAG", tag, "$EVENT", m.Get("Event"), "$CSEQ", strconv.FormatInt(h.cseq.Add(1), 10)})
	}
	r.SetContentLength()
	h.pc.WriteToUDPAddrPort([]byte(r.String()), from) //nolint:errcheck // the UA may be gone
	if notify != nil {
		h.pc.WriteToUDPAddrPort(notify, from) //nolint:errcheck // the UA may be gone
	}
}

func (h *notifyHarness) record(ev, callID, tag string) {
	h.mu.Lock()
	h.grants[ev] = notifyRec{callID, tag, h.grants[ev].n + 1}
	h.mu.Unlock()
	select {
	case h.granted <- struct{}{}:
	default:
	}
}

// answer injects p's template as the answer to sub and returns its status
// (0 when it was not handed over), To tag and Retry-After in seconds.
func (h *notifyHarness) answer(p *notifyPending, sub *sipmsg.Message) (int, string, int) {
	v, _ := sub.Via()
	cs, _ := sub.CSeq()
	from, _ := sub.From()
	to, _ := sub.To()
	rtag := to.Tag()
	if rtag == "" {
		rtag = p.fresh // a new subscription
	}
	raw := h.expand(p.tmpl, p.fresh, []string{"$CALLID", sub.CallID(), "$LTAG", from.Tag(), "$RTAG", rtag,
		"$EVENT", p.event, "$SUBBRANCH", v.Branch(), "$CSEQ", strconv.FormatUint(uint64(cs.Seq), 10)})
	r, err := sipmsg.Parse(raw)
	if len(raw) > 65507 || err != nil || r.Validate() != nil || r.IsRequest() {
		return 0, "", 0
	}
	to, _ = r.To() // before the UA has r
	retry, _ := r.RetryAfter()
	if !h.inject(r) {
		return 0, "", 0
	}
	return r.StatusCode, to.Tag(), int(retry / time.Second)
}

// close ends the subscriptions that lead elsewhere, disconnects the UA and
// checks that no subscription outlived it.
func (h *notifyHarness) close(f *testing.F) {
	for _, sl := range h.slots {
		if vals, hop, _, _ := h.state(sl); hop != nil && !h.isPeer(*hop) {
			h.notify(vals, []byte(notifySeed("Subscription-State: terminated\r\n", "", "")), token())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), notifyWait)
	defer cancel()
	err := h.u.Disconnect(ctx)
	h.u.mu.Lock()
	n := len(h.u.subs)
	h.u.mu.Unlock()
	for _, sl := range h.slots {
		select {
		case <-sl.s.done:
		default:
			n++
		}
	}
	if err != nil || n > 0 {
		f.Errorf("Disconnect: %v; %d subscriptions listed or running after it", err, n)
	}
	if msg := h.bad.Load(); msg != nil {
		f.Error(*msg)
	}
	f.Logf("%d reports checked", h.reports.Load())
}

// notifySeed is a NOTIFY of the notifier in the subscription; extra are
// header lines.
func notifySeed(extra, ctype, body string) string {
	s := "NOTIFY sip:test@$UA SIP/2.0\r\nVia: SIP/2.0/UDP $PEER;branch=z9hG4bK$BRANCH;rport\r\n" +
		"From: <sip:notifier@$PEER>;tag=$RTAG\r\nTo: <sip:test@127.0.0.1>;tag=$LTAG\r\nCall-ID: $CALLID\r\n" +
		"CSeq: $CSEQ NOTIFY\r\nMax-Forwards: 70\r\nContact: <sip:notifier@$PEER>\r\nEvent: $EVENT\r\n" + extra
	if ctype != "" {
		s += "Content-Type: " + ctype + "\r\n"
	}
	return s + "Content-Length: $LEN\r\n\r\n" + body
}

type notifyInput struct {
	pkg  uint8
	tmpl string
}

// notifySeeds are, for each package, NOTIFYs with bodies (hand-written,
// and the body packages' testdata), with each Subscription-State, without
// Event or with another, outside the subscription, moving its target;
// and answers to SUBSCRIBE of each kind, spread over the packages.
func notifySeeds(f *testing.F) (seeds []notifyInput) {
	const di = `<?xml version="1.0"?><dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" `
	const pr = `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" `
	bodies := [3][]string{{
		"Messages-Waiting: yes\r\nMessage-Account: sip:test@vm\r\nVoice-Message: 2/8 (0/2)\r\n",
		"Messages-Waiting: no\r\n",
		"messages-waiting:  YES \nVOICE-MESSAGE: 000000001/999999999 ( 1 / 0 )\nFax-Message: 0/0\nText-Message: 3/0\nNone: 0/0\nX-Vendor: a:b:c\n\nTo: <sip:x@y>\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: -1/2\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: 4294967296/0\r\nVoice-Message: 1/1\r\n",
		// A control character in Message-Account (CR here): mwi.Parse took
		// such accounts until fb2b723, when it came to require an
		// Account-URI (RFC 3842 §5.2); now the body is refused (400) and
		// report's strict check of Account guards against a regression.
		"Messages-Waiting: yes\r\nMessage-Account: sip:test@vm\r)\r\n",
	}, {
		di + `version="1" state="full" entity="sip:1002@pbx"><dialog id="a" direction="initiator"><state>trying</state></dialog>` +
			`<dialog id="b" direction="recipient" call-id="c1@pbx" local-tag="l" remote-tag="r"><state>early</state><remote><identity display="Alice">sip:1001@pbx</identity></remote></dialog>` +
			`<dialog id="c"><state event="replaced">confirmed</state></dialog></dialog-info>`,
		di + `version="2" state="partial" entity="sip:1002@pbx"><dialog id="b"><state event="rejected">terminated</state></dialog><dialog id="d" direction="recipient"><state>proceeding</state></dialog></dialog-info>`,
		di + `version="4294967295" state="full" entity="sip:1002@pbx"><dialog id="x"><state>early</state></dialog><dialog id="x"><state>terminated</state></dialog><dialog id="x"><state> confirmed </state></dialog></dialog-info>`,
		di + `version="0" state="full" entity="sip:1002@pbx"/>`,
	}, {
		pr + `entity="sip:1003@pbx"><tuple id="t1"><status><basic>open</basic></status><contact priority="0.8">sip:1003@127.0.0.1</contact><note xml:lang="en">  At lunch </note></tuple>` +
			`<tuple id="t2"><status><basic>closed</basic></status></tuple><note>Busy</note><note></note></presence>`,
		pr + `entity="pres:1003@pbx"><tuple id="x"><status><basic>closed</basic></status></tuple></presence>`,
		pr + `entity="sip:1003@pbx"/>`,
	}}
	for pkg, glob := range []string{"../mwi/testdata/*.txt", "../dialoginfo/testdata/*.xml", "../pidf/testdata/*.xml"} {
		files, _ := filepath.Glob(glob)
		if len(files) == 0 {
			f.Fatal("no bodies in " + glob)
		}
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			bodies[pkg] = append(bodies[pkg], string(b))
		}
	}
	const ok = "Subscription-State: active;expires=3600\r\n"
	for pkg, ct := range []string{mwi.ContentType, dialoginfo.ContentType, pidf.ContentType} {
		add := func(s string) { seeds = append(seeds, notifyInput{uint8(pkg), s}) }
		for _, b := range bodies[pkg] {
			add(notifySeed(ok, ct, b))
		}
		for _, st := range []string{"pending", "active", "active;expires=0", "active;expires=2147483647", "active;expires=99999999999",
			"terminated", "terminated;reason=deactivated", "terminated;reason=probation;retry-after=30", "terminated;reason=rejected",
			"terminated;reason=timeout", "terminated;reason=giveup;retry-after=3600", "terminated;reason=noresource",
			"terminated;reason=invariant", "terminated;reason=deactivated;retry-after=0", "x-unknown;reason=;expires="} {
			add(notifySeed("Subscription-State: "+st+"\r\n", "", ""))
		}
		full := notifySeed(ok, ct, bodies[pkg][0])
		for _, r := range [][2]string{
			{"Event: $EVENT\r\n", ""},
			{"Event: $EVENT", "Event: " + []string{eventMWI, eventDialog, eventPresence}[(pkg+1)%3]},
			{"Event: $EVENT", "Event: refer"},
			{"Event: $EVENT", "Event: $EVENT;id=7"},
			{ok, ""},
			{ok, "Subscription-State: terminated;reason=timeout\r\n"}, // the last state, with a body
			{"Content-Type: " + ct, "Content-Type: text/plain"},
			{"Call-ID: $CALLID", "Call-ID: $BRANCH@peer"}, // no such subscription
			{"tag=$LTAG", "tag=x$BRANCH"},
			{";tag=$LTAG", ""},            // outside a dialog: unsolicited MWI
			{"tag=$RTAG", "tag=f$BRANCH"}, // another notifier (a fork)
			{"<sip:notifier@$PEER>\r\nEvent", "<sip:notifier@127.0.0.1:9;transport=tcp>\r\nEvent"},
			{"Contact: <sip:notifier@$PEER>", "Contact: *"},
		} {
			add(strings.Replace(full, r[0], r[1], 1))
		}
	}
	ans := func(status, extra string) string {
		return "SIP/2.0 " + status + "\r\nVia: SIP/2.0/UDP $UA;branch=$SUBBRANCH;rport\r\nFrom: <sip:test@127.0.0.1>;tag=$LTAG\r\n" +
			"To: <sip:notifier@$PEER>;tag=$RTAG\r\nCall-ID: $CALLID\r\nCSeq: $CSEQ SUBSCRIBE\r\n" + extra + "Content-Length: 0\r\n\r\n"
	}
	c := "Contact: <sip:notifier@$PEER>\r\n"
	for i, s := range []string{
		ans("200 OK", c+"Expires: 600\r\n"), ans("200 OK", c+"Expires: 0\r\n"), ans("200 OK", c+"Expires: 99999999999\r\n"), ans("200 OK", ""),
		ans("202 Accepted", "Contact: <sip:notifier@127.0.0.1:9>\r\nExpires: 3600\r\n"), ans("200 OK", "Contact: <sip:notifier@$PEER;transport=tcp>\r\n"),
		ans("200 OK", c+"Record-Route: <sip:127.0.0.1:9;lr>\r\n"), strings.Replace(ans("200 OK", c), "tag=$RTAG", "tag=$BRANCH", 1),
		strings.Replace(ans("200 OK", c), "$SUBBRANCH", "z9hG4bK$BRANCH", 1), ans("100 Trying", ""), ans("183 Session Progress", c),
		ans("401 Unauthorized", "WWW-Authenticate: Digest realm=\"vm\", nonce=\"n0nce\", algorithm=MD5, qop=\"auth\"\r\n"),
		ans("407 Proxy Authentication Required", "Proxy-Authenticate: Digest realm=\"vm\", nonce=\"n1\", algorithm=SHA-256\r\n"),
		ans("401 Unauthorized", "WWW-Authenticate: Basic realm=x\r\n"), ans("423 Interval Too Brief", "Min-Expires: 7200\r\n"),
		ans("423 Interval Too Brief", "Min-Expires: 10\r\n"), ans("423 Interval Too Brief", ""), ans("481 Subscription Does Not Exist", ""),
		ans("489 Bad Event", "Allow-Events: presence\r\n"), ans("500 Server Internal Error", "Retry-After: 5\r\n"),
		ans("503 Service Unavailable", "Retry-After: 3600\r\n"), ans("302 Moved Temporarily", "Contact: <sip:elsewhere@127.0.0.1:9>\r\n"),
		ans("404 Not Found", ""), ans("603 Decline", ""),
	} {
		seeds = append(seeds, notifyInput{uint8(i % 3), s})
	}
	return seeds
}

package ua

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/dialoginfo"
	"github.com/xphone-go/xphone/internal/pidf"
	"github.com/xphone-go/xphone/sipmsg"
)

// dialogDoc is a dialog-info document for entity with the given dialogs
// as id/direction/state triples.
func dialogDoc(t *testing.T, version int, full bool, dialogs ...string) string {
	t.Helper()
	info := dialoginfo.Info{Entity: "sip:1002@pbx", Version: uint32(version), Full: full}
	for i := 0; i+2 < len(dialogs); i += 3 {
		info.Dialogs = append(info.Dialogs, dialoginfo.Dialog{ID: dialogs[i], Direction: dialogs[i+1], State: dialogs[i+2]})
	}
	b, err := info.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWatch: Watch subscribes to the target's dialog package (Event:
// dialog, Accept: application/dialog-info+xml); each NOTIFY's dialogs,
// partial documents merged into the full picture and terminated ones
// dropped, reach the callback; a body that is not dialog-info is 400;
// Stop removes the subscription (Expires: 0) and nothing is reported
// sendDialogNotify sends a dialog-event NOTIFY (RFC 4235) with body in the
// subscription that sub, answered with To tag tag, made, and returns the
// UA's answer to it; extra are more header names and values.
func (p *peer) sendDialogNotify(sub peerMsg, tag string, seq int, state, body string, extra ...string) *sipmsg.Message {
	p.t.Helper()
	n := p.mwiNotify(sub.m, tag, seq, state, "")
	n.Set("Event", "dialog")
	for i := 0; i+1 < len(extra); i += 2 {
		n.Add(extra[i], extra[i+1])
	}
	n.Add("Content-Type", dialoginfo.ContentType)
	n.Body = []byte(body)
	n.SetContentLength()
	p.send(n, sub.from)
	return p.next("answer to NOTIFY", isRespTo(n)).m
}

// after it.
func TestWatch(t *testing.T) {
	p := newPeer(t)
	u := newUA(t, func(c *Config) { c.Host, c.Port, c.RegisterExpiry = "127.0.0.1", p.port, -1 })
	got := make(chan dialoginfo.Info, 8)
	w, err := u.Watch("1002", func(i dialoginfo.Info) { got <- i })
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	sub := p.next("SUBSCRIBE", isReq("SUBSCRIBE"))
	if ev, acc := sub.m.Get("Event"), sub.m.Get("Accept"); ev != "dialog" || acc != dialoginfo.ContentType {
		t.Errorf("SUBSCRIBE: Event %q Accept %q", ev, acc)
	}
	if ru := sub.m.RequestURI.String(); ru != fmt.Sprintf("sip:1002@127.0.0.1:%d", p.port) {
		t.Errorf("Request-URI: got %s", ru)
	}
	tag := token()
	p.respond(sub, 200, tag, "", "Expires", "3600")
	seq := 0
	state := "active;expires=3600"
	notify := func(body string) *sipmsg.Message {
		seq++
		return p.sendDialogNotify(sub, tag, seq, state, body)
	}
	dialogs := func(what string) string {
		t.Helper()
		select {
		case i := <-got:
			s := ""
			for _, d := range i.Dialogs {
				s += d.ID + ":" + d.State + " "
			}
			return s
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: nothing reported", what)
			return ""
		}
	}
	for _, step := range []struct {
		body, want string
	}{
		{dialogDoc(t, 0, true, "a", "recipient", "early"), "a:early "},
		{dialogDoc(t, 1, false, "a", "recipient", "confirmed", "b", "initiator", "trying"), "a:confirmed b:trying "},
		{dialogDoc(t, 2, false, "a", "recipient", "terminated"), "b:trying "},
		{dialogDoc(t, 3, true), ""},
	} {
		if r := notify(step.body); r.StatusCode != 200 {
			t.Fatalf("NOTIFY: got %d, want 200", r.StatusCode)
		}
		if s := dialogs(step.want); s != step.want {
			t.Errorf("after %.80q: got %q, want %q", step.body, s, step.want)
		}
	}
	if r := notify("<not-dialog-info/>"); r.StatusCode != 400 {
		t.Errorf("NOTIFY with a bad body: got %d, want 400", r.StatusCode)
	}

	stopped := make(chan struct{})
	go func() { w.Stop(context.Background()); close(stopped) }()
	un := p.next("unsubscribe", func(m *sipmsg.Message) bool { return m.Method == "SUBSCRIBE" && m.Get("Expires") == "0" })
	p.respond(un, 200, tag, "", "Expires", "0")
	<-stopped
	// The removal's final NOTIFY (RFC 6665 §4.1.2.3), and one sent before
	// it, get 200 and are not reported; after the final one, 481.
	if r := notify(dialogDoc(t, 4, true, "c", "recipient", "early")); r.StatusCode != 200 {
		t.Errorf("NOTIFY after Stop, before the final one: got %d, want 200", r.StatusCode)
	}
	state = "terminated;reason=timeout"
	if r := notify(dialogDoc(t, 5, true)); r.StatusCode != 200 {
		t.Errorf("final NOTIFY after Stop: got %d, want 200", r.StatusCode)
	}
	if r := notify(dialogDoc(t, 6, true, "c", "recipient", "early")); r.StatusCode != 481 {
		t.Errorf("NOTIFY after the final one: got %d, want 481", r.StatusCode)
	}
	select {
	case i := <-got:
		t.Errorf("reported after Stop: %+v", i)
	default:
	}
}

// TestWatchPresence: WatchPresence subscribes with Event: presence and
// Accept: application/pidf+xml; each PIDF document reaches the callback;
// a body that is not PIDF is 400.
func TestWatchPresence(t *testing.T) {
	p := newPeer(t)
	u := newUA(t, func(c *Config) { c.Host, c.Port, c.RegisterExpiry = "127.0.0.1", p.port, -1 })
	got := make(chan pidf.Presence, 4)
	w, err := u.WatchPresence("1003", func(pr pidf.Presence) { got <- pr })
	if err != nil {
		t.Fatalf("WatchPresence: %v", err)
	}
	sub := p.next("SUBSCRIBE", isReq("SUBSCRIBE"))
	if ev, acc := sub.m.Get("Event"), sub.m.Get("Accept"); ev != "presence" || acc != pidf.ContentType {
		t.Errorf("SUBSCRIBE: Event %q Accept %q", ev, acc)
	}
	tag := token()
	p.respond(sub, 200, tag, "", "Expires", "3600")
	for i, doc := range []pidf.Presence{
		{Entity: "sip:1003@pbx", Tuples: []pidf.Tuple{{ID: "a", Open: true, Notes: []string{"At lunch"}}}},
		{Entity: "sip:1003@pbx", Tuples: []pidf.Tuple{{ID: "a"}}},
	} {
		body, err := doc.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		n := p.mwiNotify(sub.m, tag, i+1, "active;expires=3600", "")
		n.Set("Event", "presence")
		n.Add("Content-Type", pidf.ContentType)
		n.Body = body
		n.SetContentLength()
		p.send(n, sub.from)
		if r := p.next("answer", isRespTo(n)).m; r.StatusCode != 200 {
			t.Fatalf("NOTIFY %d: got %d", i+1, r.StatusCode)
		}
		select {
		case pr := <-got:
			if pr.Open() != doc.Open() || pr.Note() != doc.Note() {
				t.Errorf("NOTIFY %d: got open %v note %q, want %v %q", i+1, pr.Open(), pr.Note(), doc.Open(), doc.Note())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("NOTIFY %d not reported", i+1)
		}
	}
	bad := p.mwiNotify(sub.m, tag, 3, "active", "")
	bad.Set("Event", "presence")
	bad.Body = []byte("<presence/>")
	bad.SetContentLength()
	p.send(bad, sub.from)
	if r := p.next("answer", isRespTo(bad)).m; r.StatusCode != 400 {
		t.Errorf("NOTIFY with a bad document: got %d, want 400", r.StatusCode)
	}
	go w.Stop(context.Background())
	p.respond(p.next("unsubscribe", func(m *sipmsg.Message) bool { return m.Method == "SUBSCRIBE" && m.Get("Expires") == "0" }), 200, tag, "")
}

// TestWatcherStopDuringNotify: Stop removes its subscription from the UA
// while the transport's reader looks up another one for a NOTIFY. Stop
// once shifted the shared list in place (slices.Delete, which also zeroes
// the freed slot), so the lookup, which walks the list outside the UA's
// lock, could read a moved or nil entry: a data race, and in CI a nil
// dereference on the reader. Every NOTIFY to the watcher that stays must
// be answered 200 while the others stop.
func TestWatcherStopDuringNotify(t *testing.T) {
	const n = 16
	p := newPeer(t)
	u := newUA(t, func(c *Config) { c.Host, c.Port, c.RegisterExpiry = "127.0.0.1", p.port, -1 })
	ws := make([]*Watcher, n)
	var last peerMsg
	tag := token()
	subscribed := isNewReq("SUBSCRIBE")
	for i := range ws {
		w, err := u.Watch(fmt.Sprintf("%d", 2000+i), func(dialoginfo.Info) {})
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
		ws[i] = w
		last = p.next("SUBSCRIBE", subscribed)
		p.respond(last, 200, tag, "", "Expires", "3600")
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel() // Stop takes the subscription out at once and does not wait
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for _, w := range ws[:n-1] {
			w.Stop(gone)
		}
	}()
	for seq := 1; seq <= 2*n; seq++ {
		m := p.mwiNotify(last.m, tag, seq, "active;expires=3600", "")
		m.Set("Event", "dialog")
		m.Add("Content-Type", dialoginfo.ContentType)
		m.Body = []byte(dialogDoc(t, seq-1, true))
		p.send(m, last.from)
		if r := p.next("answer to NOTIFY", isRespTo(m)).m; r.StatusCode != 200 {
			t.Fatalf("NOTIFY %d to the watcher that stays: got %d, want 200", seq, r.StatusCode)
		}
	}
	<-stopped
	stopped = make(chan struct{})
	go func() { ws[n-1].Stop(context.Background()); close(stopped) }()
	un := p.next("unsubscribe", func(m *sipmsg.Message) bool {
		return m.Method == "SUBSCRIBE" && m.Get("Expires") == "0" && m.CallID() == last.m.CallID()
	})
	p.respond(un, 200, tag, "", "Expires", "0")
	<-stopped
}

// TestDisconnectAnswersFinalNotify: Disconnect removes a watch and, before
// it closes the transport, waits for the notifier's final NOTIFY (RFC
// 6665 §4.1.2.3), which gets 200 even when the notifier sends it only
// after Disconnect is done removing (testRemoved).
func TestDisconnectAnswersFinalNotify(t *testing.T) {
	p := newPeer(t)
	u := newUA(t, func(c *Config) {
		c.Host, c.Port, c.RegisterExpiry, c.T1 = "127.0.0.1", p.port, -1, 5*time.Second
	})
	if _, err := u.Watch("1002", func(dialoginfo.Info) {}); err != nil {
		t.Fatalf("Watch: %v", err)
	}
	sub := p.next("SUBSCRIBE", isReq("SUBSCRIBE"))
	tag := token()
	p.respond(sub, 200, tag, "", "Expires", "3600")
	notify := func(seq int, state string) int {
		return p.sendDialogNotify(sub, tag, seq, state, dialogDoc(t, seq, true)).StatusCode
	}
	if code := notify(1, "active;expires=3600"); code != 200 {
		t.Fatalf("NOTIFY: got %d, want 200", code)
	}
	removed := make(chan struct{})
	u.testRemoved = func() { close(removed) } // where Disconnect used to close the transport
	disconnected := make(chan error, 1)
	go func() { disconnected <- u.Disconnect(context.Background()) }()
	un := p.next("unsubscribe", func(m *sipmsg.Message) bool { return m.Method == "SUBSCRIBE" && m.Get("Expires") == "0" })
	p.respond(un, 200, tag, "", "Expires", "0")
	select {
	case <-removed: // the notifier sends its final NOTIFY only now
	case <-time.After(10 * time.Second):
		t.Fatal("Disconnect did not get past the removal")
	}
	if code := notify(2, "terminated;reason=timeout"); code != 200 {
		t.Errorf("final NOTIFY: got %d, want 200", code)
	}
	select {
	case err := <-disconnected:
		if err != nil {
			t.Errorf("Disconnect: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Disconnect did not return")
	}
}

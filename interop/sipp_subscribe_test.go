//go:build interop

package interop

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// Event packages against SIPp as the server: message waiting (RFC 3842),
// busy lamp (RFC 4235), presence (RFC 3856) and its publication (RFC
// 3903). Each scenario checks what the phone sends and exits 0 only if
// every step came.

// sippServer runs scenario as a server and returns a phone (not
// registering) whose Host is that SIPp, with edit applied to its Config
// and setup run before Connect, and the check to call at the end.
func sippServer(t *testing.T, scenario string, edit func(*xphone.Config), setup func(xphone.Phone)) (xphone.Phone, func()) {
	t.Helper()
	stf := filepath.Join(t.TempDir(), "stat.csv")
	p, sport := startSIPp(t, scenario, "-trace_stat", "-stf", stf, "-fd", "1")
	p.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(sport) })
	cfg := xphone.Config{
		Username: "xphone", Host: "127.0.0.1", Port: sport, RegisterExpiry: -1, ListenAddr: "127.0.0.1:0",
		RTPAddress: netip.MustParseAddr("127.0.0.1"), NATKeepaliveInterval: -1,
	}
	if edit != nil {
		edit(&cfg)
	}
	ph, err := xphone.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ph.OnError(func(err error) { t.Errorf("OnError: %v", err) })
	if setup != nil {
		setup(ph)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ph.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { ph.Disconnect(context.Background()) })
	return ph, func() { checkSIPp(t, p, stf, 1, -1) }
}

// expect reads one value from ch for each of want and compares them.
func expect[T comparable](t *testing.T, ch <-chan T, want ...T) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-ch:
			if got != w {
				t.Errorf("got %+v, want %+v", got, w)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("nothing came, want %+v", w)
		}
	}
}

// TestSIPpMWI: SIPp is the voicemail server (mwi-server.xml). The phone,
// with Config.MWI, subscribes to its message-summary, answers SIPp's
// digest challenge (SIPp verifies the credentials), reports both NOTIFYs
// through OnVoicemail, refreshes inside the dialog in time, and removes
// the subscription on Disconnect; SIPp checks each step and exits 0.
func TestSIPpMWI(t *testing.T) {
	got := make(chan xphone.VoicemailStatus, 4)
	ph, check := sippServer(t, "mwi-server",
		func(c *xphone.Config) { c.Password, c.MWI = "secret", true },
		func(p xphone.Phone) { p.OnVoicemail(func(s xphone.VoicemailStatus) { got <- s }) })
	expect(t, got,
		xphone.VoicemailStatus{Waiting: true, Account: "sip:xphone@127.0.0.1", New: 2, Old: 8, OldUrgent: 2},
		xphone.VoicemailStatus{Waiting: true, New: 3, Old: 8})
	if err := ph.Disconnect(context.Background()); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
	check()
}

// TestSIPpWatch: SIPp is the dialog event notifier (blf-notifier.xml) of
// line 1002. Phone.Watch subscribes (SIPp checks Event and Accept), the
// line goes ringing (with the caller), busy (a partial document merged)
// and idle (the dialog terminated); stopping the watch removes the
// subscription, SIPp's final NOTIFY (terminated) gets 200 (RFC 6665
// §4.1.2.3: not 481, though the subscription is gone), and SIPp exits 0.
func TestSIPpWatch(t *testing.T) {
	ph, check := sippServer(t, "blf-notifier", nil, nil)
	got := make(chan xphone.LineStatus, 4)
	stop, err := ph.Watch("1002", func(s xphone.LineStatus) { got <- s })
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	expect(t, got,
		xphone.LineStatus{Target: "1002", State: xphone.LineRinging, Calls: 1, Caller: "sip:1001@127.0.0.1"},
		xphone.LineStatus{Target: "1002", State: xphone.LineBusy, Calls: 1},
		xphone.LineStatus{Target: "1002", State: xphone.LineIdle})
	stop(context.Background())
	check()
}

// TestSIPpPresence: SIPp is the presence notifier (presence-notifier.xml)
// of 1002. Phone.WatchPresence subscribes (SIPp checks Event and Accept),
// reports online with the note of the open tuple (skipping the RPID
// element), then offline; stopping the watch removes the subscription,
// and SIPp's final NOTIFY gets 200.
func TestSIPpPresence(t *testing.T) {
	ph, check := sippServer(t, "presence-notifier", nil, nil)
	got := make(chan xphone.Presence, 4)
	stop, err := ph.WatchPresence("1002", func(pr xphone.Presence) { got <- pr })
	if err != nil {
		t.Fatalf("WatchPresence: %v", err)
	}
	expect(t, got, xphone.Presence{Target: "1002", Online: true, Note: "At lunch"}, xphone.Presence{Target: "1002"})
	stop(context.Background())
	check()
}

// TestSIPpPublish: SIPp is the presence server (presence-publish.xml):
// SetPresence's PUBLISH carries Event: presence and a PIDF document with
// the closed tuple and its note (SIPp checks them), and Disconnect removes
// the publication by its entity tag (Expires: 0, SIP-If-Match, no body).
func TestSIPpPublish(t *testing.T) {
	ph, check := sippServer(t, "presence-publish", nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ph.SetPresence(ctx, false, "In a meeting"); err != nil {
		t.Errorf("SetPresence: %v", err)
	}
	if err := ph.Disconnect(ctx); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
	check()
}

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

// TestSIPpMWI: SIPp is the voicemail server (mwi-server.xml). The phone,
// with Config.MWI, subscribes to its message-summary, answers SIPp's
// digest challenge (SIPp verifies the credentials), reports both NOTIFYs
// through OnVoicemail, refreshes inside the dialog in time, and removes
// the subscription on Disconnect; SIPp checks each step and exits 0.
func TestSIPpMWI(t *testing.T) {
	stf := filepath.Join(t.TempDir(), "stat.csv")
	p, sport := startSIPp(t, "mwi-server", "-trace_stat", "-stf", stf, "-fd", "1")
	p.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(sport) })
	ph, err := xphone.New(xphone.Config{
		Username: "xphone", Password: "secret", Host: "127.0.0.1", Port: sport,
		RegisterExpiry: -1, MWI: true, ListenAddr: "127.0.0.1:0",
		RTPAddress: netip.MustParseAddr("127.0.0.1"), NATKeepaliveInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan xphone.VoicemailStatus, 4)
	ph.OnVoicemail(func(s xphone.VoicemailStatus) { got <- s })
	ph.OnError(func(err error) { t.Errorf("OnError: %v", err) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ph.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	next := func(what string) xphone.VoicemailStatus {
		t.Helper()
		select {
		case s := <-got:
			return s
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no voicemail status", what)
			return xphone.VoicemailStatus{}
		}
	}
	if s := next("first NOTIFY"); s != (xphone.VoicemailStatus{Waiting: true, Account: "sip:xphone@127.0.0.1", New: 2, Old: 8, OldUrgent: 2}) {
		t.Errorf("first status: got %+v", s)
	}
	if s := next("NOTIFY after the refresh"); s != (xphone.VoicemailStatus{Waiting: true, New: 3, Old: 8}) {
		t.Errorf("second status: got %+v", s)
	}
	if err := ph.Disconnect(ctx); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
	checkSIPp(t, p, stf, 1, -1)
}

// TestSIPpWatch: SIPp is the dialog event notifier (blf-notifier.xml) of
// line 1002. Phone.Watch subscribes (SIPp checks Event and Accept), the
// line goes ringing (with the caller), busy (a partial document merged)
// and idle (the dialog terminated); stopping the watch removes the
// subscription, and SIPp exits 0.
func TestSIPpWatch(t *testing.T) {
	stf := filepath.Join(t.TempDir(), "stat.csv")
	p, sport := startSIPp(t, "blf-notifier", "-trace_stat", "-stf", stf, "-fd", "1")
	p.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(sport) })
	ph, err := xphone.New(xphone.Config{
		Username: "xphone", Host: "127.0.0.1", Port: sport, RegisterExpiry: -1, ListenAddr: "127.0.0.1:0",
		RTPAddress: netip.MustParseAddr("127.0.0.1"), NATKeepaliveInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ph.OnError(func(err error) { t.Errorf("OnError: %v", err) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ph.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer ph.Disconnect(context.Background())
	got := make(chan xphone.LineStatus, 4)
	stop, err := ph.Watch("1002", func(s xphone.LineStatus) { got <- s })
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	for _, want := range []xphone.LineStatus{
		{Target: "1002", State: xphone.LineRinging, Calls: 1, Caller: "sip:1001@127.0.0.1"},
		{Target: "1002", State: xphone.LineBusy, Calls: 1},
		{Target: "1002", State: xphone.LineIdle},
	} {
		select {
		case s := <-got:
			if s != want {
				t.Errorf("line status: got %+v, want %+v", s, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no line status, want %+v", want)
		}
	}
	stop(ctx)
	checkSIPp(t, p, stf, 1, -1)
}

// TestSIPpPresence: SIPp is the presence notifier (presence-notifier.xml)
// of 1002. Phone.WatchPresence subscribes (SIPp checks Event and Accept),
// reports online with the note of the open tuple (skipping the RPID
// element), then offline; stopping the watch removes the subscription.
func TestSIPpPresence(t *testing.T) {
	stf := filepath.Join(t.TempDir(), "stat.csv")
	p, sport := startSIPp(t, "presence-notifier", "-trace_stat", "-stf", stf, "-fd", "1")
	p.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(sport) })
	ph, err := xphone.New(xphone.Config{
		Username: "xphone", Host: "127.0.0.1", Port: sport, RegisterExpiry: -1, ListenAddr: "127.0.0.1:0",
		RTPAddress: netip.MustParseAddr("127.0.0.1"), NATKeepaliveInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ph.OnError(func(err error) { t.Errorf("OnError: %v", err) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ph.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer ph.Disconnect(context.Background())
	got := make(chan xphone.Presence, 4)
	stop, err := ph.WatchPresence("1002", func(pr xphone.Presence) { got <- pr })
	if err != nil {
		t.Fatalf("WatchPresence: %v", err)
	}
	for _, want := range []xphone.Presence{
		{Target: "1002", Online: true, Note: "At lunch"},
		{Target: "1002"},
	} {
		select {
		case pr := <-got:
			if pr != want {
				t.Errorf("presence: got %+v, want %+v", pr, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no presence, want %+v", want)
		}
	}
	stop(ctx)
	checkSIPp(t, p, stf, 1, -1)
}

// TestSIPpPublish: SIPp is the presence server (presence-publish.xml):
// SetPresence's PUBLISH carries Event: presence and a PIDF document with
// the closed tuple and its note (SIPp checks them), and Disconnect removes
// the publication by its entity tag (Expires: 0, SIP-If-Match, no body).
func TestSIPpPublish(t *testing.T) {
	stf := filepath.Join(t.TempDir(), "stat.csv")
	p, sport := startSIPp(t, "presence-publish", "-trace_stat", "-stf", stf, "-fd", "1")
	p.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(sport) })
	ph, err := xphone.New(xphone.Config{
		Username: "xphone", Host: "127.0.0.1", Port: sport, RegisterExpiry: -1, ListenAddr: "127.0.0.1:0",
		RTPAddress: netip.MustParseAddr("127.0.0.1"), NATKeepaliveInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ph.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if err := ph.SetPresence(ctx, false, "In a meeting"); err != nil {
		t.Errorf("SetPresence: %v", err)
	}
	if err := ph.Disconnect(ctx); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
	checkSIPp(t, p, stf, 1, -1)
}

package ua

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/sipmsg"
)

// TestEndedSubs: a removed subscription's dialog is remembered for the
// time given, for NOTIFYs of its own package, without an id, from its
// notifier; its terminated NOTIFY ends the memory, and so does time.
func TestEndedSubs(t *testing.T) {
	notify := func(fromTag, event, state string) (*sipmsg.Message, sipmsg.Event, sipmsg.SubscriptionState) {
		t.Helper()
		m, err := sipmsg.Parse([]byte("NOTIFY sip:a@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\r\n" +
			"From: <sip:n@192.0.2.2>;tag=" + fromTag + "\r\nTo: <sip:a@192.0.2.1>;tag=ours\r\nCall-ID: c1\r\n" +
			"CSeq: 2 NOTIFY\r\nEvent: " + event + "\r\nSubscription-State: " + state + "\r\nContent-Length: 0\r\n\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := m.Event()
		if err != nil {
			t.Fatal(err)
		}
		st, err := m.SubscriptionState()
		if err != nil {
			t.Fatal(err)
		}
		return m, ev, st
	}
	id := dialog.ID{CallID: "c1", LocalTag: "ours", RemoteTag: "theirs"}
	synctest.Test(t, func(t *testing.T) {
		var e endedSubs
		e.add(id, "dialog", 32*time.Second)
		for _, tt := range []struct {
			from, event, state string
			want               bool
		}{
			{"other", "dialog", "active", false},
			{"theirs", "presence", "active", false},
			{"theirs", "dialog;id=7", "active", false},
			{"theirs", "dialog", "active;expires=60", true},
			{"theirs", "dialog", "active", true},
			{"theirs", "dialog", "terminated;reason=timeout", true},
			{"theirs", "dialog", "terminated", false}, // the final one came
		} {
			if got := e.take(notify(tt.from, tt.event, tt.state)); got != tt.want {
				t.Errorf("From tag %s, Event %s, %s: got %v, want %v", tt.from, tt.event, tt.state, got, tt.want)
			}
		}
		e.add(id, "dialog", 32*time.Second)
		time.Sleep(32 * time.Second)
		if e.take(notify("theirs", "dialog", "active")) {
			t.Error("remembered past its time")
		}
		e.add(dialog.ID{CallID: "c2"}, "dialog", time.Second) // forgets what is due
		if len(e.m) != 1 {
			t.Errorf("entries: got %d, want 1", len(e.m))
		}
	})
}

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
	notify := func(fromTag, event, state string) (*sipmsg.Message, sipmsg.Event) {
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
		return m, ev
	}
	id := dialog.ID{CallID: "c1", LocalTag: "ours", RemoteTag: "theirs"}
	synctest.Test(t, func(t *testing.T) {
		var e endedSubs
		e.add(id, "dialog", 32*time.Second)
		settled := e.settled()
		for _, tt := range []struct {
			from, event, state string
			want, final        bool
		}{
			{"other", "dialog", "active", false, false},
			{"theirs", "presence", "active", false, false},
			{"theirs", "dialog;id=7", "active", false, false},
			{"theirs", "dialog", "act ive", false, false},
			{"theirs", "dialog", "active;expires=60", true, false},
			{"theirs", "dialog", "active", true, false},
			{"theirs", "dialog", "terminated;reason=timeout", true, true},
		} {
			got, final, ok := e.take(notify(tt.from, tt.event, tt.state))
			if ok != tt.want || final != tt.final || ok && got != id {
				t.Errorf("From tag %s, Event %s, %s: got %v %v %v, want %v %v", tt.from, tt.event, tt.state, got, final, ok, tt.want, tt.final)
			}
		}
		select {
		case <-settled:
			t.Error("settled before the final NOTIFY was answered")
		default:
		}
		e.forget(id) // the final one was answered
		<-settled
		if _, _, ok := e.take(notify("theirs", "dialog", "active")); ok {
			t.Error("remembered after the final NOTIFY")
		}
		e.add(id, "dialog", 32*time.Second)
		settled = e.settled()
		time.Sleep(32 * time.Second)
		if _, _, ok := e.take(notify("theirs", "dialog", "active")); ok {
			t.Error("remembered past its time")
		}
		<-settled                                             // forgotten with time
		e.add(dialog.ID{CallID: "c2"}, "dialog", time.Second) // forgets what is due
		if len(e.m) != 1 {
			t.Errorf("entries: got %d, want 1", len(e.m))
		}
	})
}

package phonetest

import (
	"context"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// TestE2EVoicemail: a phone with Config.MWI registers with the PBX and
// subscribes to its own mailbox (answering the PBX's digest challenge);
// the NOTIFY that follows, and the one after each SetVoicemail, reach
// OnVoicemail; Disconnect removes the subscription (Expires: 0).
func TestE2EVoicemail(t *testing.T) {
	pbx := startE2E(t, PBXConfig{})
	pbx.SetVoicemail("alice", 2, 5)
	cfg := e2eConfig(pbx, "alice")
	cfg.MWI = true
	p, err := xphone.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan xphone.VoicemailStatus, 4)
	p.OnVoicemail(func(s xphone.VoicemailStatus) { got <- s })
	p.OnError(func(err error) { t.Errorf("OnError: %v", err) })
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	if err := p.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	next := func(what string) xphone.VoicemailStatus {
		t.Helper()
		select {
		case s := <-got:
			return s
		case <-time.After(e2eWait):
			t.Fatalf("%s: no voicemail status", what)
			return xphone.VoicemailStatus{}
		}
	}
	account := pbx.UserURI("alice")
	if s := next("after subscribing"); s != (xphone.VoicemailStatus{Waiting: true, Account: account, New: 2, Old: 5}) {
		t.Errorf("first status: got %+v", s)
	}
	pbx.SetVoicemail("alice", 0, 7)
	if s := next("after the box changed"); s != (xphone.VoicemailStatus{Account: account, Old: 7}) {
		t.Errorf("second status: got %+v", s)
	}
	if err := p.Disconnect(ctx); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	removed := pbx.Count(func(e MessageEvent) bool {
		return !e.Sent && e.Msg.Method == "SUBSCRIBE" && e.Msg.Get("Expires") == "0"
	})
	if removed != 1 {
		t.Errorf("SUBSCRIBE with Expires: 0 seen by the PBX: got %d, want 1", removed)
	}
}

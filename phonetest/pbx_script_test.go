package phonetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// indexOf returns the position of the first recorded message that matches,
// or -1.
func indexOf(evs []MessageEvent, match func(MessageEvent) bool) int {
	return slices.IndexFunc(evs, match)
}

// A delayed answer: the PBX rings alice (180) and holds her INVITE for the
// Delay before bob sees it; with a final Code it answers that after the
// Delay; a CANCEL during the Delay ends the INVITE with 487 and nothing
// reaches bob.
func TestPBXScriptDelay(t *testing.T) {
	pbx, alice, bob := callPair(t, PBXConfig{Script: func(user string, req *sipmsg.Message) *Answer {
		switch req.Get("Subject") {
		case "ring-then-forward":
			return &Answer{Code: 180, Delay: 50 * time.Millisecond}
		case "wait-then-busy":
			return &Answer{Code: 486, Delay: 50 * time.Millisecond}
		case "forever":
			return &Answer{Delay: time.Hour}
		}
		return nil
	}})

	t.Run("ring-then-forward", func(t *testing.T) {
		inv := alice.request("INVITE", pbx.UserURI("bob"), pbx.UserURI("bob"))
		inv.Add("Subject", "ring-then-forward")
		resp, sent := alice.do(inv)
		if resp.StatusCode != 180 {
			t.Fatalf("first response: got %v, want 180", resp.StatusCode)
		}
		in := bob.requestFor("INVITE")
		bob.send(bob.answer(in, 200))
		if r := alice.final(sent); r.StatusCode != 200 {
			t.Fatalf("final response: got %v, want 200", r.StatusCode)
		}
		evs := pbx.Messages()
		ringing := indexOf(evs, IsResponse(180, "INVITE", true))
		forwarded := indexOf(evs, IsRequest("INVITE", true))
		if ringing < 0 || forwarded < 0 || ringing > forwarded {
			t.Errorf("180 sent at %d, INVITE forwarded at %d: want the 180 first", ringing, forwarded)
		}
	})
	t.Run("wait-then-busy", func(t *testing.T) {
		inv := alice.request("INVITE", pbx.UserURI("bob"), pbx.UserURI("bob"))
		inv.Add("Subject", "wait-then-busy")
		resp, sent := alice.do(inv)
		if resp.StatusCode != 486 {
			t.Fatalf("got %v, want 486", resp.StatusCode)
		}
		ack, _ := sipmsg.NewAck(sent, resp)
		alice.send(ack)
	})
	t.Run("cancelled-while-held", func(t *testing.T) {
		before := pbx.Count(IsRequest("INVITE", true))
		inv := alice.request("INVITE", pbx.UserURI("bob"), pbx.UserURI("bob"))
		inv.Add("Subject", "forever")
		alice.send(inv)
		inv = alice.authorized(inv, alice.response(inv))
		alice.send(inv)
		alice.expect("100 Trying", func(m *sipmsg.Message) bool {
			return answers(m, inv) && m.StatusCode == 100
		})
		cancel, _ := sipmsg.NewCancel(inv)
		alice.send(cancel)
		if r := alice.final(inv); r.StatusCode != 487 {
			t.Fatalf("got %v, want 487", r.StatusCode)
		}
		if got := pbx.Count(IsRequest("INVITE", true)); got != before {
			t.Errorf("INVITEs forwarded: got %d, want %d", got, before)
		}
	})
}

// Drop loses the next n matching messages, in either direction, and the
// recorder shows them dropped; WaitMessage finds recorded messages and
// waits for new ones.
func TestPBXDropAndRecord(t *testing.T) {
	pbx, alice, _ := callPair(t, PBXConfig{})
	options := func(e MessageEvent) bool {
		return !e.Sent && e.Msg.IsRequest() && e.Msg.Method == "OPTIONS"
	}
	pbx.Drop(2, options)
	pbx.Drop(1, IsResponse(200, "OPTIONS", true))

	// The first two OPTIONS are lost on arrival, the third is answered
	// but the answer is lost, the fourth gets its 200.
	var last *sipmsg.Message
	for range 4 {
		last = alice.request("OPTIONS", pbx.URI(), pbx.URI())
		alice.send(last)
		ctx, cancel := context.WithTimeout(context.Background(), pbxWait)
		_, err := pbx.WaitMessage(ctx, func(e MessageEvent) bool {
			return options(e) && e.Msg.Get("CSeq") == last.Get("CSeq")
		})
		cancel()
		if err != nil {
			t.Fatalf("WaitMessage: %v", err)
		}
	}
	if r := alice.response(last); r.StatusCode != 200 {
		t.Fatalf("fourth OPTIONS: got %v, want 200", r.StatusCode)
	}
	var got []bool
	for _, e := range pbx.Messages() {
		if options(e) || IsResponse(200, "OPTIONS", true)(e) {
			got = append(got, e.Dropped)
		}
	}
	// In order: OPTIONS 1 (dropped), 2 (dropped), 3, its 200 (dropped),
	// 4, its 200.
	if want := []bool{true, true, false, true, false, false}; !slices.Equal(got, want) {
		t.Errorf("dropped flags: got %v, want %v", got, want)
	}
	select {
	case m := <-alice.in:
		t.Errorf("alice got %v, want nothing more", Summary(m))
	default:
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := pbx.WaitMessage(ctx, IsRequest("BYE", false)); err == nil {
		t.Error("WaitMessage for a BYE never sent: got nil, want the context's error")
	}
}

// The recorder keeps at most MaxRecorded messages, the most recent.
func TestPBXRecorderBound(t *testing.T) {
	pbx, alice, _ := callPair(t, PBXConfig{MaxRecorded: 10})
	for range 20 {
		alice.do(alice.request("OPTIONS", pbx.URI(), pbx.URI()))
	}
	evs := pbx.Messages()
	if len(evs) == 0 || len(evs) > 10 {
		t.Fatalf("recorded: got %d, want 1 to 10", len(evs))
	}
	if last := evs[len(evs)-1]; !IsResponse(200, "OPTIONS", true)(last) {
		t.Errorf("last recorded: got %v, want the last 200 (OPTIONS)", last)
	}
}

package ua

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestDialogGone: a 481 or 408 to a request in the call's dialog, here the
// re-INVITE of Hold, means the peer has lost the dialog: the call ends
// (RFC 3261 §12.2.1.2, §14.1), with EndError.
func TestDialogGone(t *testing.T) {
	t.Parallel()
	for _, code := range []int{481, 408} {
		t.Run(map[int]string{481: "481", 408: "408"}[code], func(t *testing.T) {
			t.Parallel()
			u := newUA(t, nil)
			p := newPeer(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			a := p.dialAnswered(ctx, u)
			held := make(chan error, 1)
			go func() { held <- a.c.Hold(ctx) }()
			p.respond(p.next("re-INVITE", isReq("INVITE")), code, "", "")
			var se *StatusError
			if err := <-held; !errors.As(err, &se) || se.Code != code {
				t.Errorf("Hold: got %v, want a %d", err, code)
			}
			if bye, ok := p.within(5*time.Second, isReq("BYE")); ok { // best effort
				p.respond(bye, 481, "", "")
			}
			waitDone(t, a.c)
			if got := a.c.Reason(); got != EndError {
				t.Errorf("end reason: got %d, want EndError", got)
			}
		})
	}
}

// TestRefreshWithoutAnswer: a session refresh that gets no answer ends the
// call with BYE when its transaction times out (RFC 4028 §10), not at the
// session's expiry: the end is EndError, not EndTimeout.
func TestRefreshWithoutAnswer(t *testing.T) {
	t.Parallel()
	u := newUA(t, timerConfig(90, 90, nil, func(c *Config) { c.T1 = 2 * time.Millisecond }))
	p := newPeer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := p.dialAnswered(ctx, u) // a 200 without Session-Expires: we refresh
	p.next("the refresh", isReq("INVITE"))
	p.respond(p.next("BYE", isReq("BYE")), 200, "", "")
	waitDone(t, a.c)
	if got := a.c.Reason(); got != EndError {
		t.Errorf("end reason: got %d, want EndError (the refresh's timeout), not the session's expiry", got)
	}
}

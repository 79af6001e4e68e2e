package ua

import (
	"strings"
	"sync"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/sipmsg"
)

// endedSubs remembers, for 64*T1, the dialogs of subscriptions the UA
// removed (Expires: 0). A successful removal makes the notifier send a
// final NOTIFY (RFC 6665 §4.1.2.3), and one it sent before it had our
// SUBSCRIBE may still be on its way: each gets 200 and goes no further,
// where a NOTIFY that belongs to no subscription gets 481. The final one,
// terminated, ends the memory. Entries come only from our own
// subscriptions, so the map stays as small as they are.
type endedSubs struct {
	mu sync.Mutex
	m  map[dialog.ID]endedSub
}

type endedSub struct {
	event string // the Event package, as ours compares it
	until time.Time
}

// add remembers d, of event's package, until now+keep, and forgets the
// entries whose time has passed.
func (e *endedSubs) add(d dialog.ID, event string, keep time.Duration) {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, s := range e.m {
		if !now.Before(s.until) {
			delete(e.m, id)
		}
	}
	if e.m == nil {
		e.m = map[dialog.ID]endedSub{}
	}
	e.m[d] = endedSub{event: event, until: now.Add(keep)}
}

// take reports whether req, a NOTIFY with Event header event in a dialog
// (To tag ours, From tag the notifier's), belongs to a subscription we
// removed less than 64*T1 ago; its terminated Subscription-State (st)
// ends the memory of it.
func (e *endedSubs) take(req *sipmsg.Message, event sipmsg.Event, st sipmsg.SubscriptionState) bool {
	from, _ := req.From()
	to, _ := req.To()
	id := dialog.ID{CallID: req.CallID(), LocalTag: to.Tag(), RemoteTag: from.Tag()}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.m[id]
	if !ok || event.Type != s.event || event.Params.Has("id") {
		return false
	}
	if !time.Now().Before(s.until) {
		delete(e.m, id)
		return false
	}
	if strings.EqualFold(st.State, "terminated") {
		delete(e.m, id)
	}
	return true
}

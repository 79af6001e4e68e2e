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
// where a NOTIFY that belongs to no subscription gets 481. The answer to
// the final one, terminated, ends the memory; Disconnect waits for that
// (settled). Entries come only from our own subscriptions, so the map
// stays as small as they are.
type endedSubs struct {
	mu    sync.Mutex
	m     map[dialog.ID]endedSub
	empty chan struct{} // closed when m empties; nil when no one waits
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
	e.prune(now)
	if e.m == nil {
		e.m = map[dialog.ID]endedSub{}
	}
	e.m[d] = endedSub{event: event, until: now.Add(keep)}
}

// take reports whether req, a NOTIFY with Event header event in a dialog
// (To tag ours, From tag the notifier's), belongs to a subscription we
// removed less than 64*T1 ago, and returns that dialog's ID; final says
// its Subscription-State is terminated: once it is answered, forget the
// ID. A NOTIFY without a valid Subscription-State is not taken.
func (e *endedSubs) take(req *sipmsg.Message, event sipmsg.Event) (id dialog.ID, final, ok bool) {
	st, err := req.SubscriptionState()
	if err != nil {
		return id, false, false
	}
	from, _ := req.From()
	to, _ := req.To()
	id = dialog.ID{CallID: req.CallID(), LocalTag: to.Tag(), RemoteTag: from.Tag()}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.m[id]
	if !ok || event.Type != s.event || event.Params.Has("id") {
		return id, false, false
	}
	if !time.Now().Before(s.until) {
		e.delete(id)
		return id, false, false
	}
	return id, strings.EqualFold(st.State, "terminated"), true
}

// forget drops d: its final NOTIFY was answered, or its removal failed so
// that none will come.
func (e *endedSubs) forget(d dialog.ID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.delete(d)
}

// settled returns a channel closed once no removed subscription awaits
// its final NOTIFY.
func (e *endedSubs) settled() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.prune(time.Now())
	if len(e.m) == 0 {
		return closedChan
	}
	if e.empty == nil {
		e.empty = make(chan struct{})
	}
	return e.empty
}

// closedChan is a channel that is closed.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// prune forgets the entries whose time has passed. e.mu is held.
func (e *endedSubs) prune(now time.Time) {
	for id, s := range e.m {
		if !now.Before(s.until) {
			e.delete(id)
		}
	}
}

// delete forgets id, and says so to settled when nothing is left. e.mu is
// held.
func (e *endedSubs) delete(id dialog.ID) {
	delete(e.m, id)
	if len(e.m) == 0 && e.empty != nil {
		close(e.empty)
		e.empty = nil
	}
}

package ua

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/xphone-go/xphone/internal/dialoginfo"
	"github.com/xphone-go/xphone/internal/pidf"
	"github.com/xphone-go/xphone/sipmsg"
)

// Watching other users: Watch keeps a subscription (subscribe.go) to the
// dialog event package (RFC 4235) of a target, a busy lamp field, and
// reports its dialogs after every NOTIFY, partial documents merged into
// the full picture; WatchPresence does the same for the presence package
// (RFC 3856, PIDF documents).

// The event packages watched.
const (
	eventDialog   = "dialog"
	eventPresence = "presence"
)

// ErrWatchRefused is wrapped by the errors OnError gets when a notifier
// refuses or ends a Watch's or WatchPresence's subscription.
var ErrWatchRefused = errors.Join(ErrSubscriptionRefused, errors.New("ua: watch subscription refused"))

// Watcher is a subscription to the state of one target.
type Watcher struct {
	u       *UA
	s       *subscription
	reports coalescer

	mu      sync.Mutex
	stopped bool
}

// watch subscribes to event of target; read turns a NOTIFY's body into
// the report to queue, or fails (the NOTIFY then gets 400).
func (u *UA) watch(target, event, accept string, read func(body []byte) (func(), error)) (*Watcher, error) {
	if !u.Connected() {
		return nil, ErrNotConnected
	}
	uri, err := u.TargetURI(target)
	if err != nil {
		return nil, err
	}
	w := &Watcher{u: u}
	notify := func(req *sipmsg.Message) (int, func()) {
		if len(req.Body) == 0 {
			return 200, nil
		}
		report, err := read(req.Body)
		if err != nil {
			return 400, nil
		}
		return 200, func() {
			w.reports.post(&u.events, func() {
				w.mu.Lock()
				stopped := w.stopped
				w.mu.Unlock()
				if !stopped {
					report()
				}
			})
		}
	}
	w.s = &subscription{event: event, accept: accept, target: uri, notify: notify, refused: ErrWatchRefused}
	if err := u.subscribe(w.s); err != nil {
		return nil, err
	}
	return w, nil
}

// Watch subscribes to target's dialog event package (RFC 4235), target as
// Dial takes it, until Stop or Disconnect. After each NOTIFY f gets all of
// target's dialogs that have not ended, as one full document (partial
// ones are merged; at most dialoginfo.MaxDialogs are kept), on the UA's
// callback goroutine. Refusals go to OnError wrapping ErrWatchRefused; the
// subscription is tried again with backoff unless the notifier ended it
// for good.
func (u *UA) Watch(target string, f func(dialoginfo.Info)) (*Watcher, error) {
	var mu sync.Mutex
	var dialogs []dialoginfo.Dialog // the target's dialogs now, in the order first seen
	return u.watch(target, eventDialog, dialoginfo.ContentType, func(body []byte) (func(), error) {
		info, err := dialoginfo.Parse(body)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		dialogs = mergeDialogs(dialogs, info)
		view := dialoginfo.Info{Entity: info.Entity, Version: info.Version, Full: true, Dialogs: slices.Clone(dialogs)}
		return func() { f(view) }, nil
	})
}

// mergeDialogs applies a dialog-info document to the dialogs known: a
// full one replaces them, a partial one updates them; terminated dialogs
// go.
func mergeDialogs(dialogs []dialoginfo.Dialog, info dialoginfo.Info) []dialoginfo.Dialog {
	if info.Full {
		dialogs = dialogs[:0]
	}
	for _, d := range info.Dialogs {
		i := slices.IndexFunc(dialogs, func(x dialoginfo.Dialog) bool { return x.ID == d.ID })
		switch {
		case d.State == dialoginfo.Terminated && i >= 0:
			dialogs = slices.Delete(dialogs, i, i+1)
		case d.State == dialoginfo.Terminated:
		case i >= 0:
			dialogs[i] = d
		default:
			if len(dialogs) == dialoginfo.MaxDialogs {
				dialogs = slices.Delete(dialogs, 0, 1) // partial documents must not grow it without bound
			}
			dialogs = append(dialogs, d)
		}
	}
	return dialogs
}

// WatchPresence subscribes to target's presence event package (RFC
// 3856), as Watch does for dialogs; f gets each PIDF document NOTIFYed.
func (u *UA) WatchPresence(target string, f func(pidf.Presence)) (*Watcher, error) {
	return u.watch(target, eventPresence, pidf.ContentType, func(body []byte) (func(), error) {
		p, err := pidf.Parse(body)
		if err != nil {
			return nil, err
		}
		return func() { f(p) }, nil
	})
}

// Stop ends the subscription, removing it at the notifier (Expires: 0)
// within ctx. A report not yet begun when Stop is called is dropped.
func (w *Watcher) Stop(ctx context.Context) {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	u := w.u
	u.mu.Lock()
	i := slices.Index(u.subs, w.s)
	if i >= 0 {
		// A new list, not slices.Delete: findSubscription walks the old
		// one outside the lock.
		u.subs = slices.Concat(u.subs[:i], u.subs[i+1:])
	}
	u.mu.Unlock()
	if i >= 0 {
		w.s.stop(ctx)
	}
}

package ua

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/xphone-go/xphone/internal/dialoginfo"
	"github.com/xphone-go/xphone/sipmsg"
)

// Busy lamp field: Watch keeps a subscription (subscribe.go) to the
// dialog event package (RFC 4235) of a target and reports its dialogs
// after every NOTIFY, partial documents merged into the full picture.

// eventDialog is the event package of RFC 4235.
const eventDialog = "dialog"

// ErrWatchRefused is wrapped by the errors OnError gets when a notifier
// refuses or ends a Watch's subscription.
var ErrWatchRefused = errors.Join(ErrSubscriptionRefused, errors.New("ua: dialog subscription refused"))

// Watcher is a subscription to the dialog state of one target.
type Watcher struct {
	u *UA
	s *subscription
	f func(dialoginfo.Info)

	mu      sync.Mutex
	dialogs []dialoginfo.Dialog // the target's dialogs now, in the order first seen
}

// Watch subscribes to target's dialog event package (RFC 4235), target as
// Dial takes it, until Stop or Disconnect. After each NOTIFY f gets all of
// target's dialogs that have not ended, as one full document (partial
// ones are merged), on the UA's callback goroutine. Refusals go to
// OnError wrapping ErrWatchRefused; the subscription is tried again with
// backoff unless the notifier ended it for good.
func (u *UA) Watch(target string, f func(dialoginfo.Info)) (*Watcher, error) {
	if !u.Connected() {
		return nil, ErrNotConnected
	}
	uri, err := u.TargetURI(target)
	if err != nil {
		return nil, err
	}
	w := &Watcher{u: u, f: f}
	w.s = &subscription{event: eventDialog, accept: dialoginfo.ContentType, target: uri,
		notify: w.notify, refused: ErrWatchRefused}
	u.subscribe(w.s)
	return w, nil
}

// Stop ends the subscription, removing it at the notifier (Expires: 0)
// within ctx. f gets nothing queued after Stop began.
func (w *Watcher) Stop(ctx context.Context) {
	u := w.u
	u.mu.Lock()
	i := slices.Index(u.subs, w.s)
	if i >= 0 {
		u.subs = slices.Delete(u.subs, i, i+1)
	}
	u.mu.Unlock()
	if i < 0 {
		return // stopped already, or by Disconnect
	}
	w.s.stop(ctx)
	w.mu.Lock()
	w.f = nil
	w.mu.Unlock()
}

// notify reads a dialog-info NOTIFY: 400 for a body that is not
// dialog-info, else 200 and the merged picture to f.
func (w *Watcher) notify(req *sipmsg.Message) int {
	if len(req.Body) == 0 {
		return 200
	}
	info, err := dialoginfo.Parse(req.Body)
	if err != nil {
		return 400
	}
	w.mu.Lock()
	if info.Full {
		w.dialogs = w.dialogs[:0]
	}
	for _, d := range info.Dialogs {
		i := slices.IndexFunc(w.dialogs, func(x dialoginfo.Dialog) bool { return x.ID == d.ID })
		switch {
		case d.State == dialoginfo.Terminated && i >= 0:
			w.dialogs = slices.Delete(w.dialogs, i, i+1)
		case d.State == dialoginfo.Terminated:
		case i >= 0:
			w.dialogs[i] = d
		default:
			if len(w.dialogs) == dialoginfo.MaxDialogs {
				w.dialogs = slices.Delete(w.dialogs, 0, 1) // partial documents must not grow it without bound
			}
			w.dialogs = append(w.dialogs, d)
		}
	}
	view := dialoginfo.Info{Entity: info.Entity, Version: info.Version, Full: true, Dialogs: slices.Clone(w.dialogs)}
	f := w.f
	w.mu.Unlock()
	if f != nil {
		w.u.emit(func() {
			w.mu.Lock()
			live := w.f != nil
			w.mu.Unlock()
			if live {
				f(view)
			}
		})
	}
	return 200
}

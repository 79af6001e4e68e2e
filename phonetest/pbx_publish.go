package phonetest

import (
	"strconv"
	"strings"
	"time"

	"github.com/xphone-go/xphone/internal/pidf"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// The PBX is also its users' presence compositor, at its simplest: a
// user's PUBLISH of the presence package (RFC 3903) replaces the presence
// the PBX derives from registration (open while bound) until it expires
// or is removed, and watchers are NOTIFYed of each change.

// published is a user's publication.
type published struct {
	etag    string
	doc     pidf.Presence
	expires time.Time
}

// isPresencePublish reports whether req publishes presence.
func isPresencePublish(tx *transaction.ServerTx) bool {
	req := tx.Request()
	if req.Method != "PUBLISH" {
		return false
	}
	ev, err := req.Event()
	return err == nil && strings.EqualFold(ev.Type, eventPresence)
}

// publish answers a PUBLISH of presence (RFC 3903 §6): a new document
// (without SIP-If-Match), a refresh or modification of the user's
// publication by its entity tag (412 for a tag the PBX does not hold), or
// its removal (Expires: 0). Only the user may publish for themselves.
func (p *PBX) publish(tx *transaction.ServerTx) {
	req := tx.Request()
	user := unescapeUser(req.RequestURI)
	if !p.cfg.DisableAuth {
		who, ok := p.authenticate(tx, false)
		if !ok {
			return
		}
		if who != user {
			p.respond(tx, 403, "Only Your Own Presence", nil)
			return
		}
	}
	expires, ok := p.expiresOf(tx)
	if !ok {
		return
	}
	var doc *pidf.Presence
	if len(req.Body) > 0 {
		d, err := pidf.Parse(req.Body)
		if err != nil {
			p.respond(tx, 400, "Bad PIDF", nil)
			return
		}
		doc = &d
	}
	match := strings.TrimSpace(req.Get("SIP-If-Match"))
	p.mu.Lock()
	cur, had := p.published[user]
	switch {
	case match != "" && (!had || cur.etag != match):
		p.mu.Unlock()
		p.respond(tx, 412, "", nil)
		return
	case match == "" && doc == nil:
		p.mu.Unlock()
		p.respond(tx, 400, "Missing Body", nil)
		return
	}
	etag := p.layer.NewTag()
	if expires == 0 {
		delete(p.published, user)
	} else {
		if doc == nil {
			doc = &cur.doc
		}
		if p.published == nil {
			p.published = map[string]published{}
		}
		p.published[user] = published{etag: etag, doc: *doc, expires: p.cfg.Now().Add(time.Duration(expires) * time.Second)}
	}
	p.mu.Unlock()
	p.respond(tx, 200, "", func(r *sipmsg.Message) {
		r.Add("SIP-ETag", etag)
		r.Add("Expires", strconv.Itoa(expires))
	})
	p.notifyAll(eventPresence, user)
}

// presenceOf returns user's presence: the publication, while it lasts,
// else open while the user has a binding. p.mu is held.
func (p *PBX) presenceOf(user string) pidf.Presence {
	now := p.cfg.Now()
	if pub, ok := p.published[user]; ok && now.Before(pub.expires) {
		doc := pub.doc
		doc.Entity = p.UserURI(user)
		return doc
	}
	return pidf.Presence{Entity: p.UserURI(user), Tuples: []pidf.Tuple{{ID: user, Open: len(p.current(user, now)) > 0}}}
}

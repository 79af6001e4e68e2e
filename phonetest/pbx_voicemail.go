package phonetest

import (
	"context"
	"strconv"
	"strings"

	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// The PBX keeps a voicemail box per user and serves the message-summary
// event package (RFC 3842): a user's authenticated SUBSCRIBE to their own
// address is answered 200 and followed by a NOTIFY of the box, as is every
// change SetVoicemail makes while the subscription lasts.

// mwiWatch is one message-summary subscription the PBX serves.
type mwiWatch struct {
	user    string
	callID  string
	tag     string // ours (the To tag of the 2xx)
	from    string // the subscriber's From, with its tag: the To of NOTIFYs
	to      string // our From in NOTIFYs: the SUBSCRIBE's To with our tag
	target  sipmsg.URI
	dst     transport.Addr
	seq     uint32
	expires int
}

// maxMWIExpires is the longest message-summary subscription granted.
const maxMWIExpires = 3600

// SetVoicemail sets user's box to newMsgs new and oldMsgs old voice
// messages and NOTIFYs each subscription to it.
func (p *PBX) SetVoicemail(user string, newMsgs, oldMsgs int) {
	p.mu.Lock()
	if p.boxes == nil {
		p.boxes = map[string]mwi.Counts{}
	}
	p.boxes[user] = mwi.Counts{New: newMsgs, Old: oldMsgs}
	var ws []*mwiWatch
	for _, w := range p.watches {
		if w.user == user {
			ws = append(ws, w)
		}
	}
	p.mu.Unlock()
	for _, w := range ws {
		p.spawn(func() { p.notifyMWI(w, false) })
	}
}

// isMWISubscribe reports whether req subscribes to message-summary.
func isMWISubscribe(req *sipmsg.Message) bool {
	if req.Method != "SUBSCRIBE" {
		return false
	}
	ev, err := req.Event()
	return err == nil && strings.EqualFold(ev.Type, "message-summary")
}

// subscribeMWI answers a SUBSCRIBE to message-summary (new, refresh or,
// with Expires: 0, removal) and NOTIFYs the box. A new one must come from
// the box's user, authenticated; a refresh must match one.
func (p *PBX) subscribeMWI(tx *transaction.ServerTx) {
	req := tx.Request()
	user := unescapeUser(req.RequestURI)
	if to, _ := req.To(); to.Tag() == "" {
		if !p.cfg.DisableAuth {
			who, ok := p.authenticate(tx, false)
			if !ok {
				return
			}
			if who != user {
				p.respond(tx, 403, "Only Your Own Mailbox", nil)
				return
			}
		}
		if _, ok := p.password(user); !ok {
			p.respond(tx, 404, "", nil)
			return
		}
	}
	expires := maxMWIExpires
	if v := req.Get("Expires"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			p.respond(tx, 400, "Bad Expires", nil)
			return
		}
		expires = min(n, maxMWIExpires)
	}
	to, _ := req.To()
	contact, err := req.Contact()
	if err != nil {
		p.respond(tx, 400, "Missing Contact", nil)
		return
	}
	p.mu.Lock()
	w := p.watches[req.CallID()]
	if to.Tag() != "" && (w == nil || w.tag != to.Tag()) {
		p.mu.Unlock()
		p.respond(tx, 481, "", nil)
		return
	}
	if w == nil {
		tagged := to
		tag := p.layer.NewTag()
		tagged.Params = tagged.Params.Set("tag", tag)
		w = &mwiWatch{user: user, callID: req.CallID(), tag: tag, from: req.Get("From"), to: tagged.String()}
		if p.watches == nil {
			p.watches = map[string]*mwiWatch{}
		}
		p.watches[w.callID] = w
	}
	w.target, w.dst, w.expires = contact.URI, tx.Source(), expires
	ending := expires == 0
	if ending {
		delete(p.watches, w.callID)
	}
	tag := w.tag
	p.mu.Unlock()
	r := sipmsg.NewResponse(req, 200, "")
	_ = r.SetToTag(tag)
	r.Add("Contact", "<"+p.URI()+">")
	r.Add("Expires", strconv.Itoa(expires))
	_ = tx.Respond(r)
	p.spawn(func() { p.notifyMWI(w, ending) })
}

// notifyMWI sends w's box in a NOTIFY (RFC 6665 §4.2.2), ending the
// subscription when final.
func (p *PBX) notifyMWI(w *mwiWatch, final bool) {
	p.mu.Lock()
	box := p.boxes[w.user]
	w.seq++
	seq := w.seq
	state := "active;expires=" + strconv.Itoa(w.expires)
	if final {
		state = "terminated;reason=timeout"
	}
	target, dst := w.target, w.dst
	p.mu.Unlock()
	sum := mwi.Summary{Waiting: box.New > 0, Account: p.UserURI(w.user),
		Classes: []mwi.Class{{Name: "voice-message", Counts: box}}}
	req := sipmsg.NewRequest("NOTIFY", target)
	req.PrependVia(p.tm.Via(dst.Protocol, p.layer.NewBranch()))
	req.Add("From", w.to)
	req.Add("To", w.from)
	req.Add("Call-ID", w.callID)
	req.Add("CSeq", strconv.FormatUint(uint64(seq), 10)+" NOTIFY")
	req.Add("Max-Forwards", "70")
	req.Add("Contact", "<"+p.URI()+">")
	req.Add("Event", "message-summary")
	req.Add("Subscription-State", state)
	req.Add("Content-Type", mwi.ContentType)
	req.Body = sum.AppendTo(nil)
	req.SetContentLength()
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	ct, err := p.layer.Request(ctx, req, dst)
	if err != nil {
		return
	}
	for resp := range ct.Responses() {
		if resp.StatusCode == 481 { // the subscriber forgot it
			p.mu.Lock()
			if p.watches[w.callID] == w {
				delete(p.watches, w.callID)
			}
			p.mu.Unlock()
		}
	}
}

package phonetest

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/xphone-go/xphone/internal/dialoginfo"
	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/internal/pidf"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// The PBX is the notifier of three event packages (RFC 6665) for its
// users: message-summary (RFC 3842), a voicemail box per user that
// SetVoicemail fills, to which only its user may subscribe; dialog (RFC
// 4235), the calls the PBX routes to or from a user (a busy lamp field);
// and presence (RFC 3856), open while the user has a binding. Any user
// may subscribe to the last two. A SUBSCRIBE is answered 200 and followed by a
// NOTIFY of the whole state, as is every change while it lasts.

// The packages served.
const (
	eventMWI      = "message-summary"
	eventDialog   = "dialog"
	eventPresence = "presence"
)

// eventWatch is one subscription the PBX serves.
type eventWatch struct {
	event   string
	user    string // whose box or line
	callID  string
	tag     string // ours (the To tag of the 2xx)
	from    string // the subscriber's From, with its tag: the To of NOTIFYs
	to      string // our From in NOTIFYs: the SUBSCRIBE's To with our tag
	target  sipmsg.URI
	dst     transport.Addr
	seq     uint32 // CSeq of our NOTIFYs
	version uint32 // of the dialog-info documents
	expires int
}

// maxSubscribeExpires is the longest subscription granted.
const maxSubscribeExpires = 3600

// SetVoicemail sets user's box to newMsgs new and oldMsgs old voice
// messages and NOTIFYs each subscription to it.
func (p *PBX) SetVoicemail(user string, newMsgs, oldMsgs int) {
	p.mu.Lock()
	if p.boxes == nil {
		p.boxes = map[string]mwi.Counts{}
	}
	p.boxes[user] = mwi.Counts{New: newMsgs, Old: oldMsgs}
	p.mu.Unlock()
	p.notifyAll(eventMWI, user)
}

// servedEvent returns the package of a SUBSCRIBE the PBX serves, "" for
// another request.
func servedEvent(req *sipmsg.Message) string {
	if req.Method != "SUBSCRIBE" {
		return ""
	}
	ev, err := req.Event()
	if err != nil {
		return ""
	}
	for _, e := range []string{eventMWI, eventDialog, eventPresence} {
		if strings.EqualFold(ev.Type, e) {
			return e
		}
	}
	return ""
}

// subscribe answers a SUBSCRIBE to event (new, refresh or, with Expires:
// 0, removal) and NOTIFYs the state. A new one must come from a user,
// authenticated (for a box, its own user); a refresh must match one.
func (p *PBX) subscribe(tx *transaction.ServerTx, event string) {
	req := tx.Request()
	user := unescapeUser(req.RequestURI)
	to, _ := req.To()
	if to.Tag() == "" {
		if !p.cfg.DisableAuth {
			who, ok := p.authenticate(tx, false)
			if !ok {
				return
			}
			if event == eventMWI && who != user {
				p.respond(tx, 403, "Only Your Own Mailbox", nil)
				return
			}
		}
		if _, ok := p.password(user); !ok {
			p.respond(tx, 404, "", nil)
			return
		}
	}
	expires, ok := p.expiresOf(tx)
	if !ok {
		return
	}
	contact, err := req.Contact()
	if err != nil {
		p.respond(tx, 400, "Missing Contact", nil)
		return
	}
	p.mu.Lock()
	w := p.watches[req.CallID()]
	if to.Tag() != "" && (w == nil || w.tag != to.Tag() || w.event != event) {
		p.mu.Unlock()
		p.respond(tx, 481, "", nil)
		return
	}
	if w == nil {
		tagged := to
		tag := p.layer.NewTag()
		tagged.Params = tagged.Params.Set("tag", tag)
		w = &eventWatch{event: event, user: user, callID: req.CallID(), tag: tag, from: req.Get("From"), to: tagged.String()}
		if p.watches == nil {
			p.watches = map[string]*eventWatch{}
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
	p.spawn(func() { p.notifyWatch(w, ending) })
}

// expiresOf returns the Expires of a SUBSCRIBE or PUBLISH, at most
// maxSubscribeExpires (the default when absent), or answers 400 and
// returns false.
func (p *PBX) expiresOf(tx *transaction.ServerTx) (int, bool) {
	v := tx.Request().Get("Expires")
	if v == "" {
		return maxSubscribeExpires, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		p.respond(tx, 400, "Bad Expires", nil)
		return 0, false
	}
	return min(n, maxSubscribeExpires), true
}

// notifyAll NOTIFYs every subscription to event for user.
func (p *PBX) notifyAll(event, user string) {
	p.mu.Lock()
	var ws []*eventWatch
	for _, w := range p.watches {
		if w.event == event && w.user == user {
			ws = append(ws, w)
		}
	}
	p.mu.Unlock()
	for _, w := range ws {
		p.spawn(func() { p.notifyWatch(w, false) })
	}
}

// notifyWatch sends w's state in a NOTIFY (RFC 6665 §4.2.2), ending the
// subscription when final.
func (p *PBX) notifyWatch(w *eventWatch, final bool) {
	p.mu.Lock()
	w.seq++
	seq := w.seq
	state := "active;expires=" + strconv.Itoa(w.expires)
	if final {
		state = "terminated;reason=timeout"
	}
	target, dst := w.target, w.dst
	var body []byte
	var ctype string
	if w.event == eventMWI {
		box := p.boxes[w.user]
		sum := mwi.Summary{Waiting: box.New > 0, Account: p.UserURI(w.user),
			Classes: []mwi.Class{{Name: "voice-message", Counts: box}}}
		body, ctype = sum.AppendTo(nil), mwi.ContentType
	} else if w.event == eventPresence {
		body, _ = p.presenceOf(w.user).AppendTo(nil) // pbx_publish.go
		ctype = pidf.ContentType
	} else {
		info := dialoginfo.Info{Entity: p.UserURI(w.user), Version: w.version, Full: true}
		w.version++
		for _, id := range slices.Sorted(maps.Keys(p.lines[w.user])) {
			info.Dialogs = append(info.Dialogs, p.lines[w.user][id])
		}
		body, _ = info.AppendTo(nil)
		ctype = dialoginfo.ContentType
	}
	p.mu.Unlock()
	req := sipmsg.NewRequest("NOTIFY", target)
	req.PrependVia(p.tm.Via(dst.Protocol, p.layer.NewBranch()))
	req.Add("From", w.to)
	req.Add("To", w.from)
	req.Add("Call-ID", w.callID)
	req.Add("CSeq", strconv.FormatUint(uint64(seq), 10)+" NOTIFY")
	req.Add("Max-Forwards", "70")
	req.Add("Contact", "<"+p.URI()+">")
	req.Add("Event", w.event)
	req.Add("Subscription-State", state)
	req.Add("Content-Type", ctype)
	req.Body = body
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

// callState records the state of the call callID of a local user, as the
// PBX routes it (RFC 4235 §3.7.1), and NOTIFYs the watchers of the line.
// A terminated call is forgotten.
func (p *PBX) callState(user, callID, direction, state, remote, localTag, remoteTag string) {
	p.mu.Lock()
	if _, ok := p.users[user]; !ok {
		p.mu.Unlock()
		return
	}
	if p.lines == nil {
		p.lines = map[string]map[string]dialoginfo.Dialog{}
	}
	calls := p.lines[user]
	old, had := calls[callID]
	if state == dialoginfo.Terminated {
		delete(calls, callID)
	} else {
		if calls == nil {
			calls = map[string]dialoginfo.Dialog{}
			p.lines[user] = calls
		}
		calls[callID] = dialoginfo.Dialog{ID: callID, CallID: callID, LocalTag: localTag, RemoteTag: remoteTag,
			Direction: direction, State: state, Remote: remote}
	}
	changed := state != old.State || !had
	p.mu.Unlock()
	if changed && (had || state != dialoginfo.Terminated) {
		p.notifyAll(eventDialog, user)
	}
}

// trackInvite follows a new INVITE the PBX forwards and each response
// to it: the callee's line (recipient) and, for a local caller, the
// caller's (initiator) go trying, early on a provisional response,
// confirmed on a 2xx and away on a failure.
func (p *PBX) trackInvite(req *sipmsg.Message, resp *sipmsg.Message) {
	state := dialoginfo.Trying
	if resp != nil {
		switch code := resp.StatusCode; {
		case code == 100:
			return
		case code < 200:
			state = dialoginfo.Early
		case code < 300:
			state = dialoginfo.Confirmed
		default:
			state = dialoginfo.Terminated
		}
	}
	from, _ := req.From()
	to, _ := req.To()
	callerTag, calleeTag := from.Tag(), ""
	if resp != nil {
		rto, _ := resp.To()
		calleeTag = rto.Tag()
	}
	p.callState(unescapeUser(to.URI), req.CallID(), "recipient", state, from.URI.String(), calleeTag, callerTag)
	p.callState(unescapeUser(from.URI), req.CallID(), "initiator", state, to.URI.String(), callerTag, calleeTag)
}

// trackBye ends the call of a BYE the PBX forwarded for both its users.
func (p *PBX) trackBye(req *sipmsg.Message) {
	from, _ := req.From()
	to, _ := req.To()
	for _, u := range []sipmsg.URI{from.URI, to.URI} {
		p.callState(unescapeUser(u), req.CallID(), "", dialoginfo.Terminated, "", "", "")
	}
}

package ua

import (
	"context"
	"errors"
	"strconv"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// Instant messages (RFC 3428): MESSAGE requests outside any dialog, sent
// with SendMessage and received through Config.OnMessage.

// Message is an instant message received (RFC 3428).
type Message struct {
	From, To    string // the URIs of From and To
	ContentType string
	Body        []byte
}

// DefaultMessageType is the Content-Type of a message sent without one.
const DefaultMessageType = "text/plain;charset=UTF-8"

// MaxMessageUDP bounds a MESSAGE request sent over UDP: RFC 3428 §4 keeps
// such requests to 1300 bytes, short of the path MTU, since they are not
// congestion controlled; over TCP or TLS the transport's message size is
// the bound.
const MaxMessageUDP = 1300

// ErrMessageTooLarge is returned by SendMessage for a request over
// MaxMessageUDP on UDP.
var ErrMessageTooLarge = errors.New("ua: message too large for UDP (RFC 3428 §4)")

// allow is the Allow header value: our methods, with MESSAGE when
// messages are taken.
func (u *UA) allow() string {
	if u.takesMessages() {
		return allowWithMessage
	}
	return allowMethods
}

const allowWithMessage = allowMethods + ", MESSAGE"

// takesMessages reports whether a MESSAGE would be taken.
func (u *UA) takesMessages() bool {
	if u.cfg.OnMessage == nil {
		return false
	}
	return u.cfg.TakesMessages == nil || u.cfg.TakesMessages()
}

// SendMessage sends an instant message to target (as Dial takes it) with
// body of contentType (DefaultMessageType when ""), answering digest
// challenges, and returns nil on a 2xx (200 or 202, RFC 3428 §7), a
// *StatusError otherwise.
func (u *UA) SendMessage(ctx context.Context, target, contentType string, body []byte) error {
	if !u.Connected() {
		return ErrNotConnected
	}
	uri, err := u.TargetURI(target)
	if err != nil {
		return err
	}
	dst, err := u.destination(ctx, uri)
	if err != nil {
		return err
	}
	tl, tm := u.layer()
	if tl == nil {
		return ErrNotConnected
	}
	if contentType == "" {
		contentType = DefaultMessageType
	}
	if hasControl(contentType) {
		return errors.New("ua: a control character in the message's content type")
	}
	callID, tag := tl.NewTag()+"@xphone", tl.NewTag()
	aor := u.aor(uri.Scheme)
	aor.Params = aor.Params.Set("tag", tag)
	var a *authRetry
	var authName, authValue string
	for attempt := 1; ; attempt++ {
		req := sipmsg.NewRequest("MESSAGE", uri)
		req.PrependVia(u.via(tm, tl, dst.Protocol))
		req.Add("From", aor.String())
		req.Add("To", sipmsg.Address{URI: uri, Bracketed: true}.String())
		req.Add("Call-ID", callID)
		req.Add("CSeq", strconv.Itoa(attempt)+" MESSAGE")
		req.Add("Max-Forwards", "70")
		u.addRoute(req, true)
		req.Add("User-Agent", u.cfg.UserAgent)
		if authName != "" {
			req.Add(authName, authValue)
		}
		req.Add("Content-Type", contentType)
		req.Body = body
		req.SetContentLength()
		if dst.Protocol == transport.UDP && len(req.AppendTo(nil)) > MaxMessageUDP {
			return ErrMessageTooLarge
		}
		resp, at, err := u.outsideFinal(ctx, tl, tm, req, dst)
		if err != nil {
			return err
		}
		dst = at // the credentials go to the server that asked
		code := resp.StatusCode
		if code >= 200 && code < 300 {
			return nil
		}
		if (code != 401 && code != 407) || attempt > maxAuthRetries {
			return statusError(resp)
		}
		if a == nil {
			a = u.newAuthRetry()
		}
		var ok bool
		if authName, authValue, ok = a.answer(resp, "MESSAGE", uri.String()); !ok {
			return statusError(resp)
		}
	}
}

// handleMessage takes a MESSAGE (RFC 3428 §7): 200 and OnMessage, or 405
// when no OnMessage is set, 415 without a Content-Type.
func (u *UA) handleMessage(tx *transaction.ServerTx) {
	req := tx.Request()
	f := u.cfg.OnMessage
	if !u.takesMessages() {
		resp := sipmsg.NewResponse(req, 405, "")
		resp.SetToTag(u.tlNewTag()) //nolint:errcheck // To was validated by the transport
		resp.Add("Allow", u.allow())
		tx.Respond(resp) //nolint:errcheck // nothing to do on failure
		return
	}
	ct := req.Get("Content-Type")
	if ct == "" && len(req.Body) > 0 {
		u.respond(tx, 415, "")
		return
	}
	from, _ := req.From()
	to, _ := req.To()
	m := Message{From: from.URI.String(), To: to.URI.String(), ContentType: ct, Body: req.Body}
	// Behind an OnMessage that does not keep up, messages are refused
	// rather than queued without bound or taken and lost.
	if !u.events.tryDo(func() { f(m) }) {
		resp := sipmsg.NewResponse(req, 503, "")
		resp.SetToTag(u.tlNewTag()) //nolint:errcheck // To was validated by the transport
		resp.Add("Retry-After", "5")
		tx.Respond(resp) //nolint:errcheck // nothing to do on failure
		return
	}
	u.respond(tx, 200, "")
}

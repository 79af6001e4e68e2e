package ua

import (
	"errors"

	"github.com/xphone-go/xphone/internal/mwi"
	"github.com/xphone-go/xphone/sipmsg"
)

// Message waiting indication (RFC 3842): with Config.MWI the UA keeps a
// subscription (subscribe.go) to the message-summary event package of its
// own address of record, or of Config.MWIURI, from Connect to Disconnect.
// Each NOTIFY of it, and any NOTIFY of the package outside a dialog (the
// "unsolicited" MWI some PBXes send to registered phones), goes to
// Config.OnVoicemail.

// eventMWI is the event package of RFC 3842.
const eventMWI = "message-summary"

// ErrMWIRefused is wrapped by the errors OnError gets when the server
// refuses or ends the message-summary subscription.
var ErrMWIRefused = errors.Join(ErrSubscriptionRefused, errors.New("ua: message-summary subscription refused"))

// subscribeMWI starts the message-summary subscription of Config.MWI.
func (u *UA) subscribeMWI() {
	target := u.cfg.MWIURI
	if target == "" {
		target = u.cfg.Username
	}
	uri, err := u.TargetURI(target)
	if err != nil {
		u.emitError(errors.Join(ErrMWIRefused, err))
		return
	}
	if err := u.subscribe(&subscription{event: eventMWI, accept: mwi.ContentType, target: uri,
		notify: u.voicemailNotify, refused: ErrMWIRefused}); err != nil {
		u.log.Debug("ua: no MWI subscription", "err", err) // Disconnect came first
	}
}

// voicemailNotify reads a message-summary NOTIFY: 400 for a body that is
// not a summary, else 200 and what hands the summary to OnVoicemail.
func (u *UA) voicemailNotify(req *sipmsg.Message) (int, func()) {
	if len(req.Body) == 0 {
		return 200, nil
	}
	sum, err := mwi.Parse(req.Body)
	if err != nil {
		return 400, nil
	}
	f := u.cfg.OnVoicemail
	if f == nil {
		return 200, nil
	}
	return 200, func() { u.voicemail.post(&u.events, func() { f(sum) }) }
}

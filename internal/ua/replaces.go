package ua

import (
	"context"
	"errors"
	"strings"

	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// Attended transfer (RFC 5589 §7): the transferor has a call with the
// transferee and a consultation call with the transfer target. It sends
// the transferee a REFER whose Refer-To names the target with the
// consultation dialog in a Replaces header (RFC 3891) embedded in the URI;
// the transferee calls the target with that header, and the target answers
// the new call in place of the consultation, which it ends with BYE.

// tagReplaces is the option tag of RFC 3891 §6.2.
const tagReplaces = "replaces"

// AttendedTransfer transfers the peer of c (the transferee) to the peer of
// consult (the target), with whom we talk on consult: a REFER on c whose
// Refer-To is consult's remote URI carrying Replaces (consult's dialog) and
// Require: replaces, and Referred-By. It waits for the outcome as
// BlindTransfer does. On a 2xx both calls end with EndTransferred: c with
// BYE, consult with the target's BYE or, should it not have come, ours.
// Otherwise it returns an error wrapping ErrTransferFailed and both calls
// stay up. Both calls must be answered and belong to this UA.
func (c *Call) AttendedTransfer(ctx context.Context, consult *Call) error {
	if consult == nil || consult == c || consult.u != c.u {
		return ErrInvalidState
	}
	consult.mu.Lock()
	up := consult.dlg != nil && (consult.state == StateActive || consult.state == StateOnHold)
	var target sipmsg.URI
	var replaces string
	if up {
		target = consult.dlg.RemoteURI.URI
		id := consult.dlg.ID
		replaces = replacesValue(id.CallID, id.RemoteTag, id.LocalTag)
	}
	consult.mu.Unlock()
	if !up {
		return ErrInvalidState
	}
	shown := target.String()
	target.Headers = "Replaces=" + escapeHeader(replaces) + "&Require=" + tagReplaces
	// The target's BYE ending the consultation may come before the
	// transferee's NOTIFY of success: it ends it as transferred.
	consult.setTransferred(true)
	err := c.sendRefer(ctx, target, shown, func() { consult.hangup(EndTransferred, nil) })
	if err != nil {
		consult.setTransferred(false)
	}
	return err
}

func (c *Call) setTransferred(on bool) { c.mu.Lock(); c.transferred = on; c.mu.Unlock() }

// replacesValue is a Replaces header value (RFC 3891 §6.1) naming the
// dialog callID as its recipient sees it: toTag is the recipient's tag.
func replacesValue(callID, toTag, fromTag string) string {
	return callID + ";to-tag=" + toTag + ";from-tag=" + fromTag
}

// escapeHeader escapes s for a URI header value (RFC 3261 §25.1: hvalue
// is hnv-unreserved, unreserved or escaped characters).
func escapeHeader(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if isAlnum(ch) || strings.IndexByte("-_.!~*'()[]/?:+$", ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}

func isAlnum(ch byte) bool {
	return ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9'
}

// unescapeHeader decodes the %XX escapes of a URI header value; ok is
// false for a malformed escape.
func unescapeHeader(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// referHeaders reads the headers of a Refer-To URI (RFC 3515 §2.1) that
// go into the INVITE it asks for: Replaces (at most one, well formed) and
// Require, the only ones taken. Others are dropped: a REFER must not set
// the routing or identity of our request. ok is false for a malformed or
// repeated Replaces.
func referHeaders(hs string) (out [][2]string, ok bool) {
	if hs == "" {
		return nil, true
	}
	replaces := 0
	for part := range strings.SplitSeq(hs, "&") {
		name, value, _ := strings.Cut(part, "=")
		v, good := unescapeHeader(value)
		good = good && !hasControl(v) // no line breaks into our INVITE
		n, _ := unescapeHeader(name)
		switch {
		case strings.EqualFold(n, "Replaces"):
			replaces++
			m := &sipmsg.Message{}
			m.Add("Replaces", v)
			if _, err := m.Replaces(); err != nil || !good || replaces > 1 {
				return nil, false
			}
			out = append(out, [2]string{"Replaces", v})
		case strings.EqualFold(n, "Require") && good && v != "":
			out = append(out, [2]string{"Require", v})
		}
	}
	return out, true
}

// hasControl reports whether s holds a control character, which no header
// value may (RFC 3261 §25.1: TEXT-UTF8 and LWS).
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// OnReplaced sets the function called when an INVITE with Replaces (RFC
// 3891) took this call over, as at the end of an attended transfer to us:
// it gets the new call, already answered, which carries on with whoever
// replaced this one; this call then ends with EndReplaced. It runs on the
// call's callback goroutine, before OnState(StateEnded).
func (c *Call) OnReplaced(f func(*Call)) { c.mu.Lock(); c.onReplaced = f; c.mu.Unlock() }

// Tags returns the local and remote tags of the call's dialog, empty
// before it has one.
func (c *Call) Tags() (local, remote string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dlg == nil {
		return "", ""
	}
	return c.dlg.ID.LocalTag, c.dlg.ID.RemoteTag
}

// matchReplaces finds the call an INVITE's Replaces header names (RFC 3891
// §3): a confirmed call, or one of our INVITE's early dialogs (call
// pickup: another phone answers for the one ours rings). It returns nil and
// the status to refuse the INVITE with: 400 for several or a malformed
// header, 481 when no call matches (nor an early dialog of an INVITE we
// received: §3 leaves those to their callee), 486 for early-only on a
// confirmed one.
func (u *UA) matchReplaces(req *sipmsg.Message) (*Call, int) {
	if len(req.Values("Replaces")) > 1 {
		return nil, 400
	}
	r, err := req.Replaces()
	if err != nil {
		return nil, 400
	}
	old := u.findCall(r.CallID)
	if old == nil {
		return nil, 481
	}
	old.mu.Lock()
	defer old.mu.Unlock()
	if old.replacing {
		return nil, 481 // another INVITE with Replaces took it first
	}
	if old.outbound && old.dlg == nil {
		ed := old.early.m[r.FromTag]
		if ed == nil || ed.d.ID.LocalTag != r.ToTag || old.cancelInvite == nil || old.state == StateEnded {
			return nil, 481
		}
		old.replacing = true
		return old, 0
	}
	if old.dlg == nil || old.dlg.ID.LocalTag != r.ToTag || old.dlg.ID.RemoteTag != r.FromTag {
		return nil, 481
	}
	switch {
	case old.state != StateActive && old.state != StateOnHold:
		return nil, 481
	case r.EarlyOnly:
		return nil, 486
	}
	old.replacing = true
	return old, 0
}

// replace answers c, an INVITE with Replaces that matched old, without
// alerting (RFC 3891 §3), hands c to old's OnReplaced and ends old: a
// confirmed call with BYE; our INVITE still ringing with CANCEL, and the
// Dial waiting for it returns c. It runs on a goroutine of its own.
func (c *Call) replace(old *Call) {
	ctx, cancel := context.WithTimeout(c.u.lifeContext(), 64*c.u.t1())
	defer cancel()
	if err := c.Accept(ctx); err != nil {
		c.u.log.Debug("ua: answering an INVITE with Replaces", "err", err)
		old.unclaim()
		return
	}
	old.mu.Lock()
	f := old.onReplaced
	cancelInvite := old.cancelInvite
	ringing := old.outbound && old.dlg == nil
	if ringing {
		old.pickedUp = c
	}
	old.mu.Unlock()
	if f != nil {
		old.events.do(func() { f(c) })
	}
	if ringing && cancelInvite != nil {
		// A 2xx that crosses the CANCEL is ACKed and ended with BYE.
		cancelInvite(errPickedUp)
		return
	}
	old.hangup(EndReplaced, nil)
}

// unclaim lets another INVITE with Replaces name c: the one that did was
// not answered.
func (c *Call) unclaim() { c.mu.Lock(); c.replacing = false; c.mu.Unlock() }

// errPickedUp cancels an INVITE whose early dialog another phone replaced.
var errPickedUp = errors.New("ua: picked up by another phone (RFC 3891)")

// replacement returns the call that took over c's INVITE while it rang,
// or nil.
func (c *Call) replacement() *Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pickedUp
}

// refuseReplaces answers an INVITE whose Replaces matched nothing usable.
func (u *UA) refuseReplaces(tx *transaction.ServerTx, code int) {
	reason := ""
	if code == 400 {
		reason = "Bad Replaces"
	}
	u.respond(tx, code, reason)
}

package ua

import (
	"context"
	"errors"
	"strings"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// The methods we implement, for Allow (RFC 3261 §20.5).
const allowMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE, PRACK"

// Methods we know but do not take: answered 405 with Allow (§21.4.6);
// anything else is 501 (§21.5.2).
var knownMethods = map[string]bool{
	"REGISTER": true, "SUBSCRIBE": true, "NOTIFY": true, "REFER": true, "MESSAGE": true,
	"INFO": true, "UPDATE": true, "PRACK": true, "PUBLISH": true,
}

// inbound is the transport's Handler: it hands the message to the layer.
func (u *UA) inbound(in transport.Inbound) {
	if !in.Msg.IsRequest() {
		// RFC 3261 §8.1.3.3: a response with more than one Via was
		// meant for a proxy on its way, not for a UA.
		var vias [2]string
		if len(in.Msg.AppendValues(vias[:0], "Via")) > 1 {
			u.log.Debug("ua: response with more than one Via dropped", "from", in.Source.AddrPort)
			return
		}
	}
	u.mu.Lock()
	tl := u.tl
	u.mu.Unlock()
	if tl != nil {
		tl.HandleInbound(in)
	}
}

// HandleRequest implements transaction.TU: it routes a new server
// transaction by method and, inside a dialog, to its call.
func (u *UA) HandleRequest(tx *transaction.ServerTx) {
	req := tx.Request()
	to, _ := req.To()
	inDialog := to.Tag() != ""
	if bad := u.unsupported(req); bad != "" {
		resp := sipmsg.NewResponse(req, 420, "")
		if !inDialog {
			resp.SetToTag(u.tlNewTag()) //nolint:errcheck // To was validated by the transport
		}
		resp.Add("Unsupported", bad)
		tx.Respond(resp) //nolint:errcheck // nothing to do on failure
		return
	}
	switch req.Method {
	case "INVITE":
		if inDialog {
			if c := u.findCall(req.CallID()); c != nil {
				c.handleReInvite(tx)
				return
			}
			u.respond(tx, 481, "")
			return
		}
		u.handleInvite(tx)
	case "BYE":
		c := u.findCall(req.CallID())
		if c == nil || !c.matches(req) {
			u.respond(tx, 481, "")
			return
		}
		c.handleBye(tx)
	case "NOTIFY":
		if ev, err := req.Event(); err == nil && !strings.EqualFold(ev.Type, "refer") {
			u.handleEventNotify(tx, ev.Type)
			return
		}
		c := u.findCall(req.CallID())
		if !inDialog || c == nil {
			u.respond(tx, 481, "")
			return
		}
		c.handleNotify(tx)
	case "INFO", "REFER", "UPDATE", "PRACK":
		c := u.findCall(req.CallID())
		if !inDialog || c == nil {
			u.respond(tx, 481, "")
			return
		}
		switch req.Method {
		case "INFO":
			c.handleInfo(tx)
		case "REFER":
			c.handleRefer(tx)
		case "UPDATE":
			c.handleUpdate(tx)
		default:
			c.handlePrack(tx)
		}
	case "MESSAGE":
		if inDialog && u.findCall(req.CallID()) == nil {
			u.respond(tx, 481, "")
			return
		}
		u.handleMessage(tx)
	case "OPTIONS":
		resp := sipmsg.NewResponse(req, 200, "")
		if !inDialog {
			resp.SetToTag(u.tlNewTag()) //nolint:errcheck // To was validated by the transport
		}
		resp.Add("Allow", u.allow())
		resp.Add("Accept", "application/sdp")
		if u.cfg.SessionTimer > 0 {
			resp.Add("Supported", "timer") // RFC 4028 §3
		}
		if u.cfg.Rel100 != Rel100Disabled {
			resp.Add("Supported", tag100rel) // RFC 3262 §4
		}
		if !u.cfg.RefuseReplaces {
			resp.Add("Supported", tagReplaces) // RFC 3891 §6.2
		}
		resp.Add("User-Agent", u.cfg.UserAgent)
		tx.Respond(resp) //nolint:errcheck // nothing to do on failure
	default:
		if inDialog && u.findCall(req.CallID()) == nil {
			u.respond(tx, 481, "")
			return
		}
		code := 501
		if knownMethods[req.Method] {
			code = 405
		}
		resp := sipmsg.NewResponse(req, code, "")
		resp.SetToTag(u.tlNewTag()) //nolint:errcheck // To was validated by the transport
		resp.Add("Allow", u.allow())
		tx.Respond(resp) //nolint:errcheck // nothing to do on failure
	}
}

// unsupported returns, comma-separated, the option tags of req's Require
// that we do not know, "" if none (RFC 3261 §8.2.2.3). 100rel is left to
// check100rel, which also knows when it is turned off.
func (u *UA) unsupported(req *sipmsg.Message) string {
	var bad []string
	for _, v := range req.Values("Require") {
		for tag := range strings.SplitSeq(v, ",") {
			tag = strings.TrimSpace(tag)
			switch strings.ToLower(tag) {
			case "", tag100rel, "timer":
			case tagReplaces:
				if u.cfg.RefuseReplaces {
					bad = append(bad, tag)
				}
			default:
				bad = append(bad, tag)
			}
		}
	}
	return strings.Join(bad, ", ")
}

// respond answers tx with code and a To tag when it needs one.
func (u *UA) respond(tx *transaction.ServerTx, code int, reason string) {
	resp := sipmsg.NewResponse(tx.Request(), code, reason)
	if code > 100 {
		resp.SetToTag(u.tlNewTag()) //nolint:errcheck // To was validated by the transport
	}
	tx.Respond(resp) //nolint:errcheck // nothing to do on failure
}

// HandleOutside implements transaction.TU: ACKs for our 2xx (RFC 3261
// §13.3.1.4) and retransmitted 2xx answers to our INVITEs (§13.2.2.4).
func (u *UA) HandleOutside(in transport.Inbound) {
	m := in.Msg
	c := u.findCall(m.CallID())
	if m.IsRequest() {
		if m.Method == "ACK" && c != nil {
			c.handleAck(m)
		}
		return
	}
	if cs, err := m.CSeq(); err == nil && cs.Method == "INVITE" && m.StatusCode >= 200 && m.StatusCode < 300 {
		if lc, ok := u.late.find(m.CallID()); ok {
			u.lateAnswer(lc, m)
		} else if c != nil {
			c.on2xx(m)
		}
	}
}

// HandleServerError implements transaction.TU: a CANCEL ended an inbound
// INVITE (the layer already sent 487), or no ACK came for a final response.
func (u *UA) HandleServerError(tx *transaction.ServerTx, err error) {
	req := tx.Request()
	if req.Method != "INVITE" {
		return
	}
	c := u.findCall(req.CallID())
	if c == nil || c.stx != tx {
		return
	}
	if errors.Is(err, transaction.ErrCanceled) {
		var why error
		var ce *transaction.CancelError
		if errors.As(err, &ce) {
			why = peerReasons(ce.Cancel)
		}
		c.end(EndCancelled, why)
		return
	}
	if errors.Is(err, transaction.ErrTimeout) {
		return // Timer H after a non-2xx we sent: the call already ended
	}
	c.end(EndError, err)
}

// finalResponse sends req in a client transaction and returns its final
// response, or the transaction's error. Once the final response is in,
// the transaction is detached: the 2xx to a re-INVITE, retransmitted
// because our ACK was lost, reaches HandleOutside to be ACKed again.
func finalResponse(ctx context.Context, tl *transaction.Layer, req *sipmsg.Message, dst transport.Addr) (*sipmsg.Message, error) {
	tx, err := tl.Request(ctx, req, dst)
	if err != nil {
		return nil, err
	}
	var final *sipmsg.Message
	for resp := range tx.Responses() {
		if resp.StatusCode >= 200 {
			final = resp
			break
		}
	}
	if final != nil {
		tx.Detach()
		return final, nil
	}
	if err := tx.Err(); err != nil {
		return nil, err
	}
	return nil, errors.New("ua: transaction ended without a response")
}

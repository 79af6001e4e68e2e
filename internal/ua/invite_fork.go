package ua

import (
	"context"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// on2xx takes a 2xx to one of our INVITEs that reaches an answered call:
// a retransmission in the call's dialog gets its ACK again; the 2xx of the
// initial INVITE from another fork (another To tag, RFC 3261 §13.2.2.4)
// made a dialog the call does not want, which is ACKed and ended with BYE.
func (c *Call) on2xx(resp *sipmsg.Message) {
	to, err := resp.To()
	if err != nil {
		return
	}
	c.mu.Lock()
	d, inv := c.dlg, c.invite
	c.mu.Unlock()
	if d == nil {
		return
	}
	if to.Tag() == d.ID.RemoteTag {
		c.reAck(resp) // on an inbound call too: the 2xx of our re-INVITE
		return
	}
	if inv == nil {
		return // an inbound call: its dialog was not made by our INVITE
	}
	rcs, err1 := resp.CSeq()
	ics, err2 := inv.CSeq()
	if err1 != nil || err2 != nil || rcs.Seq != ics.Seq {
		return
	}
	c.endFork(inv, resp, to.Tag())
}

// sharedInvite returns the copy of our INVITE a call keeps (Call.invite):
// the UAC's goroutine, the transport's reader (HandleOutside) and the
// goroutines of endFork and lateAnswer read it at once, so its typed
// headers are parsed before it is shared and reading them writes nothing.
func sharedInvite(req *sipmsg.Message) *sipmsg.Message {
	inv := req.Clone()
	inv.Cache()
	return inv
}

// forkAcks holds the ACKs sent to other forks' 2xx, by To tag, so that
// their retransmissions get the same ACK and no second BYE.
type forkAcks map[string]forkAck

// maxForks bounds the other forks a call answers, and the early dialogs
// of an INVITE (prack.go): a peer that sends 2xx or 18x with ever new To
// tags gets no more ACKs, BYEs, PRACKs or memory past it.
const maxForks = 16

type forkAck struct {
	ack *sipmsg.Message
	dst transport.Addr
}

// endFork ACKs the 2xx of another fork and sends that dialog a BYE; a
// retransmission of it is only ACKed again. The fork's place is taken at
// once; the rest runs on a goroutine, as the next hop may need a DNS
// lookup that must not hold up the transport's reader that hands us the
// 2xx (a retransmission meanwhile finds no ACK to repeat yet).
func (c *Call) endFork(inv, resp *sipmsg.Message, tag string) {
	tl, tm := c.u.layer()
	if tl == nil {
		return
	}
	c.mu.Lock()
	if f, ok := c.forks[tag]; ok {
		c.mu.Unlock()
		if f.ack != nil {
			tl.Send(context.Background(), f.ack.Clone(), f.dst) //nolint:errcheck // the fork retransmits again
		}
		return
	}
	if len(c.forks) >= maxForks {
		c.mu.Unlock()
		c.u.log.Debug("ua: 2xx of one fork too many dropped", "call", c.id, "tag", tag)
		return
	}
	if c.forks == nil {
		c.forks = forkAcks{}
	}
	c.forks[tag] = forkAck{} // taken; its ACK follows
	fallback := c.dst
	c.mu.Unlock()
	contact, err := inv.Contact()
	if err != nil {
		return
	}
	d, err := dialog.NewUAC(inv, resp, contact)
	if err != nil {
		c.u.log.Debug("ua: 2xx of another fork without a usable dialog", "err", err)
		return
	}
	c.u.tasks.goFunc(func() {
		ctx, cancel := context.WithTimeout(c.u.lifeContext(), 64*c.u.t1())
		defer cancel()
		dst := c.resolveHop(ctx, d.NextHop(), fallback)
		ics, _ := inv.CSeq()
		ack := d.NewRequest("ACK", ics.Seq)
		ack.PrependVia(c.u.via(tm, tl, dst.Protocol))
		copyCredentials(ack, inv)
		ack.SetContentLength()
		c.mu.Lock()
		c.forks[tag] = forkAck{ack.Clone(), dst}
		c.mu.Unlock()
		c.u.log.Info("ua: 2xx from another fork: ACK and BYE", "call", c.id, "tag", tag)
		tl.Send(ctx, ack, dst) //nolint:errcheck // the fork retransmits again
		bye := d.NewRequest("BYE", 0)
		bye.PrependVia(c.u.via(tm, tl, dst.Protocol))
		bye.Add("User-Agent", c.u.cfg.UserAgent)
		bye.SetContentLength()
		if _, _, err := c.dialogFinal(ctx, tl, tm, d, bye, dst); err != nil {
			c.u.log.Debug("ua: BYE to another fork", "err", err)
		}
	})
}

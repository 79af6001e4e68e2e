package ua

import (
	"context"
	"sync"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// lateCalls remembers outbound calls whose INVITE we cancelled, for 64*T1:
// a 2xx that crossed our CANCEL still creates a dialog at the callee, so it
// is ACKed and the call torn down with BYE (RFC 3261 §9.1, §15).
type lateCalls struct {
	mu sync.Mutex
	m  map[string]lateCall
}

type lateCall struct {
	c       *Call
	contact sipmsg.Address
}

func (l *lateCalls) add(c *Call, contact sipmsg.Address) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]lateCall{}
	}
	l.m[c.callID] = lateCall{c, contact}
	time.AfterFunc(64*c.u.t1(), func() {
		l.mu.Lock()
		if l.m[c.callID].c == c {
			delete(l.m, c.callID)
		}
		l.mu.Unlock()
	})
}

func (l *lateCalls) find(callID string) (lateCall, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lc, ok := l.m[callID]
	return lc, ok
}

func (l *lateCalls) clear() {
	l.mu.Lock()
	l.m = nil
	l.mu.Unlock()
}

// lateAnswer takes a 2xx to an INVITE we had cancelled: the first builds
// the dialog, is ACKed and answered with BYE; retransmissions are ACKed
// again.
func (u *UA) lateAnswer(lc lateCall, resp *sipmsg.Message) {
	c := lc.c
	c.mu.Lock()
	have := c.dlg != nil
	inv := c.invite
	c.mu.Unlock()
	if have {
		c.on2xx(resp)
		return
	}
	d, err := dialog.NewUAC(inv, resp, lc.contact)
	if err != nil {
		u.log.Debug("ua: late 2xx without a usable dialog", "err", err)
		return
	}
	// PRACKs (or UPDATEs) sent in the early dialog used CSeq numbers
	// after the INVITE's: the ACK keeps the INVITE's, the BYE goes past
	// them (RFC 3261 §12.2.1.1).
	c.continueEarly(d)
	c.mu.Lock()
	if c.dlg != nil {
		c.mu.Unlock()
		c.on2xx(resp)
		return
	}
	c.dlg = d
	c.mu.Unlock()
	// The rest on a goroutine: the next hop may need a DNS lookup, which
	// must not hold up the transport's reader that hands us the 2xx. Its
	// retransmissions meanwhile find no ACK to repeat (reAck) and are
	// answered once the ACK went out.
	u.tasks.goFunc(func() {
		ctx, cancel := context.WithTimeout(u.lifeContext(), 64*u.t1())
		defer cancel()
		hop := c.nextHop(ctx, transport.Addr{})
		if u.throughProxy(d) {
			u.mu.Lock()
			hop = u.server
			u.mu.Unlock()
		}
		c.mu.Lock()
		c.dst = hop
		c.mu.Unlock()
		c.sendAck(resp, inv)
		if _, err := c.inDialog(ctx, "BYE", nil); err != nil {
			u.log.Debug("ua: BYE after a late 2xx", "err", err)
		}
	})
}

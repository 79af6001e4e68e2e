package phonetest

import (
	"context"
	"io"
	"slices"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// dropRule is one PBX.Drop: lose the next left messages that match.
type dropRule struct {
	match func(MessageEvent) bool
	left  int
}

// Drop makes the PBX lose the next n messages for which match returns
// true, as a lossy network would: a received one is ignored before the
// transaction layer sees it, one the PBX was to send never leaves. It
// exercises retransmission (RFC 3261 §17): dropping the first INVITE a
// phone sends makes it send it again after T1; dropping the 200 OK the
// PBX relays makes the callee retransmit it. Over TCP nothing is
// retransmitted, so a message dropped there is lost for good.
//
// match sees every message received and sent, in order (MessageEvent.Sent
// tells which), and must not block, modify the message or call the PBX's
// methods. Rules apply in the order they were added; a message consumes
// at most one rule's count. Lost messages are recorded and traced with
// MessageEvent.Dropped set. Drop is safe for concurrent use.
func (p *PBX) Drop(n int, match func(MessageEvent) bool) {
	if n <= 0 || match == nil {
		return
	}
	p.traceMu.Lock()
	p.drops = append(p.drops, &dropRule{match: match, left: n})
	p.dropping.Store(true)
	p.traceMu.Unlock()
}

// Messages returns the messages the PBX received, sent and dropped, oldest
// first: the most recent ones, at most PBXConfig.MaxRecorded (when the
// bound is reached the oldest half is forgotten). The slice is the
// caller's; the messages in it are shared, read-only.
func (p *PBX) Messages() []MessageEvent {
	p.traceMu.Lock()
	defer p.traceMu.Unlock()
	return slices.Clone(p.recorded)
}

// WaitMessage blocks until the recorder holds a message for which match
// returns true, and returns the first one, or ctx's error when ctx ends
// first. Messages already recorded count. It wakes on each new message,
// never polls; with the recorder off (negative MaxRecorded) it waits for
// ctx. match runs with the recorder locked: it must not call the PBX's
// methods.
func (p *PBX) WaitMessage(ctx context.Context, match func(MessageEvent) bool) (MessageEvent, error) {
	for {
		p.traceMu.Lock()
		seen := p.msgSeen
		for _, ev := range p.recorded {
			if match(ev) {
				p.traceMu.Unlock()
				return ev, nil
			}
		}
		p.traceMu.Unlock()
		select {
		case <-ctx.Done():
			return MessageEvent{}, context.Cause(ctx)
		case <-seen:
		}
	}
}

// Count returns how many recorded messages match.
func (p *PBX) Count(match func(MessageEvent) bool) int {
	p.traceMu.Lock()
	defer p.traceMu.Unlock()
	n := 0
	for _, ev := range p.recorded {
		if match(ev) {
			n++
		}
	}
	return n
}

// IsRequest returns a matcher, for Drop, WaitMessage and Count, of the
// requests with method that the PBX receives (sent false) or sends (sent
// true).
func IsRequest(method string, sent bool) func(MessageEvent) bool {
	return func(e MessageEvent) bool {
		return e.Sent == sent && e.Msg.IsRequest() && e.Msg.Method == method
	}
}

// IsResponse returns a matcher, for Drop, WaitMessage and Count, of the
// responses with code to a request with method (per CSeq) that the PBX
// receives (sent false) or sends (sent true).
func IsResponse(code int, method string, sent bool) func(MessageEvent) bool {
	return func(e MessageEvent) bool {
		if e.Sent != sent || e.Msg.IsRequest() || e.Msg.StatusCode != code {
			return false
		}
		cs, err := e.Msg.CSeq()
		return err == nil && cs.Method == method
	}
}

// observe records and traces a message the PBX received (sent false) or is
// about to send, and reports whether a Drop rule loses it. It does nothing
// when no one listens and no rule is set.
func (p *PBX) observe(sent bool, peer transport.Addr, m *sipmsg.Message) (drop bool) {
	if p.cfg.OnMessage == nil && p.cfg.Trace == nil && p.cfg.MaxRecorded < 0 && !p.dropping.Load() {
		return false
	}
	ev := MessageEvent{
		Sent:      sent,
		Transport: peer.Protocol.String(),
		Local:     p.addr.String(),
		Remote:    peer.AddrPort.String(),
		Msg:       m.Clone(),
	}
	p.traceMu.Lock()
	defer p.traceMu.Unlock()
	for i, r := range p.drops {
		if !r.match(ev) {
			continue
		}
		ev.Dropped = true
		if r.left--; r.left == 0 {
			p.drops = slices.Delete(p.drops, i, i+1)
			p.dropping.Store(len(p.drops) > 0)
		}
		break
	}
	if max := p.cfg.MaxRecorded; max > 0 {
		if len(p.recorded) == max {
			// Forget the oldest half at once: amortized O(1) per message.
			p.recorded = slices.Delete(p.recorded, 0, max/2+1)
		}
		p.recorded = append(p.recorded, ev)
		close(p.msgSeen)
		p.msgSeen = make(chan struct{})
	}
	if p.cfg.OnMessage != nil {
		p.cfg.OnMessage(ev)
	}
	if p.cfg.Trace != nil {
		_, _ = io.WriteString(p.cfg.Trace, ev.String()+"\n")
	}
	return ev.Dropped
}

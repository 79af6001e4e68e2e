package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// ua is the minimal user agent core: the transaction user of one Layer
// over one UDP Manager. As a UAS it answers OPTIONS 200, INVITE (optional
// 180) 200 with a Contact and an optional fixed SDP, retransmitting the
// 2xx until the ACK comes (RFC 3261 §13.3.1.4), and BYE 200. As a UAC it
// places calls: INVITE, ACK for every 2xx, BYE.
type ua struct {
	m       *transport.Manager
	l       *transaction.Layer
	local   netip.AddrPort
	contact string
	tag     string
	ringing bool
	reject  int // the final status of every INVITE when not 0
	sdp     []byte
	t1, t2  time.Duration

	mu      sync.Mutex
	pending map[string]*answer // Call-ID → 2xx awaiting its ACK

	options, invites, acks, byes, others, retrans2xx, errs atomic.Int64
}

// answer is a 2xx to an INVITE that the UAS core retransmits until the ACK
// arrives (RFC 3261 §13.3.1.4): T1, doubling up to T2, for 64*T1.
type answer struct {
	tx       *transaction.ServerTx
	resp     *sipmsg.Message
	interval time.Duration
	elapsed  time.Duration
	timer    *time.Timer
}

func (u *ua) HandleRequest(tx *transaction.ServerTx) {
	req := tx.Request()
	switch req.Method {
	case "OPTIONS":
		u.options.Add(1)
		u.respond(tx, 200, nil)
	case "INVITE":
		u.invites.Add(1)
		if u.ringing {
			u.respond(tx, 180, nil)
		}
		if u.reject != 0 {
			u.respond(tx, u.reject, nil)
			return
		}
		resp := u.response(req, 200)
		resp.Add("Contact", u.contact)
		if len(u.sdp) > 0 {
			resp.Add("Content-Type", "application/sdp")
			resp.Body = u.sdp
		}
		resp.SetContentLength()
		a := &answer{tx: tx, resp: resp, interval: u.t1}
		callID := req.CallID()
		u.mu.Lock()
		u.pending[callID] = a
		a.timer = time.AfterFunc(u.t1, func() { u.retransmit(callID, a) })
		u.mu.Unlock()
		if err := tx.Respond(resp); err != nil {
			u.errs.Add(1)
		}
	case "BYE":
		u.byes.Add(1)
		u.respond(tx, 200, nil)
	default:
		u.others.Add(1)
		u.respond(tx, 501, nil)
	}
}

// retransmit re-sends a 2xx whose ACK has not come.
func (u *ua) retransmit(callID string, a *answer) {
	u.mu.Lock()
	if u.pending[callID] != a {
		u.mu.Unlock()
		return
	}
	a.elapsed += a.interval
	if a.elapsed >= 64*u.t1 {
		delete(u.pending, callID) // §13.3.1.4: give up; the call is over
		u.mu.Unlock()
		u.errs.Add(1)
		return
	}
	a.interval = min(2*a.interval, u.t2)
	a.timer.Reset(a.interval)
	u.mu.Unlock()
	u.retrans2xx.Add(1)
	_ = a.tx.Respond(a.resp)
}

func (u *ua) HandleOutside(in transport.Inbound) {
	m := in.Msg
	if m.IsRequest() {
		if m.Method == "ACK" {
			u.acks.Add(1)
			u.mu.Lock()
			if a := u.pending[m.CallID()]; a != nil {
				a.timer.Stop()
				delete(u.pending, m.CallID())
			}
			u.mu.Unlock()
		}
		return
	}
	// A 2xx that matched no client transaction (after Timer M): a UAC
	// would ACK it too (§13.2.2.4); a load run never sees one.
}

func (u *ua) HandleServerError(*transaction.ServerTx, error) { u.errs.Add(1) }

func (u *ua) response(req *sipmsg.Message, code int) *sipmsg.Message {
	r := sipmsg.NewResponse(req, code, "")
	if code > 100 {
		_ = r.SetToTag(u.tag)
	}
	return r
}

func (u *ua) respond(tx *transaction.ServerTx, code int, _ []byte) {
	if err := tx.Respond(u.response(tx.Request(), code)); err != nil {
		u.errs.Add(1)
	}
}

// pendingAnswers returns the number of 2xx responses awaiting an ACK.
func (u *ua) pendingAnswers() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.pending)
}

// call places one call to target: INVITE (with the fixed SDP when set),
// ACK for each 2xx, hold, BYE. It returns nil when the INVITE and the BYE
// both got 2xx.
func (u *ua) call(ctx context.Context, target sipmsg.URI, dst transport.Addr, hold time.Duration) error {
	callID := u.l.NewTag() + "@" + u.local.Addr().String()
	fromTag := u.l.NewTag()
	inv := u.request("INVITE", target, callID, fromTag, "", 1)
	if len(u.sdp) > 0 {
		inv.Add("Content-Type", "application/sdp")
		inv.Body = u.sdp
	}
	inv.SetContentLength()
	ctx, cancel := context.WithTimeout(ctx, 64*u.t1)
	defer cancel()
	tx, err := u.l.Request(ctx, inv, dst)
	if err != nil {
		return err
	}
	var ok *sipmsg.Message
	for r := range tx.Responses() {
		if r.StatusCode < 200 {
			continue
		}
		if r.StatusCode >= 300 {
			return fmt.Errorf("INVITE answered %d %s", r.StatusCode, r.Reason)
		}
		// Every 2xx, the first and its retransmissions, gets an ACK
		// (§13.2.2.4). The ACK goes to the Contact; here, back to dst.
		ok = r
		if err := u.sendACK(ctx, inv, r, dst); err != nil {
			return err
		}
		break
	}
	if ok == nil {
		if err := tx.Err(); err != nil {
			return err
		}
		return errors.New("INVITE: no final response")
	}
	// Keep ACKing 2xx retransmissions during the hold: they arrive on
	// tx.Responses while the transaction is Accepted.
	holdEnd := time.After(hold)
hold:
	for {
		select {
		case r, open := <-tx.Responses():
			if !open {
				break hold
			}
			if r.StatusCode >= 200 && r.StatusCode < 300 {
				_ = u.sendACK(ctx, inv, r, dst)
			}
		case <-holdEnd:
			break hold
		}
	}
	to, err := ok.To()
	if err != nil {
		return err
	}
	bye := u.request("BYE", target, callID, fromTag, to.Tag(), 2)
	bye.SetContentLength()
	btx, err := u.l.Request(ctx, bye, dst)
	if err != nil {
		return err
	}
	for r := range btx.Responses() {
		if r.StatusCode >= 200 {
			if r.StatusCode >= 300 {
				return fmt.Errorf("BYE answered %d %s", r.StatusCode, r.Reason)
			}
			return nil
		}
	}
	if err := btx.Err(); err != nil {
		return err
	}
	return errors.New("BYE: no final response")
}

func (u *ua) sendACK(ctx context.Context, inv, resp *sipmsg.Message, dst transport.Addr) error {
	ack, err := sipmsg.NewAck(inv, resp)
	if err != nil {
		return err
	}
	// The ACK of a 2xx is a transaction of its own: a fresh branch.
	if err := ack.SetVia(u.m.Via(transport.UDP, u.l.NewBranch())); err != nil {
		return err
	}
	u.acks.Add(1)
	return u.l.Send(ctx, ack, dst)
}

// request builds a request of a call (RFC 3261 §8.1.1).
func (u *ua) request(method string, target sipmsg.URI, callID, fromTag, toTag string, seq int) *sipmsg.Message {
	req := sipmsg.NewRequest(method, target)
	req.PrependVia(u.m.Via(transport.UDP, u.l.NewBranch()))
	req.Add("Max-Forwards", "70")
	req.Add("From", "<sip:minuas@"+u.local.String()+">;tag="+fromTag)
	to := "<" + target.String() + ">"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	req.Add("To", to)
	req.Add("Call-ID", callID)
	req.Add("CSeq", strconv.Itoa(seq)+" "+method)
	req.Add("Contact", u.contact)
	return req
}

// fixedSDP is the offer or answer minuas puts in INVITE or 200: PCMU on a
// port nobody sends to (there is no media).
func fixedSDP(ip netip.Addr) []byte {
	ipv := "IP4"
	if ip.Is6() {
		ipv = "IP6"
	}
	return []byte("v=0\r\no=minuas 1 1 IN " + ipv + " " + ip.String() + "\r\ns=-\r\nc=IN " + ipv + " " + ip.String() +
		"\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")
}

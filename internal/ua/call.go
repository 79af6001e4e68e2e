package ua

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xphone-go/xphone/internal/dialog"
	"github.com/xphone-go/xphone/internal/media"
	"github.com/xphone-go/xphone/internal/sdp"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// State is a call's state; the values match xphone.CallState.
type State uint8

// The call states.
const (
	StateIdle State = iota
	StateRinging
	StateDialing
	StateRemoteRinging
	StateEarlyMedia
	StateActive
	StateOnHold
	StateEnded
)

// EndReason says why a call ended; the values match xphone.EndReason.
type EndReason uint8

// The end reasons.
const (
	EndLocalHangup EndReason = iota + 1
	EndRemoteHangup
	EndRejected
	EndBusy
	EndCancelled
	EndTimeout
	EndMediaTimeout
	EndTransferred
	EndError
	EndReplaced
)

func (r EndReason) Error() string { return "ua: call ended" }

// Call is one call. Its methods are safe for concurrent use.
type Call struct {
	u        *UA
	id       string
	callID   string
	outbound bool
	proto    transport.Protocol
	ctx      context.Context
	cancel   context.CancelCauseFunc
	done     chan struct{}
	active   chan struct{} // closed when the INVITE's 2xx (ours or the peer's) made the call active
	ackedCh  chan struct{} // closed when the ACK of our 2xx came (inbound calls)
	media    *media.Session
	sdp      *sdp.Session
	events   serial

	mu        sync.Mutex
	state     State
	reason    EndReason
	from, to  string
	party     Party // the other end (party.go)
	remoteURI string
	dlg       *dialog.Dialog
	dst       transport.Addr // next hop of in-dialog requests
	// mediaMu orders the session's Start and Updates (startMedia) with a
	// late media host lookup (lookupMedia); mediaGen counts them.
	mediaMu  sync.Mutex
	mediaGen uint64
	// hopPending is closed when the lookup of an inbound call's next hop
	// (resolveDst) ends; nil when none runs.
	hopPending chan struct{}
	neg        sdp.Negotiated
	hasNeg     bool
	headers    *sipmsg.Message
	onState    func(State)
	onEnded    func(EndReason)
	onDTMF     func(rune)
	app        any

	// inbound
	uas      *uasState
	stx      *transaction.ServerTx
	ok       *sipmsg.Message // our 2xx, retransmitted until the ACK
	acked    bool
	retrans  *time.Timer
	answered bool

	reinviting bool        // our re-INVITE is pending: theirs get 491
	upd        updateState // RFC 3311 UPDATE (update.go)

	// DTMF (info.go) and transfer (refer.go)
	dtmfMode    DTMFMode
	dtmfSeen    dtmfFilter
	dtmfDropped atomic.Uint64 // digits OnDTMF was too slow for (receiveDTMF)
	refer       *referState   // our BlindTransfer waiting for NOTIFYs
	transferred bool          // a transfer succeeded: a BYE now ends the call as EndTransferred
	byeReason   EndReason     // set when the peer's BYE is being answered: we must not send one
	onTransfer  func(TransferEvent)
	onReplaced  func(*Call) // replaces.go
	timer       sessionTimer
	sdesWarned  bool // the SDES-over-plain-signaling warning was logged

	// outbound
	invite       *sipmsg.Message
	cancelInvite context.CancelCauseFunc
	pickedUp     *Call // the call that replaced our INVITE's early dialog (replaces.go)
	counted      bool  // Config.MaxCalls applies: not a call taking another's place
	replacing    bool  // an INVITE with Replaces named this call: no other may
	ack          *sipmsg.Message
	forks        forkAcks     // ACKs of 2xx from other forks (invite_fork.go)
	early        earlyDialogs // early dialogs of our INVITE (prack.go)
}

// errSDESOverPlain refuses SRTP keys on unencrypted signaling.
var errSDESOverPlain = fmt.Errorf("ua: SDES keys over unencrypted signaling refused: %w", sdp.ErrNotAcceptable)

// sdesMode applies Config.RefuseSDESOverPlain: SDES keys travel in the SIP
// body, readable by anyone on the path of plain UDP or TCP (RFC 4568
// §8.1.1). Mandatory SRTP then fails the Dial; otherwise SRTP is off, so a
// RTP/SAVP offer from a peer gets 488.
func (u *UA) sdesMode(proto transport.Protocol, m sdp.SRTPMode, outbound bool) (sdp.SRTPMode, error) {
	if m == sdp.SRTPOff || proto == transport.TLS || !u.cfg.RefuseSDESOverPlain {
		return m, nil
	}
	if outbound && m == sdp.SRTPMandatory {
		return m, errSDESOverPlain
	}
	return sdp.SRTPOff, nil
}

func (u *UA) newCall(callID string, outbound bool, proto transport.Protocol, codecs []string, srtpMode sdp.SRTPMode) (*Call, error) {
	srtpMode, err := u.sdesMode(proto, srtpMode, outbound)
	if err != nil {
		return nil, err
	}
	c := &Call{u: u, callID: callID, outbound: outbound, proto: proto, done: make(chan struct{}), active: make(chan struct{}), ackedCh: make(chan struct{})}
	c.events.t = &u.tasks
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	opts := u.cfg.Media
	opts.OnDTMF = func(d rune) { c.receiveDTMF(d, dtmfFromRTP) }
	c.dtmfMode = u.cfg.DTMFMode
	opts.OnMediaTimeout = func() {
		// Early media (a 183 whose callee sends nothing while it rings)
		// does not time out: the call is not answered, and ending it
		// here would send neither CANCEL nor a final response. The
		// timeout starts again at the answer (setState).
		if st := c.State(); st == StateActive || st == StateOnHold {
			u.tasks.goFunc(func() { c.hangup(EndMediaTimeout, nil) })
		}
	}
	opts.Logger = u.log
	ms, err := media.New(opts)
	if err != nil {
		return nil, err
	}
	c.media = ms
	u.mu.Lock()
	addr := u.mediaAddr
	u.mu.Unlock()
	cfg := sdp.Config{
		Address:          addr,
		Port:             int(ms.LocalRTP().Port()),
		Codecs:           codecs,
		SRTP:             srtpMode,
		SRTPProfiles:     u.cfg.SRTPProfiles,
		NoTelephoneEvent: u.cfg.NoTelephoneEvent || u.cfg.DTMFMode == DTMFInfo,
		Username:         "xphone",
	}
	if rtcp := ms.LocalRTCP(); rtcp.Port() != ms.LocalRTP().Port()+1 {
		cfg.RTCPPort = int(rtcp.Port())
	}
	s, err := sdp.NewSession(cfg)
	if err != nil {
		ms.Close()
		return nil, err
	}
	c.sdp = s
	return c, nil
}

// ID is unique within the UA.
func (c *Call) ID() string { return c.id }

// CallID is the SIP Call-ID.
func (c *Call) CallID() string { return c.callID }

// Outbound reports whether we placed the call.
func (c *Call) Outbound() bool { return c.outbound }

// From and To are the From and To URIs.
func (c *Call) From() string { c.mu.Lock(); defer c.mu.Unlock(); return c.from }

// To returns the To URI.
func (c *Call) To() string { c.mu.Lock(); defer c.mu.Unlock(); return c.to }

// RemoteParty returns who the other end is: the caller of an inbound
// call, the called party of an outbound one (who answered, once the
// answer names them).
func (c *Call) RemoteParty() Party { c.mu.Lock(); defer c.mu.Unlock(); return c.party }

// RemoteURI returns the peer's target.
func (c *Call) RemoteURI() string { c.mu.Lock(); defer c.mu.Unlock(); return c.remoteURI }

// State returns the current state.
func (c *Call) State() State { c.mu.Lock(); defer c.mu.Unlock(); return c.state }

// Context is done when the call ends.
func (c *Call) Context() context.Context { return c.ctx }

// Done is closed when the call has ended.
func (c *Call) Done() <-chan struct{} { return c.done }

// Media returns the call's media session.
func (c *Call) Media() *media.Session { return c.media }

// SetApp and App attach the caller's wrapper to the call.
func (c *Call) SetApp(v any) { c.mu.Lock(); c.app = v; c.mu.Unlock() }

// App returns what SetApp stored.
func (c *Call) App() any { c.mu.Lock(); defer c.mu.Unlock(); return c.app }

// Codec returns the negotiated codec name, "" before negotiation.
func (c *Call) Codec() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.hasNeg {
		return ""
	}
	return c.neg.Codec
}

// Header returns the values of a header of the INVITE (inbound) or the
// answer (outbound).
func (c *Call) Header(name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.headers == nil {
		return nil
	}
	return c.headers.Values(name)
}

// OnState, OnEnded and OnDTMF set the call's callbacks.
func (c *Call) OnState(f func(State)) { c.mu.Lock(); c.onState = f; c.mu.Unlock() }

// OnEnded sets the end callback.
func (c *Call) OnEnded(f func(EndReason)) { c.mu.Lock(); c.onEnded = f; c.mu.Unlock() }

// OnDTMF sets the DTMF callback. It is called once per key press,
// whether the digit came by RFC 4733 or SIP INFO; when it came both ways
// within Config.DTMFWindow it is reported once (see info.go).
func (c *Call) OnDTMF(f func(rune)) { c.mu.Lock(); c.onDTMF = f; c.mu.Unlock() }

// setState moves the call to s and queues OnState; it reports whether the
// state changed.
func (c *Call) setState(s State) bool {
	c.mu.Lock()
	if c.state == s || c.state == StateEnded {
		c.mu.Unlock()
		return false
	}
	answered := s == StateActive && c.state != StateOnHold
	c.state = s
	c.mu.Unlock()
	if answered {
		c.media.RestartTimeout() // a silent early media's counts no more
	}
	// A peer can change the state at any rate (re-INVITEs that hold and
	// resume): bounded, the latest always delivered.
	c.events.doLatest(func() {
		c.mu.Lock()
		f := c.onState
		c.mu.Unlock()
		if f != nil {
			f(s)
		}
	})
	return true
}

// end ends the call once: media closed, context cancelled with the reason,
// OnState(StateEnded) and OnEnded queued.
func (c *Call) end(r EndReason, err error) bool {
	c.mu.Lock()
	if c.state == StateEnded {
		c.mu.Unlock()
		return false
	}
	c.state = StateEnded
	c.reason = r
	if c.retrans != nil {
		c.retrans.Stop()
	}
	c.stopTimerLocked()
	if c.dlg != nil {
		c.dlg.Terminate()
	}
	c.mu.Unlock()
	c.media.Close()
	cause := error(r)
	if c.u.cfg.EndCause != nil {
		cause = c.u.cfg.EndCause(r, err)
	}
	// Off the UA's list before Context and Done say the call is over, so
	// that Calls() no longer holds a call whose context is done.
	c.u.removeCall(c)
	c.cancel(cause)
	close(c.done)
	c.events.do(func() {
		c.mu.Lock()
		fs, fe := c.onState, c.onEnded
		c.mu.Unlock()
		if fs != nil {
			fs(StateEnded)
		}
		if fe != nil {
			fe(r)
		}
	})
	return true
}

// hangup ends an established call for reason r and tells the peer with
// BYE (RFC 3261 §15), waiting up to 64*T1 for its answer.
func (c *Call) hangup(r EndReason, err error) {
	c.mu.Lock()
	confirmed := c.dlg != nil && (c.state == StateActive || c.state == StateOnHold || c.outbound) && c.byeReason == 0
	c.mu.Unlock()
	if !c.end(r, err) || !confirmed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 64*c.u.t1())
	defer cancel()
	if _, err := c.inDialog(ctx, "BYE", nil); err != nil {
		c.u.log.Debug("ua: BYE", "err", err)
	}
}

// Reason returns why the call ended, 0 while it runs.
func (c *Call) Reason() EndReason { c.mu.Lock(); defer c.mu.Unlock(); return c.reason }

func (c *Call) closeMedia() { c.media.Close() }

// matches reports whether an in-dialog request belongs to the call.
func (c *Call) matches(req *sipmsg.Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dlg != nil && c.dlg.Matches(req)
}

// startMedia starts or updates the media session with the negotiated
// parameters.
func (c *Call) startMedia(n sdp.Negotiated, update bool) error {
	cfg := media.Config{
		Codec:           n.Codec,
		PayloadType:     n.PT,
		RecvPayloadType: n.RecvPT,
		ClockRate:       int(n.ClockRate),
		RemoteRTP:       n.RemoteRTP,
		RemoteRTCP:      n.RemoteRTCP,
		RTCPMux:         n.RTCPMux,
		Direction:       media.Direction(n.Direction),
		SRTPSend:        n.LocalCrypto,
		SRTPRecv:        n.RemoteCrypto,
		DTMFPayloadType: 0,
	}
	if n.DTMF {
		cfg.DTMFPayloadType, cfg.DTMFRecvPayloadType = n.DTMFPT, n.DTMFRecvPT
	}
	lookup := !cfg.RemoteRTP.Addr().IsValid() && n.RemoteHost != ""
	if lookup {
		// A host name in c= (RFC 4566 §5.7). startMedia may run on the
		// transport's reader (an offer in a re-INVITE, UPDATE or ACK),
		// which must not wait on DNS: the media starts without a remote
		// address, so sends nothing, until lookupMedia gives it one.
		cfg.RemoteRTP, cfg.RemoteRTCP = netip.AddrPort{}, netip.AddrPort{}
	}
	c.mediaMu.Lock()
	defer c.mediaMu.Unlock()
	c.mediaGen++
	c.mu.Lock()
	c.neg, c.hasNeg = n, true
	proto := c.proto
	warn := n.LocalCrypto != nil && proto != transport.TLS && !c.sdesWarned
	if warn {
		c.sdesWarned = true
	}
	c.mu.Unlock()
	if warn {
		c.u.log.Warn("ua: SRTP keys (SDES) were exchanged over unencrypted signaling; use TLS", "call", c.callID, "transport", lowerProto(proto))
	}
	var err error
	if update {
		err = c.media.Update(cfg)
	} else {
		err = c.media.Start(cfg)
	}
	if err == nil && lookup {
		c.lookupMedia(n, cfg, c.mediaGen)
	}
	return err
}

// inDialog sends a request inside the dialog and returns its final response.
func (c *Call) inDialog(ctx context.Context, method string, body []byte) (*sipmsg.Message, error) {
	tl, tm := c.u.layer()
	if tl == nil {
		return nil, ErrNotConnected
	}
	c.mu.Lock()
	if c.dlg == nil {
		c.mu.Unlock()
		return nil, ErrInvalidState
	}
	d := c.dlg
	req := d.NewRequest(method, 0)
	dst := c.dst
	c.mu.Unlock()
	dst = c.settledDst(ctx, dst)
	req.PrependVia(c.u.via(tm, tl, dst.Protocol))
	req.Add("User-Agent", c.u.cfg.UserAgent)
	if body != nil {
		req.Add("Content-Type", "application/sdp")
		req.Body = body
	}
	req.SetContentLength()
	final, _, err := c.dialogFinal(ctx, tl, tm, d, req, dst)
	return final, err
}

// End hangs up: BYE when answered, CANCEL while dialing, 603 while ringing.
// It returns once the call has ended locally; the BYE's answer is awaited
// within ctx.
func (c *Call) End(ctx context.Context) error {
	c.mu.Lock()
	st := c.state
	cancelInvite := c.cancelInvite
	c.mu.Unlock()
	switch st {
	case StateEnded:
		return ErrInvalidState
	case StateRinging:
		return c.Reject(ctx, 603, "")
	case StateEarlyMedia, StateIdle, StateDialing, StateRemoteRinging:
		if !c.outbound {
			if st == StateEarlyMedia {
				return c.Reject(ctx, 603, "")
			}
			break
		}
		if cancelInvite == nil {
			break
		}
		// CANCEL the INVITE. A 2xx may already be in hand (ACKed, media
		// starting): then the call becomes active and is hung up with BYE.
		cancelInvite(ErrCancelled)
		select {
		case <-c.done:
			return nil
		case <-c.active:
		case <-ctx.Done():
			c.end(EndCancelled, nil)
			return ctx.Err()
		}
	}
	// No BYE before the ACK of our 2xx (RFC 3261 §15): one that overtook
	// the 2xx would leave the caller a dead call. Without an ACK within
	// 64*T1, noAck ends the call with its own BYE; when ctx ends first,
	// the BYE goes anyway.
	if err := c.awaitAck(ctx); errors.Is(err, ErrInvalidState) {
		return nil
	}
	c.mu.Lock()
	bye := c.byeReason
	c.mu.Unlock()
	if bye != 0 { // the peer's BYE is being answered
		c.end(bye, nil)
		return nil
	}
	if !c.end(EndLocalHangup, nil) {
		return nil
	}
	_, err := c.inDialog(ctx, "BYE", nil)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// handleBye answers the peer's BYE and ends the call (RFC 3261 §15.1.2).
func (c *Call) handleBye(tx *transaction.ServerTx) {
	req := tx.Request()
	c.mu.Lock()
	err := c.dlg.Receive(req)
	reason := EndRemoteHangup
	if c.transferred {
		reason = EndTransferred
	}
	// A caller may end the early dialog of a call we have not answered
	// with BYE (RFC 3261 §15): its INVITE then gets 487 (§15.1.2), and
	// Accept or Reject find the call taken.
	unanswered := err == nil && !c.outbound && (!c.answered || c.takeOverAcceptLocked()) && (c.state == StateRinging || c.state == StateEarlyMedia)
	if unanswered {
		c.answered = true
		reason = EndCancelled
	}
	if err == nil {
		// From here an End (a Disconnect racing with this) ends the call
		// without a BYE of its own: once the peer has our 200 it may be
		// gone, and that BYE would wait 64*T1 for nobody.
		c.byeReason = reason
	}
	c.mu.Unlock()
	if errors.Is(err, dialog.ErrCSeqOrder) {
		c.u.respond(tx, 500, "")
		return
	}
	// Answer before ending: ending wakes the application, which may shut
	// the phone (and its transport) down at once.
	tx.Respond(sipmsg.NewResponse(req, 200, "")) //nolint:errcheck // the call ends anyway
	if unanswered {
		resp := sipmsg.NewResponse(c.stx.Request(), 487, "")
		resp.SetToTag(c.uas.localTag) //nolint:errcheck // To was validated
		c.stx.Respond(resp)           //nolint:errcheck // a CANCEL may have ended it already
	}
	c.end(reason, peerReasons(req))
}

// PeerReasons is the error Config.EndCause gets beside EndRemoteHangup
// (or EndTransferred) and EndCancelled when the peer's BYE or CANCEL said
// why, in Reason headers (RFC 3326).
type PeerReasons []sipmsg.Reason

// Error returns the reasons in words: "the peer's reason: Q.850 cause 16
// (Terminated)".
func (r PeerReasons) Error() string {
	b := []byte("ua: the peer's reason:")
	for i, x := range r {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, ' ')
		b = append(b, x.Protocol...)
		if x.Cause >= 0 {
			b = append(b, " cause "...)
			b = strconv.AppendInt(b, int64(x.Cause), 10)
		}
		if x.Text != "" {
			b = append(b, " ("...)
			b = append(b, x.Text...)
			b = append(b, ')')
		}
	}
	return string(b)
}

// peerReasons returns the Reason headers of req as PeerReasons, or nil
// when it has none (or only malformed ones: they end the call all the
// same).
func peerReasons(req *sipmsg.Message) error {
	rs, err := req.Reasons()
	if err != nil || len(rs) == 0 {
		return nil
	}
	return PeerReasons(rs)
}

// Hold and Resume send a re-INVITE with sendonly or sendrecv (RFC 3264
// §8.4).
func (c *Call) Hold(ctx context.Context) error { return c.reinvite(ctx, sdp.SendOnly, StateOnHold) }

// Resume takes the call off hold.
func (c *Call) Resume(ctx context.Context) error {
	return c.reinvite(ctx, sdp.SendRecv, StateActive)
}

func (c *Call) reinvite(ctx context.Context, dir sdp.Direction, next State) error {
	if err := c.awaitAck(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	// Not while the peer's offer is being answered either (RFC 3261
	// §14.1): answerOffer, on the transport's reader, uses c.sdp then;
	// nor while our offer in the 2xx awaits the ACK's answer (handleAck).
	if c.reinviting || c.upd.answering || c.lateOfferPendingLocked() || c.ackPendingLocked() || c.dlg == nil || (c.state != StateActive && c.state != StateOnHold) {
		c.mu.Unlock()
		return ErrInvalidState
	}
	c.reinviting = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.reinviting = false
		c.mu.Unlock()
	}()
	// A refused offer leaves the session as it was (RFC 3264 §8): our
	// direction too, which the call's state does not tell when the peer
	// holds us.
	prev := c.sdp.Direction()
	c.sdp.SetDirection(dir)
	ok := false
	defer func() {
		if !ok {
			c.sdp.SetDirection(prev)
		}
	}()
	ctx, done := c.whileLive(ctx)
	defer done()
	return c.endedErr(c.sendReinvite(ctx, func(n sdp.Negotiated) error {
		ok = true
		if err := c.startMedia(n, true); err != nil {
			return err
		}
		c.setState(next)
		return nil
	}))
}

// whileLive returns ctx, also done once the call ends: a request the
// application made (Hold, Resume, Update, a transfer's REFER, DTMF by INFO)
// stops waiting for the answer when the peer hangs up meanwhile, instead of
// for Timer B or F (32 s). Its transaction goes on alone (an INVITE's
// CANCELs itself).
func (c *Call) whileLive(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// endedErr is err, or ErrInvalidState when the call ended while the
// request waited (whileLive).
func (c *Call) endedErr(err error) error {
	if err != nil && c.ctx.Err() != nil {
		return fmt.Errorf("%w: the call ended: %w", ErrInvalidState, err)
	}
	return err
}

// sendReinvite offers the session's current SDP in a re-INVITE carrying the
// session-timer headers, retries once on 422 with the Min-SE it names (RFC
// 4028 §7.4) and on 491 after the RFC 3261 §14.1 delay, has apply take the
// negotiated answer of the 2xx, then ACKs it and re-arms the session timer
// from it. The answer is applied before the ACK goes out, so that a request
// the peer sends as soon as it has the ACK (a BYE, say) finds the call
// updated, not half way. The caller holds the reinviting flag.
func (c *Call) sendReinvite(ctx context.Context, apply func(sdp.Negotiated) error) error {
	var interval uint32
	glare := 0 // 491 retries (update.go)
	for attempt := 0; ; attempt++ {
		// Our SRTP key stays the same (see answerOffer, update.go).
		off, err := c.sdp.Offer()
		if err != nil {
			return err
		}
		tl, tm := c.u.layer()
		if tl == nil {
			c.sdp.DiscardOffer()
			return ErrNotConnected
		}
		c.mu.Lock()
		if c.dlg == nil {
			c.mu.Unlock()
			c.sdp.DiscardOffer()
			return ErrInvalidState
		}
		d := c.dlg
		req := d.NewRequest("INVITE", 0)
		dst := c.dst
		c.mu.Unlock()
		dst = c.settledDst(ctx, dst)
		req.PrependVia(c.u.via(tm, tl, dst.Protocol))
		c.addRefreshHeaders(req)
		if interval > 0 {
			req.Set("Session-Expires", strconv.FormatUint(uint64(interval), 10))
			req.Set("Min-SE", strconv.FormatUint(uint64(interval), 10))
		}
		req.Add("Content-Type", "application/sdp")
		req.Body = []byte(off.String())
		req.SetContentLength()
		final, req, err := c.dialogFinal(ctx, tl, tm, d, req, dst)
		if err != nil {
			c.sdp.DiscardOffer()
			return err
		}
		if final.StatusCode == 422 && attempt == 0 {
			se, _ := req.SessionExpires()
			if iv, ok := dialog.RetryInterval(final, se.Delta); ok {
				c.sdp.DiscardOffer()
				interval = iv
				continue
			}
		}
		if final.StatusCode == 491 && glare < maxGlareRetries {
			// Glare: the peer's offer crossed ours; offer again after
			// the RFC 3261 §14.1 delay (update.go).
			c.sdp.DiscardOffer()
			glare++
			if err := c.waitGlare(ctx, true); err != nil {
				return err
			}
			continue
		}
		if final.StatusCode >= 300 {
			c.sdp.DiscardOffer()
			return statusError(final)
		}
		ans, err := sdp.Parse(final.Body)
		var n sdp.Negotiated
		if err == nil {
			n, err = c.sdp.ProcessAnswer(ans)
		}
		if err == nil {
			err = apply(n)
		}
		c.mu.Lock()
		d.RefreshTarget(final) // a re-INVITE is a target refresh (§12.2.1.2)
		c.mu.Unlock()
		c.retarget()
		c.sendAck(final, req)
		c.armTimer(timerFromAnswer(req, final))
		return err
	}
}

// sendAck ACKs a 2xx to our INVITE inv (RFC 3261 §13.2.2.4) and remembers
// the ACK so retransmitted 2xx get it again.
func (c *Call) sendAck(resp, inv *sipmsg.Message) {
	tl, tm := c.u.layer()
	if tl == nil {
		return
	}
	cs, _ := inv.CSeq()
	c.mu.Lock()
	if c.dlg == nil {
		c.mu.Unlock()
		return
	}
	ack := c.dlg.NewRequest("ACK", cs.Seq)
	dst := c.dst
	c.mu.Unlock()
	sctx, cancel := context.WithTimeout(context.Background(), 64*c.u.t1())
	defer cancel()
	dst = c.settledDst(sctx, dst)
	ack.PrependVia(c.u.via(tm, tl, dst.Protocol))
	copyCredentials(ack, inv)
	ack.SetContentLength()
	c.mu.Lock()
	c.ack = ack.Clone()
	c.mu.Unlock()
	if c.u.testAcking != nil {
		c.u.testAcking(c)
	}
	// Not c.ctx: a 2xx that crossed our CANCEL is ACKed after the call
	// ended.
	if err := tl.Send(sctx, ack, dst); err != nil {
		c.u.log.Debug("ua: ACK not sent", "err", err)
	}
}

// copyCredentials gives ack, the ACK of a 2xx, the credentials of inv, the
// INVITE it acknowledges (RFC 3261 §13.2.2.4: the same credentials): a
// proxy that asked for them may check the ACK too.
func copyCredentials(ack, inv *sipmsg.Message) {
	for _, name := range [...]string{"Authorization", "Proxy-Authorization"} {
		for _, v := range inv.Values(name) {
			ack.Add(name, v)
		}
	}
}

// reAck sends the ACK again for a retransmitted 2xx (§13.2.2.4): the 2xx
// of the INVITE last ACKed, in the call's dialog. A 2xx of an earlier
// INVITE, or of another fork (another To tag), is not answered with this
// ACK, which would not match it.
func (c *Call) reAck(resp *sipmsg.Message) {
	tl, _ := c.u.layer()
	c.mu.Lock()
	ack, dst := c.ack, c.dst
	c.mu.Unlock()
	if ack == nil || tl == nil {
		return
	}
	rcs, err1 := resp.CSeq()
	acs, err2 := ack.CSeq()
	rto, err3 := resp.To()
	ato, err4 := ack.To()
	if err := errors.Join(err1, err2, err3, err4); err != nil || rcs.Seq != acs.Seq || rto.Tag() != ato.Tag() {
		c.u.log.Debug("ua: 2xx not matching the last ACK dropped", "cseq", rcs.Seq, "tag", rto.Tag(), "err", err)
		return
	}
	tl.Send(context.Background(), ack.Clone(), dst) //nolint:errcheck // the peer retransmits again
}

// Mute and Unmute switch outbound audio.
func (c *Call) Mute(on bool) { c.media.SetMute(on) }

// SendDTMF queues RFC 4733 digits.
func (c *Call) SendDTMF(digits string) error {
	c.mu.Lock()
	dtmf := c.hasNeg && c.neg.DTMF
	c.mu.Unlock()
	if !dtmf {
		return errors.New("ua: telephone-event was not negotiated")
	}
	return c.media.SendDTMF(strings.ToUpper(digits))
}

package ua

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xphone-go/xphone/rtp"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// DTMFMode says how a call sends digits; the values match xphone.DTMFMode.
// Whatever the mode, digits arriving by RFC 4733 (when telephone-event was
// negotiated) and by SIP INFO are both received.
type DTMFMode uint8

// The DTMF modes. The zero value means DTMFRFC4733.
const (
	// DTMFRFC4733 sends RTP telephone-events (RFC 4733).
	DTMFRFC4733 DTMFMode = iota + 1
	// DTMFInfo sends SIP INFO with application/dtmf-relay and does not
	// offer telephone-event in SDP.
	DTMFInfo
	// DTMFBoth sends telephone-events when the peer accepted them, SIP
	// INFO otherwise.
	DTMFBoth
)

// DefaultDTMFWindow is how long a digit received one way (RFC 4733 or SIP
// INFO) suppresses the same digit arriving the other way: a peer that sends
// both for one key press reports it once. See Call.OnDTMF.
const DefaultDTMFWindow = time.Second

// The DTMF bodies of SIP INFO (RFC 2976 carries them; neither has an RFC of
// its own: dtmf-relay is the Cisco and Asterisk convention).
const (
	ctypeDTMFRelay = "application/dtmf-relay"
	ctypeDTMF      = "application/dtmf"
)

var errBadDTMF = errors.New("ua: bad DTMF body")

// SetDTMFMode sets how this call sends digits; it overrides
// Config.DTMFMode. It does not change the SDP already offered.
func (c *Call) SetDTMFMode(m DTMFMode) { c.mu.Lock(); c.dtmfMode = m; c.mu.Unlock() }

// SendDigits sends digits as the call's DTMF mode says: RFC 4733 events
// (it returns when the last digit's end packets are sent, or ctx ends); SIP
// INFO sends one INFO per digit
// and returns when the last was answered (a non-2xx answer is a
// *StatusError). In DTMFBoth mode INFO is used only when telephone-event
// was not negotiated. Safe for concurrent use.
func (c *Call) SendDigits(ctx context.Context, digits string) error {
	c.mu.Lock()
	mode, te := c.dtmfMode, c.hasNeg && c.neg.DTMF
	c.mu.Unlock()
	if mode == DTMFInfo || (mode == DTMFBoth && !te) {
		return c.SendDTMFInfo(ctx, digits)
	}
	if !te {
		return errors.New("ua: telephone-event was not negotiated")
	}
	return c.media.SendDTMFWait(ctx, strings.ToUpper(digits))
}

// SendDTMFInfo sends each digit in its own SIP INFO request (RFC 2976)
// with an application/dtmf-relay body ("Signal=5\r\nDuration=160\r\n"),
// waiting for each answer. It blocks until the last one is answered or ctx
// ends.
func (c *Call) SendDTMFInfo(ctx context.Context, digits string) error {
	for _, d := range strings.ToUpper(digits) {
		if _, ok := rtp.DTMFEvent(d); !ok {
			return errBadDTMF
		}
	}
	dur := c.u.cfg.Media.DTMFDuration
	if dur <= 0 {
		dur = 160 * time.Millisecond
	}
	ctx, done := c.whileLive(ctx)
	defer done()
	for _, d := range strings.ToUpper(digits) {
		st := c.State()
		if st != StateActive && st != StateOnHold && st != StateEarlyMedia {
			return ErrInvalidState
		}
		body := appendDTMFRelay(nil, d, int(dur/time.Millisecond))
		resp, err := c.request(ctx, "INFO", ctypeDTMFRelay, body, nil)
		if err != nil {
			return c.endedErr(err)
		}
		if resp.StatusCode >= 300 {
			return statusError(resp)
		}
	}
	return nil
}

// handleInfo answers an INFO in the call's dialog (RFC 2976): a DTMF body
// is answered 200 and reported to OnDTMF; an empty body is a keepalive
// (200); other bodies get 415 with Accept.
func (c *Call) handleInfo(tx *transaction.ServerTx) {
	req := tx.Request()
	if !c.receiveInDialog(tx) {
		return
	}
	if len(req.Body) == 0 {
		c.u.respond(tx, 200, "")
		return
	}
	ct, _ := req.ContentType()
	var d rune
	var err error
	switch strings.ToLower(ct.Type + "/" + ct.Subtype) {
	case ctypeDTMFRelay:
		d, _, err = parseDTMFRelay(req.Body)
	case ctypeDTMF:
		d, err = parseDTMFSignal(string(bytes.TrimSpace(req.Body)))
	default:
		resp := sipmsg.NewResponse(req, 415, "")
		resp.Add("Accept", ctypeDTMFRelay+", "+ctypeDTMF)
		tx.Respond(resp) //nolint:errcheck // nothing to do on failure
		return
	}
	if err != nil {
		c.u.respond(tx, 400, "Bad DTMF")
		return
	}
	c.u.respond(tx, 200, "")
	c.receiveDTMF(d, dtmfFromINFO)
}

// receiveInDialog checks that a request belongs to the call's live dialog
// and advances the remote CSeq (RFC 3261 §12.2.2), answering 481 or 500
// itself when it does not; it reports whether to go on.
func (c *Call) receiveInDialog(tx *transaction.ServerTx) bool {
	req := tx.Request()
	c.mu.Lock()
	if c.dlg == nil || c.state == StateEnded || !c.dlg.Matches(req) {
		c.mu.Unlock()
		c.u.respond(tx, 481, "")
		return false
	}
	err := c.dlg.Receive(req)
	c.mu.Unlock()
	if err != nil {
		c.u.respond(tx, 500, "")
		return false
	}
	return true
}

// parseDTMFRelay reads an application/dtmf-relay body: "Signal=" a key
// (or its RFC 4733 event number) and an optional "Duration=" in
// milliseconds (0 when absent or not a number), one per line, names
// without case, other lines ignored.
func parseDTMFRelay(body []byte) (digit rune, durMS int, err error) {
	found := false
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte{'\n'})
		k, v, ok := bytes.Cut(line, []byte{'='})
		if !ok {
			continue
		}
		key := string(bytes.TrimSpace(k))
		val := string(bytes.TrimSpace(v))
		switch {
		case strings.EqualFold(key, "Signal"):
			if found {
				return 0, 0, errBadDTMF
			}
			if digit, err = parseDTMFSignal(val); err != nil {
				return 0, 0, err
			}
			found = true
		case strings.EqualFold(key, "Duration"):
			if n, err := strconv.Atoi(val); err == nil && n >= 0 && n <= 60000 {
				durMS = n
			}
		}
	}
	if !found {
		return 0, 0, errBadDTMF
	}
	return digit, durMS, nil
}

// parseDTMFSignal reads one key: 0-9, *, #, A-D (either case), or an RFC
// 4733 §3.2 event number 0-15 (10 is *, 11 is #).
func parseDTMFSignal(s string) (rune, error) {
	if len(s) == 1 {
		r := rune(s[0])
		if r >= 'a' && r <= 'd' {
			r -= 'a' - 'A'
		}
		if _, ok := rtp.DTMFEvent(r); ok {
			return r, nil
		}
		return 0, errBadDTMF
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 15 {
		if r, ok := rtp.DTMFRune(uint8(n)); ok {
			return r, nil
		}
	}
	return 0, errBadDTMF
}

// appendDTMFRelay appends an application/dtmf-relay body.
func appendDTMFRelay(dst []byte, d rune, durMS int) []byte {
	dst = append(dst, "Signal="...)
	dst = append(dst, byte(d))
	dst = append(dst, "\r\nDuration="...)
	dst = strconv.AppendInt(dst, int64(durMS), 10)
	return append(dst, "\r\n"...)
}

// dtmfSource says how a digit arrived.
type dtmfSource uint8

const (
	dtmfFromRTP dtmfSource = iota
	dtmfFromINFO
)

// dtmfFilter reports each key press once when a peer sends it both ways.
//
// The rule: a digit from one source is dropped when the same digit came
// from the other source within the window and has not been matched yet;
// the two then count as one key press. Digits from the same source are
// never dropped (RFC 4733 already reports each event once, and each INFO
// is one press), so "55" sent both ways is reported as two fives, whatever
// order the four arrivals take.
type dtmfFilter struct {
	mu     sync.Mutex
	recent []dtmfSeen // unmatched digits within the window, oldest first
}

type dtmfSeen struct {
	digit rune
	src   dtmfSource
	at    time.Time
}

// admit reports whether d from src is a new key press at now.
func (f *dtmfFilter) admit(d rune, src dtmfSource, now time.Time, window time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	keep := f.recent[:0]
	for _, s := range f.recent {
		if now.Sub(s.at) <= window {
			keep = append(keep, s)
		}
	}
	f.recent = keep
	for i, s := range f.recent {
		if s.digit == d && s.src != src {
			f.recent = append(f.recent[:i], f.recent[i+1:]...)
			return false
		}
	}
	if len(f.recent) == 32 {
		f.recent = append(f.recent[:0], f.recent[1:]...)
	}
	f.recent = append(f.recent, dtmfSeen{d, src, now})
	return true
}

// DTMFDropped returns the number of digits OnDTMF was too slow for: they
// came while the call's event queue was full (dispatch.go, maxQueued).
func (c *Call) DTMFDropped() uint64 { return c.dtmfDropped.Load() }

// receiveDTMF queues OnDTMF for a digit unless it duplicates one that came
// the other way.
func (c *Call) receiveDTMF(d rune, src dtmfSource) {
	w := c.u.cfg.DTMFWindow
	if w == 0 {
		w = DefaultDTMFWindow
	}
	if w > 0 && !c.dtmfSeen.admit(d, src, time.Now(), w) {
		return
	}
	queued := c.events.tryDo(func() {
		c.mu.Lock()
		f := c.onDTMF
		c.mu.Unlock()
		if f != nil {
			f(d)
		}
	})
	if !queued && c.dtmfDropped.Add(1) == 1 {
		c.u.log.Warn("ua: OnDTMF is not keeping up; digits dropped", "call", c.callID, "queued", maxQueued)
	}
}

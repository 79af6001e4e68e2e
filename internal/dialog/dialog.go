// Package dialog keeps the state of one SIP dialog (RFC 3261 §12): its
// identifiers, route set, remote target and CSeq counters, and builds the
// requests sent inside it. The session-timer state of RFC 4028 lives beside it
// in timer.go.
//
// A Dialog is not safe for concurrent use: it belongs to the goroutine that
// owns the call.
package dialog

import (
	"errors"
	"strconv"

	"github.com/xphone-go/xphone/sipmsg"
)

// State is where a dialog is in its life (RFC 3261 §12).
type State int

// The states of a dialog.
const (
	Early State = iota + 1
	Confirmed
	Terminated
)

// String returns "early", "confirmed" or "terminated".
func (s State) String() string {
	switch s {
	case Early:
		return "early"
	case Confirmed:
		return "confirmed"
	case Terminated:
		return "terminated"
	}
	return "unknown"
}

// Errors returned when a message cannot create or join a dialog.
var (
	// ErrNoTag means the response or request lacks the tag that identifies
	// the remote side of the dialog.
	ErrNoTag = errors.New("dialog: missing tag")
	// ErrNoContact means a dialog-creating message has no usable Contact
	// (RFC 3261 §12.1.1, §12.1.2 require one).
	ErrNoContact = errors.New("dialog: missing Contact")
	// ErrCSeqOrder means an in-dialog request's CSeq is lower than or equal
	// to the last one received; RFC 3261 §12.2.2 answers it with 500.
	ErrCSeqOrder = errors.New("dialog: CSeq out of order")
	// ErrMismatch means a message does not belong to this dialog.
	ErrMismatch = errors.New("dialog: message belongs to another dialog")
)

// ID identifies a dialog: the Call-ID and the two tags (RFC 3261 §12).
type ID struct {
	CallID    string
	LocalTag  string
	RemoteTag string
}

// Dialog is the state of one dialog.
type Dialog struct {
	ID    ID
	State State

	// LocalURI and RemoteURI are the From and To addresses (without tags)
	// of requests we send.
	LocalURI  sipmsg.Address
	RemoteURI sipmsg.Address
	// RemoteTarget is the peer's Contact URI, where in-dialog requests go.
	RemoteTarget sipmsg.URI
	// RouteSet holds the Record-Route entries, in the order our requests
	// must visit them.
	RouteSet []sipmsg.Address
	// LocalContact is the Contact we put in requests and target refreshes.
	LocalContact sipmsg.Address
	// LocalSeq is the CSeq number of the last request we sent.
	LocalSeq uint32
	// RemoteSeq is the CSeq number of the last request we received, when
	// HasRemoteSeq is set. Until then the remote sequence number is empty
	// (RFC 3261 §12.1.2: a caller's dialog, before the peer sends a
	// request in it) and any CSeq, 0 too, is in order (§12.2.2). NewUAS
	// sets both from the dialog-creating request; so does SetRemoteSeq.
	RemoteSeq    uint32
	HasRemoteSeq bool
	// Secure is set when the dialog was set up with a SIPS Request-URI.
	Secure bool
}

// NewUAC creates the caller's dialog from a response to its dialog-creating
// request req (RFC 3261 §12.1.2). resp is a 1xx with a To tag (early dialog)
// or a 2xx (confirmed).
func NewUAC(req, resp *sipmsg.Message, localContact sipmsg.Address) (*Dialog, error) {
	from, err := req.From()
	if err != nil {
		return nil, err
	}
	to, err := resp.To()
	if err != nil {
		return nil, err
	}
	if to.Tag() == "" {
		return nil, ErrNoTag
	}
	cseq, err := req.CSeq()
	if err != nil {
		return nil, err
	}
	contact, err := resp.Contact()
	if err != nil || contact.Wildcard {
		if resp.StatusCode/100 == 2 {
			return nil, ErrNoContact
		}
		// A provisional without Contact: target the Request-URI until the
		// 2xx brings one.
		contact = sipmsg.Address{URI: req.RequestURI}
	}
	rr, err := resp.RecordRoute()
	if err != nil {
		return nil, err
	}
	routes := make([]sipmsg.Address, len(rr))
	for i := range rr {
		routes[len(rr)-1-i] = rr[i] // the caller visits them in reverse
	}
	d := &Dialog{
		ID:           ID{CallID: req.CallID(), LocalTag: from.Tag(), RemoteTag: to.Tag()},
		State:        stateFor(resp.StatusCode),
		LocalURI:     withoutTag(from),
		RemoteURI:    withoutTag(to),
		RemoteTarget: contact.URI,
		RouteSet:     routes,
		LocalContact: localContact,
		LocalSeq:     cseq.Seq,
		Secure:       req.RequestURI.IsSecure(),
	}
	return d, nil
}

// NewUAS creates the callee's dialog from a dialog-creating request, with
// localTag the To tag it answers with (RFC 3261 §12.1.1). The dialog starts
// early; Confirm moves it on when the 2xx is sent.
func NewUAS(req *sipmsg.Message, localTag string, localContact sipmsg.Address) (*Dialog, error) {
	from, err := req.From()
	if err != nil {
		return nil, err
	}
	if from.Tag() == "" {
		return nil, ErrNoTag
	}
	to, err := req.To()
	if err != nil {
		return nil, err
	}
	cseq, err := req.CSeq()
	if err != nil {
		return nil, err
	}
	contact, err := req.Contact()
	if err != nil || contact.Wildcard {
		return nil, ErrNoContact
	}
	rr, err := req.RecordRoute()
	if err != nil {
		return nil, err
	}
	return &Dialog{
		ID:           ID{CallID: req.CallID(), LocalTag: localTag, RemoteTag: from.Tag()},
		State:        Early,
		LocalURI:     withoutTag(to),
		RemoteURI:    withoutTag(from),
		RemoteTarget: contact.URI,
		RouteSet:     append([]sipmsg.Address(nil), rr...),
		LocalContact: localContact,
		RemoteSeq:    cseq.Seq,
		HasRemoteSeq: true,
		Secure:       req.RequestURI.IsSecure(),
	}, nil
}

func stateFor(code int) State {
	if code/100 == 2 {
		return Confirmed
	}
	return Early
}

func withoutTag(a sipmsg.Address) sipmsg.Address {
	a.Params = a.Params.Del("tag")
	return a
}

// Confirm moves an early dialog to the confirmed state. For the caller, resp
// is the 2xx, whose Contact and Record-Route replace the early values (RFC
// 3261 §12.1.2: the route set is fixed by the 2xx); for the callee resp is nil.
func (d *Dialog) Confirm(resp *sipmsg.Message) error {
	if resp != nil {
		contact, err := resp.Contact()
		if err != nil || contact.Wildcard {
			return ErrNoContact
		}
		d.RemoteTarget = contact.URI
		rr, err := resp.RecordRoute()
		if err != nil {
			return err
		}
		d.RouteSet = d.RouteSet[:0]
		for i := len(rr) - 1; i >= 0; i-- {
			d.RouteSet = append(d.RouteSet, rr[i])
		}
	}
	d.State = Confirmed
	return nil
}

// Terminate marks the dialog as ended.
func (d *Dialog) Terminate() { d.State = Terminated }

// NewRequest builds a request inside the dialog (RFC 3261 §12.2.1.1): the
// Request-URI and Route headers from the remote target and route set (with
// the strict-routing rewrite when the first route lacks ";lr"), To, From,
// Call-ID, the next local CSeq and the local Contact. ACK and CANCEL take the
// CSeq number of the INVITE they belong to: pass it as seq; otherwise pass 0
// and the dialog's counter is advanced. The caller adds Via and a body.
func (d *Dialog) NewRequest(method string, seq uint32) *sipmsg.Message {
	if seq == 0 {
		d.LocalSeq++
		seq = d.LocalSeq
	}
	target := d.RemoteTarget
	routes := d.RouteSet
	var strictTail *sipmsg.URI
	if len(routes) > 0 && !routes[0].URI.Params.Has("lr") {
		// §12.2.1.1: a strict router gets the remote target as the last
		// Route and becomes the Request-URI itself.
		target = routes[0].URI
		target.Headers = ""
		routes = routes[1:]
		t := d.RemoteTarget
		strictTail = &t
	}
	req := sipmsg.NewRequest(method, target)
	for i := range routes {
		req.Add("Route", routes[i].String())
	}
	if strictTail != nil {
		req.Add("Route", "<"+strictTail.String()+">")
	}
	from := d.LocalURI
	from.Params = from.Params.Set("tag", d.ID.LocalTag)
	to := d.RemoteURI
	if d.ID.RemoteTag != "" {
		to.Params = to.Params.Set("tag", d.ID.RemoteTag)
	}
	req.Add("From", from.String())
	req.Add("To", to.String())
	req.Add("Call-ID", d.ID.CallID)
	req.Add("CSeq", strconv.FormatUint(uint64(seq), 10)+" "+method)
	req.Add("Max-Forwards", "70")
	if method != "ACK" && method != "CANCEL" && method != "BYE" {
		req.Add("Contact", d.LocalContact.String())
	}
	return req
}

// NextHop returns the URI the transport layer resolves to send an in-dialog
// request: the first route when there is one, else the remote target (RFC
// 3261 §8.1.2, §12.2.1.1).
func (d *Dialog) NextHop() sipmsg.URI {
	if len(d.RouteSet) > 0 {
		return d.RouteSet[0].URI
	}
	return d.RemoteTarget
}

// Matches reports whether msg belongs to the dialog: same Call-ID, and the
// tags on the right sides for a request we receive (From = remote, To =
// local) or a response to one we sent (From = local, To = remote; an early
// dialog accepts a response without To tag only for provisional responses).
func (d *Dialog) Matches(msg *sipmsg.Message) bool {
	if msg.CallID() != d.ID.CallID {
		return false
	}
	from, err := msg.From()
	if err != nil {
		return false
	}
	to, err := msg.To()
	if err != nil {
		return false
	}
	if msg.IsRequest() {
		return from.Tag() == d.ID.RemoteTag && to.Tag() == d.ID.LocalTag
	}
	return from.Tag() == d.ID.LocalTag && to.Tag() == d.ID.RemoteTag
}

// Receive checks an in-dialog request against the dialog (RFC 3261 §12.2.2):
// it must match, and its CSeq must be higher than the last one received
// (ACK and CANCEL excepted, which repeat the INVITE's); the first one
// received in a dialog whose remote sequence number is empty sets it,
// whatever its CSeq (0 too). A target refresh
// (re-INVITE, UPDATE) with a Contact moves the remote target. On
// ErrCSeqOrder the request is answered with 500.
func (d *Dialog) Receive(req *sipmsg.Message) error {
	if !d.Matches(req) {
		return ErrMismatch
	}
	cseq, err := req.CSeq()
	if err != nil {
		return err
	}
	if req.Method != "ACK" && req.Method != "CANCEL" {
		if d.HasRemoteSeq && cseq.Seq <= d.RemoteSeq {
			return ErrCSeqOrder
		}
		d.SetRemoteSeq(cseq.Seq)
	}
	if req.Method == "INVITE" || req.Method == "UPDATE" {
		if c, err := req.Contact(); err == nil && !c.Wildcard {
			d.RemoteTarget = c.URI
		}
	}
	return nil
}

// SetRemoteSeq sets the remote sequence number to seq (RFC 3261 §12.2.2):
// from then on a request is in order only with a higher CSeq.
func (d *Dialog) SetRemoteSeq(seq uint32) {
	d.RemoteSeq, d.HasRemoteSeq = seq, true
}

// RefreshTarget takes the remote target from the Contact of a 2xx to a
// target refresh request we sent (RFC 3261 §12.2.1.2).
func (d *Dialog) RefreshTarget(resp *sipmsg.Message) {
	if c, err := resp.Contact(); err == nil && !c.Wildcard {
		d.RemoteTarget = c.URI
	}
}

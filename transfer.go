package xphone

// TransferEvent is one step of a blind transfer (RFC 3515) on a call,
// passed to Call.OnTransfer.
//
// When we transfer (BlindTransfer), the events are the statuses the peer,
// the transferee, reports by NOTIFY with a message/sipfrag body (RFC 3515
// §2.4.5, RFC 3420) about its call to Target: 100 Trying, then maybe 180
// Ringing, then the final status. When the peer asks us to transfer
// (Referred), the events are 100 Trying when we start calling Target and
// the final status of that call: 200 when it was answered (the new call
// then appears in Phone.Calls and this one ends with EndTransferred), else
// its failure status (486 busy, 408 no answer...), and this call stays up.
type TransferEvent struct {
	// Target is the URI the call is transferred to (the Refer-To).
	Target string
	// Referred is true when the peer asked us to transfer, false for
	// our own BlindTransfer.
	Referred bool
	// Code and Reason are the status of the call to Target.
	Code   int
	Reason string
}

// Final reports whether e is the outcome of the transfer (a status of 200
// or more). A transfer whose peer never reports one has no final event;
// BlindTransfer's error says why.
func (e TransferEvent) Final() bool { return e.Code >= 200 }

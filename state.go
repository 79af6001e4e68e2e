package xphone

import "strconv"

// CallState is where a call is in its life. A call starts in StateIdle,
// moves through the states CanTransition allows and ends in StateEnded,
// which it never leaves:
//
//	inbound:  Idle → Ringing → [EarlyMedia →] Active ⇄ OnHold → Ended
//	outbound: Idle → Dialing → [RemoteRinging →] [EarlyMedia →] Active ⇄ OnHold → Ended
//
// Any state but Ended may move to Ended.
type CallState uint8

// The call states.
const (
	// StateIdle is a call object that has not started signaling yet.
	StateIdle CallState = iota
	// StateRinging is an inbound call waiting for Accept or Reject.
	StateRinging
	// StateDialing is an outbound call whose INVITE is out, with no
	// ringing reported yet.
	StateDialing
	// StateRemoteRinging is an outbound call whose callee is ringing
	// (180 Ringing).
	StateRemoteRinging
	// StateEarlyMedia is a call with media before answer: an outbound
	// call that received 183 Session Progress with SDP, or an inbound call
	// on which Progress was called (RFC 3261 §13.3.1.1, RFC 3960).
	StateEarlyMedia
	// StateActive is an answered call with media flowing.
	StateActive
	// StateOnHold is an answered call held by either side (a re-INVITE
	// with a=sendonly or a=inactive, RFC 3264 §8.4).
	StateOnHold
	// StateEnded is a call that is over. Its Context is done and its
	// reader channels are closed.
	StateEnded
)

var callStateNames = [...]string{"Idle", "Ringing", "Dialing", "RemoteRinging", "EarlyMedia", "Active", "OnHold", "Ended"}

// String returns the state's name without the prefix, e.g. "Active".
func (s CallState) String() string {
	if int(s) < len(callStateNames) {
		return callStateNames[s]
	}
	return "CallState(" + strconv.Itoa(int(s)) + ")"
}

// transitions[from] is the set of states a call in from may move to, as a
// bit set indexed by CallState.
var transitions = [...]uint16{
	StateIdle:          bit(StateRinging) | bit(StateDialing) | bit(StateEnded),
	StateRinging:       bit(StateEarlyMedia) | bit(StateActive) | bit(StateEnded),
	StateDialing:       bit(StateRemoteRinging) | bit(StateEarlyMedia) | bit(StateActive) | bit(StateEnded),
	StateRemoteRinging: bit(StateEarlyMedia) | bit(StateActive) | bit(StateEnded),
	StateEarlyMedia:    bit(StateActive) | bit(StateEnded),
	StateActive:        bit(StateOnHold) | bit(StateEnded),
	StateOnHold:        bit(StateActive) | bit(StateEnded),
	StateEnded:         0,
}

func bit(s CallState) uint16 { return 1 << s }

// CanTransition reports whether a call may move from one state to another.
// Staying in the same state is not a transition. Every Call implementation,
// the real one and phonetest.MockCall alike, moves only along these edges,
// and reports each move once through OnState.
func CanTransition(from, to CallState) bool {
	return int(from) < len(transitions) && to <= StateEnded && transitions[from]&bit(to) != 0
}

// Direction says which side placed a call.
type Direction uint8

const (
	// Inbound is a call the remote party placed to us.
	Inbound Direction = iota + 1
	// Outbound is a call we placed with Dial.
	Outbound
)

// String returns "inbound" or "outbound".
func (d Direction) String() string {
	switch d {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// Op names a call operation whose validity depends on the call's state.
type Op uint8

// The operations CheckOp knows, named after the Call methods.
const (
	OpAccept Op = iota + 1
	OpReject
	OpProgress
	OpEnd
	OpHold
	OpResume
	OpSendDTMF
	OpBlindTransfer
	OpMute
	OpUnmute
	OpAttendedTransfer
)

var opNames = [...]string{"", "Accept", "Reject", "Progress", "End", "Hold", "Resume", "SendDTMF", "BlindTransfer", "Mute", "Unmute", "AttendedTransfer"}

// String returns the name of the Call method, e.g. "Hold".
func (o Op) String() string {
	if int(o) < len(opNames) && o != 0 {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// CheckOp returns nil if op is allowed on a call of direction d in state s,
// and a *StateError (matching ErrInvalidState) if not. The rules:
//
//	Accept, Reject   inbound calls in Ringing or EarlyMedia
//	Progress         inbound calls in Ringing
//	Hold             Active
//	Resume           OnHold
//	SendDTMF         Active or EarlyMedia
//	BlindTransfer,   Active or OnHold (AttendedTransfer: both calls)
//	AttendedTransfer
//	End, Mute,       any state but Ended
//	Unmute
//
// Call implementations check every operation with it, so that the real call
// and phonetest.MockCall agree. Applications may use it to enable buttons.
func CheckOp(op Op, d Direction, s CallState) error {
	ok := false
	switch op {
	case OpAccept, OpReject:
		ok = d == Inbound && (s == StateRinging || s == StateEarlyMedia)
	case OpProgress:
		ok = d == Inbound && s == StateRinging
	case OpHold:
		ok = s == StateActive
	case OpResume:
		ok = s == StateOnHold
	case OpSendDTMF:
		ok = s == StateActive || s == StateEarlyMedia
	case OpBlindTransfer, OpAttendedTransfer:
		ok = s == StateActive || s == StateOnHold
	case OpEnd, OpMute, OpUnmute:
		ok = s != StateEnded
	}
	if ok {
		return nil
	}
	return &StateError{Op: op, Direction: d, State: s}
}

// EndReason says why a call ended. It implements error so that it can be
// the cause of the call's context: errors.As(context.Cause(call.Context()),
// &reason) recovers it (the cause may wrap it with the underlying error for
// EndError). The zero value is not a valid reason. Because it is an error,
// fmt's %v prints Error ("xphone: call ended: busy"); use String for the
// bare words.
type EndReason uint8

// The end reasons.
const (
	// EndLocalHangup: we hung up an established call with End.
	EndLocalHangup EndReason = iota + 1
	// EndRemoteHangup: the peer sent BYE.
	EndRemoteHangup
	// EndRejected: the call was refused before it was answered: we
	// called Reject (or End) on an inbound call, or the callee answered
	// with a final error other than busy.
	EndRejected
	// EndBusy: the callee answered 486 Busy Here or 600 Busy Everywhere.
	EndBusy
	// EndCancelled: the caller gave up before the answer: our End or
	// context on an outbound call (CANCEL sent), or the peer's CANCEL (or
	// BYE before our answer) on an inbound one.
	EndCancelled
	// EndTimeout: nobody answered in time (dial timeout, 408).
	EndTimeout
	// EndMediaTimeout: no RTP arrived for Config.MediaTimeout.
	EndMediaTimeout
	// EndTransferred: a transfer completed and the call was released
	// (RFC 5589 §6, §7): as transferor, both calls of an attended
	// transfer end so.
	EndTransferred
	// EndError: a signaling or transport failure ended the call (no ACK,
	// session timer expiry, connection lost). The context cause wraps
	// the underlying error beside the reason.
	EndError
	// EndReplaced: an INVITE with Replaces (RFC 3891) took the call over,
	// as at the end of an attended transfer to us; Call.OnReplaced got
	// the new call.
	EndReplaced
)

var endReasonNames = [...]string{"", "local hangup", "remote hangup", "rejected", "busy", "cancelled", "timeout", "media timeout", "transferred", "error", "replaced"}

// String returns the reason in words, e.g. "remote hangup".
func (r EndReason) String() string {
	if int(r) < len(endReasonNames) && r != 0 {
		return endReasonNames[r]
	}
	return "EndReason(" + strconv.Itoa(int(r)) + ")"
}

// Error returns "xphone: call ended: " and the reason.
func (r EndReason) Error() string { return "xphone: call ended: " + r.String() }

package xphone

import (
	"context"
	"time"

	"github.com/xphone-go/xphone/rtp"
)

// FrameDuration is the length of every PCM frame at the channel API: 20 ms.
const FrameDuration = 20 * time.Millisecond

// ChannelDepth is the capacity of every channel a Call hands out, in frames
// or packets: 256, about 5 seconds of audio.
const ChannelDepth = 256

// Phone is a SIP user agent: it registers with a server, places calls with
// Dial and reports incoming calls to OnIncoming.
//
// All methods are safe for concurrent use. Callbacks set with the On...
// methods replace the previous one (nil removes it); they run one at a time
// on a goroutine of the Phone, never while it holds a lock, so they may
// call any method of the Phone or a Call. They must return promptly: a
// blocked callback delays later events.
type Phone interface {
	// Connect opens the transport and, unless registration is disabled,
	// registers and waits for the registrar's answer. It returns nil once
	// registered (or listening), a *RegistrationError if the registrar
	// refused or did not answer, ErrAlreadyConnected if connected, or the
	// context's error. After success the registration is refreshed and
	// recovered in the background until Disconnect.
	Connect(ctx context.Context) error
	// Disconnect ends every call (EndLocalHangup), removes its
	// subscriptions and publication, unregisters, closes the transport
	// and returns when all of the Phone's goroutines have exited. Before
	// closing it waits, up to 2*T1 and within ctx, for the final NOTIFYs
	// the removals ask for, so that they are answered. It returns ErrNotConnected if not connected. Connect may be
	// called again afterwards.
	Disconnect(ctx context.Context) error
	// Dial places a call and blocks until it is answered (StateActive),
	// early media starts (with WithEarlyMedia), or it fails. target is a
	// sip:, sips: or tel: URI, "user@host", or a bare number or extension,
	// which is sent to Config.Host. On failure it returns a *StatusError
	// for a final SIP response, an error wrapping ErrDialTimeout,
	// ErrCancelled (with the context's error) or ErrNoRTPPort, or
	// ErrNotConnected. When another phone picks the call up while it rings
	// (RFC 3891 call pickup), Dial returns that phone's call, answered:
	// its Direction is Inbound, as it called us (unless
	// Config.RefuseReplaces).
	Dial(ctx context.Context, target string, opts ...DialOption) (Call, error)
	// OnIncoming sets the handler of incoming calls. It receives each
	// call in StateRinging after 180 Ringing was sent; the handler (or
	// any goroutine) then calls Accept, Reject or Progress. Without a
	// handler, incoming calls are refused with 480 Temporarily
	// Unavailable.
	OnIncoming(func(Call))
	// OnRegistered sets the function called each time registration
	// succeeds after not being registered.
	OnRegistered(func())
	// OnUnregistered sets the function called when a registration is
	// lost (a refresh failed or the connection dropped) and on Disconnect.
	OnUnregistered(func())
	// OnError sets the function called with errors that no method
	// returns: failed registration refreshes (*RegistrationError),
	// transport failures, malformed messages dropped.
	OnError(func(error))
	// OnVoicemail sets the function called with each voicemail status the
	// server sends: for the subscription Config.MWI makes, or unsolicited.
	OnVoicemail(func(VoicemailStatus))
	// SendMessage sends an instant message (SIP MESSAGE, RFC 3428) to
	// target, which Dial would take, with body of contentType ("" means
	// "text/plain;charset=UTF-8"). It returns nil once the recipient (or
	// a server storing it) accepted it, a *StatusError if refused, and
	// ErrMessageTooLarge for a request over 1300 bytes on UDP.
	SendMessage(ctx context.Context, target, contentType string, body []byte) error
	// Watch follows the state of another line (a busy lamp field): it
	// subscribes to target's dialog event package (RFC 4235; target as
	// Dial takes it) and calls f with the line's status after every change
	// the server reports, on the phone's callback goroutine, until stop
	// (which removes the subscription within its context) or Disconnect.
	// A refused subscription is reported through OnError wrapping
	// ErrWatchFailed and tried again with backoff.
	Watch(target string, f func(LineStatus)) (stop func(context.Context), err error)
	// WatchPresence follows target's presence (RFC 3856, PIDF) as Watch
	// follows a line: f gets the status after each change.
	WatchPresence(target string, f func(Presence)) (stop func(context.Context), err error)
	// SetPresence publishes our own presence to the server (PUBLISH, RFC
	// 3903): online or not, and a note ("In a meeting"). It returns once
	// the server took it; the phone then keeps it published until
	// Disconnect, which removes it. It needs Config.Host.
	SetPresence(ctx context.Context, online bool, note string) error
	// OnMessage sets the function called with each instant message
	// received; without one they are refused (405). Set it before
	// Connect: Allow (in REGISTER too) lists MESSAGE only while a handler
	// is set, and registrars such as Kamailio relay to a binding only the
	// methods it allows.
	OnMessage(func(Message))
	// Calls returns the calls that have not ended, oldest first. The
	// slice is the caller's.
	Calls() []Call
	// State returns the registration state.
	State() PhoneState
}

// Call is one phone call, inbound or outbound.
//
// All methods are safe for concurrent use. Methods that take a context
// send a SIP request or response and block until its outcome (bounded by
// the context); the others return at once. An operation the call's state
// does not allow returns a *StateError matching ErrInvalidState, per
// CheckOp. Callbacks follow the rules described on Phone: one at a time,
// in order, never under a lock; setting one replaces the previous.
//
// # Audio
//
// PCM frames are mono 16-bit samples covering FrameDuration (20 ms): 160
// samples at 8 kHz (PCMU, PCMA) or 320 at 16 kHz (G722, Opus), or per
// Config.PCMRate. Every channel holds ChannelDepth entries and can be
// fetched at any time, before or after Accept; repeated calls return the
// same channel.
//
// Reader channels (PCMReader, RTPReader, RTPRawReader) deliver values the
// receiver owns: the call never touches them again. When a reader falls
// behind, the oldest entry is dropped and counted in
// CallStats.InboundDropped. Reader channels are closed exactly once, when
// the call ends.
//
// Writer channels (PCMWriter, PacedPCMWriter, RTPWriter) take ownership of
// what is sent: do not modify a frame or packet after sending it. The call
// never closes a writer channel; it stops reading them when the call ends,
// so send in a select with Context().Done(). Closing a writer channel ends
// that writer only. RTPWriter takes precedence: once a packet was sent on
// it, PCM writers are ignored for the rest of the call.
type Call interface {
	// ID is a unique identifier of the call within the process.
	ID() string
	// CallID is the SIP Call-ID (RFC 3261 §8.1.1.4).
	CallID() string
	// Direction says who placed the call.
	Direction() Direction
	// From and To are the URIs of the From and To headers, e.g.
	// "sip:1001@pbx.example.com", without display name or tag.
	From() string
	To() string
	// RemoteURI is the URI in-dialog requests go to: the peer's Contact
	// (RFC 3261 §12.1) once known, else the request target.
	RemoteURI() string
	// RemoteParty is who the other end is: for an inbound call the
	// caller, from P-Asserted-Identity or Remote-Party-ID when a server
	// asserts it, else From; for an outbound call the party that
	// answered when the answer asserts it, else the To of our INVITE.
	RemoteParty() Party
	// Header returns the values of a header of the INVITE (inbound) or
	// of the answer (outbound), name matched without case and with its
	// compact form; nil if absent. The slice is the caller's.
	Header(name string) []string
	// State returns the current state.
	State() CallState
	// Codec returns the negotiated codec, or "" before media is agreed.
	Codec() Codec

	// Accept answers an inbound call with 200 OK and moves it to
	// StateActive. It does not wait for the ACK.
	Accept(ctx context.Context) error
	// Reject refuses an inbound call with code (400–699; 0 means 603
	// Decline) and reason (empty means the standard phrase). The call
	// ends with EndRejected.
	Reject(ctx context.Context, code int, reason string) error
	// Progress sends 183 Session Progress with an SDP answer, moving an
	// inbound call to StateEarlyMedia: audio written now reaches the
	// caller before the answer (announcements, ringback).
	Progress(ctx context.Context) error
	// End hangs up: BYE on an answered call (EndLocalHangup), CANCEL on
	// an outbound call not yet answered (EndCancelled), 603 Decline on a
	// ringing inbound call (EndRejected). It returns once the call is
	// ended, even if the peer does not answer the request.
	End(ctx context.Context) error
	// Hold puts the peer on hold with a re-INVITE (a=sendonly, RFC 3264
	// §8.4) and moves the call to StateOnHold.
	Hold(ctx context.Context) error
	// Resume takes the call off hold (a=sendrecv), back to StateActive.
	Resume(ctx context.Context) error
	// Mute stops sending our audio: silence is sent instead, so the
	// peer's media timeout and NAT bindings stay fed (no RTP at all with
	// Config.MuteSendsNothing). Received audio still flows. Muting a muted
	// call does nothing.
	Mute() error
	// Unmute resumes sending our audio.
	Unmute() error
	// Muted reports whether the call is muted.
	Muted() bool
	// SendDTMF sends digits (0-9, *, #, A-D) per the call's DTMF mode
	// (Config.DTMFMode unless WithDTMFMode or SetDTMFMode changed it) and
	// returns once the last one is sent. See ValidateDTMF.
	SendDTMF(ctx context.Context, digits string) error
	// SetDTMFMode changes how this call sends digits from now on, inbound
	// or outbound, in any state but StateEnded; 0 means Config.DTMFMode.
	// It changes sending only: the SDP already exchanged stays (with
	// Config.DTMFMode DTMFInfo, telephone-event was not offered, so
	// DTMFRFC4733 has nothing to send with). Digits are received both
	// ways whatever the mode. It returns an error wrapping
	// ErrInvalidConfig for an unknown mode.
	SetDTMFMode(m DTMFMode) error
	// BlindTransfer asks the peer to call target (REFER, RFC 3515) and
	// waits for the outcome. On success the call ends with
	// EndTransferred; on failure it returns an error wrapping
	// ErrTransferFailed (or a *StatusError if REFER itself was refused)
	// and the call stays up.
	BlindTransfer(ctx context.Context, target string) error
	// AttendedTransfer connects the peer of this call (the transferee)
	// with the peer of consult (the target), another answered call of
	// this phone, typically one placed to consult the target first: a
	// REFER whose Refer-To carries Replaces naming consult's dialog (RFC
	// 5589 §7, RFC 3891). On success both calls end with EndTransferred;
	// on failure it returns an error wrapping ErrTransferFailed and both
	// calls stay up.
	AttendedTransfer(ctx context.Context, consult Call) error

	// OnState sets the function called with each new state, including
	// StateEnded.
	OnState(func(CallState))
	// OnEnded sets the function called once when the call ends, after
	// OnState(StateEnded).
	OnEnded(func(EndReason))
	// OnDTMF sets the function called with each digit received. Digits
	// that come while 1,024 of the call's events wait behind a callback
	// that has not returned are dropped (CallStats.DTMFDropped).
	OnDTMF(func(rune))
	// OnTransfer sets the function called with each step of a blind
	// transfer on this call (see TransferEvent): the statuses the peer
	// reports while our BlindTransfer waits, or, when the peer asks us to
	// transfer (REFER), the start and the outcome of the call we place to
	// its target. A successful transfer's last event comes before the
	// call ends with EndTransferred.
	OnTransfer(func(TransferEvent))
	// OnReplaced sets the function called when someone took this call
	// over with an INVITE carrying Replaces (RFC 3891), as at the end of
	// an attended transfer to us: it gets the new call, already answered
	// (it also appears in Phone.Calls), and this call then ends with
	// EndReplaced.
	OnReplaced(func(Call))

	// Context returns a context that is done when the call ends; its
	// context.Cause is, or wraps, the EndReason.
	Context() context.Context
	// Stats returns a snapshot of the media counters.
	Stats() CallStats

	// PCMReader returns the channel of decoded audio from the peer.
	PCMReader() <-chan []int16
	// PCMWriter returns the channel of audio to send, one frame per
	// send, which the application paces at real time: each frame is
	// sent within 5 ms of its arrival (at most one frame ahead of the
	// call's 20 ms clock; more wait their turn), and frames beyond the
	// queue's depth are dropped (CallStats.OutboundDropped).
	PCMWriter() chan<- []int16
	// PacedPCMWriter returns a channel that takes audio of any length
	// (a whole synthesized sentence at once) faster than real time: the
	// call splits it into frames and sends one every 20 ms. A send
	// blocks while ChannelDepth chunks are waiting; nothing is dropped.
	PacedPCMWriter() chan<- []int16
	// ClearOutput drops the audio written for sending that has not gone
	// out yet (frames waiting from PCMWriter, the rest of what
	// PacedPCMWriter was given, packets waiting from RTPWriter), so that
	// what is written next plays at once: a voice agent stops talking
	// when the caller talks over it ("barge-in"). It returns how much
	// audio was dropped, which tells how much of a reply the caller did
	// not hear. A frame being sent as it runs may still go out.
	ClearOutput() time.Duration
	// RTPReader returns received RTP packets after the jitter buffer
	// (reordered, de-duplicated), before decoding.
	RTPReader() <-chan *rtp.Packet
	// RTPRawReader returns received RTP packets as they arrive (after
	// SRTP), before the jitter buffer. A call whose application takes it
	// and neither PCMReader nor RTPReader skips the jitter buffer and
	// decoding (a raw relay or echo costs no codec work) until one of
	// those is asked for.
	RTPRawReader() <-chan *rtp.Packet
	// RTPWriter returns the channel of RTP packets to send (raw mode),
	// paced by the application as PCMWriter is: each goes out within 5 ms
	// of its arrival, at most one frame ahead of the call's 20 ms clock,
	// keeping the payload, the payload type (0 means the codec's) and the
	// marker bit; SSRC, sequence number and timestamp are the call's, so
	// the stream stays continuous with DTMF. SRTP is applied.
	RTPWriter() chan<- *rtp.Packet
}

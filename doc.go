// Package xphone makes and takes real phone calls from Go: it speaks SIP to
// a trunk or PBX (or takes INVITEs directly), runs the RTP media and hands
// the program clean PCM frames ([]int16, mono, 20 ms) in and out. It uses
// the standard library only.
//
// This package is the thin public face: the Phone and Call interfaces, the
// Config, dial options, states, statistics and errors. The machinery lives
// in internal packages and in the leaf packages (sipmsg, digest,
// transaction, rtp, srtp, jitter, g711, g722, stun), each usable alone.
//
// # Creating a phone
//
// New(Config) returns a Phone backed by the user agent in internal/ua;
// Connect opens the transport and registers, Disconnect ends every call and
// unregisters. phonetest.MockPhone implements the same interface without a
// network. A Config whose zero value works beside Username, Password and
// Host replaces the builder of other xphone ports: Go struct literals with
// documented defaults say the same thing in one way.
//
//	p, err := xphone.New(xphone.Config{Username: "1001", Password: "secret", Host: "pbx.example.com"})
//	if err != nil { ... }
//	if err := p.Connect(ctx); err != nil { ... }
//	call, err := p.Dial(ctx, "1002")
//
// # Calls
//
// Phone.Dial places a call; Phone.OnIncoming receives them. A call moves
// through the states of CallState along the edges CanTransition allows, and
// the operations CheckOp allows in each state; OnState reports every move
// and OnEnded the EndReason. Each call has a Context that is done when it
// ends, with the EndReason as its cause, so work tied to a call stops with
// it:
//
//	go transcribe(call.Context(), call.PCMReader())
//
// When the peer said why it hung up or gave up (a Reason header with a
// Q.850 or SIP cause, RFC 3326), the cause also wraps PeerReasons.
//
// Calls are put on hold and resumed (Hold, Resume), transferred blind or
// attended (BlindTransfer, AttendedTransfer), and taken over by INVITEs
// with Replaces (OnReplaced; Config.RefuseReplaces turns that off). Beyond
// calls a phone watches other lines (Watch: busy lamps, and WithPickup to
// answer a call ringing there) and presence (WatchPresence, SetPresence),
// gets voicemail indication (Config.MWI, OnVoicemail) and exchanges
// instant messages (SendMessage, OnMessage).
//
// # Audio
//
// Call.PCMReader delivers decoded 20 ms frames from the peer; Call.PCMWriter
// takes frames paced by the application and Call.PacedPCMWriter audio of any
// length, paced by the call; Call.ClearOutput drops what was written and
// not yet sent, so that an agent stops talking when the caller talks over
// it. RTPReader, RTPRawReader and RTPWriter give
// packet access after and before the jitter buffer. NewPCMReader and
// NewPCMWriter wrap the channels as io.Reader and io.Writer over 16-bit
// little-endian samples. See Call for ownership and overflow rules.
//
// # Errors
//
// Operations return sentinel errors (ErrBusy, ErrInvalidState, ...) or typed
// errors that carry protocol data and match the sentinels with errors.Is:
// *StatusError for a final SIP response (with the peer's Reason headers
// and Retry-After), *RegistrationError for a failed registration,
// *StateError for an operation the call's state does not allow. Messages
// start with "xphone: ".
//
// # Concurrency
//
// Phone and Call methods are safe for concurrent use. Callbacks run one at a
// time, in order, never while a lock is held, so they may call back into
// the Phone or Call; they must not block for long. Every goroutine a Phone
// starts is stopped and waited for by Disconnect.
//
// # Testing
//
// Package phonetest provides MockPhone and MockCall, which implement Phone
// and Call with the same state rules and errors, plus Simulate... and
// inspector methods, so call flows can be unit-tested without a network.
package xphone

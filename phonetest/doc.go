// Package phonetest helps test code that uses xphone: mocks of Phone and
// Call that need no network, and an in-process PBX on loopback sockets for
// end-to-end tests with real phones.
//
// # Mocks
//
// MockPhone and MockCall implement xphone.Phone and xphone.Call. They follow
// the real implementation's rules: operations are checked with
// xphone.CheckOp and refused with the same *xphone.StateError, states move
// only along xphone.CanTransition and are reported through OnState, reader
// channels close exactly once when a call ends, the call's Context is done
// with the xphone.EndReason as its cause, and callbacks never run with a
// lock held.
//
// Simulate... methods play the other side: an incoming call, the callee
// answering or ringing, DTMF, hold, a remote hangup, a registration lost,
// the steps of a transfer (SimulateTransfer, reported to OnTransfer), an
// attended transfer to us (SimulateReplaced), voicemail status
// (SimulateVoicemail), instant messages (SimulateMessage) and the state of
// a watched line (SimulateLine).
// Inject... methods deliver audio and RTP on the reader channels.
// Inspectors report what the code under test did: SentDTMF, SentPCM,
// SentRTP, TransferTarget, TransferConsult, DTMFMode, RejectedWith, Dialed,
// LastCall, SentMessages, Watched.
//
// # Synchronous callbacks
//
// A mock delivers callbacks on the goroutine that caused them, before the
// causing method returns, so a test that calls SimulateDTMF can check the
// result on the next line. Code under test that blocks in a callback (an IVR
// waiting for a digit) should run on its own goroutine, as it must with a
// real Phone; MockCall.WaitState lets the test wait for it.
//
// # Goroutines
//
// A MockCall runs one goroutine, from the first request for a writer
// channel until the call ends, to record what is written. End the calls a
// test creates (or Disconnect the MockPhone) so that it exits. A PBX's
// goroutines are listed on PBX; Close stops them all.
//
// # PBX
//
// PBX is the other kind of test double: a real SIP registrar and proxy on
// loopback sockets, UDP and TCP on one port, for tests that run real phones
// (xphone.New with Host and Port set to the PBX's Addr) end to end. StartPBX
// starts one for a test and closes it when the test ends; NewPBX is the
// constructor for programs (the command-line demo). It authenticates
// REGISTER (401) and requests from its users (407) with digest, keeps
// bindings with expiry, and routes calls between registered users with
// Record-Route, so that every request and response of a call passes
// through it. It is also the notifier of two event packages for its users:
// their voicemail boxes (message-summary, RFC 3842; SetVoicemail fills
// them) and the state of their lines (dialog, RFC 4235: the calls it
// routes), for phones with xphone.Config.MWI or calling Phone.Watch.
//
// Behaviours are scripted per request with PBXConfig.Script, which returns
// an Answer: busy (486), reject (603), redirect (302 with Contact), no answer
// (Drop: only 100 Trying), and a delayed answer (Delay, optionally ringing
// the caller with a provisional Code first). PBX.Drop loses the next n
// messages that match, received or sent, to exercise retransmission.
// Every message the PBX receives, sends or drops is recorded (PBX.Messages,
// bounded by PBXConfig.MaxRecorded), can be waited for (WaitMessage) and
// counted (Count) with matchers such as IsRequest and IsResponse, reported
// to PBXConfig.OnMessage and written as a ladder to PBXConfig.Trace.
//
// A registrar restart is a Close followed by a new PBX on the same
// PBXConfig.Addr: bindings are gone and phones must register again.
// WaitRegistered and WaitUnregistered wait for bindings to change, so tests
// wait on events, never sleep. Nothing about time is asserted: a Delay is
// only a lower bound on when the PBX acts.
//
// The PBX is a test tool, not a production proxy: it does no DNS (contacts
// and routes must be IP addresses) and no forking (a user's most recent
// binding gets the call). With PBXConfig.TLSConfig it also takes TLS on a
// port of its own (TLSAddr), tested for registration; TLSConfigs makes a
// throwaway certificate authority for such tests.
package phonetest

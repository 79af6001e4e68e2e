// Package phonetest helps test code that uses xphone without a network.
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
// answering or ringing, DTMF, hold, a remote hangup, a registration lost.
// Inject... methods deliver audio and RTP on the reader channels.
// Inspectors report what the code under test did: SentDTMF, SentPCM,
// SentRTP, TransferTarget, RejectedWith, Dialed, LastCall.
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
// test creates (or Disconnect the MockPhone) so that it exits.
package phonetest

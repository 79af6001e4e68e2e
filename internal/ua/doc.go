// Package ua is xphone's SIP user agent core (RFC 3261 §8, §10, §12-§15): one
// transport.Manager and one transaction.Layer per phone, the transaction user
// that routes requests by method and dialog, registration with digest
// authentication and refresh, and INVITE sessions in both directions with an
// internal/media session per call.
//
// The root package xphone adapts UA and Call to its public Phone and Call
// interfaces; this package has its own small types (State, EndReason,
// StatusError) because the layering rule forbids importing the root.
//
// # Goroutines
//
// A connected UA runs one background goroutine (registration refresh and NAT
// keepalive) besides the transport's readers. A call's media runs on
// internal/media's shared scheduler (no goroutine of its own on Linux, one
// socket reader elsewhere) and, while a 2xx to our INVITE may still be
// retransmitted, one goroutine that ACKs the retransmissions (RFC 3261
// §13.2.2.4), which ends with the INVITE transaction (64*T1). Callbacks run on
// a serial dispatcher: a goroutine that exists only while events are queued,
// one per UA and one per call, so callbacks of one call run one at a time, in
// order, never under a lock. Disconnect waits for all of them.
//
// # Registration refresh
//
// A binding is refreshed when half of the expiry the registrar granted has
// passed (at least one second later), read from the expires parameter of our
// Contact in the 2xx, else its Expires header, else the value asked for. Each
// refresh reuses the binding's Call-ID with a rising CSeq (RFC 3261 §10.2.4).
// Failures are retried after Config.RegisterRetry, doubling to 5 minutes,
// with ±20% jitter.
//
// # Reliable provisional responses, UPDATE and glare
//
// Config.Rel100 sets how 100rel (RFC 3262) is used: Rel100Supported (the
// default) offers it in our INVITEs and sends the 180 and the 183 of
// Progress reliably, with RSeq and PRACK, to callers that support it;
// Rel100Required also demands it of both sides (421 to callers without it);
// Rel100Disabled neither offers nor uses it (420 to callers that require
// it). As caller we PRACK each reliable 18x in its early dialog, and the
// confirmed dialog continues the CSeq numbers used there. Accept sends the
// 2xx only after the PRACK of a reliable 183 that carried our answer.
//
// UPDATE (RFC 3311) is taken in early and confirmed dialogs; an offer in
// it is answered like a re-INVITE's, and before the 2xx once the INVITE's
// offer/answer exchange completed in a PRACKed reliable response (RFC 3262
// §5). We send UPDATE without a body in two cases: Call.Update, in the
// confirmed dialog or, before the answer, in an early dialog the peer has
// (an 18x of it that lists UPDATE in Allow, or a PRACK from it); and the
// session-timer refresh (RFC 4028 §7.4), which uses UPDATE when the peer's
// Allow lists it and falls back to re-INVITE for good once the peer
// answers an UPDATE 405 or 501.
//
// Glare: an offer of the peer's that arrives while our re-INVITE is in
// flight gets 491; our re-INVITE or UPDATE answered 491 is sent again, at
// most three times, after the RFC 3261 §14.1 delay: 2.1 to 4 s for the
// side that owns the Call-ID (the caller), 0 to 2 s for the callee, in 10
// ms steps. While ours waits out that delay the peer's offer is answered.
package ua

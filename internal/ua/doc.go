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
// keepalive) besides the transport's readers. Each call runs its media loop
// (one goroutine, internal/media) and, while a 2xx to our INVITE may still be
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
package ua

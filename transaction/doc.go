// Package transaction implements the SIP transaction layer of RFC 3261 §17
// with the corrections of RFC 6026: client and server transactions for
// INVITE and for every other method, their retransmission and wait timers,
// the matching of messages to transactions, and CANCEL handling (§9).
//
// A [Layer] sits between a transport (anything that implements
// transport.Sender and calls [Layer.HandleInbound] for what it receives)
// and a transaction user, the [TU]: a UA core or a proxy core.
//
//	l := transaction.New(sender, tu, transaction.Config{})
//	tx, err := l.Request(ctx, req, dst) // client transaction
//	for resp := range tx.Responses() { ... }
//	// server side: TU.HandleRequest(tx) → tx.Respond(resp)
//
// # State machines
//
// INVITE client (§17.1.1, RFC 6026 §7.2): Calling → Proceeding on a
// provisional → Completed on 300-699 (the transaction sends the ACK
// itself, §17.1.1.3) or Accepted on 2xx, where retransmitted 2xx
// responses are handed to the TU, which acknowledges each (§13.2.2.4):
// on Responses, or, once the TU called [ClientTx.Detach], through
// TU.HandleOutside, so that no goroutine of the TU waits out Timer M.
// Non-INVITE client (§17.1.2): Trying → Proceeding → Completed. INVITE
// server (§17.2.1, RFC 6026 §7.1): Proceeding → Completed on 300-699 →
// Confirmed on the ACK; or Accepted on 2xx, which absorbs retransmitted
// INVITEs and passes ACKs to the TU. Non-INVITE server (§17.2.2):
// Trying → Proceeding → Completed. Retransmitted requests are absorbed by
// the server transaction, which re-sends its last response where the RFC
// says so; an INVITE the TU has not answered within 200 ms gets 100 Trying.
//
// # Timers
//
// T1, T2 and T4 come from [Config] (defaults 500 ms, 4 s, 5 s). On
// unreliable transports Timer A (INVITE, doubling from T1) and Timer E
// (non-INVITE, doubling up to T2, then T2 once a provisional arrived)
// retransmit requests and Timer G (doubling up to T2) retransmits non-2xx
// final responses to INVITE. Timers B, F and H (64*T1) bound the wait for
// a final response or an ACK. The wait timers D (32 s), I (T4), J (64*T1)
// and K (T4) are zero on reliable transports (TCP, TLS), where nothing is
// retransmitted; L and M (64*T1, RFC 6026) apply on every transport. Time
// and timers come from Config.Clock; tests use testing/synctest.
//
// A server transaction's long timers (H, I, J, L) share one Clock timer
// per duration in the layer: a list in due order, with a 10 ms
// resolution. Once the TU's part of a server transaction is over (a final
// response to a non-INVITE request, a 2xx to an INVITE), the layer keeps
// only what matching and retransmission need for the rest of Timer J or L
// (the key, the state, a non-INVITE final response as bytes): the
// request and the ServerTx are the TU's to keep or drop. Such a record
// stops matching when its timer is due and is dropped by later
// retirements, or by a timer once they stop.
//
// # Matching
//
// Responses match a client transaction by the branch of their top Via and
// their CSeq method (§17.1.3). Requests match a server transaction by the
// branch, when it starts with the magic cookie "z9hG4bK", and the Via
// sent-by (§17.2.3); ACK matches the INVITE it acknowledges when that got
// a non-2xx response. For RFC 2543 peers, whose branch lacks the cookie,
// the layer falls back to the Request-URI, From tag, Call-ID, CSeq and top
// Via, and the To tag (that of the response, for an ACK). Map keys are
// comparable structs of the message's strings: a lookup allocates nothing.
// ACKs for 2xx and 2xx responses that match nothing go to
// TU.HandleOutside.
//
// # CANCEL
//
// A CANCEL is its own non-INVITE server transaction with the branch of the
// request it cancels (§9.2). The layer answers it without the TU: 481 when
// nothing matches; otherwise 200 and then, for an INVITE without a final
// response, 487 Request Terminated to the INVITE, in that order and with
// one To tag, after which TU.HandleServerError receives a [*CancelError]
// (wrapping ErrCanceled, carrying the CANCEL and so its Reason header) and
// the TU's own Respond returns ErrCanceled. On the client side,
// [ClientTx.Cancel] sends the CANCEL once a provisional response has
// arrived (§9.1); the INVITE then ends with the 487, which the transaction
// acknowledges.
//
// # Errors
//
// Failures are reported with errors that errors.Is tells apart:
// [ErrTimeout] (Timers B, F, H), [ErrTransport] (the transport could not
// send, or an ICMP error given to [Layer.Unreachable] answered what was
// sent; the cause is wrapped too) and [ErrCanceled] (the context of
// Layer.Request ended, the context's cause is wrapped too; or a CANCEL
// arrived; or the layer closed). A client transaction reports them
// through [ClientTx.Err]; a server transaction through
// TU.HandleServerError, or the return of [ServerTx.Respond].
// [Layer.RespondStateless] answers a request outside any transaction, for
// example 503 when [Config.MaxServerTransactions] is reached.
//
// # Concurrency
//
// Every method is safe for concurrent use. Each transaction has its own
// mutex; the layer has one more for its maps. The layer owns no goroutine:
// timers are Clock.AfterFunc callbacks that run briefly and exit, inbound
// messages are handled on the transport's goroutine, and context
// cancellation uses context.AfterFunc. A transaction that ends stops its
// timers and leaves the maps at once, so a transaction costs memory only
// while its state machine runs, and no goroutine at all while it waits.
// The TU's methods are never called with a lock held.
package transaction

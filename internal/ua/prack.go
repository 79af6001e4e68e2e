package ua

import "github.com/xphone-go/xphone/transaction"

// handlePrack answers a PRACK (RFC 3262) in one of the call's early dialogs.
// Not implemented yet: 481, as for a PRACK that matches no reliable provisional.
func (c *Call) handlePrack(tx *transaction.ServerTx) { c.u.respond(tx, 481, "") }

package ua

import "github.com/xphone-go/xphone/transaction"

// handleUpdate answers an UPDATE (RFC 3311) in one of the call's dialogs.
// Not implemented yet: 501 keeps the peer from waiting.
func (c *Call) handleUpdate(tx *transaction.ServerTx) { c.u.respond(tx, 501, "") }

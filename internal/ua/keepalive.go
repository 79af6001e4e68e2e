package ua

import (
	"context"
	"time"
)

// background runs registration refreshes, retries and NAT keepalives until
// ctx ends. It is the UA's one long-lived goroutine.
func (u *UA) background(ctx context.Context) {
	var (
		rt      *time.Timer
		refresh <-chan time.Time
		kick    <-chan struct{}
	)
	if u.reg != nil {
		rt = time.NewTimer(u.reg.delay())
		defer rt.Stop()
		refresh, kick = rt.C, u.reg.kick
	}
	var keep <-chan time.Time
	u.mu.Lock()
	haveServer := u.server.AddrPort.IsValid() // failover may move it meanwhile
	u.mu.Unlock()
	if u.cfg.KeepaliveInterval > 0 && haveServer {
		kt := time.NewTicker(u.cfg.KeepaliveInterval)
		defer kt.Stop()
		keep = kt.C
	}
	again := func() {
		u.reg.refresh(ctx)
		rt.Reset(u.reg.delay())
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-refresh:
			again()
		case <-kick:
			// The connection to the registrar died: the binding points at
			// a flow that is gone, so register again at once (RFC 5626
			// §4.4.1). While already unregistered the backoff timer runs.
			if u.reg.lost() {
				again()
			}
		case <-keep:
			u.keepalive(ctx, again)
		}
	}
}

// keepalive sends one keepalive to the registrar (or outbound proxy): a
// double CRLF on UDP, a CRLFCRLF ping on TCP and TLS (RFC 5626 §4.4.1).
// A ping that finds no open connection means the flow is gone; one that
// gets no pong closes the connection, and onConnClosed kicks the loop.
func (u *UA) keepalive(ctx context.Context, again func()) {
	u.mu.Lock()
	tm, dst := u.tm, u.server
	u.mu.Unlock()
	if tm == nil {
		return
	}
	err := tm.Keepalive(ctx, dst)
	if err != nil && u.reg != nil && dst.Protocol.Reliable() && u.reg.lost() {
		again()
	}
}

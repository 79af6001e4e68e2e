package phonetest

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// handleRequest is the proxy core for a request that created a server
// transaction (RFC 3261 §16.3–§16.6); REGISTER and OPTIONS for the PBX
// itself are answered here.
func (p *PBX) handleRequest(tx *transaction.ServerTx) {
	req := tx.Request()
	// §16.4: Route headers naming the PBX are consumed.
	routes, err := p.stripRoutes(req)
	if err != nil {
		p.respond(tx, 400, "Bad Route", nil)
		return
	}
	toUs := len(routes) == 0 && p.isOurs(req.RequestURI)
	if toUs && req.Method == "REGISTER" {
		p.register(tx)
		return
	}
	if toUs && req.Method == "OPTIONS" && req.RequestURI.User == "" {
		p.respond(tx, 200, "", func(r *sipmsg.Message) {
			r.Add("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, INFO, UPDATE, REFER, NOTIFY, SUBSCRIBE")
		})
		return
	}
	// §16.3 step 3: Max-Forwards.
	mf := 70
	if req.Has("Max-Forwards") {
		if mf, err = req.MaxForwards(); err != nil {
			p.respond(tx, 400, "Bad Max-Forwards", nil)
			return
		}
	}
	if mf == 0 {
		p.respond(tx, 483, "", nil)
		return
	}
	if ev := servedEvent(req); toUs && ev != "" {
		p.subscribe(tx, ev) // the PBX is its users' notifier (pbx_events.go)
		return
	}
	if toUs && isPresencePublish(tx) {
		p.publish(tx) // and their presence compositor (pbx_publish.go)
		return
	}
	if toUs && req.RequestURI.User == "" {
		p.respond(tx, 404, "", nil)
		return
	}
	to, _ := req.To()
	inDialog := to.Tag() != ""
	if !inDialog && !p.cfg.DisableAuth && p.fromLocalUser(req) {
		user, ok := p.authenticate(tx, true)
		if !ok {
			return
		}
		if from, _ := req.From(); unescapeUser(from.URI) != user {
			p.respond(tx, 403, "From Does Not Match Credentials", nil)
			return
		}
	}

	// §16.5: the target. A request for one of our users goes to the most
	// recent binding (no forking); anything else to its next hop.
	if toUs {
		user := unescapeUser(req.RequestURI)
		if _, ok := p.password(user); !ok {
			p.respond(tx, 404, "", nil)
			return
		}
		if p.cfg.Script != nil && !inDialog {
			if a := p.cfg.Script(user, req); a != nil {
				p.hold(tx, a, func(ctx context.Context) bool {
					target, dst, ok := p.userTarget(tx, user)
					if ok {
						p.relay(ctx, tx, p.prepare(tx, target, dst, routes, mf, inDialog), dst)
					}
					return ok
				})
				return
			}
		}
		if target, dst, ok := p.userTarget(tx, user); ok {
			p.forward(tx, target, dst, routes, mf, inDialog)
		}
		return
	}
	next := req.RequestURI
	if len(routes) > 0 {
		next = routes[0].URI
	}
	dst, err := p.lookup(next)
	if err != nil {
		p.respond(tx, 404, "Unresolvable Destination", nil)
		return
	}
	p.forward(tx, req.RequestURI, dst, routes, mf, inDialog)
}

// userTarget returns the most recent binding of user and where to send
// to it, or answers tx with 480 (no binding) or 404 (an unusable contact)
// and returns false.
func (p *PBX) userTarget(tx *transaction.ServerTx, user string) (sipmsg.URI, transport.Addr, bool) {
	bs := p.Bindings(user)
	if len(bs) == 0 {
		p.respond(tx, 480, "", nil)
		return sipmsg.URI{}, transport.Addr{}, false
	}
	target := bs[0].uri
	dst := bs[0].src
	if dst.Protocol != transport.TCP {
		var err error
		if dst, err = p.lookup(target); err != nil {
			p.respond(tx, 404, "Unresolvable Contact", nil)
			return sipmsg.URI{}, transport.Addr{}, false
		}
	}
	return target, dst, true
}

// forward answers an INVITE with 100 Trying at once (§16.2) and relays
// tx's request to target at dst on a new goroutine.
func (p *PBX) forward(tx *transaction.ServerTx, target sipmsg.URI, dst transport.Addr,
	routes []sipmsg.Address, mf int, inDialog bool) {
	fwd := p.prepare(tx, target, dst, routes, mf, inDialog)
	if fwd.Method == "INVITE" {
		p.respond(tx, 100, "", nil)
	}
	ctx := p.track(tx)
	if !p.spawn(func() { p.relay(ctx, tx, fwd, dst) }) {
		p.forget(tx)
	}
}

// prepare returns the request to forward for tx to target at dst (RFC 3261
// §16.6).
func (p *PBX) prepare(tx *transaction.ServerTx, target sipmsg.URI, dst transport.Addr,
	routes []sipmsg.Address, mf int, inDialog bool) *sipmsg.Message {
	req := tx.Request()
	fwd := req.Clone()
	fwd.RequestURI = target
	setRoutes(fwd, routes)
	fwd.Set("Max-Forwards", strconv.Itoa(mf-1))
	if !inDialog && isDialogCreating(req.Method) {
		// Step 4, with double Record-Route when the two legs use
		// different transports (RFC 5658): the top one faces the callee.
		in := tx.Source().Protocol
		fwd.Prepend("Record-Route", p.recordRoute(in))
		if dst.Protocol != in {
			fwd.Prepend("Record-Route", p.recordRoute(dst.Protocol))
		}
	}
	p.dropOwnCredentials(fwd)
	fwd.PrependVia(p.tm.Via(dst.Protocol, p.layer.NewBranch()))
	return fwd
}

// track returns the context of tx's forwarding, which a CANCEL or the
// transaction's end cancels (HandleServerError); forget releases it.
func (p *PBX) track(tx *transaction.ServerTx) context.Context {
	ctx, cancel := context.WithCancel(p.ctx)
	p.mu.Lock()
	p.pending[tx] = cancel
	p.mu.Unlock()
	return ctx
}

// hold carries out a Script's Answer: drop, or answer at once, or wait
// a.Delay (sending a provisional a.Code first) and then answer a final
// a.Code or call then, which forwards the request and reports whether it
// did. A CANCEL during the wait ends it: the transaction layer has
// answered 487 already.
func (p *PBX) hold(tx *transaction.ServerTx, a *Answer, then func(context.Context) bool) {
	if a.Drop || (a.Delay <= 0 && a.Code >= 200) {
		p.scripted(tx, a)
		return
	}
	if tx.Request().Method == "INVITE" {
		p.respond(tx, 100, "", nil)
	}
	if a.Code > 100 && a.Code < 200 {
		p.scripted(tx, a)
	}
	ctx := p.track(tx)
	ok := p.spawn(func() {
		if a.Delay > 0 {
			timer := time.NewTimer(a.Delay)
			defer timer.Stop()
			select {
			case <-ctx.Done():
				p.forget(tx)
				return
			case <-timer.C:
			}
		}
		if a.Code >= 200 {
			p.forget(tx)
			p.scripted(tx, a)
			return
		}
		if !then(ctx) {
			p.forget(tx)
		}
	})
	if !ok {
		p.forget(tx)
	}
}

// scripted answers tx as a PBXConfig.Script said.
func (p *PBX) scripted(tx *transaction.ServerTx, a *Answer) {
	if a.Drop {
		if tx.Request().Method == "INVITE" {
			p.respond(tx, 100, "", nil)
		}
		return
	}
	p.respond(tx, a.Code, a.Reason, func(r *sipmsg.Message) {
		if a.Contact != "" {
			r.Add("Contact", a.Contact)
		}
	})
}

func (p *PBX) forget(tx *transaction.ServerTx) {
	p.mu.Lock()
	cancel := p.pending[tx]
	delete(p.pending, tx)
	p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// relay sends fwd as a client transaction and passes its responses back on
// tx (RFC 3261 §16.7): the PBX's Via popped, 100 absorbed (the PBX sent its
// own), provisional and final responses and 2xx retransmissions forwarded.
// A transaction that ends without a final response is answered 408 or 503.
func (p *PBX) relay(ctx context.Context, tx *transaction.ServerTx, fwd *sipmsg.Message, dst transport.Addr) {
	defer p.forget(tx)
	ct, err := p.layer.Request(ctx, fwd, dst)
	if err != nil {
		if ctx.Err() == nil {
			p.respond(tx, 503, "", nil)
		}
		return
	}
	req := tx.Request()
	to, _ := req.To()
	newCall := req.Method == "INVITE" && to.Tag() == ""
	if newCall {
		p.trackInvite(req, nil)
	}
	final := false
	for resp := range ct.Responses() {
		if newCall {
			p.trackInvite(req, resp)
		}
		if resp.StatusCode == 100 {
			continue
		}
		if req.Method == "BYE" && resp.StatusCode >= 200 {
			p.trackBye(req)
		}
		resp.RemoveVia()
		final = final || resp.StatusCode >= 200
		_ = tx.Respond(resp)
	}
	if final || ctx.Err() != nil {
		return
	}
	switch err := ct.Err(); {
	case errors.Is(err, transaction.ErrTimeout):
		p.respond(tx, 408, "", nil)
	case errors.Is(err, transaction.ErrTransport):
		p.respond(tx, 503, "", nil)
	}
}

// handleOutside forwards statelessly what belongs to no transaction
// (RFC 3261 §16.11): ACKs for 2xx, routed like any in-dialog request, and
// 2xx retransmissions, routed by their next Via.
func (p *PBX) handleOutside(in transport.Inbound) {
	m := in.Msg
	if !m.IsRequest() {
		if !m.RemoveVia() {
			return
		}
		via, err := m.Via()
		if err != nil {
			return
		}
		dst, err := viaDestination(via)
		if err != nil {
			return
		}
		_ = p.sender.Send(p.ctx, m, dst)
		return
	}
	if m.Method != "ACK" {
		return
	}
	routes, err := p.stripRoutes(m)
	if err != nil {
		return
	}
	mf := 70
	if m.Has("Max-Forwards") {
		if mf, err = m.MaxForwards(); err != nil || mf == 0 {
			return
		}
	}
	target := m.RequestURI
	next := target
	if len(routes) > 0 {
		next = routes[0].URI
	} else if p.isOurs(target) {
		bs := p.Bindings(unescapeUser(target))
		if target.User == "" || len(bs) == 0 {
			return
		}
		target, next = bs[0].uri, bs[0].uri
	}
	dst, err := p.lookup(next)
	if err != nil {
		return
	}
	m.RequestURI = target
	setRoutes(m, routes)
	m.Set("Max-Forwards", strconv.Itoa(mf-1))
	m.PrependVia(p.tm.Via(dst.Protocol, p.layer.NewBranch()))
	_ = p.sender.Send(p.ctx, m, dst)
}

// viaDestination is where a response goes by its top Via (RFC 3261
// §18.2.2, RFC 3581 §4): received and rport when present, else sent-by.
func viaDestination(v sipmsg.Via) (transport.Addr, error) {
	proto, err := transport.ParseProtocol(v.Transport)
	if err != nil {
		return transport.Addr{}, err
	}
	host := v.Host
	if r := v.Received(); r != "" {
		host = r
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return transport.Addr{}, err
	}
	port := v.Port
	if rp, ok := v.RPort(); ok && rp != 0 {
		port = rp
	}
	if port == 0 {
		port = 5060
	}
	return transport.Addr{Protocol: proto, AddrPort: netip.AddrPortFrom(ip, uint16(port))}, nil
}

// stripRoutes returns the Route set of m without the leading values that
// name the PBX (RFC 3261 §16.4; two of them after double Record-Route).
func (p *PBX) stripRoutes(m *sipmsg.Message) ([]sipmsg.Address, error) {
	if !m.Has("Route") {
		return nil, nil
	}
	routes, err := m.Route()
	if err != nil {
		return nil, err
	}
	for len(routes) > 0 && p.isOurs(routes[0].URI) {
		routes = routes[1:]
	}
	return routes, nil
}

// setRoutes replaces the Route header fields of m with routes.
func setRoutes(m *sipmsg.Message, routes []sipmsg.Address) {
	if !m.Has("Route") {
		return
	}
	vals := make([]string, len(routes))
	for i := range routes {
		vals[i] = routes[i].String()
	}
	m.Del("Route")
	for _, v := range vals {
		m.Add("Route", v)
	}
}

// dropOwnCredentials removes the Proxy-Authorization values for the PBX's
// realm; credentials for other realms stay (RFC 3261 §22.3).
func (p *PBX) dropOwnCredentials(m *sipmsg.Message) {
	if !m.Has("Proxy-Authorization") {
		return
	}
	var keep []string
	for _, v := range m.Values("Proxy-Authorization") {
		if c, err := digest.ParseCredentials(v); err == nil && c.Realm == p.cfg.Realm {
			continue
		}
		keep = append(keep, v)
	}
	m.Del("Proxy-Authorization")
	for _, v := range keep {
		m.Add("Proxy-Authorization", v)
	}
}

// fromLocalUser reports whether the From of req names one of the PBX's users
// at the PBX's address (any port): such requests must authenticate (RFC 3261 §22.3).
func (p *PBX) fromLocalUser(req *sipmsg.Message) bool {
	from, err := req.From()
	if err != nil {
		return false
	}
	_, ok := p.password(unescapeUser(from.URI))
	ip, err := netip.ParseAddr(from.URI.Host)
	return ok && err == nil && ip == p.addr.Addr()
}

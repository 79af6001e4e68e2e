package phonetest

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
	"github.com/xphone-go/xphone/transaction"
)

// Binding is one registered contact of a user (RFC 3261 §10.3).
type Binding struct {
	// Contact is the contact URI as registered.
	Contact string
	// Expires is when the binding lapses unless refreshed.
	Expires time.Time
	// CallID and CSeq are those of the REGISTER that last refreshed it.
	CallID string
	CSeq   uint32
	// Source is where that REGISTER came from, "udp:127.0.0.1:40000".
	Source string

	uri sipmsg.URI
	src transport.Addr
}

// Registered reports whether user has at least one binding that has not
// expired.
func (p *PBX) Registered(user string) bool { return len(p.Bindings(user)) > 0 }

// Bindings returns user's current bindings, most recently refreshed first.
// The slice is the caller's.
func (p *PBX) Bindings(user string) []Binding {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current(user, p.cfg.Now())
}

// current returns the unexpired bindings of user, most recent first.
// It is called with p.mu held and returns a new slice.
func (p *PBX) current(user string, now time.Time) []Binding {
	var out []Binding
	bs := p.bindings[user]
	for i := len(bs) - 1; i >= 0; i-- {
		if bs[i].Expires.After(now) {
			out = append(out, bs[i])
		}
	}
	return out
}

// WaitRegistered blocks until user has a binding or ctx ends, and returns
// nil or ctx's error. It wakes on registration changes, never polls.
func (p *PBX) WaitRegistered(ctx context.Context, user string) error {
	return p.waitFor(ctx, func() bool { return p.Registered(user) })
}

// WaitUnregistered blocks until user has no binding left (removed with
// Expires: 0, or expired by the Now clock, which is checked whenever a
// binding changes) or ctx ends, and returns nil or ctx's error.
func (p *PBX) WaitUnregistered(ctx context.Context, user string) error {
	return p.waitFor(ctx, func() bool { return !p.Registered(user) })
}

func (p *PBX) waitFor(ctx context.Context, cond func() bool) error {
	for {
		p.mu.Lock()
		ch := p.changed
		p.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-ch:
		}
	}
}

// notify wakes the waiters; it is called with p.mu held.
func (p *PBX) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// register is the registrar (RFC 3261 §10.3).
func (p *PBX) register(tx *transaction.ServerTx) {
	req := tx.Request()
	authUser := ""
	if !p.cfg.DisableAuth { // step 3
		u, ok := p.authenticate(tx, false)
		if !ok {
			return
		}
		authUser = u
	}
	to, err := req.To()
	if err != nil {
		p.respond(tx, 400, "Bad To", nil)
		return
	}
	aor := unescapeUser(to.URI)
	if _, ok := p.password(aor); !ok { // step 5
		p.respond(tx, 404, "", nil)
		return
	}
	if authUser != "" && authUser != aor { // step 4
		p.respond(tx, 403, "", nil)
		return
	}
	contacts, err := req.Contacts()
	if err != nil {
		p.respond(tx, 400, "Bad Contact", nil)
		return
	}
	hdrExpires := int64(-1)
	if req.Has("Expires") {
		e, err := req.Expires()
		if err != nil {
			p.respond(tx, 400, "Bad Expires", nil)
			return
		}
		hdrExpires = int64(e)
	}
	cseq, _ := req.CSeq()
	callID := req.CallID()

	p.mu.Lock()
	now := p.cfg.Now()
	wasOnline := len(p.current(aor, now)) > 0
	bs := slices.Clone(p.bindings[aor])
	code, reason := p.update(&bs, contacts, hdrExpires, callID, cseq.Seq, tx.Source(), now)
	if code == 200 {
		p.bindings[aor] = bs
		p.notify()
	}
	current := p.current(aor, now)
	p.mu.Unlock()
	if online := len(current) > 0; online != wasOnline {
		p.notifyAll(eventPresence, aor) // pbx_events.go
	}

	switch code {
	case 423:
		min := strconv.Itoa(int(p.cfg.MinExpires / time.Second))
		p.respond(tx, 423, "", func(r *sipmsg.Message) { r.Add("Min-Expires", min) })
	case 200: // step 8: 200 with every current binding
		p.respond(tx, 200, "", func(r *sipmsg.Message) {
			for _, b := range current {
				secs := int64((b.Expires.Sub(now) + time.Second - 1) / time.Second)
				r.Add("Contact", "<"+b.Contact+">;expires="+strconv.FormatInt(secs, 10))
			}
		})
	default:
		p.respond(tx, code, reason, nil)
	}
}

// update applies the Contacts of one REGISTER to bs (RFC 3261 §10.3 steps
// 6 and 7): all of them or none. It returns the status code to answer and
// its reason phrase ("" for the default).
func (p *PBX) update(bs *[]Binding, contacts []sipmsg.Address, hdrExpires int64,
	callID string, cseq uint32, src transport.Addr, now time.Time) (code int, reason string) {
	// Step 6: "*" removes every binding, only with Expires: 0 and alone.
	for _, c := range contacts {
		if !c.Wildcard {
			continue
		}
		if len(contacts) != 1 || hdrExpires != 0 {
			return 400, "Invalid Wildcard"
		}
		*bs = slices.DeleteFunc(*bs, func(b Binding) bool {
			return b.CallID != callID || b.CSeq < cseq
		})
		return 200, ""
	}
	minSecs := int64(p.cfg.MinExpires / time.Second)
	maxSecs := int64(p.cfg.MaxExpires / time.Second)
	secs := make([]int64, len(contacts))
	for i, c := range contacts { // step 7: every interval first
		e := hdrExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return 400, "Bad Contact Expires"
			}
			e = int64(n)
		} else if e < 0 {
			e = int64(p.cfg.DefaultExpires / time.Second)
		}
		if e > 0 && e < minSecs {
			return 423, ""
		}
		secs[i] = min(e, maxSecs)
	}
	for i, c := range contacts {
		j := slices.IndexFunc(*bs, func(b Binding) bool { return b.uri.Equal(c.URI) })
		if j >= 0 && (*bs)[j].CallID == callID && (*bs)[j].CSeq >= cseq {
			// Out of order: an older REGISTER of the same client.
			return 500, "Out Of Order"
		}
		if j >= 0 {
			*bs = slices.Delete(*bs, j, j+1)
		}
		if secs[i] == 0 {
			continue
		}
		*bs = append(*bs, Binding{
			Contact: c.URI.String(),
			Expires: now.Add(time.Duration(secs[i]) * time.Second),
			CallID:  callID,
			CSeq:    cseq,
			Source:  addrString(src),
			uri:     c.URI,
			src:     src,
		})
	}
	*bs = slices.DeleteFunc(*bs, func(b Binding) bool { return !b.Expires.After(now) })
	return 200, ""
}

func addrString(a transport.Addr) string {
	proto := "udp"
	if a.Protocol == transport.TCP {
		proto = "tcp"
	} else if a.Protocol == transport.TLS {
		proto = "tls"
	}
	return proto + ":" + a.AddrPort.String()
}

// lookup returns where to send a request for the contact URI u: the
// connection a TCP binding registered over, when u is a registered contact,
// else the host and port of u, which must be an IP address (the PBX does no
// DNS). The protocol comes from the transport parameter.
func (p *PBX) lookup(u sipmsg.URI) (transport.Addr, error) {
	if !u.IsSIP() || u.IsSecure() {
		return transport.Addr{}, errors.New("phonetest: pbx: unsupported URI scheme")
	}
	proto := transport.UDP
	if tp := u.Params.Value("transport"); tp != "" {
		var err error
		if proto, err = transport.ParseProtocol(tp); err != nil || proto == transport.TLS {
			return transport.Addr{}, errors.New("phonetest: pbx: unsupported transport")
		}
	}
	if proto == transport.TCP {
		p.mu.Lock()
		for _, bs := range p.bindings {
			for _, b := range bs {
				if b.src.Protocol == transport.TCP && b.uri.Equal(u) {
					p.mu.Unlock()
					return b.src, nil
				}
			}
		}
		p.mu.Unlock()
	}
	ip, err := netip.ParseAddr(u.Host)
	if err != nil {
		return transport.Addr{}, errors.New("phonetest: pbx: host is not an IP address")
	}
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return transport.Addr{Protocol: proto, AddrPort: netip.AddrPortFrom(ip, uint16(port))}, nil
}

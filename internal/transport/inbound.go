package transport

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"

	"github.com/xphone-go/xphone/sipmsg"
)

// receiveDatagram parses one datagram read from l and hands it on;
// oversize says it was longer than the message size limit.
func (m *Manager) receiveDatagram(l *listener, b []byte, oversize bool, from netip.AddrPort) {
	if oversize {
		m.stats.oversize.Add(1)
		m.stats.dropped.Add(1)
		return
	}
	if onlyCRLF(b) {
		return // a NAT keepalive; nothing to answer
	}
	msg, err := m.cfg.Parser.Parse(b)
	if err != nil {
		m.stats.parseErrors.Add(1)
		m.stats.dropped.Add(1)
		if m.log.Enabled(m.ctx, slog.LevelDebug) {
			m.log.Debug("transport: unparsable datagram", "from", from, "err", err)
		}
		return
	}
	m.receive(msg, Addr{Protocol: UDP, AddrPort: unmap(from)}, l.local)
}

// logReadError logs a failed read of a UDP listener (an ICMP error and
// the like) at Debug.
func (m *Manager) logReadError(l *listener, err error) {
	if m.log.Enabled(m.ctx, slog.LevelDebug) {
		m.log.Debug("transport: udp read", "local", l.local, "err", err)
	}
}

func onlyCRLF(b []byte) bool {
	for _, c := range b {
		if c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// receive applies the checks of RFC 3261 §18 to one parsed message and
// hands it to the Handler.
func (m *Manager) receive(msg *sipmsg.Message, src Addr, local netip.AddrPort) {
	if m.isClosed() {
		return // read as Close began (the rest of a batch, say): the layers above are going
	}
	if err := msg.Validate(); err != nil {
		m.stats.dropped.Add(1)
		if msg.IsRequest() {
			m.badRequest(msg, src, err)
		}
		if m.log.Enabled(m.ctx, slog.LevelDebug) {
			m.log.Debug("transport: invalid message", "from", src.AddrPort, "err", err)
		}
		return
	}
	v, _ := msg.Via() // Validate checked it
	if msg.IsRequest() {
		markReceived(msg, v, src.AddrPort)
	} else if !m.ownsSentBy(v) {
		// RFC 3261 §18.1.2: a response whose top Via is not ours is discarded.
		m.stats.dropped.Add(1)
		return
	}
	m.stats.received.Add(1)
	if m.log.Enabled(m.ctx, slog.LevelDebug) {
		m.log.Debug("sip: received", "proto", src.Protocol, "from", src.AddrPort, "msg", msg.String())
	}
	if h := m.cfg.Handler; h != nil {
		h(Inbound{Msg: msg, Source: src, Local: local})
	}
}

// markReceived adds received when the top Via's sent-by host is not the
// packet's source address (RFC 3261 §18.2.1) and fills an empty rport with
// the source port, together with received (RFC 3581 §4). The new parameter
// list is built in a stack buffer and copied once.
func markReceived(msg *sipmsg.Message, v sipmsg.Via, src netip.AddrPort) {
	ip := src.Addr().WithZone("")
	rp, hasRPort := v.RPort()
	fillRPort := hasRPort && rp == 0
	if !fillRPort {
		if h, err := netip.ParseAddr(v.Host); err == nil && h.Unmap() == ip {
			return
		}
	}
	var tmp [256]byte
	out := tmp[:0]
	for rest := v.Params; ; {
		name, value, next, ok := rest.Next()
		if !ok {
			break
		}
		rest = next
		if name == "" || strings.EqualFold(name, "received") {
			continue // received is written last
		}
		if len(out) > 0 {
			out = append(out, ';')
		}
		out = append(out, name...)
		if fillRPort && strings.EqualFold(name, "rport") {
			out = append(out, '=')
			out = strconv.AppendUint(out, uint64(src.Port()), 10)
			fillRPort = false
		} else if value != "" {
			out = append(out, '=')
			out = append(out, value...)
		}
	}
	if len(out) > 0 {
		out = append(out, ';')
	}
	out = append(out, "received="...)
	out = ip.AppendTo(out)
	v.Params = sipmsg.Params(out)
	_ = msg.SetVia(v) // the Via was valid and stays valid
}

// ownsSentBy checks a response's top Via against this side (RFC 3261 §18.1.2).
func (m *Manager) ownsSentBy(v sipmsg.Via) bool {
	if f := m.cfg.OwnsSentBy; f != nil {
		return f(v.Host, v.Port)
	}
	port := uint16(v.Port)
	if port == 0 {
		p, err := ParseProtocol(v.Transport)
		if err != nil {
			return false
		}
		port = defaultPort(p)
	}
	ip, ipErr := netip.ParseAddr(v.Host)
	for _, l := range *m.listeners.Load() {
		if l.local.Port() != port {
			continue
		}
		la := l.local.Addr()
		if la.IsUnspecified() || (ipErr == nil && ip.Unmap() == la.Unmap()) {
			return true
		}
	}
	return false
}

// badRequest answers a request that failed validation with 400 and a reason
// phrase that names the problem (RFC 3261 §8.2, §21.4.1), statelessly. ACK
// gets no response (§17.2.3).
func (m *Manager) badRequest(req *sipmsg.Message, src Addr, cause error) {
	m.stats.badRequests.Add(1)
	if req.Method == "ACK" {
		return
	}
	resp := sipmsg.NewResponse(req, 400, badRequestReason(cause))
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.writeTimeout())
	defer cancel()
	if err := m.Send(ctx, resp, src); err != nil && m.log.Enabled(m.ctx, slog.LevelDebug) {
		m.log.Debug("transport: sending 400", "to", src.AddrPort, "err", err)
	}
}

// badRequestReason turns a validation error into a reason phrase such as
// "Missing Call-ID header": printable ASCII, at most 100 bytes.
func badRequestReason(err error) string {
	var pe *sipmsg.ParseError
	if !errors.As(err, &pe) || pe.Reason == "" {
		return "Bad Request"
	}
	r := []byte(pe.Reason)
	if len(r) > 100 {
		r = r[:100]
	}
	for i, c := range r {
		if c < 0x20 || c > 0x7e {
			r[i] = '?'
		}
	}
	if r[0] >= 'a' && r[0] <= 'z' {
		r[0] -= 'a' - 'A'
	}
	return string(r)
}

// sendUDP writes one datagram from the first UDP listener whose address
// family fits dst.
func (m *Manager) sendUDP(b []byte, dst netip.AddrPort) error {
	if !dst.IsValid() {
		return errors.New("transport: invalid destination address")
	}
	l := m.listenerFor(UDP, dst.Addr())
	if l == nil {
		if m.isClosed() {
			return ErrClosed
		}
		return ErrNoListener
	}
	return l.udp.WriteTo(b, dst)
}

func (m *Manager) listenerFor(p Protocol, dst netip.Addr) *listener {
	for _, l := range *m.listeners.Load() {
		if l.proto != p {
			continue
		}
		la := l.local.Addr()
		if la.Is4() == dst.Is4() || (la.Is6() && la.IsUnspecified()) {
			return l
		}
	}
	return nil
}

package transaction

import (
	"bytes"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// Unreachable takes an ICMP error (port, host or network unreachable)
// that answered a datagram sent to dst, of which quoted is what the ICMP
// message quoted (transport.Config.OnUnreachable): a client transaction
// whose request that was, sent to dst over UDP and not yet answered by
// anything, ends at once with an error wrapping ErrTransport and err (RFC
// 3261 §18.4, §17.1.4) instead of retransmitting until Timer B or F. The
// request is known by its method and top Via branch, so a quote that does
// not reach the end of the Via line, or a forged ICMP message that does
// not know the branch, ends nothing. It does not keep quoted.
func (l *Layer) Unreachable(dst transport.Addr, quoted []byte, err error) {
	method, branch, ok := quotedRequest(quoted)
	if !ok {
		return
	}
	l.mu.Lock()
	tx := l.clients[clientKey{branch, method}]
	l.mu.Unlock()
	if tx == nil || tx.dst.Protocol.Reliable() || tx.dst.AddrPort != dst.AddrPort {
		return
	}
	tx.unreachable(err)
}

// unreachable ends the transaction with a transport error when nothing
// came back for it yet: once a response arrived the server is there.
func (tx *ClientTx) unreachable(err error) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.state == cCalling || tx.state == cTrying {
		tx.terminate(transportError(err))
	}
}

// quotedRequest returns the method and the top Via's branch of the request
// at the start of b, which may be cut anywhere after them: the request
// line and the whole first Via line must be there. A folded Via line, a
// response, or anything else gives ok false.
func quotedRequest(b []byte) (method, branch string, ok bool) {
	line, rest, ok := cutLine(b)
	if !ok {
		return "", "", false
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || !bytes.HasSuffix(line, []byte(" SIP/2.0")) {
		return "", "", false
	}
	method = string(line[:sp])
	for {
		if line, rest, ok = cutLine(rest); !ok || len(line) == 0 {
			return "", "", false // cut before the Via, or no Via at all
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || !isVia(bytes.TrimRight(name, " \t")) {
			continue
		}
		if len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
			return "", "", false // folded: the rest of the value is on the next line
		}
		top, _, _ := bytes.Cut(value, []byte(","))
		v, err := sipmsg.ParseVia(string(bytes.TrimSpace(top)))
		if err != nil || v.Branch() == "" {
			return "", "", false
		}
		return method, v.Branch(), true
	}
}

// cutLine returns the line at the start of b without its CRLF (or LF),
// and what follows; ok is false when b holds no line end.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, nil, false
	}
	return bytes.TrimSuffix(b[:i], []byte("\r")), b[i+1:], true
}

// isVia reports whether a header name is Via or its compact form v.
func isVia(name []byte) bool {
	return bytes.EqualFold(name, []byte("Via")) || bytes.EqualFold(name, []byte("v"))
}

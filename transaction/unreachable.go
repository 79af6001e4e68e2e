package transaction

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// Unreachable takes an ICMP error (port, host or network unreachable)
// that answered a datagram sent to dst over UDP, of which quoted is what
// the ICMP message quoted (transport.Config.OnUnreachable), and ends the
// transaction that datagram belonged to (RFC 3261 §18.4):
//   - a client transaction whose request it was and that nothing has
//     answered yet ends with an error wrapping ErrTransport and err
//     instead of retransmitting until Timer B or F (§17.1.4);
//   - an INVITE server transaction whose response it was, still ringing
//     or retransmitting a non-2xx until the ACK (Timer G), ends the same
//     way, and the TU hears of it through HandleServerError (§17.2.4).
//
// A transaction is named by the quote's top Via branch (RFC 3261 magic
// cookie only), method and destination, so a quote cut before the end of
// the Via line, or a forged ICMP message that does not know the branch,
// ends nothing. A 2xx to an INVITE is the TU's to retransmit
// (§13.3.1.4): ParseQuote tells the TU which one an ICMP error answered.
// Unreachable does not keep quoted.
func (l *Layer) Unreachable(dst transport.Addr, quoted []byte, err error) {
	q, ok := ParseQuote(quoted)
	if !ok || dst.Protocol.Reliable() {
		return
	}
	if q.Status == 0 {
		l.mu.Lock()
		tx := l.clients[clientKey{q.Via.Branch(), q.Method}]
		l.mu.Unlock()
		if tx != nil {
			tx.unreachable(dst, err)
		}
		return
	}
	b := q.Via.Branch()
	if q.Method != "INVITE" || !strings.HasPrefix(b, magicCookie) {
		return
	}
	s := l.lookup(matchKey{s: serverKey{branch: b, host: q.Via.Host, port: q.Via.Port}})
	if s != nil && s.src.AddrPort == dst.AddrPort && !s.src.Protocol.Reliable() {
		s.unreachable(err)
	}
}

// unreachable ends the transaction with a transport error when it sent
// its request to dst over UDP and nothing came back for it yet: once a
// response arrived the server is there.
func (tx *ClientTx) unreachable(dst transport.Addr, err error) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.dst.AddrPort != dst.AddrPort || tx.dst.Protocol.Reliable() {
		return
	}
	if tx.state == cCalling || tx.state == cTrying {
		tx.terminate(transportError(err))
	}
}

// unreachable ends an INVITE server transaction whose responses no longer
// reach the client, while it still has something to send: the final
// response (Proceeding) or retransmissions of a non-2xx (Completed).
func (s *srv) unreachable(err error) {
	s.mu.Lock()
	if s.state != sProceeding && s.state != sCompleted {
		s.mu.Unlock()
		return
	}
	s.err = transportError(err)
	tx, terr := s.tx, s.err
	s.terminate()
	s.mu.Unlock()
	if tx != nil {
		s.l.tu.HandleServerError(tx, terr)
	}
}

// Quote is what ParseQuote reads of a SIP message an ICMP error quoted.
type Quote struct {
	Status int        // the status code of a response; 0 for a request
	Method string     // the request's method, or the CSeq method of a response
	Via    sipmsg.Via // the top Via, with a branch
	CallID string     // the Call-ID, or "" when the quote ends before it
}

// ParseQuote reads the SIP message at the start of b, which an ICMP error
// quoted and may have cut anywhere: the start line and the whole top Via
// line must be there, with a branch, and for a response the CSeq line too.
// A folded Via or CSeq line, or anything else, gives ok false. The strings
// of q do not keep b.
func ParseQuote(b []byte) (q Quote, ok bool) {
	line, rest, ok := cutLine(b)
	if !ok || !q.startLine(line) {
		return Quote{}, false
	}
	haveVia := false
	for {
		if line, rest, ok = cutLine(rest); !ok || len(line) == 0 {
			break // the quote ends, or the header section does
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found {
			continue
		}
		folded := len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t')
		value = bytes.TrimSpace(value)
		switch name = bytes.TrimRight(name, " \t"); {
		case isName(name, "Via", "v") && !haveVia:
			if folded {
				return Quote{}, false
			}
			top, _, _ := bytes.Cut(value, []byte(","))
			v, err := sipmsg.ParseVia(string(bytes.TrimSpace(top)))
			if err != nil || v.Branch() == "" {
				return Quote{}, false
			}
			q.Via, haveVia = v, true
		case isName(name, "CSeq", "") && q.Status != 0 && q.Method == "" && !folded:
			c, err := sipmsg.ParseCSeq(string(value))
			if err != nil {
				return Quote{}, false
			}
			q.Method = c.Method
		case isName(name, "Call-ID", "i") && q.CallID == "" && !folded:
			q.CallID = string(value)
		}
	}
	if !haveVia || q.Method == "" {
		return Quote{}, false
	}
	return q, true
}

// startLine reads a request line's method or a status line's code.
func (q *Quote) startLine(line []byte) bool {
	if code, ok := bytes.CutPrefix(line, []byte("SIP/2.0 ")); ok {
		if len(code) < 3 || (len(code) > 3 && code[3] != ' ') {
			return false
		}
		n, err := strconv.Atoi(string(code[:3]))
		if err != nil || n < 100 || n > 699 {
			return false
		}
		q.Status = n
		return true
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || !bytes.HasSuffix(line, []byte(" SIP/2.0")) {
		return false
	}
	q.Method = string(line[:sp])
	return true
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

// isName reports whether a header name is long or its compact form short
// ("" for none).
func isName(name []byte, long, short string) bool {
	return bytes.EqualFold(name, []byte(long)) || short != "" && bytes.EqualFold(name, []byte(short))
}

package main

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/xphone-go/xphone/phonetest"
	"github.com/xphone-go/xphone/sipmsg"
)

// ladder collects the PBX's message trace (PBXConfig.OnMessage) and prints
// it as a three-column SIP ladder: caller, PBX, callee.
type ladder struct {
	mu     sync.Mutex
	events []phonetest.MessageEvent
}

// record is the PBX's OnMessage hook. It keeps the event; it never calls
// back into the PBX.
func (l *ladder) record(e phonetest.MessageEvent) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// label returns the short text on an arrow: the method for a request
// (with the SDP direction of a re-INVITE that has one), the code and reason
// for a response, cut to fit width.
func label(m *sipmsg.Message, width int) string {
	var s string
	if m.IsRequest() {
		s = m.Method
		if m.Method == "INVITE" {
			for _, d := range []string{"sendonly", "recvonly", "inactive"} {
				if strings.Contains(string(m.Body), "a="+d) {
					s += " (" + d + ")"
				}
			}
		}
	} else {
		s = strconv.Itoa(m.StatusCode) + " " + m.Reason
	}
	if len(s) > width {
		s = s[:width-1] + "…"
	}
	return s
}

// print writes the ladder. names maps "host:port" of each phone to the
// column it goes in: 0 for the left phone, 2 for the right one; other
// peers are shown on the far right with their address.
func (l *ladder) print(w io.Writer, left, right string, names map[string]int) {
	l.mu.Lock()
	events := append([]phonetest.MessageEvent(nil), l.events...)
	l.mu.Unlock()
	const col = 24 // characters between two lifelines
	fmt.Fprintf(w, "       %-*s%-*s%s\n", col, left, col, "PBX", right)
	for i, e := range events {
		side, known := names[e.Remote]
		if !known {
			side = 2
		}
		text := label(e.Msg, col-6)
		arrow := "-" + text + strings.Repeat("-", col-3-len([]rune(text)))
		var line string
		switch {
		case side == 0 && !e.Sent: // left → PBX
			line = "|" + arrow + ">|" + strings.Repeat(" ", col-1) + "|"
		case side == 0 && e.Sent: // PBX → left
			line = "|<" + arrow + "|" + strings.Repeat(" ", col-1) + "|"
		case !e.Sent: // right → PBX
			line = "|" + strings.Repeat(" ", col-1) + "|<" + arrow + "|"
		default: // PBX → right
			line = "|" + strings.Repeat(" ", col-1) + "|" + arrow + ">|"
		}
		extra := ""
		if !known {
			extra = "  " + e.Remote
		}
		fmt.Fprintf(w, "  %3d  %s%s\n", i+1, line, extra)
	}
}

// hostPort extracts "host:port" from a contact URI or a binding source
// ("udp:127.0.0.1:4000", "sip:alice@127.0.0.1:4000;transport=udp").
func hostPort(s string) string {
	if u, err := sipmsg.ParseURI(s); err == nil && u.Host != "" && u.Port != 0 {
		return net.JoinHostPort(u.Host, strconv.Itoa(u.Port))
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

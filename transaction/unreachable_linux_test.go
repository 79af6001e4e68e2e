//go:build linux && (amd64 || arm64)

package transaction

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// icmpLayer returns a layer over a UDP listener on 127.0.0.1 whose ICMP
// errors go to the layer, with T1 an hour so that no timer ends anything
// during the test.
func icmpLayer(t *testing.T, u TU) (*Layer, *transport.Manager) {
	var l *Layer
	m := transport.New(transport.Config{
		Handler:       func(in transport.Inbound) { l.HandleInbound(in) },
		OnUnreachable: func(dst transport.Addr, quoted []byte, err error) { l.Unreachable(dst, quoted, err) },
		Logger:        quiet,
	})
	l = New(m, u, Config{T1: time.Hour, Logger: quiet})
	t.Cleanup(func() {
		_ = l.Close()
		_ = m.Close()
	})
	if err := m.Listen(context.Background(), transport.UDP, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return l, m
}

// TestUnreachableSockets: over real UDP sockets, with the transport's
// OnUnreachable given to the layer, an OPTIONS to a port where nothing
// listens ends with the ICMP error at once, not after Timer F.
func TestUnreachableSockets(t *testing.T) {
	l, m := icmpLayer(t, &sockUA{})
	gone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	dst := transport.Addr{Protocol: transport.UDP, AddrPort: gone.LocalAddr().(*net.UDPAddr).AddrPort()}
	gone.Close()
	n := &sockNode{m: m, l: l, proto: transport.UDP}
	req := n.newRequest("OPTIONS", dst, &dialog{callID: "icmp1", fromTag: "f1", seq: 1}, "")
	tx, err := l.Request(context.Background(), req, dst)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case _, open := <-tx.Responses():
		if open {
			t.Fatal("a response from nowhere")
		}
	case <-time.After(sockWait):
		t.Fatal("the transaction did not end")
	}
	if err := tx.Err(); !errors.Is(err, ErrTransport) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Err: got %v, want ErrTransport and ECONNREFUSED", err)
	}
}

// busyTU answers every request 486, once gone is closed, and passes on
// what the layer reports.
type busyTU struct {
	gone chan struct{}
	errs chan error
}

func (u busyTU) HandleRequest(tx *ServerTx) {
	<-u.gone
	r := sipmsg.NewResponse(tx.Request(), 486, "")
	_ = r.SetToTag("busy")
	_ = tx.Respond(r)
}
func (busyTU) HandleOutside(transport.Inbound)            {}
func (u busyTU) HandleServerError(_ *ServerTx, err error) { u.errs <- err }

// TestUnreachableServerSockets: over real UDP sockets, the 486 to an
// INVITE whose sender has gone comes back as an ICMP error, and the server
// transaction ends and says so at once instead of retransmitting the 486
// until Timer H.
func TestUnreachableServerSockets(t *testing.T) {
	u := busyTU{gone: make(chan struct{}), errs: make(chan error, 1)}
	l, m := icmpLayer(t, u)
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(m.LocalAddr(transport.UDP)))
	if err != nil {
		t.Fatal(err)
	}
	from := c.LocalAddr().String()
	invite := "INVITE sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + from + ";branch=z9hG4bKgone;rport\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=a\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: gone@h\r\n" +
		"CSeq: 1 INVITE\r\nContact: <sip:a@" + from + ">\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(invite)); err != nil {
		t.Fatal(err)
	}
	c.Close() // the INVITE is in the listener's queue; the 486 finds no one
	close(u.gone)
	select {
	case err := <-u.errs:
		if !errors.Is(err, ErrTransport) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("reported: got %v, want ErrTransport and ECONNREFUSED", err)
		}
	case <-time.After(sockWait):
		t.Fatal("the ICMP error was not reported")
	}
	checkEmpty(t, l)
}

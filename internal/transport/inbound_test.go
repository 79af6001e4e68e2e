package transport

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/xphone-go/xphone/sipmsg"
)

// options returns an OPTIONS request with the given top Via value.
func options(via string) string {
	return "OPTIONS sip:bob@example.com SIP/2.0\r\n" +
		"Via: " + via + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:alice@example.com>;tag=1\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"Call-ID: c1@example.com\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n"
}

// TestReceivedAndRPort: RFC 3261 §18.2.1 and RFC 3581 §4 on a request from
// a raw socket, and the response routed back per §18.2.2.
func TestReceivedAndRPort(t *testing.T) {
	b := newEndpoint(t, UDP, "127.0.0.1", Config{})
	peer := rawUDP(t, "127.0.0.1")
	port := strconv.Itoa(int(localPort(peer).Port()))
	other := rawUDP(t, "127.0.0.1") // listens at a sent-by port other than the source port
	otherPort := strconv.Itoa(int(localPort(other).Port()))
	tests := []struct {
		name    string
		via     string
		wantVia string
		replyTo string // "peer" or "other"
	}{
		{"rport asked", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport",
			"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport=" + port + ";received=127.0.0.1", "peer"},
		{"rport asked, same host", "SIP/2.0/UDP 127.0.0.1:" + otherPort + ";rport;branch=z9hG4bK2",
			"SIP/2.0/UDP 127.0.0.1:" + otherPort + ";rport=" + port + ";branch=z9hG4bK2;received=127.0.0.1", "peer"},
		{"no rport, other host", "SIP/2.0/UDP 192.0.2.1:" + otherPort + ";branch=z9hG4bK3",
			"SIP/2.0/UDP 192.0.2.1:" + otherPort + ";branch=z9hG4bK3;received=127.0.0.1", "other"},
		{"no rport, name", "SIP/2.0/UDP pc33.example.com:" + port + ";branch=z9hG4bK4",
			"SIP/2.0/UDP pc33.example.com:" + port + ";branch=z9hG4bK4;received=127.0.0.1", "peer"},
		{"no rport, same host", "SIP/2.0/UDP 127.0.0.1:" + otherPort + ";branch=z9hG4bK5",
			"SIP/2.0/UDP 127.0.0.1:" + otherPort + ";branch=z9hG4bK5", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := peer.WriteToUDPAddrPort([]byte(options(tt.via)), b.LocalAddr(UDP)); err != nil {
				t.Fatal(err)
			}
			in := b.recv(t)
			if got := in.Msg.Get("Via"); got != tt.wantVia {
				t.Errorf("Via: got %v, want %v", got, tt.wantVia)
			}
			if err := b.Send(context.Background(), sipmsg.NewResponse(in.Msg, 200, ""), in.Source); err != nil {
				t.Fatal(err)
			}
			to := peer
			if tt.replyTo == "other" {
				to = other
			}
			resp := readDatagram(t, to)
			if got, want := resp.Get("Via"), tt.wantVia; got != want {
				t.Errorf("response Via: got %v, want %v", got, want)
			}
		})
	}
}

// TestResponseTarget: RFC 3261 §18.2.2 and RFC 3581 §4.
func TestResponseTarget(t *testing.T) {
	src := Addr{Protocol: UDP, AddrPort: netip.MustParseAddrPort("198.51.100.7:40000")}
	stream := Addr{Protocol: TCP, AddrPort: netip.MustParseAddrPort("198.51.100.7:40000"), ConnID: 9}
	tests := []struct {
		name string
		via  string
		src  Addr
		want Addr
	}{
		{"rport filled", "SIP/2.0/UDP 10.0.0.1:5060;rport=40000;received=198.51.100.7", src,
			Addr{Protocol: UDP, AddrPort: netip.MustParseAddrPort("198.51.100.7:40000")}},
		{"received, sent-by port", "SIP/2.0/UDP 10.0.0.1:5070;received=198.51.100.7", src,
			Addr{Protocol: UDP, AddrPort: netip.MustParseAddrPort("198.51.100.7:5070")}},
		{"received, default port", "SIP/2.0/UDP 10.0.0.1;received=198.51.100.7", src,
			Addr{Protocol: UDP, AddrPort: netip.MustParseAddrPort("198.51.100.7:5060")}},
		{"sent-by only", "SIP/2.0/UDP 198.51.100.7:5062", src,
			Addr{Protocol: UDP, AddrPort: netip.MustParseAddrPort("198.51.100.7:5062")}},
		{"IPv6 received", "SIP/2.0/UDP [2001:db8::1]:5060;rport=4000;received=2001:db8::9", src,
			Addr{Protocol: UDP, AddrPort: netip.MustParseAddrPort("[2001:db8::9]:4000")}},
		{"name without received", "SIP/2.0/UDP pc33.example.com", src, src},
		{"stream keeps the connection", "SIP/2.0/TCP 10.0.0.1:5060;rport=40000;received=198.51.100.7", stream,
			Addr{Protocol: TCP, AddrPort: netip.MustParseAddrPort("198.51.100.7:5060"), ConnID: 9}},
		{"TLS default port", "SIP/2.0/TLS 10.0.0.1;received=198.51.100.7", Addr{Protocol: TLS},
			Addr{Protocol: TLS, AddrPort: netip.MustParseAddrPort("198.51.100.7:5061")}},
		{"protocol from Via", "SIP/2.0/TCP 198.51.100.7:5080", Addr{},
			Addr{Protocol: TCP, AddrPort: netip.MustParseAddrPort("198.51.100.7:5080")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := sipmsg.Parse([]byte("SIP/2.0 200 OK\r\nVia: " + tt.via + "\r\nContent-Length: 0\r\n\r\n"))
			if err != nil {
				t.Fatal(err)
			}
			if got := responseTarget(resp, tt.src); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestBadRequestAnswered400: RFC 3261 §8.2, §21.4.1.
func TestBadRequestAnswered400(t *testing.T) {
	b := newEndpoint(t, UDP, "127.0.0.1", Config{})
	peer := rawUDP(t, "127.0.0.1")
	via := "SIP/2.0/UDP 127.0.0.1:" + strconv.Itoa(int(localPort(peer).Port())) + ";branch=z9hG4bK1;rport"
	tests := []struct {
		name, msg, reason string
	}{
		{"no Call-ID", strings.Replace(options(via), "Call-ID: c1@example.com\r\n", "", 1), "Missing Call-ID header"},
		{"two From", strings.Replace(options(via), "To:", "From: <sip:x@example.com>;tag=2\r\nTo:", 1), "More than one From header"},
		{"bad Max-Forwards", strings.Replace(options(via), "Max-Forwards: 70", "Max-Forwards: 300", 1), ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := peer.WriteToUDPAddrPort([]byte(tt.msg), b.LocalAddr(UDP)); err != nil {
				t.Fatal(err)
			}
			resp := readDatagram(t, peer)
			if got, want := resp.StatusCode, 400; got != want {
				t.Errorf("status: got %v, want %v", got, want)
			}
			if tt.reason != "" && resp.Reason != tt.reason {
				t.Errorf("reason: got %v, want %v", resp.Reason, tt.reason)
			}
			if resp.Reason == "" || resp.Reason == "Bad Request" {
				t.Errorf("reason: got %q, want one that names the problem", resp.Reason)
			}
			if got, want := b.Stats().BadRequests, uint64(i+1); got != want {
				t.Errorf("bad requests: got %v, want %v", got, want)
			}
		})
	}
	select {
	case in := <-b.in:
		t.Errorf("handler got %v, want nothing", in.Msg)
	default:
	}
}

// TestDatagramsDropped: oversize and unparsable datagrams and responses
// that are not ours are dropped and counted; a good one after them passes.
func TestDatagramsDropped(t *testing.T) {
	b := newEndpoint(t, UDP, "127.0.0.1", Config{Parser: sipmsg.Parser{MaxMessageSize: 1000}})
	peer := rawUDP(t, "127.0.0.1")
	ours := b.LocalAddr(UDP).String()
	big := options("SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK1") + strings.Repeat("x", 1000)
	for _, d := range []string{
		big,
		"garbage\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP " + ours + ";branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP " + ours + ";branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	} {
		if _, err := peer.WriteToUDPAddrPort([]byte(d), b.LocalAddr(UDP)); err != nil {
			t.Fatal(err)
		}
	}
	in := b.recv(t) // one reader: datagrams are handled in order
	if got, want := in.Msg.StatusCode, 200; got != want {
		t.Errorf("status: got %v, want %v", got, want)
	}
	want := Stats{Received: 1, Dropped: 4, Oversize: 1, ParseErrors: 1}
	if got := b.Stats(); got != want {
		t.Errorf("stats: got %+v, want %+v", got, want)
	}
}

func TestOwnsSentByHook(t *testing.T) {
	var asked []string
	b := newEndpoint(t, UDP, "127.0.0.1", Config{OwnsSentBy: func(host string, port int) bool {
		asked = append(asked, host+":"+strconv.Itoa(port))
		return host == "pbx.example.com"
	}})
	peer := rawUDP(t, "127.0.0.1")
	for _, host := range []string{"elsewhere.example.com", "pbx.example.com"} {
		resp := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP " + host + ":5060;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
		if _, err := peer.WriteToUDPAddrPort([]byte(resp), b.LocalAddr(UDP)); err != nil {
			t.Fatal(err)
		}
	}
	in := b.recv(t)
	if v, _ := in.Msg.Via(); v.Host != "pbx.example.com" {
		t.Errorf("got %v, want pbx.example.com", v.Host)
	}
	if got, want := strings.Join(asked, ","), "elsewhere.example.com:5060,pbx.example.com:5060"; got != want {
		t.Errorf("asked: got %v, want %v", got, want)
	}
}

func TestSendErrors(t *testing.T) {
	m := New(Config{Logger: quietLog})
	defer m.Close()
	req := newRequest(m, UDP)
	tests := []struct {
		dst  Addr
		want error
	}{
		{Addr{Protocol: UDP, AddrPort: netip.MustParseAddrPort("127.0.0.1:5060")}, ErrNoListener},
		{Addr{Protocol: 9, AddrPort: netip.MustParseAddrPort("127.0.0.1:5060")}, ErrUnknownProtocol},
	}
	for _, tt := range tests {
		if err := m.Send(context.Background(), req, tt.dst); !errors.Is(err, tt.want) {
			t.Errorf("%+v: got %v, want %v", tt.dst, err, tt.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Send(ctx, req, tests[0].dst); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want %v", err, context.Canceled)
	}
}

func TestBadRequestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&sipmsg.ParseError{Reason: "missing To header"}, "Missing To header"},
		{&sipmsg.ParseError{Reason: "bad\r\nvalue\x7f"}, "Bad??value?"},
		{&sipmsg.ParseError{Reason: strings.Repeat("a", 200)}, "A" + strings.Repeat("a", 99)},
		{errors.New("other"), "Bad Request"},
	}
	for _, tt := range tests {
		if got := badRequestReason(tt.err); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

// TestNoDeliveryAfterClose: datagrams read in the same batch as Close
// began are dropped, not handed to layers that are shutting down (one
// reached a user agent whose transaction layer was already gone).
func TestNoDeliveryAfterClose(t *testing.T) {
	e := newEndpoint(t, UDP, "127.0.0.1", Config{})
	l := (*e.listeners.Load())[0]
	b := newRequest(e.Manager, UDP).AppendTo(nil)
	from := netip.MustParseAddrPort("127.0.0.1:5999")
	e.receiveDatagram(l, b, false, from)
	select {
	case <-e.in:
	default:
		t.Fatal("open manager: datagram not delivered")
	}
	e.Close()
	e.receiveDatagram(l, b, false, from)
	select {
	case in := <-e.in:
		t.Errorf("closed manager delivered %s", in.Msg.Method)
	default:
	}
}

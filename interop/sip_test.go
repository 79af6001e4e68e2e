//go:build interop

package interop

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// This file is a minimal SIP client for tests that run before the
// transaction layer exists: it writes requests by hand and parses every
// message it receives with sipmsg.Parse. TODO(transaction): replace the
// hand-written requests and the retransmission loop with the transaction
// package once it lands.

// token returns n random bytes in hex, for branches, tags and Call-IDs.
func token(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sipClient sends requests to one server over UDP or TCP from one local
// socket and reads the replies.
type sipClient struct {
	transport string // "udp" or "tcp"
	server    string // host:port
	udp       *net.UDPConn
	tcp       net.Conn
	rd        *bufio.Reader
	local     *net.UDPAddr // or TCP address, as host and port
}

func dialSIP(t *testing.T, transport, server string) *sipClient {
	t.Helper()
	c := &sipClient{transport: transport, server: server}
	switch transport {
	case "udp":
		raddr, err := net.ResolveUDPAddr("udp4", server)
		if err != nil {
			t.Fatal(err)
		}
		c.udp, err = net.DialUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, raddr)
		if err != nil {
			t.Fatal(err)
		}
		c.local = c.udp.LocalAddr().(*net.UDPAddr)
		t.Cleanup(func() { c.udp.Close() })
	case "tcp":
		var err error
		c.tcp, err = net.DialTimeout("tcp4", server, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		a := c.tcp.LocalAddr().(*net.TCPAddr)
		c.local = &net.UDPAddr{IP: a.IP, Port: a.Port}
		c.rd = bufio.NewReader(c.tcp)
		t.Cleanup(func() { c.tcp.Close() })
	default:
		t.Fatalf("unknown transport %q", transport)
	}
	return c
}

// hostport returns the client's local address as host:port.
func (c *sipClient) hostport() string { return c.local.String() }

// request is a hand-built SIP request.
type request struct {
	method, uri string
	headers     []string // "Name: value" after the generated Via
	body        string
}

// build writes the request with a fresh branch and the Content-Length.
func (c *sipClient) build(r request, branch string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", r.method, r.uri)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%s;rport\r\n", strings.ToUpper(c.transport), c.hostport(), branch)
	for _, h := range r.headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("Max-Forwards: 70\r\n")
	b.WriteString("User-Agent: xphone-interop\r\n")
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(r.body))
	b.WriteString(r.body)
	return []byte(b.String())
}

// roundTrip sends r and returns the first final (≥200) response to it,
// parsed by sipmsg; over UDP it retransmits every 500 ms (RFC 3261
// §17.1.2.2 Timer E, kept flat for the test). It fails the test after
// 10 s. Provisional responses are checked to parse and skipped.
func (c *sipClient) roundTrip(t *testing.T, r request) *sipmsg.Message {
	t.Helper()
	branch := "z9hG4bK" + token(8)
	raw := c.build(r, branch)
	deadline := time.Now().Add(10 * time.Second)
	if err := c.send(raw); err != nil {
		t.Fatalf("send %s: %v", r.method, err)
	}
	nextRetx := time.Now().Add(500 * time.Millisecond)
	for {
		wait := time.Until(deadline)
		if c.transport == "udp" {
			wait = min(wait, time.Until(nextRetx))
		}
		msg, err := c.read(wait)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				if time.Now().After(deadline) {
					t.Fatalf("%s over %s: no final response in 10 s", r.method, c.transport)
				}
				if c.transport == "udp" {
					if err := c.send(raw); err != nil {
						t.Fatal(err)
					}
					nextRetx = time.Now().Add(500 * time.Millisecond)
				}
				continue
			}
			t.Fatalf("%s over %s: %v", r.method, c.transport, err)
		}
		m, err := sipmsg.Parse(msg)
		if err != nil {
			t.Fatalf("sipmsg.Parse of the reply to %s: %v\n%s", r.method, err, msg)
		}
		if m.IsRequest() {
			t.Fatalf("got request %s, want a response to %s", m.Method, r.method)
		}
		v, err := sipmsg.ParseVia(m.Values("Via")[0])
		if err != nil {
			t.Fatalf("reply Via: %v", err)
		}
		if v.Branch() != branch {
			continue // a late reply to an earlier request
		}
		if m.StatusCode >= 200 {
			return m
		}
	}
}

func (c *sipClient) send(b []byte) error {
	if c.transport == "udp" {
		_, err := c.udp.Write(b)
		return err
	}
	_, err := c.tcp.Write(b)
	return err
}

// read returns the next message from the server within d.
func (c *sipClient) read(d time.Duration) ([]byte, error) {
	if d < time.Millisecond {
		d = time.Millisecond
	}
	if c.transport == "udp" {
		buf := make([]byte, 65535)
		c.udp.SetReadDeadline(time.Now().Add(d))
		n, err := c.udp.Read(buf)
		return buf[:n], err
	}
	c.tcp.SetReadDeadline(time.Now().Add(d))
	return readStreamMessage(c.rd)
}

// readStreamMessage frames one SIP message on a stream by its
// Content-Length (RFC 3261 §18.3), skipping CRLF keepalives.
func readStreamMessage(rd *bufio.Reader) ([]byte, error) {
	var head []byte
	length := 0
	for {
		line, err := rd.ReadBytes('\n')
		if err != nil {
			return nil, err
		}
		if len(head) == 0 && strings.TrimSpace(string(line)) == "" {
			continue
		}
		head = append(head, line...)
		s := strings.TrimSpace(string(line))
		if s == "" {
			break
		}
		name, value, ok := strings.Cut(s, ":")
		if n := strings.ToLower(strings.TrimSpace(name)); ok && (n == "content-length" || n == "l") {
			if length, err = strconv.Atoi(strings.TrimSpace(value)); err != nil || length < 0 || length > 1<<16 {
				return nil, fmt.Errorf("bad Content-Length %q", value)
			}
		}
		if len(head) > 1<<16 {
			return nil, fmt.Errorf("header longer than 64 KiB")
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, err
	}
	return append(head, body...), nil
}

package ua

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// srvRecord is an SRV record of fakeDNS.
type srvRecord struct {
	prio, weight, port uint16
	target             string
}

// fakeDNS is a DNS server on loopback UDP that knows a few SRV and A
// records; other names are NXDOMAIN. resolver() points a net.Resolver at
// it whatever address the system configuration names.
type fakeDNS struct {
	pc   net.PacketConn
	srv  map[string][]srvRecord
	a    map[string][]netip.Addr
	mute map[string]bool // names whose SRV queries get no answer at all
	wg   sync.WaitGroup
}

func newFakeDNS(t *testing.T, srv map[string][]srvRecord, a map[string][]netip.Addr, mute ...string) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDNS{pc: pc, srv: srv, a: a, mute: map[string]bool{}}
	for _, n := range mute {
		d.mute[n] = true
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := d.answer(buf[:n]); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); d.wg.Wait() })
	return d
}

func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "udp", d.pc.LocalAddr().String())
	}}
}

// answer builds the response to one query (RFC 1035 §4).
func (d *fakeDNS) answer(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	name := strings.ToLower(strings.Join(labels, ".")) + "."
	if qtype == 33 && d.mute[name] {
		return nil
	}
	resp := binary.BigEndian.AppendUint16(nil, binary.BigEndian.Uint16(q))
	var rrs [][]byte
	rcode := uint16(0)
	srvs, hasSRV := d.srv[name]
	addrs, hasA := d.a[name]
	switch {
	case !hasSRV && !hasA:
		rcode = 3 // NXDOMAIN
	case qtype == 33:
		for _, s := range srvs {
			rd := binary.BigEndian.AppendUint16(nil, s.prio)
			rd = binary.BigEndian.AppendUint16(rd, s.weight)
			rd = binary.BigEndian.AppendUint16(rd, s.port)
			for _, l := range strings.Split(strings.TrimSuffix(s.target, "."), ".") {
				if l != "" {
					rd = append(append(rd, byte(len(l))), l...)
				}
			}
			rd = append(rd, 0) // the root
			rrs = append(rrs, append(rr(33, len(rd)), rd...))
		}
	case qtype == 1:
		for _, a := range addrs {
			b := a.As4()
			rrs = append(rrs, append(rr(1, 4), b[:]...))
		}
	}
	resp = binary.BigEndian.AppendUint16(resp, 0x8180|rcode)
	for _, n := range []int{1, len(rrs), 0, 0} {
		resp = binary.BigEndian.AppendUint16(resp, uint16(n))
	}
	resp = append(resp, question...)
	for _, r := range rrs {
		resp = append(resp, r...)
	}
	return resp
}

// rr is a resource record's header for the question's name (a pointer to
// offset 12), class IN, TTL 60.
func rr(typ uint16, rdlen int) []byte {
	b := []byte{0xc0, 12}
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint32(b, 60)
	return binary.BigEndian.AppendUint16(b, uint16(rdlen))
}

// TestResolveSIP: RFC 3263 §4.2 once the transport is known: an address
// or an explicit port is used as given; otherwise SRV records by priority,
// skipping a target that does not resolve; without them, A with the
// default port; a target of "." means no service.
func TestResolveSIP(t *testing.T) {
	t.Parallel()
	ip := netip.MustParseAddr
	d := newFakeDNS(t, map[string][]srvRecord{
		"_sip._udp.pbx.test.":  {{10, 0, 5070, "gone.pbx.test."}, {20, 0, 5080, "b.pbx.test."}},
		"_sips._tcp.pbx.test.": {{10, 0, 5062, "tls.pbx.test."}},
		"_sip._udp.none.test.": {{0, 0, 0, "."}},
	}, map[string][]netip.Addr{
		"pbx.test.":     {ip("127.0.0.2")},
		"b.pbx.test.":   {ip("127.0.0.3")},
		"tls.pbx.test.": {ip("127.0.0.4")},
		"none.test.":    {ip("127.0.0.5")},
	})
	u := New(Config{Resolver: d.resolver()})
	for _, c := range []struct {
		host  string
		port  int
		proto transport.Protocol
		want  string
	}{
		{"pbx.test", 0, transport.UDP, "127.0.0.3:5080"},
		{"pbx.test", 0, transport.TLS, "127.0.0.4:5062"},
		{"pbx.test", 0, transport.TCP, "127.0.0.2:5060"},
		{"pbx.test", 5099, transport.UDP, "127.0.0.2:5099"},
		{"127.0.0.9", 0, transport.TLS, "127.0.0.9:5061"},
		{"none.test", 0, transport.UDP, ""},
		{"missing.test", 0, transport.UDP, ""},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got, err := u.resolveSIP(ctx, c.host, c.port, c.proto)
		cancel()
		switch {
		case c.want == "" && err == nil:
			t.Errorf("%s:%d %v: got %v, want an error", c.host, c.port, c.proto, got)
		case c.want != "" && (err != nil || got.String() != c.want):
			t.Errorf("%s:%d %v: got %v, %v; want %s", c.host, c.port, c.proto, got, err, c.want)
		}
	}
}

// TestRegisterViaSRV: a registrar named by domain only (Port 0) is found
// through its _sip._udp SRV record, and the REGISTER names the domain.
func TestRegisterViaSRV(t *testing.T) {
	f := startFake(t, transport.UDP, "127.0.0.1:0", 60)
	d := newFakeDNS(t, map[string][]srvRecord{
		"_sip._udp.voip.test.": {{10, 0, uint16(f.port()), "reg.voip.test."}},
	}, map[string][]netip.Addr{"reg.voip.test.": {netip.MustParseAddr("127.0.0.1")}})
	events := make(chan string, 16)
	u := fakeUA(f, events, func(c *Config) {
		c.Host, c.Port, c.Resolver = "voip.test", 0, d.resolver()
	})
	connect(t, u)
	waitEvent(t, events, "registered")
	s := f.nextRegister(t)
	if got, want := s.msg.RequestURI.String(), "sip:voip.test"; got != want {
		t.Errorf("Request-URI: got %s, want %s", got, want)
	}
}

// TestRegisterSRVFailover: RFC 3263 §4.3. The first SRV target of the
// registrar does not answer: Connect registers with the second. When that
// one stops answering, the refresh that fails moves the UA on to the next
// target (around to the first, now answering), without the user doing
// anything.
func TestRegisterSRVFailover(t *testing.T) {
	first := startFake(t, transport.UDP, "127.0.0.1:0", 1)
	first.stop() // its port stays known, nobody answers there
	second := startFake(t, transport.UDP, "127.0.0.1:0", 1)
	d := newFakeDNS(t, map[string][]srvRecord{
		"_sip._udp.voip.test.": {
			{10, 0, uint16(first.port()), "a.voip.test."},
			{20, 0, uint16(second.port()), "b.voip.test."},
		},
	}, map[string][]netip.Addr{
		"a.voip.test.": {netip.MustParseAddr("127.0.0.1")},
		"b.voip.test.": {netip.MustParseAddr("127.0.0.1")},
	})
	events := make(chan string, 16)
	u := fakeUA(second, events, func(c *Config) {
		c.Host, c.Port, c.Resolver = "voip.test", 0, d.resolver()
	})
	connect(t, u)
	waitEvent(t, events, "registered")
	second.nextRegister(t)
	first.restart(t)
	second.stop()
	waitEvent(t, events, "unregistered")
	waitEvent(t, events, "error: ")
	waitEvent(t, events, "registered")
	if got := first.bound(); got != 1 {
		t.Errorf("bindings at the first target after the failover: got %d, want 1", got)
	}
}

// TestResolveSIPSilentDNS: a DNS server that never answers the SRV query
// costs srvTimeout, not the caller's whole deadline, before the A record
// is used: with twice srvTimeout to spend, the address comes.
func TestResolveSIPSilentDNS(t *testing.T) {
	t.Parallel()
	d := newFakeDNS(t, nil, map[string][]netip.Addr{"pbx.test.": {netip.MustParseAddr("127.0.0.2")}}, "_sip._udp.pbx.test.")
	u := New(Config{Resolver: d.resolver()})
	ctx, cancel := context.WithTimeout(context.Background(), 2*srvTimeout)
	defer cancel()
	got, err := u.resolveSIP(ctx, "pbx.test", 0, transport.UDP)
	if err != nil || got.String() != "127.0.0.2:5060" {
		t.Errorf("got %v, %v; want 127.0.0.2:5060 once the SRV query gave up", got, err)
	}
}

// TestDialSRVFailover: RFC 3263 §4.3 for a call. The target's first SRV
// server answers 503: the INVITE goes, with a new branch and the same
// Call-ID and CSeq, to the second, which answers.
func TestDialSRVFailover(t *testing.T) {
	t.Parallel()
	p1, p2 := newPeer(t), newPeer(t)
	d := newFakeDNS(t, map[string][]srvRecord{
		"_sip._udp.far.test.": {{10, 0, uint16(p1.port), "a.far.test."}, {20, 0, uint16(p2.port), "b.far.test."}},
	}, map[string][]netip.Addr{
		"a.far.test.": {netip.MustParseAddr("127.0.0.1")},
		"b.far.test.": {netip.MustParseAddr("127.0.0.1")},
	})
	u := newUA(t, func(c *Config) { c.Resolver = d.resolver() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := dialAsync(ctx, u, "sip:bob@far.test", DialOptions{})
	inv1 := p1.next("INVITE at the first server", isReq("INVITE"))
	p1.respond(inv1, 503, token(), "")
	p1.next("ACK of the 503", isReq("ACK"))
	inv2 := p2.next("INVITE at the second server", isReq("INVITE"))
	cs1, _ := inv1.m.CSeq()
	cs2, _ := inv2.m.CSeq()
	v1, _ := inv1.m.Via()
	v2, _ := inv2.m.Via()
	if inv2.m.CallID() != inv1.m.CallID() || cs2 != cs1 || v2.Branch() == v1.Branch() {
		t.Errorf("second INVITE: Call-ID %s CSeq %v branch %s; want %s, %v, a new branch",
			inv2.m.CallID(), cs2, v2.Branch(), inv1.m.CallID(), cs1)
	}
	sink := newRTPSink(t)
	p2.respond(inv2, 200, token(), peerSDP(sink.port, "PCMU"))
	r := recvDial(t, res)
	if r.err != nil {
		t.Fatalf("Dial: %v", r.err)
	}
	p2.next("ACK of the 200", isReq("ACK"))
	p2.hangupFrom(r.c)
}

// TestInboundLookupOffReader: the next hop of an inbound call named by a
// host (here its Record-Route) is looked up on a goroutine of its own,
// not on the transport's reader that handles the INVITE: while the DNS
// server does not answer, the call rings and is answered, and an OPTIONS
// is answered too. A BYE of ours waits for the lookup; when it fails the
// BYE goes where the INVITE came from, with the route.
func TestInboundLookupOffReader(t *testing.T) {
	t.Parallel()
	release, asked, hung := gatedResolver(nil)
	calls := make(chan *Call, 1)
	u := newUA(t, func(c *Config) { c.Resolver, c.OnIncoming = hung, acceptAll(t, calls) })
	p := newPeer(t)
	inv := p.invite(uaURI(u), peerSDP(40000, "PCMU"))
	inv.Add("Record-Route", "<sip:proxy.voip.test;lr>")
	p.send(inv, netipAddr(u))
	waitAsked(t, asked)
	ok := p.next("200 to the INVITE while the lookup hangs", isResp(200, "INVITE"))
	p.send(p.ack(inv, ok.m, ""), ok.from)
	c := recvCall(t, calls)
	p.options(u)

	ended := make(chan error, 1)
	go func() { ended <- c.End(context.Background()) }()
	if m := p.none(300*time.Millisecond, isReq("BYE")); m != nil {
		t.Error("a BYE before the lookup ended")
	}
	close(release)
	bye := p.next("BYE once the lookup failed", isReq("BYE"))
	if got := bye.m.Get("Route"); !strings.Contains(got, "proxy.voip.test") {
		t.Errorf("BYE Route: got %q, want the Record-Route", got)
	}
	p.respond(bye, 200, "", "")
	if err := <-ended; err != nil {
		t.Errorf("End: %v", err)
	}
}

// TestForkLookupOffReader: the next hop of another fork's dialog, named
// by a host (its Record-Route), is looked up off the transport's reader:
// an OPTIONS is answered while the lookup hangs; when it fails, the
// fork's ACK and BYE go where the call's requests go.
func TestForkLookupOffReader(t *testing.T) {
	t.Parallel()
	release, asked, hung := gatedResolver(nil)
	p := newPeer(t)
	u := newUA(t, func(c *Config) { c.Resolver = hung })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := p.dialAnswered(ctx, u)
	fork := token()
	p.respond(a.inv, 200, fork, peerSDP(a.sink.port, "PCMU"), "Record-Route", "<sip:fork-proxy.voip.test;lr>")
	waitAsked(t, asked)
	p.options(u)
	close(release)
	toFork := func(method string) func(*sipmsg.Message) bool {
		return func(m *sipmsg.Message) bool {
			to, err := m.To()
			return m.IsRequest() && m.Method == method && err == nil && to.Tag() == fork
		}
	}
	p.next("ACK of the fork's 200", toFork("ACK"))
	p.respond(p.next("BYE to the fork", toFork("BYE")), 200, "", "")
	p.hangupFrom(a.c)
}

func waitAsked(t *testing.T, asked chan struct{}) {
	t.Helper()
	select {
	case <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("no DNS query")
	}
}

// options sends u an OPTIONS and waits for its 200: the transport's
// reader is free.
func (p *peer) options(u *UA) {
	p.t.Helper()
	opt := p.invite(uaURI(u), "")
	opt.Method = "OPTIONS"
	opt.Set("CSeq", "1 OPTIONS")
	p.send(opt, netipAddr(u))
	p.next("200 to OPTIONS", isResp(200, "OPTIONS"))
}

// TestLateLookupOffReader: a 2xx that crossed our CANCEL, with a route
// named by a host, is ACKed and ended with BYE without holding up the
// transport's reader: an OPTIONS is answered while the DNS server waits;
// then ACK and BYE go to the address the name resolves to.
func TestLateLookupOffReader(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	dns := newFakeDNS(t, nil, map[string][]netip.Addr{"late-proxy.voip.test.": {netip.MustParseAddr("127.0.0.1")}})
	release, asked, gated := gatedResolver(dns)
	u := newUA(t, func(c *Config) { c.Resolver = gated })
	p.answerAfterCancel(u, "Record-Route", fmt.Sprintf("<sip:late-proxy.voip.test:%d;lr>", p.port))
	waitAsked(t, asked)
	p.options(u)
	close(release)
	p.next("ACK of the late 200", isReq("ACK"))
	bye := p.next("BYE after the late 200", isReq("BYE"))
	if got := bye.m.Get("Route"); !strings.Contains(got, "late-proxy.voip.test") {
		t.Errorf("BYE Route: got %q, want the Record-Route", got)
	}
	p.respond(bye, 200, "", "")
}

// gatedResolver returns a resolver whose queries wait until release is
// closed and then go to dns (fail, when dns is nil), and a channel that
// hears of each query.
func gatedResolver(dns *fakeDNS) (release chan struct{}, asked chan struct{}, r *net.Resolver) {
	release, asked = make(chan struct{}), make(chan struct{}, 64)
	r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		select {
		case asked <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if dns == nil {
			return nil, errors.New("no DNS server here")
		}
		var dl net.Dialer
		return dl.DialContext(ctx, "udp", dns.pc.LocalAddr().String())
	}}
	return release, asked, r
}

// TestMediaLookupOffReader: a re-INVITE whose SDP names its media host
// (c=IN IP4 media.voip.test, RFC 4566 §5.7) is answered while the DNS
// server holds the lookup, and an OPTIONS too: the transport's reader,
// which applies the offer, does not wait on DNS. Once the name resolves,
// the call's audio goes to it.
func TestMediaLookupOffReader(t *testing.T) {
	t.Parallel()
	dns := newFakeDNS(t, nil, map[string][]netip.Addr{"media.voip.test.": {netip.MustParseAddr("127.0.0.1")}})
	release, asked, gated := gatedResolver(dns)
	d := peerCalls(t, func(c *Config) { c.Resolver = gated })
	sink := newRTPSink(t)
	offer := strings.ReplaceAll(peerSDP(sink.port, "PCMU"), "IN IP4 127.0.0.1", "IN IP4 media.voip.test")
	ok := d.ask("INVITE", offer)
	if ok.StatusCode != 200 {
		t.Fatalf("re-INVITE: got %d, want 200", ok.StatusCode)
	}
	d.send(d.inviteAck(ok), d.ua)
	waitAsked(t, asked)
	d.options(d.c.u)
	go sendTone(d.c, 440)
	close(release)
	sink.wait(t)
	d.hangupFrom(d.c)
}

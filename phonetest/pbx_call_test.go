package phonetest

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/xphone-go/xphone/sipmsg"
)

// callPair starts a PBX with alice and bob, both registered from raw UAs.
func callPair(t *testing.T, cfg PBXConfig) (pbx *PBX, alice, bob *testUA) {
	t.Helper()
	cfg.Users = map[string]string{"alice": "a-pw", "bob": "b-pw", "carol": "c-pw"}
	pbx = StartPBX(t, cfg)
	alice = newTestUA(t, pbx, "alice", "a-pw")
	bob = newTestUA(t, pbx, "bob", "b-pw")
	for _, ua := range []*testUA{alice, bob} {
		if resp := ua.register("600"); resp.StatusCode != 200 {
			t.Fatalf("%s REGISTER: got %v, want 200", ua.user, resp.StatusCode)
		}
	}
	return pbx, alice, bob
}

// inDialog builds a request of alice's dialog with bob from bob's 2xx:
// Request-URI bob's Contact, Route from the Record-Route in reverse
// (RFC 3261 §12.1.2), bob's To tag.
func inDialog(t *testing.T, ua *testUA, method string, ok *sipmsg.Message, seq string) *sipmsg.Message {
	t.Helper()
	contact, err := ok.Contact()
	if err != nil {
		t.Fatal(err)
	}
	m := ua.request(method, contact.URI.String(), "x")
	m.Set("To", ok.Get("To"))
	rr := ok.Values("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		m.Add("Route", rr[i])
	}
	m.Set("CSeq", seq+" "+method)
	return m
}

// A call through the PBX (RFC 3261 §16): INVITE challenged with 407,
// forwarded to bob with Record-Route, the PBX's Via and Max-Forwards
// decremented; 180 and 200 relayed; ACK and BYE routed through the PBX.
func TestPBXCall(t *testing.T) {
	var mu sync.Mutex
	var ladder []string
	pbx, alice, bob := callPair(t, PBXConfig{OnMessage: func(ev MessageEvent) {
		mu.Lock()
		ladder = append(ladder, ev.String())
		mu.Unlock()
	}})

	inv := alice.request("INVITE", pbx.UserURI("bob"), pbx.UserURI("bob"))
	alice.send(inv)
	resp := alice.response(inv)
	if got, want := resp.StatusCode, 407; got != want {
		t.Fatalf("INVITE: got %v, want %v", got, want)
	}
	inv = alice.authorized(inv, resp)
	alice.send(inv)

	in := bob.requestFor("INVITE")
	if got, want := in.RequestURI.String(), bob.contact(); got != want {
		t.Errorf("Request-URI at bob: got %v, want %v", got, want)
	}
	rr := in.Values("Record-Route")
	if len(rr) != 1 || !strings.Contains(rr[0], pbx.Addr().String()) || !strings.Contains(rr[0], ";lr") {
		t.Errorf("Record-Route at bob: got %v, want one with the PBX's address and lr", rr)
	}
	vias, _ := in.Vias()
	if len(vias) != 2 || vias[0].Port != int(pbx.Addr().Port()) || vias[1].Branch() != branchOf(inv) {
		t.Errorf("Vias at bob: got %v, want the PBX's over alice's", in.Values("Via"))
	}
	if mf, _ := in.MaxForwards(); mf != 69 {
		t.Errorf("Max-Forwards at bob: got %v, want 69", mf)
	}
	if in.Has("Proxy-Authorization") {
		t.Error("the PBX forwarded its own credentials")
	}

	bob.send(bob.answer(in, 180))
	if r := alice.response(inv); r.StatusCode != 180 {
		t.Fatalf("alice: got %v, want 180", r.StatusCode)
	}
	bob.send(bob.answer(in, 200))
	ok := alice.final(inv)
	if ok.StatusCode != 200 {
		t.Fatalf("alice: got %v, want 200", ok.StatusCode)
	}
	if got := len(ok.Values("Via")); got != 1 {
		t.Errorf("Vias in the 200 at alice: got %v, want 1", got)
	}
	if got := ok.Values("Record-Route"); len(got) != 1 {
		t.Errorf("Record-Route in the 200: got %v, want 1 value", got)
	}

	cs, _ := inv.CSeq()
	ack := inDialog(t, alice, "ACK", ok, itoa(cs.Seq))
	alice.send(ack)
	gotAck := bob.requestFor("ACK")
	if got, want := gotAck.RequestURI.String(), bob.contact(); got != want {
		t.Errorf("ACK Request-URI: got %v, want %v", got, want)
	}
	if gotAck.Has("Route") {
		t.Errorf("ACK at bob still has Route %v", gotAck.Values("Route"))
	}

	bye := inDialog(t, alice, "BYE", ok, itoa(cs.Seq+1))
	alice.send(bye)
	gotBye := bob.requestFor("BYE")
	if vias, _ := gotBye.Vias(); len(vias) != 2 {
		t.Errorf("BYE at bob: got %d Vias, want 2 (through the PBX)", len(vias))
	}
	bob.send(bob.answer(gotBye, 200))
	if r := alice.final(bye); r.StatusCode != 200 {
		t.Fatalf("BYE: got %v, want 200", r.StatusCode)
	}

	mu.Lock()
	trace := strings.Join(ladder, "\n")
	mu.Unlock()
	for _, want := range []string{"PBX <- " + alice.addr.String(), "INVITE sip:bob@", "PBX -> " + bob.addr.String(), "180 Ringing (INVITE)", "BYE sip:bob@"} {
		if !strings.Contains(trace, want) {
			t.Errorf("ladder lacks %q:\n%s", want, trace)
		}
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// Requests the proxy answers itself (RFC 3261 §16.3, §16.5).
func TestPBXCallRefused(t *testing.T) {
	pbx, alice, _ := callPair(t, PBXConfig{})
	tests := []struct {
		name   string
		target string
		mf     string
		want   int
	}{
		{name: "unknown user", target: "nobody", want: 404},
		{name: "not registered", target: "carol", want: 480},
		{name: "max-forwards zero", target: "bob", mf: "0", want: 483},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := alice.request("INVITE", pbx.UserURI(tt.target), pbx.UserURI(tt.target))
			if tt.mf != "" {
				inv.Set("Max-Forwards", tt.mf)
			}
			resp, sent := alice.do(inv)
			if got := resp.StatusCode; got != tt.want {
				t.Fatalf("got %v %v, want %v", got, resp.Reason, tt.want)
			}
			ack, err := sipmsg.NewAck(sent, resp)
			if err != nil {
				t.Fatal(err)
			}
			alice.send(ack)
		})
	}
}

// A CANCEL from alice ends her INVITE with 487 and is relayed to bob
// (RFC 3261 §9, §16.10), whose 487 the PBX acknowledges.
func TestPBXCancel(t *testing.T) {
	pbx, alice, bob := callPair(t, PBXConfig{})
	inv := alice.request("INVITE", pbx.UserURI("bob"), pbx.UserURI("bob"))
	alice.send(inv)
	inv = alice.authorized(inv, alice.response(inv))
	alice.send(inv)
	in := bob.requestFor("INVITE")
	bob.send(bob.answer(in, 180))
	if r := alice.response(inv); r.StatusCode != 180 {
		t.Fatalf("got %v, want 180", r.StatusCode)
	}

	cancel, err := sipmsg.NewCancel(inv)
	if err != nil {
		t.Fatal(err)
	}
	alice.send(cancel)
	if r := alice.expect("200 to CANCEL", func(m *sipmsg.Message) bool {
		cs, _ := m.CSeq()
		return !m.IsRequest() && cs.Method == "CANCEL"
	}); r.StatusCode != 200 {
		t.Errorf("CANCEL: got %v, want 200", r.StatusCode)
	}
	if r := alice.final(inv); r.StatusCode != 487 {
		t.Errorf("INVITE after CANCEL: got %v, want 487", r.StatusCode)
	}

	gotCancel := bob.requestFor("CANCEL")
	if got, want := branchOf(gotCancel), branchOf(in); got != want {
		t.Errorf("CANCEL branch at bob: got %v, want the INVITE's %v", got, want)
	}
	bob.send(bob.answer(gotCancel, 200))
	bob.send(bob.answer(in, 487))
	if ack := bob.requestFor("ACK"); branchOf(ack) != branchOf(in) {
		t.Errorf("ACK for 487 at bob: branch %v, want %v", branchOf(ack), branchOf(in))
	}
}

// OPTIONS to the PBX itself is answered 200 (RFC 3261 §11).
func TestPBXOptions(t *testing.T) {
	var trace lockedBuffer
	pbx, alice, _ := callPair(t, PBXConfig{Trace: &trace})
	req := alice.request("OPTIONS", pbx.URI(), pbx.URI())
	alice.send(req)
	resp := alice.final(req)
	if resp.StatusCode != 200 || !resp.HasToken("Allow", "INVITE") {
		t.Fatalf("got %v Allow=%q, want 200 allowing INVITE", resp.StatusCode, resp.Get("Allow"))
	}
	lines := strings.Split(strings.TrimSpace(trace.String()), "\n")
	got := strings.Join(strings.Fields(lines[len(lines)-1]), " ")
	if want := "PBX -> " + alice.addr.String() + " UDP 200 OK (OPTIONS)"; got != want {
		t.Errorf("last trace line: got %q, want %q", got, want)
	}
}

// lockedBuffer is an io.Writer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A call from a UDP phone to a TCP phone: the PBX Record-Routes twice, one
// value per transport (RFC 5658), reaches bob over the connection he
// registered on, and routes the BYE there too.
func TestPBXCallTCP(t *testing.T) {
	pbx := StartPBX(t, PBXConfig{Users: map[string]string{"alice": "a-pw", "bob": "b-pw"}})
	alice := newTestUA(t, pbx, "alice", "a-pw")
	bob := newTCPTestUA(t, pbx, "bob", "b-pw")
	for _, ua := range []*testUA{alice, bob} {
		if resp := ua.register("600"); resp.StatusCode != 200 {
			t.Fatalf("%s REGISTER: got %v, want 200", ua.user, resp.StatusCode)
		}
	}
	if got := pbx.Bindings("bob")[0].Source; !strings.HasPrefix(got, "tcp:") {
		t.Errorf("bob's binding source: got %v, want tcp:...", got)
	}
	inv := alice.request("INVITE", pbx.UserURI("bob"), pbx.UserURI("bob"))
	alice.send(inv)
	inv = alice.authorized(inv, alice.response(inv))
	alice.send(inv)
	in := bob.requestFor("INVITE")
	rr := in.Values("Record-Route")
	if len(rr) != 2 || !strings.Contains(rr[0], "transport=tcp") || strings.Contains(rr[1], "transport=tcp") {
		t.Fatalf("Record-Route at bob: got %v, want a TCP value over a UDP one", rr)
	}
	bob.send(bob.answer(in, 200))
	ok := alice.final(inv)
	if ok.StatusCode != 200 {
		t.Fatalf("alice: got %v, want 200", ok.StatusCode)
	}
	cs, _ := ok.CSeq()
	alice.send(inDialog(t, alice, "ACK", ok, itoa(cs.Seq)))
	bob.requestFor("ACK")
	bye := inDialog(t, alice, "BYE", ok, itoa(cs.Seq+1))
	alice.send(bye)
	gotBye := bob.requestFor("BYE")
	bob.send(bob.answer(gotBye, 200))
	if r := alice.final(bye); r.StatusCode != 200 {
		t.Fatalf("BYE: got %v, want 200", r.StatusCode)
	}
}

// PBXConfig.Script answers for the callee: busy, redirect, or no answer
// (which the caller then cancels).
func TestPBXScript(t *testing.T) {
	pbx, alice, _ := callPair(t, PBXConfig{Script: func(user string, req *sipmsg.Message) *Answer {
		switch req.Get("Subject") {
		case "busy":
			return &Answer{Code: 486}
		case "redirect":
			return &Answer{Code: 302, Contact: "<sip:carol@127.0.0.1:9>"}
		case "silent":
			return &Answer{Drop: true}
		}
		return nil
	}})
	tests := []struct {
		subject     string
		want        int
		wantContact string
	}{
		{subject: "busy", want: 486},
		{subject: "redirect", want: 302, wantContact: "<sip:carol@127.0.0.1:9>"},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			inv := alice.request("INVITE", pbx.UserURI("bob"), pbx.UserURI("bob"))
			inv.Add("Subject", tt.subject)
			resp, sent := alice.do(inv)
			if resp.StatusCode != tt.want || resp.Get("Contact") != tt.wantContact {
				t.Fatalf("got %v Contact %q, want %v Contact %q", resp.StatusCode, resp.Get("Contact"), tt.want, tt.wantContact)
			}
			ack, _ := sipmsg.NewAck(sent, resp)
			alice.send(ack)
		})
	}
	t.Run("silent", func(t *testing.T) {
		inv := alice.request("INVITE", pbx.UserURI("bob"), pbx.UserURI("bob"))
		inv.Add("Subject", "silent")
		alice.send(inv)
		inv = alice.authorized(inv, alice.response(inv))
		alice.send(inv)
		alice.expect("100 Trying", func(m *sipmsg.Message) bool {
			return answers(m, inv) && m.StatusCode == 100
		})
		cancel, _ := sipmsg.NewCancel(inv)
		alice.send(cancel)
		if r := alice.final(inv); r.StatusCode != 487 {
			t.Fatalf("got %v, want 487", r.StatusCode)
		}
	})
}

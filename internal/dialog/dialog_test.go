package dialog

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

func parse(t *testing.T, s string) *sipmsg.Message {
	t.Helper()
	m, err := sipmsg.Parse([]byte(strings.ReplaceAll(s, "\n", "\r\n")))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, s)
	}
	return m
}

const invite = `INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.example.com>
Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>
Content-Length: 0

`

const ok200 = `SIP/2.0 200 OK
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 314159 INVITE
Contact: <sip:bob@192.0.2.4>
Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>
Content-Length: 0

`

func TestUACDialogFrom2xx(t *testing.T) {
	req, resp := parse(t, invite), parse(t, ok200)
	local := sipmsg.Address{URI: sipmsg.URI{Scheme: "sip", User: "alice", Host: "pc33.atlanta.example.com"}}
	d, err := NewUAC(req, resp, local)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.ID, (ID{"a84b4c76e66710", "1928301774", "a6c85cf"}); got != want {
		t.Errorf("ID: got %+v, want %+v", got, want)
	}
	if d.State != Confirmed {
		t.Errorf("state: got %v, want confirmed", d.State)
	}
	if got := d.RemoteTarget.String(); got != "sip:bob@192.0.2.4" {
		t.Errorf("remote target: got %q", got)
	}
	// §12.1.2: the caller's route set is the Record-Route list reversed.
	if len(d.RouteSet) != 2 || d.RouteSet[0].URI.Host != "p1.example.com" || d.RouteSet[1].URI.Host != "p2.example.com" {
		t.Fatalf("route set: got %v", d.RouteSet)
	}
	if got := d.NextHop().Host; got != "p1.example.com" {
		t.Errorf("next hop: got %q, want p1.example.com", got)
	}

	bye := d.NewRequest("BYE", 0)
	out, err := sipmsg.Parse(bye.AppendTo(nil)) // round trip through the wire form
	if err != nil {
		t.Fatal(err)
	}
	if out.RequestURI.String() != "sip:bob@192.0.2.4" {
		t.Errorf("BYE Request-URI: got %q", out.RequestURI.String())
	}
	routes, _ := out.Route()
	if len(routes) != 2 || routes[0].URI.Host != "p1.example.com" {
		t.Errorf("BYE Route: got %v", routes)
	}
	cseq, _ := out.CSeq()
	if cseq.Seq != 314160 || cseq.Method != "BYE" {
		t.Errorf("BYE CSeq: got %v, want 314160 BYE", cseq)
	}
	from, _ := out.From()
	to, _ := out.To()
	if from.Tag() != "1928301774" || to.Tag() != "a6c85cf" {
		t.Errorf("BYE tags: from %q to %q", from.Tag(), to.Tag())
	}
	if out.Has("Contact") {
		t.Error("BYE carries a Contact")
	}

	ack := d.NewRequest("ACK", 314159)
	if c, _ := ack.CSeq(); c.Seq != 314159 {
		t.Errorf("ACK CSeq: got %d, want the INVITE's 314159", c.Seq)
	}
	if d.LocalSeq != 314160 {
		t.Errorf("ACK moved the local CSeq to %d", d.LocalSeq)
	}
}

func TestUACEarlyThenConfirm(t *testing.T) {
	req := parse(t, invite)
	ringing := parse(t, strings.Replace(strings.Replace(ok200, "200 OK", "180 Ringing", 1), "Contact: <sip:bob@192.0.2.4>\n", "", 1))
	d, err := NewUAC(req, ringing, sipmsg.Address{})
	if err != nil {
		t.Fatal(err)
	}
	if d.State != Early {
		t.Fatalf("state: got %v, want early", d.State)
	}
	if got := d.RemoteTarget.Host; got != "biloxi.example.com" {
		t.Errorf("early target without Contact: got %q, want the Request-URI host", got)
	}
	if err := d.Confirm(parse(t, ok200)); err != nil {
		t.Fatal(err)
	}
	if d.State != Confirmed || d.RemoteTarget.Host != "192.0.2.4" {
		t.Errorf("after Confirm: state %v target %q", d.State, d.RemoteTarget.Host)
	}

	if _, err := NewUAC(req, parse(t, strings.Replace(ok200, ";tag=a6c85cf", "", 1)), sipmsg.Address{}); !errors.Is(err, ErrNoTag) {
		t.Errorf("2xx without To tag: got %v, want ErrNoTag", err)
	}
	if _, err := NewUAC(req, parse(t, strings.Replace(ok200, "Contact: <sip:bob@192.0.2.4>\n", "", 1)), sipmsg.Address{}); !errors.Is(err, ErrNoContact) {
		t.Errorf("2xx without Contact: got %v, want ErrNoContact", err)
	}
}

func TestUASDialog(t *testing.T) {
	req := parse(t, invite)
	local := sipmsg.Address{URI: sipmsg.URI{Scheme: "sip", User: "bob", Host: "192.0.2.4"}}
	d, err := NewUAS(req, "a6c85cf", local)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != Early || d.RemoteSeq != 314159 || d.LocalSeq != 0 {
		t.Errorf("got state %v remote seq %d local seq %d", d.State, d.RemoteSeq, d.LocalSeq)
	}
	// §12.1.1: the callee keeps the Record-Route order.
	if len(d.RouteSet) != 2 || d.RouteSet[0].URI.Host != "p2.example.com" {
		t.Fatalf("route set: got %v", d.RouteSet)
	}
	d.Confirm(nil)

	bye := d.NewRequest("BYE", 0)
	from, _ := bye.From()
	to, _ := bye.To()
	if from.Tag() != "a6c85cf" || to.Tag() != "1928301774" || from.URI.User != "bob" || to.URI.User != "alice" {
		t.Errorf("callee's BYE: From %v To %v", from, to)
	}
	if bye.RequestURI.Host != "pc33.atlanta.example.com" {
		t.Errorf("callee's BYE Request-URI: got %q", bye.RequestURI.Host)
	}

	reinvite := parse(t, `INVITE sip:bob@192.0.2.4 SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnew
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 314160 INVITE
Contact: <sip:alice@198.51.100.7:5070>
Content-Length: 0

`)
	if err := d.Receive(reinvite); err != nil {
		t.Fatalf("re-INVITE: %v", err)
	}
	if d.RemoteTarget.Host != "198.51.100.7" || d.RemoteTarget.Port != 5070 {
		t.Errorf("target refresh: got %v", d.RemoteTarget)
	}
	if err := d.Receive(reinvite); !errors.Is(err, ErrCSeqOrder) {
		t.Errorf("repeated CSeq: got %v, want ErrCSeqOrder", err)
	}
	other := parse(t, strings.Replace(strings.Replace(string(reinvite.AppendTo(nil)), "\r\n", "\n", -1), "tag=a6c85cf", "tag=zzz", 1))
	if err := d.Receive(other); !errors.Is(err, ErrMismatch) {
		t.Errorf("foreign To tag: got %v, want ErrMismatch", err)
	}
}

func TestStrictRouting(t *testing.T) {
	d := &Dialog{
		ID:           ID{CallID: "c", LocalTag: "l", RemoteTag: "r"},
		RemoteTarget: sipmsg.URI{Scheme: "sip", User: "bob", Host: "192.0.2.4"},
		RouteSet: []sipmsg.Address{
			{URI: sipmsg.URI{Scheme: "sip", Host: "strict.example.com"}},
			{URI: sipmsg.URI{Scheme: "sip", Host: "loose.example.com", Params: "lr"}},
		},
		LocalURI:  sipmsg.Address{URI: sipmsg.URI{Scheme: "sip", User: "alice", Host: "a.example.com"}},
		RemoteURI: sipmsg.Address{URI: sipmsg.URI{Scheme: "sip", User: "bob", Host: "b.example.com"}},
	}
	req := d.NewRequest("INFO", 0)
	if req.RequestURI.Host != "strict.example.com" {
		t.Errorf("strict route: Request-URI %q, want the strict router", req.RequestURI.Host)
	}
	routes := req.Values("Route")
	if len(routes) != 2 || !strings.Contains(routes[0], "loose.example.com") || !strings.Contains(routes[1], "sip:bob@192.0.2.4") {
		t.Errorf("strict route: Route %q, want the rest then the remote target", routes)
	}
}

func TestSessionTimerNegotiation(t *testing.T) {
	base := strings.TrimSuffix(invite, "Content-Length: 0\n\n")
	tests := []struct {
		name      string
		headers   string
		want      uint32
		minSE     uint32
		wantSE    uint32
		weRefresh bool
		require   bool
		reject    bool
	}{
		{"caller asks, leaves refresher", "Supported: timer\nSession-Expires: 1800\n", 0, 90, 1800, false, true, false},
		{"caller asks to refresh itself", "Supported: timer\nSession-Expires: 600;refresher=uac\n", 0, 90, 600, false, true, false},
		{"caller asks us to refresh", "Supported: timer\nSession-Expires: 600;refresher=uas\n", 0, 90, 600, true, true, false},
		{"we lower the interval", "Supported: timer\nSession-Expires: 1800\n", 900, 90, 900, false, true, false},
		{"too small: 422", "Supported: timer\nSession-Expires: 60\n", 0, 90, 0, false, false, true},
		{"caller without timer support, we want one", "", 1800, 90, 1800, true, false, false},
		{"nobody wants one", "", 0, 90, 0, false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := parse(t, base+tc.headers+"Content-Length: 0\n\n")
			resp := sipmsg.NewResponse(req, 200, "OK")
			st, reject := AnswerOffer(req, resp, tc.want, tc.minSE)
			if (reject != nil) != tc.reject {
				t.Fatalf("reject: got %v, want %v", reject != nil, tc.reject)
			}
			if reject != nil {
				if reject.StatusCode != 422 || reject.Get("Min-SE") != "90" {
					t.Errorf("422: got %d Min-SE %q", reject.StatusCode, reject.Get("Min-SE"))
				}
				return
			}
			if st.Interval != tc.wantSE || st.WeRefresh != tc.weRefresh {
				t.Errorf("got %+v, want interval %d weRefresh %v", st, tc.wantSE, tc.weRefresh)
			}
			if got := resp.HasToken("Require", "timer"); got != tc.require {
				t.Errorf("Require: timer: got %v, want %v", got, tc.require)
			}
			if st.Active() {
				// The caller reads the same answer back with the roles swapped.
				back, err := sipmsg.Parse(resp.AppendTo(nil))
				if err != nil {
					t.Fatal(err)
				}
				if caller := FromAnswer(back); caller.Interval != st.Interval || caller.WeRefresh == st.WeRefresh {
					t.Errorf("caller's view %+v does not mirror callee's %+v", caller, st)
				}
			}
		})
	}
}

func TestSessionTimerHelpers(t *testing.T) {
	req := parse(t, invite)
	AddOffer(req, 1800, 90)
	if req.Get("Session-Expires") != "1800" || req.Get("Min-SE") != "90" || !req.HasToken("Supported", "timer") {
		t.Errorf("offer headers: %q", req.String())
	}
	r422 := sipmsg.NewResponse(req, 422, "Session Interval Too Small")
	r422.Set("Min-SE", "3600")
	if iv, ok := RetryInterval(r422, 1800); !ok || iv != 3600 {
		t.Errorf("retry interval: got %d %v, want 3600 true", iv, ok)
	}
	if _, ok := RetryInterval(sipmsg.NewResponse(req, 422, ""), 1800); ok {
		t.Error("422 without Min-SE gave a retry interval")
	}
	st := SessionTimer{Interval: 1800}
	if st.RefreshAfter() != 900*time.Second || st.ExpireAfter() != 1768*time.Second {
		t.Errorf("1800 s: refresh %v expire %v, want 15m0s and 29m28s", st.RefreshAfter(), st.ExpireAfter())
	}
	st = SessionTimer{Interval: 90}
	if st.ExpireAfter() != 60*time.Second {
		t.Errorf("90 s: expire %v, want 1m0s (a third before the end)", st.ExpireAfter())
	}
}

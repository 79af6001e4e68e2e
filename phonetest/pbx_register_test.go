package phonetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/digest"
	"github.com/xphone-go/xphone/sipmsg"
)

func contactExpires(t *testing.T, resp *sipmsg.Message) map[string]string {
	t.Helper()
	cs, err := resp.Contacts()
	if err != nil && resp.Has("Contact") {
		t.Fatal(err)
	}
	out := make(map[string]string)
	for _, c := range cs {
		out[c.URI.String()] = c.Params.Value("expires")
	}
	return out
}

// REGISTER with digest (RFC 3261 §10.2, §22.2): challenged, then accepted,
// refreshed, and removed with Expires: 0.
func TestPBXRegister(t *testing.T) {
	pbx := StartPBX(t, PBXConfig{Users: map[string]string{"alice": "secret"}})
	ua := newTestUA(t, pbx, "alice", "secret")
	ctx, cancel := context.WithTimeout(context.Background(), pbxWait)
	defer cancel()

	req := ua.request("REGISTER", pbx.URI(), pbx.UserURI("alice"))
	req.Add("Expires", "300")
	ua.send(req)
	resp := ua.response(req)
	if got, want := resp.StatusCode, 401; got != want {
		t.Fatalf("first REGISTER: got %v, want %v", got, want)
	}
	chal, err := digest.ParseChallenge(resp.Get("WWW-Authenticate"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := chal.Realm, pbx.Realm(); got != want {
		t.Errorf("realm: got %v, want %v", got, want)
	}
	if pbx.Registered("alice") {
		t.Fatal("registered before authenticating")
	}

	req = ua.authorized(req, resp)
	ua.send(req)
	resp = ua.response(req)
	if got, want := resp.StatusCode, 200; got != want {
		t.Fatalf("authorized REGISTER: got %v %v, want %v", got, resp.Reason, want)
	}
	if got, want := contactExpires(t, resp), map[string]string{ua.contact(): "300"}; !equalMaps(got, want) {
		t.Errorf("200 Contacts: got %v, want %v", got, want)
	}
	if err := pbx.WaitRegistered(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	bs := pbx.Bindings("alice")
	if len(bs) != 1 || bs[0].Contact != ua.contact() || bs[0].Source != "udp:"+ua.addr.String() {
		t.Fatalf("bindings: got %+v, want one for %v", bs, ua.contact())
	}

	// A refresh asking for more than MaxExpires gets MaxExpires.
	req = ua.request("REGISTER", pbx.URI(), pbx.UserURI("alice"))
	req.Add("Expires", "999999")
	resp, _ = ua.do(req)
	if got, want := resp.StatusCode, 200; got != want {
		t.Fatalf("refresh: got %v %v, want %v", got, resp.Reason, want)
	}
	if got, want := contactExpires(t, resp)[ua.contact()], "3600"; got != want {
		t.Errorf("refresh expires: got %v, want %v", got, want)
	}

	// Expires: 0 removes the binding; the 200 lists none.
	req = ua.request("REGISTER", pbx.URI(), pbx.UserURI("alice"))
	req.Set("Call-ID", ua.callID)
	req.Add("Expires", "0")
	resp, _ = ua.do(req)
	if got, want := resp.StatusCode, 200; got != want {
		t.Fatalf("unregister: got %v %v, want %v", got, resp.Reason, want)
	}
	if resp.Has("Contact") {
		t.Errorf("unregister 200 lists Contacts: %v", resp.Values("Contact"))
	}
	if err := pbx.WaitUnregistered(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// REGISTERs the registrar refuses (RFC 3261 §10.3, §22).
func TestPBXRegisterRefused(t *testing.T) {
	pbx := StartPBX(t, PBXConfig{Users: map[string]string{"alice": "secret", "bob": "pw"}})
	tests := []struct {
		name       string
		user, pass string
		aor        string
		expires    string
		contact    string
		want       int
		wantMin    string
	}{
		{name: "wrong password", user: "alice", pass: "wrong", aor: "alice", want: 403},
		{name: "unknown user", user: "mallory", pass: "x", aor: "mallory", want: 403},
		{name: "other user's AOR", user: "bob", pass: "pw", aor: "alice", want: 403},
		{name: "interval too brief", user: "alice", pass: "secret", aor: "alice", expires: "10", want: 423, wantMin: "60"},
		{name: "wildcard with expires", user: "alice", pass: "secret", aor: "alice", expires: "60", contact: "*", want: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ua := newTestUA(t, pbx, tt.user, tt.pass)
			req := ua.request("REGISTER", pbx.URI(), pbx.UserURI(tt.aor))
			if tt.expires != "" {
				req.Add("Expires", tt.expires)
			}
			if tt.contact != "" {
				req.Set("Contact", tt.contact)
			}
			resp, _ := ua.do(req)
			if got := resp.StatusCode; got != tt.want {
				t.Fatalf("got %v %v, want %v", got, resp.Reason, tt.want)
			}
			if got := resp.Get("Min-Expires"); got != tt.wantMin {
				t.Errorf("Min-Expires: got %q, want %q", got, tt.wantMin)
			}
			if pbx.Registered(tt.aor) {
				t.Errorf("%v registered after a refused REGISTER", tt.aor)
			}
		})
	}
}

// An answer with an expired nonce gets a new challenge with stale=true
// (RFC 7616 §3.3), and the same password then succeeds. Bindings expire by
// the PBX's clock.
func TestPBXRegisterStale(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	pbx := StartPBX(t, PBXConfig{
		Users:         map[string]string{"alice": "secret"},
		NonceLifetime: time.Minute,
		Now:           clk.Now,
	})
	ua := newTestUA(t, pbx, "alice", "secret")
	req := ua.request("REGISTER", pbx.URI(), pbx.UserURI("alice"))
	req.Add("Expires", "120")
	ua.send(req)
	resp := ua.response(req)
	if resp.StatusCode != 401 {
		t.Fatalf("got %v, want 401", resp.StatusCode)
	}
	clk.advance(2 * time.Minute)
	req = ua.authorized(req, resp)
	ua.send(req)
	resp = ua.response(req)
	chal, err := digest.ParseChallenge(resp.Get("WWW-Authenticate"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.StatusCode, 401; got != want || !chal.Stale {
		t.Fatalf("expired nonce: got %v stale=%v, want %v stale=true", got, chal.Stale, want)
	}
	req = ua.authorized(req, resp)
	ua.send(req)
	if resp = ua.response(req); resp.StatusCode != 200 {
		t.Fatalf("after stale: got %v, want 200", resp.StatusCode)
	}
	if !pbx.Registered("alice") {
		t.Fatal("not registered after 200")
	}
	clk.advance(121 * time.Second)
	if pbx.Registered("alice") {
		t.Error("binding outlived its expiry")
	}
}

// Contact: * with Expires: 0 removes every binding (RFC 3261 §10.2.2).
func TestPBXRegisterWildcard(t *testing.T) {
	pbx := StartPBX(t, PBXConfig{Users: map[string]string{"alice": "secret"}})
	ua := newTestUA(t, pbx, "alice", "secret")
	req := ua.request("REGISTER", pbx.URI(), pbx.UserURI("alice"))
	req.Add("Contact", "<sip:alice@127.0.0.1:1>;expires=100")
	resp, _ := ua.do(req)
	if resp.StatusCode != 200 {
		t.Fatalf("got %v, want 200", resp.StatusCode)
	}
	if got, want := len(pbx.Bindings("alice")), 2; got != want {
		t.Fatalf("bindings: got %v, want %v", got, want)
	}
	if got := contactExpires(t, resp); got["sip:alice@127.0.0.1:1"] != "100" || got[ua.contact()] != "3600" {
		t.Errorf("200 Contacts: got %v", got)
	}
	req = ua.request("REGISTER", pbx.URI(), pbx.UserURI("alice"))
	req.Set("Contact", "*")
	req.Add("Expires", "0")
	resp, _ = ua.do(req)
	if resp.StatusCode != 200 || pbx.Registered("alice") {
		t.Fatalf("got %v registered=%v, want 200 and no bindings", resp.StatusCode, pbx.Registered("alice"))
	}
	if !strings.Contains(resp.Get("To"), "tag=") {
		t.Errorf("200 without a To tag: %q", resp.Get("To"))
	}
}

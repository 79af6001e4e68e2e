//go:build interop

package interop

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// TestUAPartyAssertedByKamailio: Kamailio, as a PBX or trunk does, vouches
// for who an authenticated caller is with P-Asserted-Identity (RFC 3325) on
// the INVITEs it relays (a name, a SIP URI and a tel URI), and for who
// answered on their 200s (WITH_ASSERT_IDENTITY). 1001 calls 1002 with a
// display name of its own choosing in From: the callee's RemoteParty is
// Kamailio's assertion, not From's name, and the caller's is Kamailio's
// assertion of 1002.
func TestUAPartyAssertedByKamailio(t *testing.T) {
	k := startKamailioWith(t, kamailioOptions{defines: []string{"WITH_ASSERT_IDENTITY"}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, incoming := phonesThrough(t, k)
	ca, err := a.Dial(ctx, "1002", xphone.WithCallerID("1001", "Mallory"))
	if err != nil {
		t.Fatalf("Dial 1002: %v", err)
	}
	var cb xphone.Call
	select {
	case cb = <-incoming:
	case <-ctx.Done():
		t.Fatal("1002 got no call")
	}
	got := cb.RemoteParty()
	if got.Name != "Desk 1001" || got.Number != "+15550001001" || !got.Asserted || got.Private ||
		!strings.HasPrefix(got.URI, "sip:+15550001001@") {
		t.Errorf("callee's RemoteParty: got %+v, want Desk 1001, sip:+15550001001@..., number from the tel URI, asserted", got)
	}
	if f := cb.Header("From"); len(f) != 1 || !strings.Contains(f[0], "Mallory") {
		t.Errorf("callee's From: got %q, want the caller's own name", f)
	}
	got = ca.RemoteParty()
	if got.Name != "Desk 1002" || got.Number != "+15550001002" || !got.Asserted ||
		!strings.HasPrefix(got.URI, "sip:+15550001002@") {
		t.Errorf("caller's RemoteParty: got %+v, want Desk 1002, sip:+15550001002@..., asserted", got)
	}
	calleeHangsUp(ctx, t, ca, cb)
}

package ua

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/pidf"
	"github.com/xphone-go/xphone/sipmsg"
)

// TestPublish: Publish sends PUBLISH (Event: presence, the PIDF document,
// Expires 3600) to our address of record and answers a challenge; the
// refresh goes by the entity tag without a body; a 412 to it brings the
// whole document again; a second Publish sends the new document with
// the tag; Disconnect removes the publication (Expires: 0, the tag).
func TestPublish(t *testing.T) {
	p := newPeer(t)
	u := newUA(t, func(c *Config) {
		c.Host, c.Port, c.RegisterExpiry = "127.0.0.1", p.port, -1
		c.AuthUsername, c.Password = "test", "secret"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	isPub := isNewReq("PUBLISH")
	doc := func(note string) pidf.Presence {
		return pidf.Presence{Entity: "sip:test@127.0.0.1", Tuples: []pidf.Tuple{{ID: "t", Open: true, Notes: []string{note}}}}
	}
	done := make(chan error, 1)
	go func() { done <- u.Publish(ctx, doc("here")) }()
	first := p.next("PUBLISH", isPub)
	if first.m.Get("Event") != "presence" || first.m.Get("Content-Type") != pidf.ContentType ||
		first.m.Get("Expires") != "3600" || !strings.Contains(string(first.m.Body), "here") || first.m.Has("SIP-If-Match") {
		t.Errorf("first PUBLISH:\n%s", first.m)
	}
	p.respond(first, 401, token(), "", "WWW-Authenticate", `Digest realm="pres", nonce="n0", algorithm=MD5, qop="auth"`)
	authed := p.next("PUBLISH with credentials", func(m *sipmsg.Message) bool { return isPub(m) && m.Has("Authorization") })
	p.respond(authed, 200, token(), "", "SIP-ETag", "e1", "Expires", "2")
	if err := <-done; err != nil {
		t.Fatalf("Publish: %v", err)
	}
	refresh := p.next("refresh", isPub)
	if refresh.m.Get("SIP-If-Match") != "e1" || len(refresh.m.Body) != 0 {
		t.Errorf("refresh: If-Match %q, body %d bytes; want e1 and none", refresh.m.Get("SIP-If-Match"), len(refresh.m.Body))
	}
	p.respond(refresh, 412, token(), "")
	again := p.next("PUBLISH after 412", isPub)
	if again.m.Has("SIP-If-Match") || !strings.Contains(string(again.m.Body), "here") {
		t.Errorf("after 412: If-Match %q, body %q; want none and the document", again.m.Get("SIP-If-Match"), again.m.Body)
	}
	p.respond(again, 200, token(), "", "SIP-ETag", "e2", "Expires", "3600")

	go func() { done <- u.Publish(ctx, doc("away")) }()
	mod := p.next("modify", isPub)
	if mod.m.Get("SIP-If-Match") != "e2" || !strings.Contains(string(mod.m.Body), "away") {
		t.Errorf("modify: If-Match %q, body %q", mod.m.Get("SIP-If-Match"), mod.m.Body)
	}
	p.respond(mod, 200, token(), "", "SIP-ETag", "e3", "Expires", "3600")
	if err := <-done; err != nil {
		t.Fatalf("second Publish: %v", err)
	}
	go func() { done <- u.Disconnect(context.Background()) }()
	rm := p.next("removal", isPub)
	if rm.m.Get("Expires") != "0" || rm.m.Get("SIP-If-Match") != "e3" || len(rm.m.Body) != 0 {
		t.Errorf("removal: Expires %q If-Match %q body %d bytes", rm.m.Get("Expires"), rm.m.Get("SIP-If-Match"), len(rm.m.Body))
	}
	p.respond(rm, 200, token(), "", "Expires", "0")
	if err := <-done; err != nil {
		t.Errorf("Disconnect: %v", err)
	}
}

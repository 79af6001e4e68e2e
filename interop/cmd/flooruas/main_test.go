//go:build linux && (amd64 || arm64)

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const contact = "Contact: <sip:floor@127.0.0.1:5060>\r\n"

// An INVITE as SIPp's uac scenario sends it, and the 200 flooruas makes.
func TestRespond(t *testing.T) {
	req := "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-1-1-0\r\n" +
		"From: sipp <sip:sipp@127.0.0.1:5090>;tag=1\r\n" +
		"To: service <sip:service@127.0.0.1:5060>\r\n" +
		"Call-ID: 1-1@127.0.0.1\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Contact: sip:sipp@127.0.0.1:5090\r\n" +
		"Max-Forwards: 70\r\n" +
		"Subject: Performance Test\r\n" +
		"Content-Type: application/sdp\r\n" +
		"Content-Length: 4\r\n\r\nv=0\n"
	want := "SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-1-1-0\r\n" +
		"From: sipp <sip:sipp@127.0.0.1:5090>;tag=1\r\n" +
		"To: service <sip:service@127.0.0.1:5060>;tag=floor\r\n" +
		"Call-ID: 1-1@127.0.0.1\r\n" +
		"CSeq: 1 INVITE\r\n" +
		contact + "Content-Length: 0\r\n\r\n"
	got, ok := respond(nil, []byte(req), []byte(contact))
	if !ok || string(got) != want {
		t.Errorf("respond(INVITE) = %v\n%s\nwant\n%s", ok, got, want)
	}
	// A BYE's To has the tag already; an ACK gets nothing.
	bye := strings.Replace(strings.Replace(req, "INVITE", "BYE", 2), "service@127.0.0.1:5060>", "service@127.0.0.1:5060>;tag=floor", 1)
	if got, ok := respond(nil, []byte(bye), []byte(contact)); !ok || bytes.Count(got, []byte("tag=floor")) != 1 {
		t.Errorf("respond(BYE) = %v\n%s\nwant one To tag", ok, got)
	}
	if got, ok := respond(nil, []byte(strings.Replace(req, "INVITE", "ACK", 2)), []byte(contact)); ok || len(got) != 0 {
		t.Errorf("respond(ACK) = %v, %q; want false and nothing", ok, got)
	}
}

// FuzzRespond: any datagram is answered or not without a panic, and an
// answer is one whole header section.
func FuzzRespond(f *testing.F) {
	files, _ := filepath.Glob("../../../testdata/vectors/sip/rfc4475/*.dat")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("BYE sip:a@b SIP/2.0\r\nt: <sip:a@b>\r\n\r\n"))
	f.Fuzz(func(t *testing.T, req []byte) {
		out, ok := respond(nil, req, []byte(contact))
		if !ok {
			if len(out) != 0 {
				t.Fatalf("no answer, but %q appended", out)
			}
			return
		}
		if !bytes.HasPrefix(out, []byte("SIP/2.0 200 OK\r\n")) || !bytes.HasSuffix(out, []byte(contact+"Content-Length: 0\r\n\r\n")) {
			t.Fatalf("answer %q", out)
		}
		if i := bytes.Index(out, []byte("\r\n\r\n")); i != len(out)-4 {
			t.Fatalf("answer %q ends its headers at %d", out, i)
		}
	})
}

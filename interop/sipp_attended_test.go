//go:build interop

package interop

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/internal/ua"
)

// Attended transfer against SIPp (RFC 5589 §7: REFER, RFC 3515, whose
// Refer-To carries a Replaces header, RFC 3891), with the phone in each of
// the three roles: transferor, transferee and transfer target. Every SIPp
// instance plays one party for one call; its scenario checks the headers
// with ereg/strcmp check_it in <recv> actions, which fail the call (exit
// status 1; SIPp plays the rest of the scenario all the same, so a failed
// check shows only there). Values known only at run time (the phone's
// Call-ID and tags, ports) reach a scenario by -key: ereg patterns are
// fixed at load time, so the scenario copies the key into a variable
// (assignstr) and compares it with what its ereg captured (strcmp).

// attendedPhone is a connected internal/ua phone on loopback UDP that
// answers incoming calls and hands them to the returned channel, with
// Config.OnTransfer set to onTransfer (nil: none).
func attendedPhone(t *testing.T, onTransfer func(old, nw *ua.Call)) (*ua.UA, chan *ua.Call) {
	t.Helper()
	return answeringUA(t, func(c *ua.Config) { c.OnTransfer = onTransfer })
}

// escapeHValue %-escapes s as a header value in a SIP URI must be (RFC
// 3261 §25.1: hvalue = *(hnv-unreserved / unreserved / escaped)): how a
// Call-ID appears inside Refer-To's Replaces, '@' as %40. Written here
// from the grammar, independently of the phone's encoder.
func escapeHValue(s string) string {
	const keep = "-_.!~*'()" + "[]/?:+$" // mark, hnv-unreserved
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte(keep, ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}

// recvCall waits for a call on ch.
func recvCall(t *testing.T, ch chan *ua.Call, what string) *ua.Call {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not arrive", what)
	}
	return nil
}

// sippOK waits for a SIPp instance to exit and fails the test unless it
// exited 0 (every call of its scenario succeeded).
func sippOK(t *testing.T, p *peer, who string) {
	t.Helper()
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Errorf("SIPp %s exited with %v, want status 0", who, err)
	}
}

// TestSIPpAttendedTransferor: the phone transfers. SIPp C
// (attended-target-uas.xml), the target, answers the phone's consultation
// call with To tag "attended-target". SIPp B (attended-transferee-uas.xml),
// started once the consultation's Call-ID and tags are known, answers the
// phone's call to it and gets the REFER of AttendedTransfer: its scenario
// checks Refer-To is the consultation's remote URI with
// ?Replaces=<Call-ID %-escaped>%3Bto-tag%3Dattended-target%3Bfrom-tag%3D<the
// phone's tag>&Require=replaces and that Referred-By is there, answers 202
// and NOTIFYs 100 Trying then 200 OK (terminated). AttendedTransfer
// returns nil; the phone hangs up both calls (B's and, as SIPp C does not
// play the rest of the transfer, the consultation), both ending as
// EndTransferred; both SIPp exit 0.
func TestSIPpAttendedTransferor(t *testing.T) {
	u, _ := attendedPhone(t, nil)
	pc, cport := startSIPp(t, "attended-target-uas")
	pc.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(cport) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	target := "127.0.0.1:" + strconv.Itoa(cport)
	consult, err := u.Dial(ctx, "sip:sipp@"+target, ua.DialOptions{})
	if err != nil {
		t.Fatalf("Dial the target (consultation): %v", err)
	}
	local, remote := consult.Tags()
	if remote != "attended-target" || local == "" {
		t.Fatalf("consultation tags: got local %q remote %q, want remote %q and a local tag", local, remote, "attended-target")
	}

	pb, bport := startSIPp(t, "attended-transferee-uas",
		"-key", "consultcid", escapeHValue(consult.CallID()), "-key", "fromtag", local, "-key", "target", target)
	pb.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(bport) })
	c, err := u.Dial(ctx, "sip:sipp@127.0.0.1:"+strconv.Itoa(bport), ua.DialOptions{})
	if err != nil {
		t.Fatalf("Dial the transferee: %v", err)
	}

	if err := c.AttendedTransfer(ctx, consult); err != nil {
		t.Fatalf("AttendedTransfer: %v", err)
	}
	// SIPp first: a failed check in a scenario shows as its exit status.
	sippOK(t, pb, "B (transferee)")
	sippOK(t, pc, "C (target)")
	waitEnded(t, c, ua.EndTransferred)
	waitEnded(t, consult, ua.EndTransferred)
}

// TestSIPpAttendedTransferee: the phone is transferred. SIPp A
// (attended-transferor-uac.xml) calls it, and after the answer sends
// REFER with Refer-To
// <sip:target@C?Replaces=consult-cid%3Bto-tag%3Dtt1%3Bfrom-tag%3Dff1&Require=replaces>.
// The phone answers 202 and calls SIPp C (attended-target-replaces-uas.xml),
// whose scenario checks the INVITE carries exactly "Replaces:
// consult-cid;to-tag=tt1;from-tag=ff1", Require: replaces and A's
// Referred-By; C answers. A gets NOTIFYs until the terminated one, which
// must say 200, then the phone's BYE. OnTransfer hands over the old and
// the new call: the old ends as EndTransferred, the new one when C hangs
// up (EndRemoteHangup); both SIPp exit 0.
func TestSIPpAttendedTransferee(t *testing.T) {
	type transfer struct{ old, nw *ua.Call }
	transfers := make(chan transfer, 1)
	u, calls := attendedPhone(t, func(old, nw *ua.Call) { transfers <- transfer{old, nw} })
	pc, cport := startSIPp(t, "attended-target-replaces-uas")
	pc.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(cport) })
	pa, _ := startSIPp(t, "attended-transferor-uac", "-s", "xphone",
		"-key", "target", "127.0.0.1:"+strconv.Itoa(cport), phoneAddr(u))

	old := recvCall(t, calls, "SIPp A's call")
	var tr transfer
	select {
	case tr = <-transfers:
	case <-time.After(20 * time.Second):
		t.Fatalf("OnTransfer was not called (old call state %v)", old.State())
	}
	if tr.old != old {
		t.Errorf("OnTransfer's old call: got %s, want A's call %s", tr.old.CallID(), old.CallID())
	}
	if tr.nw == nil || tr.nw == old {
		t.Fatalf("OnTransfer's new call: got %v, want the call to C", tr.nw)
	}
	sippOK(t, pa, "A (transferor)")
	sippOK(t, pc, "C (target)")
	waitEnded(t, old, ua.EndTransferred)
	waitEnded(t, tr.nw, ua.EndRemoteHangup)
	select {
	case c := <-calls:
		t.Errorf("OnIncoming got a second call %s, want only A's", c.CallID())
	default:
	}
}

// TestSIPpReplacesTarget: the phone is the transfer target. SIPp A
// (attended-consult-uac.xml) calls it with a Call-ID of the test's choice
// (-cid_str): the consultation, which the phone answers. INVITEs with a
// Replaces the phone must refuse come first, from
// attended-replaces-reject-uac.xml: an unknown Call-ID and the right
// Call-ID with the tags swapped get 481, early-only for the confirmed
// dialog gets 486; the consultation stays up. Then SIPp B
// (attended-replaces-uac.xml) sends INVITE with "Replaces:
// <Call-ID>;to-tag=<the phone's tag>;from-tag=<A's tag>" and Require:
// replaces: the phone answers it 200 without OnIncoming, OnReplaced hands
// over the new call, the consultation ends as EndReplaced with the phone's
// BYE to A, and B's BYE a second later ends the new call
// (EndRemoteHangup). OnIncoming ran once (A's call); all SIPp exit 0.
func TestSIPpReplacesTarget(t *testing.T) {
	u, calls := attendedPhone(t, nil)
	cid := "attended-" + token(8) + "@127.0.0.1"
	pa, _ := startSIPp(t, "attended-consult-uac", "-s", "xphone", "-cid_str", cid, phoneAddr(u))
	a := recvCall(t, calls, "SIPp A's call")
	if a.CallID() != cid {
		t.Fatalf("A's call: got Call-ID %q, want %q (-cid_str)", a.CallID(), cid)
	}
	replaced := make(chan *ua.Call, 1)
	a.OnReplaced(func(nc *ua.Call) { replaced <- nc })
	local, remote := a.Tags()
	if local == "" || remote == "" {
		t.Fatalf("A's call tags: got local %q remote %q, want both", local, remote)
	}

	for _, tc := range []struct{ name, replaces, want string }{
		{"unknown Call-ID", "no-such-call@127.0.0.1;to-tag=" + local + ";from-tag=" + remote, "481"},
		{"tags swapped", cid + ";to-tag=" + remote + ";from-tag=" + local, "481"},
		{"early-only", cid + ";to-tag=" + local + ";from-tag=" + remote + ";early-only", "486"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := startSIPp(t, "attended-replaces-reject-uac", "-s", "xphone",
				"-key", "replaces", tc.replaces, "-key", "want", tc.want, phoneAddr(u))
			sippOK(t, p, "B (refused Replaces)")
		})
	}
	if got := a.State(); got != ua.StateActive {
		t.Fatalf("consultation after the refused INVITEs: got state %v, want %v", got, ua.StateActive)
	}

	pb, _ := startSIPp(t, "attended-replaces-uac", "-s", "xphone",
		"-key", "replaces", cid+";to-tag="+local+";from-tag="+remote, phoneAddr(u))
	var nc *ua.Call
	select {
	case nc = <-replaced:
	case <-time.After(20 * time.Second):
		t.Fatalf("OnReplaced was not called (consultation state %v)", a.State())
	}
	if nc == nil || nc == a || nc.CallID() == cid {
		t.Fatalf("OnReplaced: got %v, want B's new call", nc)
	}
	sippOK(t, pb, "B (transferee)")
	sippOK(t, pa, "A (transferor)")
	waitEnded(t, a, ua.EndReplaced)
	waitEnded(t, nc, ua.EndRemoteHangup)
	select {
	case c := <-calls:
		t.Errorf("OnIncoming got a second call %s, want only A's (an INVITE with Replaces is not offered)", c.CallID())
	default:
	}
}

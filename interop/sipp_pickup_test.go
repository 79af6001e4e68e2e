//go:build interop

package interop

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone"
)

// Call pickup (RFC 3891 §3) against SIPp, with the phone in both roles:
// the caller whose ringing call another phone picks up (an INVITE with
// Replaces naming the early dialog of our INVITE), and the phone picking
// up a call that rings on a line it watches (Phone.Watch, then Dial with
// WithPickup). As in sipp_attended_test.go, each SIPp instance plays one
// party for one call and checks headers with ereg/strcmp check_it; values
// known only at run time reach a scenario by -key, and what only SIPp
// learns (the Call-ID and From tag of our INVITE) comes back through its
// <log> action file.

// dialResult is what a Dial running on its own goroutine returned.
type dialResult struct {
	c   xphone.Call
	err error
}

// waitCallEnd waits for c to end and checks the reason its context
// carries.
func waitCallEnd(t *testing.T, c xphone.Call, who string, want xphone.EndReason) {
	t.Helper()
	select {
	case <-c.Context().Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not end (state %v)", who, c.State())
	}
	if cause := context.Cause(c.Context()); !errors.Is(cause, want) {
		t.Errorf("%s: ended with %v, want %v", who, cause, want)
	}
}

// sippLogged polls the file of SIPp's <log> actions (-trace_logs
// -log_file name, in its working directory) until re matches in it, and
// returns the submatches.
func sippLogged(t *testing.T, p *peer, name string, re *regexp.Regexp) []string {
	t.Helper()
	var m []string
	p.waitUntil(t, 10*time.Second, "logged "+re.String(), func() error {
		b, err := os.ReadFile(filepath.Join(p.dir, name))
		if err != nil {
			return err
		}
		if m = re.FindStringSubmatch(string(b)); m == nil {
			return fmt.Errorf("no match in %q", b)
		}
		return nil
	})
	return m
}

// TestSIPpPickedUp: the phone's call is picked up. It dials SIPp U
// (pickup-callee-uas.xml), which answers 180 with To tag totag and logs
// the Call-ID and our From tag. Once our call is RemoteRinging, INVITEs
// with a Replaces that does not name that early dialog
// (attended-replaces-reject-uac.xml: tags swapped, a from-tag not the
// callee's, a to-tag not ours) get 481 and the call rings on. SIPp P
// (pickup-picker-uac.xml) then sends "Replaces: <Call-ID>;to-tag=<our
// tag>;from-tag=<totag>;early-only" with Require: replaces: it gets 200
// with SDP and no 180, and ACKs; OnIncoming is never called. Our INVITE
// is CANCELled (U checks the CANCEL's CSeq number and Via branch are the
// INVITE's, answers 200 and 487 and gets the ACK), the ringing call ends
// as EndReplaced, and the pending Dial returns P's call (its Call-ID),
// active. The phone hangs it up (P gets the BYE); both SIPp exit 0 with
// one successful call and none failed.
func TestSIPpPickedUp(t *testing.T) {
	totag := "ringing-" + token(4)
	ustf := filepath.Join(t.TempDir(), "stat.csv")
	pu, uport := startSIPp(t, "pickup-callee-uas", "-trace_stat", "-stf", ustf, "-fd", "1",
		"-key", "totag", totag, "-trace_logs", "-log_file", "pickup.log")
	pu.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(uport) })

	port := freePort(t)
	ph := listeningPhone(t, "caller", port, nil)
	ph.OnError(func(err error) { t.Errorf("OnError: %v", err) })
	incoming := make(chan xphone.Call, 4)
	ph.OnIncoming(func(c xphone.Call) { incoming <- c })
	phone := "127.0.0.1:" + strconv.Itoa(port)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dialed := make(chan dialResult, 1)
	go func() {
		c, err := ph.Dial(ctx, "sip:callee@127.0.0.1:"+strconv.Itoa(uport))
		dialed <- dialResult{c, err}
	}()

	m := sippLogged(t, pu, "pickup.log", regexp.MustCompile(`pickup-early-dialog call-id=(\S+) from-tag=(\S+)`))
	cid, ftag := m[1], m[2]
	// SIPp has the INVITE, so the call exists; wait for the 180 to be in.
	calls := ph.Calls()
	if len(calls) != 1 || calls[0].CallID() != cid {
		t.Fatalf("calls while dialling: got %d, want the one with Call-ID %q", len(calls), cid)
	}
	old := calls[0]
	ringing := make(chan struct{})
	var once sync.Once
	old.OnState(func(s xphone.CallState) {
		if s == xphone.StateRemoteRinging {
			once.Do(func() { close(ringing) })
		}
	})
	if old.State() == xphone.StateRemoteRinging {
		once.Do(func() { close(ringing) })
	}
	select {
	case <-ringing:
	case <-old.Context().Done():
		t.Fatalf("our call ended before it rang: %v", context.Cause(old.Context()))
	case <-time.After(10 * time.Second):
		t.Fatalf("our call did not ring (state %v)", old.State())
	}

	for _, tc := range []struct{ name, replaces string }{
		{"tags swapped", cid + ";to-tag=" + totag + ";from-tag=" + ftag + ";early-only"},
		{"from-tag not the callee's", cid + ";to-tag=" + ftag + ";from-tag=other-" + token(4) + ";early-only"},
		{"to-tag not ours", cid + ";to-tag=other-" + token(4) + ";from-tag=" + totag + ";early-only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := startSIPp(t, "attended-replaces-reject-uac", "-s", "caller",
				"-key", "replaces", tc.replaces, "-key", "want", "481", phone)
			sippOK(t, p, "refused Replaces")
		})
	}
	if got := old.State(); got != xphone.StateRemoteRinging {
		t.Fatalf("our call after the refused INVITEs: got state %v, want %v", got, xphone.StateRemoteRinging)
	}
	replaced, oldEnded := make(chan xphone.Call, 1), make(chan xphone.EndReason, 1)
	old.OnReplaced(func(c xphone.Call) { replaced <- c })
	old.OnEnded(func(r xphone.EndReason) { oldEnded <- r })

	pcid := "pickup-" + token(8) + "@127.0.0.1"
	pstf := filepath.Join(t.TempDir(), "stat.csv")
	pp, _ := startSIPp(t, "pickup-picker-uac", "-trace_stat", "-stf", pstf, "-fd", "1",
		"-s", "caller", "-cid_str", pcid,
		"-key", "replaces", cid+";to-tag="+ftag+";from-tag="+totag+";early-only", phone)

	var r dialResult
	select {
	case r = <-dialed:
	case <-time.After(20 * time.Second):
		t.Fatalf("Dial did not return after the pickup (ringing call state %v)", old.State())
	}
	if r.err != nil || r.c == nil {
		t.Fatalf("Dial: got %v, %v, want the picker's call", r.c, r.err)
	}
	if got := r.c.CallID(); got != pcid {
		t.Errorf("Dial's call: got Call-ID %q, want the picker's %q", got, pcid)
	}
	if got := r.c.State(); got != xphone.StateActive {
		t.Errorf("Dial's call: got state %v, want %v", got, xphone.StateActive)
	}
	if got := r.c.Codec(); got != xphone.CodecPCMU {
		t.Errorf("Dial's call: got codec %q, want %q (the picker's only one)", got, xphone.CodecPCMU)
	}
	t.Logf("Dial's call: %s, direction %v, remote %s", r.c.CallID(), r.c.Direction(), r.c.RemoteURI())
	select {
	case reason := <-oldEnded:
		if reason != xphone.EndReplaced {
			t.Errorf("the ringing call: ended %s, want %s", reason.String(), xphone.EndReplaced.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the ringing call did not end (state %v)", old.State())
	}
	// OnReplaced ran before OnEnded, on the same callback goroutine.
	select {
	case nc := <-replaced:
		if nc.CallID() != pcid {
			t.Errorf("OnReplaced: got call %s, want the picker's %s", nc.CallID(), pcid)
		}
	default:
		t.Errorf("OnReplaced of the ringing call was not called")
	}
	checkSIPp(t, pu, ustf, 1, -1)
	if trace := readTail(filepath.Join(pu.dir, "messages.log"), 1<<20); !strings.Contains(trace, "CANCEL sip:callee@") {
		t.Errorf("SIPp U's trace has no CANCEL from the phone")
	}

	if err := r.c.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
	checkSIPp(t, pp, pstf, 1, -1)
	waitCallEnd(t, r.c, "the picked-up call", xphone.EndLocalHangup)
	select {
	case c := <-incoming:
		t.Errorf("OnIncoming got call %s, want none (an INVITE with Replaces is not offered)", c.CallID())
	default:
	}
	if n := len(ph.Calls()); n != 0 {
		t.Errorf("calls left: got %d, want 0", n)
	}
}

// TestSIPpPickup: the phone picks up. SIPp N (pickup-blf-notifier.xml) is
// the dialog event notifier of line 1002: Phone.Watch subscribes, and N's
// NOTIFY reports a ringing dialog (early, recipient) with call-id,
// local-tag and remote-tag and the caller's identity, the address of SIPp
// C (pickup-caller-uas.xml). The watch reports the line ringing with that
// caller and LineStatus.Ringing naming the dialog; Dial(status.Caller,
// WithPickup(status.Ringing)) reaches C, whose scenario checks the INVITE
// carries exactly "Replaces: <call-id>;to-tag=<remote-tag>;from-tag=
// <local-tag>;early-only" and Require: replaces. C answers 200; Dial
// returns the call, active; the phone hangs up (C gets ACK then BYE);
// stopping the watch removes the subscription. Both SIPp exit 0 with one
// successful call and none failed.
func TestSIPpPickup(t *testing.T) {
	ringcid := "ringing-" + token(8) + "@127.0.0.1"
	linetag, callertag := "line-"+token(4), "caller-"+token(4)
	keys := []string{"-key", "ringcid", ringcid, "-key", "linetag", linetag, "-key", "callertag", callertag}

	cstf := filepath.Join(t.TempDir(), "stat.csv")
	pc, cport := startSIPp(t, "pickup-caller-uas", append([]string{"-trace_stat", "-stf", cstf, "-fd", "1"}, keys...)...)
	pc.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(cport) })
	caller := "127.0.0.1:" + strconv.Itoa(cport)
	nstf := filepath.Join(t.TempDir(), "stat.csv")
	pn, nport := startSIPp(t, "pickup-blf-notifier",
		append([]string{"-trace_stat", "-stf", nstf, "-fd", "1", "-key", "caller", caller}, keys...)...)
	pn.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(nport) })

	ph, err := xphone.New(xphone.Config{
		Username: "xphone", Host: "127.0.0.1", Port: nport, RegisterExpiry: -1, ListenAddr: "127.0.0.1:0",
		RTPAddress: netip.MustParseAddr("127.0.0.1"), NATKeepaliveInterval: -1, MediaTimeout: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ph.OnError(func(err error) { t.Errorf("OnError: %v", err) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ph.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { ph.Disconnect(context.Background()) })

	got := make(chan xphone.LineStatus, 4)
	stop, err := ph.Watch("1002", func(s xphone.LineStatus) { got <- s })
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	var st xphone.LineStatus
	select {
	case st = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("the watch reported nothing")
	}
	want := xphone.LineStatus{Target: "1002", State: xphone.LineRinging, Calls: 1, Caller: "sip:caller@" + caller,
		Ringing: xphone.RingingCall{CallID: ringcid, LocalTag: linetag, RemoteTag: callertag}}
	if st != want {
		t.Fatalf("line status: got %+v, want %+v", st, want)
	}

	c, err := ph.Dial(ctx, st.Caller, xphone.WithPickup(st.Ringing))
	if err != nil {
		t.Fatalf("Dial with WithPickup: %v", err)
	}
	if got := c.State(); got != xphone.StateActive {
		t.Errorf("picked-up call: got state %v, want %v", got, xphone.StateActive)
	}
	if got := c.Direction(); got != xphone.Outbound {
		t.Errorf("picked-up call: got direction %v, want %v", got, xphone.Outbound)
	}
	if got := c.Codec(); got != xphone.CodecPCMU {
		t.Errorf("picked-up call: got codec %q, want %q (the caller's answer)", got, xphone.CodecPCMU)
	}
	if err := c.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
	checkSIPp(t, pc, cstf, 1, -1)
	waitCallEnd(t, c, "the picked-up call", xphone.EndLocalHangup)
	stop(ctx)
	checkSIPp(t, pn, nstf, 1, -1)
}

package transaction

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
)

// TestDoneLog: records are found by their whole key, across chunks and in
// a chunk of their own when larger than one; expiring drops them oldest
// first, up to the due tick, and frees the chunks they filled.
func TestDoneLog(t *testing.T) {
	var d doneLog
	d.init()
	src := transport.Addr{Protocol: transport.UDP, AddrPort: netip.MustParseAddrPort("[2001:db8::1]:5062")}
	key := func(i int) serverKey {
		return serverKey{branch: fmt.Sprintf("z9hG4bK%d", i), host: "192.0.2.7", port: 5060 + i%3, cancel: i%5 == 0}
	}
	resp := func(i int) []byte {
		if i == 700 {
			return bytes.Repeat([]byte{'x'}, 2*doneChunk) // a chunk of its own
		}
		return []byte(fmt.Sprintf("SIP/2.0 200 OK %d\r\n\r\n", i))
	}
	const n = 3000
	for i := range n {
		var r []byte
		if i%2 == 0 {
			r = resp(i)
		}
		d.add(key(i), int64(1+i/100), i%2 == 1, "BYE", fmt.Sprintf("tag%d", i), src, r)
	}
	if len(d.chunks) < 3 {
		t.Fatalf("chunks: got %d, want several", len(d.chunks))
	}
	check := func(i int, want bool) {
		t.Helper()
		r, ok := d.find(key(i))
		if ok != want {
			t.Fatalf("record %d: found %v, want %v", i, ok, want)
		}
		if !ok {
			return
		}
		if got := string(r.tag); got != fmt.Sprintf("tag%d", i) {
			t.Errorf("record %d: tag %q", i, got)
		}
		if invite := r.flags&doneInvite != 0; invite != (i%2 == 1) {
			t.Errorf("record %d: invite %v", i, invite)
		}
		if i%2 == 1 {
			if len(r.resp) != 0 || len(r.src) != 0 {
				t.Errorf("record %d: an INVITE's record keeps a response", i)
			}
			return
		}
		if !bytes.Equal(r.resp, resp(i)) {
			t.Errorf("record %d: response %q", i, r.resp)
		}
		if got, ok := r.source(); !ok || got != src {
			t.Errorf("record %d: source %v %v, want %v", i, got, ok, src)
		}
	}
	for i := range n {
		check(i, true)
	}
	// The same branch with another host, port or CANCEL flag is another key.
	for _, k := range []serverKey{
		{branch: "z9hG4bK1", host: "192.0.2.8", port: 5061},
		{branch: "z9hG4bK1", host: "192.0.2.7", port: 5062},
		{branch: "z9hG4bK1", host: "192.0.2.7", port: 5061, cancel: true},
	} {
		if _, ok := d.find(k); ok {
			t.Errorf("%+v found", k)
		}
	}
	// A hash that leads to another key's record is not a match.
	d.index[d.hash(serverKey{branch: "other"})] = d.index[d.hash(key(1))]
	if _, ok := d.find(serverKey{branch: "other"}); ok {
		t.Error("a record found under another key's hash")
	}
	delete(d.index, d.hash(serverKey{branch: "other"}))

	if next := d.expire(10, -1); next != 11 {
		t.Errorf("expire(10): next due %d, want 11", next)
	}
	for i := range n {
		check(i, i >= 1000)
	}
	if len(d.index) != n-1000 {
		t.Errorf("index: %d entries, want %d", len(d.index), n-1000)
	}
	if next := d.expire(1<<40, -1); next != 0 {
		t.Errorf("expire(all): next due %d, want 0", next)
	}
	if len(d.index) != 0 || len(d.chunks) > 1 {
		t.Errorf("after expiring all: %d entries, %d chunks", len(d.index), len(d.chunks))
	}
	// The log goes on after being emptied.
	d.add(key(1), 2<<40, true, "INVITE", "tag1", src, nil)
	check(1, true)
}

// TestDoneEndsOnTime: a retired transaction stops matching at its Timer J
// exactly, though its record is dropped later: a retransmission just
// before gets the final response again, one at Timer J is a new request
// for the TU. A retirement drops up to doneStep due records, and the
// timer drops the rest lazySlack after they were due.
func TestDoneEndsOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, rec, u := serverLayer(t)
		defer l.Close()
		retireOne := func(branch string) {
			t.Helper()
			l.HandleInbound(inbound(request(t, "OPTIONS", branch, "UDP"), transport.UDP))
			reqs, _, _ := u.snapshot()
			if err := respond(t, reqs[len(reqs)-1], 200); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range []string{"z9hG4bKe1", "z9hG4bKe2", "z9hG4bKe3"} {
			retireOne(b)
		}
		req := request(t, "OPTIONS", "z9hG4bKe1", "UDP")
		time.Sleep(64*DefaultT1 - time.Millisecond)
		l.HandleInbound(inbound(wire(t, req), transport.UDP))
		if n := len(rec.sends()); n != 4 {
			t.Errorf("sends before Timer J: got %d, want 4 (the 200 again)", n)
		}
		time.Sleep(time.Millisecond)
		l.mu.Lock()
		kept := len(l.done.index)
		l.mu.Unlock()
		if kept != 3 {
			t.Errorf("records at Timer J: got %d, want 3 (due, not yet dropped)", kept)
		}
		l.HandleInbound(inbound(wire(t, req), transport.UDP))
		if reqs, _, _ := u.snapshot(); len(reqs) != 4 {
			t.Fatalf("TU requests after Timer J: got %d, want 4 (a new transaction)", len(reqs))
		}
		if n := len(rec.sends()); n != 4 {
			t.Errorf("sends at Timer J: got %d, want 4 (no 200 from the ended transaction)", n)
		}
		// Its 200 retires the new transaction, which drops two due records.
		reqs, _, _ := u.snapshot()
		if err := respond(t, reqs[3], 200); err != nil {
			t.Fatal(err)
		}
		l.mu.Lock()
		kept = len(l.done.index)
		l.mu.Unlock()
		if kept != 2 { // e3 and the new e1
			t.Errorf("records after a retirement: got %d, want 2", kept)
		}
		time.Sleep(time.Duration(lazySlack) * waitTick)
		synctest.Wait()
		l.mu.Lock()
		kept = len(l.done.index)
		l.mu.Unlock()
		if kept != 1 {
			t.Errorf("records lazySlack after: got %d, want 1 (the new e1)", kept)
		}
		if _, s := l.counts(); s != 1 {
			t.Errorf("server transactions: got %d, want 1", s)
		}
	})
}

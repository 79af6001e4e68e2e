package ua

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// TestBlindTransferCrossed: A transfers B to C and, while B's call to C
// rings, B transfers A to C too. A carries B's REFER out (C answers A's
// call) and its old call ends as transferred, before B has reported
// anything; then C refuses B's call. A's own BlindTransfer must fail: the
// call ended by the transfer the peer asked for, not by a success of
// ours (a bug FuzzDialog found: it returned nil).
func TestBlindTransferCrossed(t *testing.T) {
	held := make(chan *Call, 1)
	accepted := make(chan *Call, 1)
	s := newTransferSetup(t, nil, nil, func(c *Call) {
		if strings.Contains(c.From(), "bob") {
			held <- c // B's call, per A's REFER: rings until the test says
			return
		}
		if err := c.Accept(context.Background()); err != nil {
			t.Errorf("C Accept: %v", err)
		}
		accepted <- c
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res := make(chan error, 1)
	go func() { res <- s.ca.BlindTransfer(ctx, uaURI(s.c)) }()
	ringing := recvCall(t, held)

	bRes := make(chan error, 1)
	go func() { bRes <- s.cb.BlindTransfer(ctx, uaURI(s.c)) }()
	recvCall(t, accepted)
	waitDone(t, s.ca)
	if got := s.ca.Reason(); got != EndTransferred {
		t.Errorf("A's old call: got %v, want %v", got, EndTransferred)
	}
	if err := ringing.Reject(ctx, 486, ""); err != nil {
		t.Errorf("C Reject: %v", err)
	}
	select {
	case err := <-res:
		if !errors.Is(err, ErrTransferFailed) {
			t.Errorf("A's BlindTransfer: got %v, want ErrTransferFailed", err)
		}
	case <-ctx.Done():
		t.Fatal("A's BlindTransfer did not return")
	}
	select {
	case err := <-bRes:
		if err != nil {
			t.Errorf("B's BlindTransfer: got %v, want nil (A reached C)", err)
		}
	case <-ctx.Done():
		t.Fatal("B's BlindTransfer did not return")
	}
}

// TestReferID: a refer NOTIFY's Event id is the CSeq number of the REFER it
// reports on (RFC 3515 §2.4.6); one naming another REFER is not ours.
func TestReferID(t *testing.T) {
	for _, tt := range []struct {
		event string
		seq   uint32
		want  bool
	}{
		{"refer", 7, true},
		{"refer;id=7", 7, true},
		{"refer;id=8", 7, false},
		{"refer;id=x", 7, false},
		{"refer;id=8", 0, true}, // before the REFER's 2xx: not known yet
	} {
		m, err := sipmsg.Parse([]byte("NOTIFY sip:a@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\r\n" +
			"From: <sip:b@192.0.2.2>;tag=1\r\nTo: <sip:a@192.0.2.1>;tag=2\r\nCall-ID: c\r\nCSeq: 3 NOTIFY\r\n" +
			"Event: " + tt.event + "\r\nContent-Length: 0\r\n\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := m.Event()
		if err != nil {
			t.Fatal(err)
		}
		if got := referID(ev, tt.seq); got != tt.want {
			t.Errorf("Event %q, REFER %d: got %v, want %v", tt.event, tt.seq, got, tt.want)
		}
	}
}

// TestReferReportNeverBlocks: the transport's reader hands the
// transferee's NOTIFYs to the waiting transfer; a peer that sends more
// final statuses than there is room for must not block it once the
// transfer has stopped waiting, and provisional ones never do.
func TestReferReportNeverBlocks(t *testing.T) {
	rs := &referState{ch: make(chan sipfrag, 2), done: make(chan struct{})}
	rs.report(sipfrag{code: 180})
	rs.report(sipfrag{code: 486})
	rs.report(sipfrag{code: 183}) // full: dropped
	reported := make(chan struct{})
	go func() {
		rs.report(sipfrag{code: 200}) // waits for room or for the end
		close(reported)
	}()
	close(rs.done) // sendRefer returned
	select {
	case <-reported:
	case <-time.After(10 * time.Second):
		t.Fatal("a final status blocked after the transfer stopped waiting")
	}
	if got := []int{(<-rs.ch).code, (<-rs.ch).code}; got[0] != 180 || got[1] != 486 {
		t.Errorf("queued: got %v, want [180 486]", got)
	}
}

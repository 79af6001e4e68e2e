package rtp

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// libsrtpPlain returns the plaintext RTP and RTCP packets of
// testdata/vectors/srtp/libsrtp_generated.json: packets built by libsrtp's
// test driver (CSRCs, an RFC 8285 one-byte extension, RTP padding, SR,
// SDES and BYE), independent of this package.
func libsrtpPlain(tb testing.TB) (rtpPkts, rtcpPkts [][]byte) {
	tb.Helper()
	raw, err := os.ReadFile("../testdata/vectors/srtp/libsrtp_generated.json")
	if err != nil {
		tb.Fatal(err)
	}
	var doc struct {
		Sessions []struct {
			RTP  []struct{ Plain string } `json:"rtp"`
			RTCP []struct{ Plain string } `json:"rtcp"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		tb.Fatal(err)
	}
	for _, s := range doc.Sessions {
		for _, p := range s.RTP {
			rtpPkts = append(rtpPkts, mustHex(tb, p.Plain))
		}
		for _, p := range s.RTCP {
			rtcpPkts = append(rtcpPkts, mustHex(tb, p.Plain))
		}
	}
	if len(rtpPkts) == 0 || len(rtcpPkts) == 0 {
		tb.Fatal("no packets in libsrtp_generated.json")
	}
	return rtpPkts, rtcpPkts
}

func TestLibSRTPPlaintexts(t *testing.T) {
	rtpPkts, rtcpPkts := libsrtpPlain(t)
	var p Packet
	for _, raw := range rtpPkts {
		if err := p.Unmarshal(raw); err != nil {
			t.Fatalf("%x: %v", raw, err)
		}
		out, err := p.AppendTo(nil)
		if err != nil || !bytes.Equal(out, raw) {
			t.Errorf("RTP: got %x %v, want %x", out, err, raw)
		}
	}
	var c Compound
	sawBye := false
	for _, raw := range rtcpPkts {
		if err := c.Unmarshal(raw); err != nil {
			t.Fatalf("%x: %v", raw, err)
		}
		if len(c.SenderReports) != 1 || c.SenderReports[0].SSRC != 0x1234abcd {
			t.Errorf("%x: got %+v, want one SR from 0x1234abcd", raw, c.SenderReports)
		}
		sawBye = sawBye || len(c.Goodbyes) == 1
		out, err := c.AppendTo(nil)
		if err != nil || !bytes.Equal(out, raw) {
			t.Errorf("RTCP: got %x %v, want %x", out, err, raw)
		}
	}
	if !sawBye {
		t.Errorf("got no BYE in the compounds, want one")
	}
}

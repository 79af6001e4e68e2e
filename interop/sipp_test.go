//go:build interop

package interop

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xphone-go/xphone/sipmsg"
)

// sippScenario returns the absolute path of a scenario in testdata/sipp.
func sippScenario(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "sipp", name+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startSIPp runs one SIPp instance for one call with the suite's defaults
// (loopback, -m 1, a 20 s call timeout that counts as failure, traces in its
// directory) plus args. Its exit status (0: every call succeeded) comes from
// peer.wait.
func startSIPp(t *testing.T, scenario string, args ...string) (*peer, int) {
	t.Helper()
	bin := needBinary(t, "sipp")
	logVersion(t, "sipp", "sip-tester", "-v")
	dir := t.TempDir()
	port := freePort(t)
	media := freePortRange(t, 6)
	all := []string{"-sf", sippScenario(t, scenario), "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(media), "-m", "1", "-timeout", "20", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log")}
	all = append(all, args...)
	p := startPeer(t, "sipp", dir, bin, all...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("SIPp messages:\n%s\nSIPp errors:\n%s",
				readTail(filepath.Join(dir, "messages.log"), 16<<10), readTail(filepath.Join(dir, "errors.log"), 8<<10))
		}
	})
	return p, port
}

// udpBound reports an error unless a UDP socket is bound to port on this
// host, for peers whose readiness has no reply to wait for. It reads the
// calling thread's view (/proc/thread-self): the netem tests park threads
// in other namespaces, possibly the main thread, which /proc/net follows.
func udpBound(port int) error {
	f, err := os.Open("/proc/thread-self/net/udp")
	if err != nil {
		return err
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X ", port)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && strings.HasSuffix(fields[1]+" ", want) {
			return nil
		}
	}
	return fmt.Errorf("nothing bound to UDP port %d", port)
}

// reply builds a response to req: Via, From, Call-ID and CSeq copied, To
// with toTag added (RFC 3261 §8.2.6.2). TODO(transaction): use the
// transaction layer's response builder once it lands.
func reply(req *sipmsg.Message, code int, reason, toTag, contact, sdp string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, v := range req.Values("Via") {
		fmt.Fprintf(&b, "Via: %s\r\n", v)
	}
	fmt.Fprintf(&b, "From: %s\r\n", req.Get("From"))
	to := req.Get("To")
	if toTag != "" && !strings.Contains(to, ";tag=") {
		to += ";tag=" + toTag
	}
	fmt.Fprintf(&b, "To: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n", to, req.Get("Call-ID"), req.Get("CSeq"))
	if contact != "" {
		fmt.Fprintf(&b, "Contact: %s\r\n", contact)
	}
	if sdp != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(sdp), sdp)
	return []byte(b.String())
}

// testSDP is a minimal PCMU answer on a port nobody sends to.
func testSDP(port int) string {
	return "v=0\r\no=xphone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		fmt.Sprintf("m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n", port)
}

// TestSIPpUACCallToTestUAS: SIPp places a call (INVITE with SDP, ACK, BYE)
// to a small UAS in the test, which parses every request with sipmsg and
// answers it by hand. SIPp must see its scenario through (exit 0).
func TestSIPpUACCallToTestUAS(t *testing.T) {
	uas, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer uas.Close()
	var (
		mu       sync.Mutex
		methods  []string
		callIDs  = map[string]bool{}
		inviteOK bool
		problems []string
	)
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 65535)
		tag := token(4)
		for {
			n, from, err := uas.ReadFromUDP(buf)
			if err != nil {
				return // closed
			}
			m, err := sipmsg.Parse(buf[:n])
			mu.Lock()
			if err != nil {
				problems = append(problems, fmt.Sprintf("sipmsg.Parse: %v\n%s", err, buf[:n]))
				mu.Unlock()
				continue
			}
			if !m.IsRequest() {
				problems = append(problems, fmt.Sprintf("got a %d response, want requests only", m.StatusCode))
				mu.Unlock()
				continue
			}
			methods = append(methods, m.Method)
			callIDs[m.Get("Call-ID")] = true
			contact := "<sip:uas@" + uas.LocalAddr().String() + ">"
			var out [][]byte
			switch m.Method {
			case "INVITE":
				inviteOK = strings.Contains(string(m.Body), "m=audio ") && m.Get("Content-Type") == "application/sdp" &&
					m.RequestURI.User == "xphone"
				out = append(out, reply(m, 100, "Trying", "", "", ""), reply(m, 180, "Ringing", tag, contact, ""),
					reply(m, 200, "OK", tag, contact, testSDP(4000)))
			case "BYE":
				out = append(out, reply(m, 200, "OK", tag, "", ""))
			case "ACK":
			default:
				problems = append(problems, "unexpected "+m.Method)
			}
			mu.Unlock()
			for _, b := range out {
				uas.WriteToUDP(b, from)
			}
		}
	})
	defer wg.Wait()
	defer uas.Close()

	p, _ := startSIPp(t, "uac-basic", "-s", "xphone", "-key", "caller", "sipp", "-d", "200", uas.LocalAddr().String())
	if err := p.wait(t, 30*time.Second); err != nil {
		t.Fatalf("SIPp exited with %v, want success", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, pr := range problems {
		t.Error(pr)
	}
	if got, want := strings.Join(methods, ","), "INVITE,ACK,BYE"; got != want {
		t.Errorf("got requests %s, want %s", got, want)
	}
	if len(callIDs) != 1 {
		t.Errorf("got %d Call-IDs, want 1", len(callIDs))
	}
	if !inviteOK {
		t.Errorf("INVITE lacked an SDP offer or the Request-URI user xphone")
	}
}

// TestSIPpUASAnswersTestUAC: the test sends a hand-written INVITE to a
// SIPp UAS, parses its 100/180/200 with sipmsg, ACKs the 200, and answers
// the BYE that SIPp sends after -d ms. SIPp must see its scenario through.
func TestSIPpUASAnswersTestUAC(t *testing.T) {
	p, port := startSIPp(t, "uas-answer-hangup", "-d", "300")
	p.waitUntil(t, 10*time.Second, "bound to its UDP port", func() error { return udpBound(port) })

	server := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c := dialSIP(t, "udp", server)
	callID, fromTag := token(10), token(4)
	from := "<sip:xphone@" + c.hostport() + ">;tag=" + fromTag
	to := "<sip:sipp@" + server + ">"
	m := c.roundTrip(t, request{method: "INVITE", uri: "sip:sipp@" + server, headers: []string{
		"From: " + from, "To: " + to, "Call-ID: " + callID, "CSeq: 1 INVITE",
		"Contact: <sip:xphone@" + c.hostport() + ">", "Content-Type: application/sdp",
	}, body: testSDP(4002)})
	if m.StatusCode != 200 {
		t.Fatalf("got %d %s, want 200", m.StatusCode, m.Reason)
	}
	toAddr, err := sipmsg.ParseAddress(m.Get("To"))
	if err != nil {
		t.Fatalf("sipmsg.ParseAddress(To %q): %v", m.Get("To"), err)
	}
	toTag, _ := toAddr.Params.Get("tag")
	if toTag == "" {
		t.Fatalf("200 To %q has no tag", m.Get("To"))
	}
	if !strings.Contains(string(m.Body), "m=audio ") {
		t.Errorf("200 has no SDP answer: %q", m.Body)
	}
	ct, err := sipmsg.ParseAddress(m.Get("Contact"))
	if err != nil {
		t.Fatalf("sipmsg.ParseAddress(Contact %q): %v", m.Get("Contact"), err)
	}
	if ct.URI.Port != port {
		t.Errorf("got Contact %s, want port %d", ct.URI, port)
	}

	// ACK for a 2xx is a new transaction (RFC 3261 §13.2.2.4).
	ack := c.build(request{method: "ACK", uri: ct.URI.String(), headers: []string{
		"From: " + from, "To: " + m.Get("To"), "Call-ID: " + callID, "CSeq: 1 ACK",
	}}, "z9hG4bK"+token(8))
	if err := c.send(ack); err != nil {
		t.Fatal(err)
	}

	// SIPp hangs up after -d; answer its BYE.
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, err := c.read(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for SIPp's BYE: %v", err)
		}
		bye, err := sipmsg.Parse(raw)
		if err != nil {
			t.Fatalf("sipmsg.Parse: %v\n%s", err, raw)
		}
		if !bye.IsRequest() {
			continue // a retransmitted 200 for the INVITE
		}
		if bye.Method != "BYE" || bye.Get("Call-ID") != callID {
			t.Fatalf("got %s for Call-ID %q, want BYE for %q", bye.Method, bye.Get("Call-ID"), callID)
		}
		if err := c.send(reply(bye, 200, "OK", "", "", "")); err != nil {
			t.Fatal(err)
		}
		break
	}
	if err := p.wait(t, 15*time.Second); err != nil {
		var ee interface{ ExitCode() int }
		if errors.As(err, &ee) {
			t.Fatalf("SIPp exited with status %d, want 0", ee.ExitCode())
		}
		t.Fatalf("SIPp: %v", err)
	}
}

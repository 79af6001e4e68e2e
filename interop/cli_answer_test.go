//go:build interop && linux

package interop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xphone-go/xphone/g711"
	"github.com/xphone-go/xphone/internal/audiotest"
)

// writeTonePcap writes a pcap file (Ethernet link type) of n RTP packets
// of PCMU (payload type 0), 20 ms apart, 160 samples each of a freq Hz
// tone, for SIPp's play_pcap_audio. SIPp keeps the UDP payload and the
// timing and sends it from its media port to the answer's media address.
func writeTonePcap(t *testing.T, path string, freq float64, n int) {
	t.Helper()
	le := binary.LittleEndian
	be := binary.BigEndian
	var b []byte
	// Global header: magic, version 2.4, zone 0, sigfigs 0, snaplen, DLT_EN10MB.
	b = le.AppendUint32(b, 0xa1b2c3d4)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 65535)
	b = le.AppendUint32(b, 1)
	gen := audiotest.ToneGenerator{Freq: freq, SampleRate: 8000, Amplitude: 8000}
	pcm := make([]int16, 160)
	for i := range n {
		gen.Fill(pcm)
		payload := g711.EncodeUlaw(nil, pcm)
		var rtp []byte
		m := byte(0)
		if i == 0 {
			m = 0x80 // marker on the first packet of the talkspurt
		}
		rtp = append(rtp, 0x80, m) // payload type 0: PCMU
		rtp = be.AppendUint16(rtp, uint16(1000+i))
		rtp = be.AppendUint32(rtp, uint32(160*i))
		rtp = be.AppendUint32(rtp, 0x5eed1234)
		rtp = append(rtp, payload...)
		udpLen := 8 + len(rtp)
		ipLen := 20 + udpLen
		var pkt []byte
		pkt = append(pkt, make([]byte, 12)...) // dst, src MAC
		pkt = be.AppendUint16(pkt, 0x0800)
		ip := []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1}
		be.PutUint16(ip[2:], uint16(ipLen))
		be.PutUint16(ip[10:], ipChecksum(ip))
		pkt = append(pkt, ip...)
		pkt = be.AppendUint16(pkt, 40000)
		pkt = be.AppendUint16(pkt, 40000)
		pkt = be.AppendUint16(pkt, uint16(udpLen))
		pkt = be.AppendUint16(pkt, 0) // no UDP checksum
		pkt = append(pkt, rtp...)
		us := i * 20000
		b = le.AppendUint32(b, uint32(1700000000+us/1000000))
		b = le.AppendUint32(b, uint32(us%1000000))
		b = le.AppendUint32(b, uint32(len(pkt)))
		b = le.AppendUint32(b, uint32(len(pkt)))
		b = append(b, pkt...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ipChecksum is the IPv4 header checksum (RFC 791, RFC 1071).
func ipChecksum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// rtpCapture records the RTP (UDP) packets on the loopback interface
// whose source or destination port is in [lo, hi], through an AF_PACKET
// socket (root): it sees what SIPp's raw socket sends, which a UDP
// socket of the test could not.
type rtpCapture struct {
	fd      int
	lo, hi  int
	done    chan struct{}
	mu      sync.Mutex
	toRange [][]byte // RTP payloads of packets sent to a port in range
	fromRng [][]byte // RTP payloads of packets sent from a port in range
	readErr error
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func startRTPCapture(t *testing.T, lo, hi int) *rtpCapture {
	t.Helper()
	ifi, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_DGRAM, int(htons(syscall.ETH_P_IP)))
	if err != nil {
		t.Fatalf("AF_PACKET socket: %v", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_IP), Ifindex: ifi.Index}); err != nil {
		syscall.Close(fd)
		t.Fatalf("bind AF_PACKET to lo: %v", err)
	}
	// A read timeout lets the reader notice close without racing on fd.
	tv := syscall.Timeval{Usec: 100000}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	c := &rtpCapture{fd: fd, lo: lo, hi: hi, done: make(chan struct{})}
	stop := make(chan struct{})
	go c.run(stop)
	t.Cleanup(func() {
		close(stop)
		<-c.done
		syscall.Close(fd)
	})
	return c
}

func (c *rtpCapture) run(stop chan struct{}) {
	defer close(c.done)
	buf := make([]byte, 65536)
	for {
		select {
		case <-stop:
			return
		default:
		}
		n, from, err := syscall.Recvfrom(c.fd, buf, 0)
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		// On lo each packet shows twice: leaving (PACKET_OUTGOING) and
		// arriving (PACKET_HOST). Keep the arrival.
		if ll, ok := from.(*syscall.SockaddrLinklayer); !ok || ll.Pkttype != syscall.PACKET_HOST {
			continue
		}
		p := buf[:n]
		if len(p) < 20 || p[0]>>4 != 4 || p[9] != 17 {
			continue
		}
		ihl := int(p[0]&0x0f) * 4
		if len(p) < ihl+8+12 {
			continue
		}
		udp := p[ihl:]
		sport, dport := int(binary.BigEndian.Uint16(udp)), int(binary.BigEndian.Uint16(udp[2:]))
		rtp := udp[8:]
		if rtp[0]>>6 != 2 || rtp[1]&0x7f != 0 { // RTP version 2, PCMU only
			continue
		}
		payload := append([]byte(nil), rtp[12+4*int(rtp[0]&0x0f):]...)
		c.mu.Lock()
		if dport >= c.lo && dport <= c.hi {
			c.toRange = append(c.toRange, payload)
		}
		if sport >= c.lo && sport <= c.hi {
			c.fromRng = append(c.fromRng, payload)
		}
		c.mu.Unlock()
	}
}

// counts returns the number of packets to and from the port range and
// the payloads from it so far.
func (c *rtpCapture) counts() (to, from int, fromPayloads [][]byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.toRange), len(c.fromRng), append([][]byte(nil), c.fromRng...), c.readErr
}

// TestCLIAnswerEchoesSIPpRTP: `xphone answer --listen 127.0.0.1:PORT --echo
// --json` answers a SIPp UAC that offers PCMU and plays 3 s of a 1 kHz
// tone as RTP (play_pcap_audio, from a pcap the test writes), then hangs
// up. SIPp must count 1 successful call and exit 0; xphone must exit 0
// with a JSON result of an inbound PCMU call ended by remote hangup. A
// capture on lo (AF_PACKET) must see the tone come back from xphone's
// RTP ports: at least 90% as many PCMU packets as SIPp sent, whose
// decoded audio is the 1 kHz tone; xphone's own counters agree.
func TestCLIAnswerEchoesSIPpRTP(t *testing.T) {
	needRoot(t) // play_pcap_audio sends through a raw socket; the capture is AF_PACKET
	bin := needBinary(t, "sipp")
	logVersion(t, "sipp", "sip-tester", "-v")
	const packets = 150 // 3 s
	sipPort := freePort(t)
	rtpLo := freePortRange(t, 10)
	rtpHi := rtpLo + 9
	x := startXphone(t, "answer", "--listen", fmt.Sprintf("127.0.0.1:%d", sipPort), "--echo", "--json",
		"--codecs", "pcmu", "--rtp-ports", fmt.Sprintf("%d-%d", rtpLo, rtpHi), "--timeout", "30s")
	x.waitStderr(t, "waiting for a call", 15*time.Second)
	capture := startRTPCapture(t, rtpLo, rtpHi)

	dir := t.TempDir()
	pcap := filepath.Join(dir, "tone1k.pcap")
	writeTonePcap(t, pcap, 1000, packets)
	tmpl, err := os.ReadFile(filepath.Join("testdata", "sipp", "cli-uac-pcap.xml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	scen := filepath.Join(dir, "cli-uac-pcap.xml")
	writeFile(t, scen, expand(t, string(tmpl), map[string]string{"PCAP": pcap, "HOLD": "3600"}))
	stf := filepath.Join(dir, "stat.csv")
	sipp := startPeer(t, "sipp", dir, bin, "-sf", scen, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePortRange(t, 4)), "-m", "1", "-timeout", "30", "-timeout_error",
		"-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
		"-trace_stat", "-stf", stf, "-fd", "1", "-s", "echo", fmt.Sprintf("127.0.0.1:%d", sipPort))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("SIPp messages:\n%s\nSIPp errors:\n%s",
				readTail(filepath.Join(dir, "messages.log"), 16<<10), readTail(filepath.Join(dir, "errors.log"), 8<<10))
		}
	})
	checkSIPp(t, sipp, stf, 1, -1)

	if code := x.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("xphone answer: exit code %d, want 0", code)
	}
	r := x.result(t)
	st := r.Stats
	t.Logf("xphone JSON: ok=%v exit_code=%d call=%+v stats=%+v", r.OK, r.ExitCode, *r.Call, *st)
	if !r.OK || r.ExitCode != 0 || r.Command != "answer" {
		t.Errorf("JSON result: got command %q ok %v exit_code %d, want answer, true, 0", r.Command, r.OK, r.ExitCode)
	}
	if r.Call.Direction != "inbound" || r.Call.Codec != "PCMU" || r.Call.EndReason != "remote hangup" {
		t.Errorf("JSON call: got direction %q codec %q end_reason %q, want inbound, PCMU, remote hangup",
			r.Call.Direction, r.Call.Codec, r.Call.EndReason)
	}
	if st.PacketsReceived < packets*9/10 || st.PacketsReceived > packets {
		t.Errorf("JSON packets_received: got %d, want %d (at least 90%%)", st.PacketsReceived, packets)
	}
	if st.PacketsSent < st.PacketsReceived*9/10 {
		t.Errorf("JSON packets_sent: got %d, want at least 90%% of the %d received (echo)", st.PacketsSent, st.PacketsReceived)
	}

	to, from, payloads, err := capture.counts()
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	t.Logf("capture on lo: %d PCMU packets from SIPp to xphone's RTP ports, %d back from them", to, from)
	if to != packets {
		t.Errorf("captured packets SIPp sent: got %d, want %d", to, packets)
	}
	if from < to*9/10 {
		t.Errorf("captured echo packets: got %d, want at least 90%% of the %d sent", from, to)
	}
	var pcm []int16
	for _, p := range payloads {
		pcm = g711.DecodeUlaw(pcm, p)
	}
	// Echo of silence (before the tone arrives, or comfort frames) is
	// allowed at the edges: check the middle.
	if len(pcm) < 160*100 {
		t.Fatalf("echoed audio: got %d samples, want at least 2 s", len(pcm))
	}
	mid := pcm[160*10 : len(pcm)-160*10]
	if err := audiotest.CheckTone(mid, 8000, 1000, 10); err != nil {
		t.Errorf("echoed audio: %v", err)
	}
	f, rel := audiotest.DominantFrequency(mid, 8000)
	t.Logf("echoed audio: %.2f s, dominant %.0f Hz (%.0f%% of the energy)", float64(len(pcm))/8000, f, 100*rel)
}

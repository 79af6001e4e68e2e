package rtp_test

import (
	"fmt"
	"time"

	"github.com/xphone-go/xphone/rtp"
)

func ExamplePacket_Unmarshal() {
	// A datagram as read from the socket: one byte of PCMU payload and a
	// one-byte header extension element (ID 1, audio level, RFC 6464).
	datagram := []byte{
		0x90, 0x80, 0x00, 0x07, 0x00, 0x00, 0x03, 0x20, 0xde, 0xca, 0xfb, 0xad,
		0xbe, 0xde, 0x00, 0x01, 0x10, 0x9e, 0x00, 0x00,
		0xff,
	}
	var p rtp.Packet // reuse one Packet per stream: no allocation per packet
	if err := p.Unmarshal(datagram); err != nil {
		fmt.Println(err)
		return
	}
	level, _ := p.FindExtension(1)
	fmt.Printf("marker=%v pt=%d seq=%d ts=%d ssrc=%#x level=%#x payload=%x\n",
		p.Marker, p.PayloadType, p.SequenceNumber, p.Timestamp, p.SSRC, level, p.Payload)
	// Output:
	// marker=true pt=0 seq=7 ts=800 ssrc=0xdecafbad level=0x9e payload=ff
}

func ExamplePacket_MarshalTo() {
	p := rtp.Packet{
		Header: rtp.Header{
			PayloadType:    0,
			SequenceNumber: 0x1234,
			Timestamp:      123456,
			SSRC:           0xdecafbad,
		},
		Payload: make([]byte, 160), // 20 ms of PCMU
	}
	buf := make([]byte, 1500) // reused for every packet
	n, err := p.MarshalTo(buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d bytes, header %x\n", n, buf[:12])
	// Output:
	// 172 bytes, header 800012340001e240decafbad
}

func ExampleCompound() {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	// Receiver side: statistics of the remote stream, turned into an RR.
	stats := rtp.Stats{SSRC: 0x0badcafe, ClockRate: 8000}
	for i := range 50 {
		if i == 20 {
			continue // one packet lost
		}
		stats.Update(uint16(1000+i), uint32(i*160), now.Add(time.Duration(i)*20*time.Millisecond))
	}
	out := rtp.Compound{
		ReceiverReports: []rtp.ReceiverReport{{
			SSRC:    0xdecafbad,
			Reports: []rtp.ReceptionReport{stats.Report(now.Add(time.Second))},
		}},
		SourceDescriptions: []rtp.SourceDescription{{Chunks: []rtp.SDESChunk{{
			Source: 0xdecafbad,
			Items:  []rtp.SDESItem{{Type: rtp.SDESCNAME, Text: []byte("alice@192.0.2.101")}},
		}}}},
	}
	buf, err := out.AppendTo(make([]byte, 0, 1500))
	if err != nil {
		fmt.Println(err)
		return
	}

	// The peer parses it into a Compound it reuses for every packet.
	var in rtp.Compound
	if err := in.Unmarshal(buf); err != nil {
		fmt.Println(err)
		return
	}
	rr := in.ReceiverReports[0].Reports[0]
	cname, _ := in.CNAME(0xdecafbad)
	fmt.Printf("%d bytes: lost %d (fraction %d/256), highest seq %d, cname %s\n",
		len(buf), rr.PacketsLost, rr.FractionLost, rr.HighestSequence, cname)
	// Output:
	// 60 bytes: lost 1 (fraction 5/256), highest seq 1049, cname alice@192.0.2.101
}

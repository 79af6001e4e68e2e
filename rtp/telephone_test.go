package rtp

import (
	"bytes"
	"fmt"
	"testing"
)

func TestTelephoneEventCodec(t *testing.T) {
	tests := []struct {
		hex  string
		want TelephoneEvent
	}{
		// RFC 4733 §2.3 layout: event, E|R|volume, duration.
		{"05 0a 0320", TelephoneEvent{Event: 5, Volume: 10, Duration: 800}},
		{"0b 8a 0640", TelephoneEvent{Event: 11, End: true, Volume: 10, Duration: 1600}},
		{"00 3f 0000", TelephoneEvent{Event: 0, Volume: 63}},
		{"10 bf ffff", TelephoneEvent{Event: 16, End: true, Volume: 63, Duration: 0xffff}},
	}
	for _, tt := range tests {
		t.Run(tt.hex, func(t *testing.T) {
			raw := mustHex(t, tt.hex)
			var got TelephoneEvent
			if err := got.Unmarshal(raw); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if out := tt.want.AppendTo(nil); !bytes.Equal(out, raw) {
				t.Errorf("got %x, want %x", out, raw)
			}
		})
	}
	var e TelephoneEvent
	if err := e.Unmarshal([]byte{1, 2, 3}); err == nil {
		t.Errorf("short payload: got nil error, want one")
	}
	// The R bit is ignored on receipt and cleared on send.
	if err := e.Unmarshal([]byte{1, 0x40 | 7, 0, 1}); err != nil || e != (TelephoneEvent{Event: 1, Volume: 7, Duration: 1}) {
		t.Errorf("R bit: got %+v %v, want volume 7", e, err)
	}
}

func TestDTMFMapping(t *testing.T) {
	for i, r := range "0123456789*#ABCD" {
		ev, ok := DTMFEvent(r)
		if !ok || ev != uint8(i) {
			t.Errorf("DTMFEvent(%q): got %v %v, want %v", r, ev, ok, i)
		}
		back, ok := DTMFRune(uint8(i))
		if !ok || back != r {
			t.Errorf("DTMFRune(%v): got %q %v, want %q", i, back, ok, r)
		}
	}
	if ev, ok := DTMFEvent('d'); !ok || ev != 15 {
		t.Errorf("DTMFEvent('d'): got %v %v, want 15", ev, ok)
	}
	if _, ok := DTMFEvent('x'); ok {
		t.Errorf("DTMFEvent('x'): got ok, want not")
	}
	if _, ok := DTMFRune(16); ok {
		t.Errorf("DTMFRune(16): got ok, want not")
	}
}

func TestEventSender(t *testing.T) {
	tests := []struct {
		name               string
		duration, interval uint16
		want               string // marker, E, duration per packet
	}{
		{"100 ms at 20 ms", 800, 160, "M160 320 480 640 E800 E800 E800"},
		{"uneven", 500, 160, "M160 320 480 E500 E500 E500"},
		{"shorter than interval", 100, 160, "ME100 E100 E100"},
		{"no interval", 800, 0, "ME800 E800 E800"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s EventSender
			s.Start(9, 10, tt.duration, tt.interval)
			var got []byte
			for {
				ev, marker, ok := s.Next()
				if !ok {
					break
				}
				if ev.Event != 9 || ev.Volume != 10 {
					t.Fatalf("got event %v volume %v, want 9 and 10", ev.Event, ev.Volume)
				}
				if len(got) > 0 {
					got = append(got, ' ')
				}
				if marker {
					got = append(got, 'M')
				}
				if ev.End {
					got = append(got, 'E')
				}
				got = fmt.Appendf(got, "%d", ev.Duration)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if !s.Done() {
				t.Errorf("Done: got false, want true")
			}
		})
	}
}

type eventPacket struct {
	ts  uint32
	hex string
}

func TestEventReceiver(t *testing.T) {
	tests := []struct {
		name    string
		packets []eventPacket
		want    string // reported keys
	}{
		{"well-behaved 1 then 2", []eventPacket{
			{1000, "01 0a 00a0"}, {1000, "01 0a 0140"}, {1000, "01 8a 0190"}, {1000, "01 8a 0190"}, {1000, "01 8a 0190"},
			{2000, "02 0a 00a0"}, {2000, "02 8a 0190"}, {2000, "02 8a 0190"}, {2000, "02 8a 0190"},
		}, "12"},
		{"duration 0 and only end packets", []eventPacket{
			{1000, "05 8a 0000"}, {1000, "05 8a 0000"}, {3000, "05 8a 0000"},
		}, "55"},
		{"lost end packets, new timestamp starts a new event", []eventPacket{
			{1000, "03 0a 00a0"}, {1000, "03 0a 0140"}, {1500, "03 0a 00a0"}, {1500, "03 8a 0140"},
		}, "33"},
		{"late end packet of the previous event", []eventPacket{
			{1000, "04 0a 00a0"}, {2000, "06 0a 00a0"}, {1000, "04 8a 0190"}, {2000, "06 8a 0140"},
		}, "46"},
		{"odd repeats and a single end packet", []eventPacket{
			{1000, "0b 0a 00a0"}, {1000, "0b 0a 00a0"}, {1000, "0b 0a 00a0"}, {1000, "0b 8a 0190"},
			{1320, "0a 8a 0190"},
		}, "#*"},
		{"timestamp wraps", []eventPacket{
			{0xffffff00, "07 0a 00a0"}, {0x00000010, "08 0a 00a0"},
		}, "78"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r EventReceiver
			var got []rune
			for _, p := range tt.packets {
				ev, isNew, err := r.Push(p.ts, mustHex(t, p.hex))
				if err != nil {
					t.Fatal(err)
				}
				if isNew {
					k, _ := DTMFRune(ev.Event)
					got = append(got, k)
				}
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", string(got), tt.want)
			}
		})
	}
}

// TestEventSenderToReceiver sends a string of digits through the sender
// rules and checks that the receiver reports each exactly once.
func TestEventSenderToReceiver(t *testing.T) {
	const digits = "123*#0A55"
	var (
		s   EventSender
		r   EventReceiver
		got []rune
		ts  uint32 = 0xfffff000 // crosses the 32-bit wrap
	)
	for _, d := range digits {
		ev, _ := DTMFEvent(d)
		s.Start(ev, 10, 800, 160)
		for {
			e, _, ok := s.Next()
			if !ok {
				break
			}
			got1, isNew, err := r.Push(ts, e.AppendTo(nil))
			if err != nil {
				t.Fatal(err)
			}
			if isNew {
				k, _ := DTMFRune(got1.Event)
				got = append(got, k)
			}
		}
		ts += 1600
	}
	if string(got) != digits {
		t.Errorf("got %q, want %q", string(got), digits)
	}
}

func FuzzTelephoneEvent(f *testing.F) {
	f.Add([]byte{0x05, 0x0a, 0x03, 0x20})
	f.Add([]byte{0x0b, 0xca, 0x06, 0x40, 0x01, 0x01, 0x0b, 0x8a, 0x06, 0x40})
	f.Add([]byte{0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		var e TelephoneEvent
		if err := e.Unmarshal(data); err == nil {
			out := e.AppendTo(nil)
			want := []byte{data[0], data[1] &^ 0x40, data[2], data[3]}
			if !bytes.Equal(out, want) {
				t.Fatalf("got %x, want %x", out, want)
			}
			var e2 TelephoneEvent
			if err := e2.Unmarshal(out); err != nil || e2 != e {
				t.Fatalf("round trip: got %+v %v, want %+v", e2, err, e)
			}
		}
		// Read data as packets of (1-byte timestamp, 4-byte payload) and
		// check the receiver against a model with unbounded memory while
		// there are few enough distinct events for its history.
		var r EventReceiver
		seen := map[eventKey]bool{}
		for len(data) >= 5 {
			ts := uint32(data[0])
			ev, isNew, err := r.Push(ts, data[1:5])
			if err != nil {
				t.Fatal(err)
			}
			k := eventKey{ts, ev.Event}
			if want := !seen[k]; isNew != want && len(seen) < eventHistory {
				t.Fatalf("packet %x: got isNew %v, want %v", data[:5], isNew, want)
			}
			seen[k] = true
			data = data[5:]
		}
	})
}

func ExampleEventSender() {
	// Send '5' for 100 ms with an update every 20 ms at 8 kHz.
	var s EventSender
	ev, _ := DTMFEvent('5')
	s.Start(ev, 10, 800, 160)
	seq := uint16(100)
	var buf []byte
	for {
		e, marker, ok := s.Next()
		if !ok {
			break
		}
		p := Packet{
			Header:  Header{Marker: marker, PayloadType: 101, SequenceNumber: seq, Timestamp: 48000, SSRC: 1},
			Payload: e.AppendTo(nil),
		}
		buf, _ = p.AppendTo(buf[:0])
		// ... write buf to the socket, then wait for the next interval.
		fmt.Printf("seq=%d M=%v %x\n", seq, marker, p.Payload)
		seq++
	}
	// Output:
	// seq=100 M=true 050a00a0
	// seq=101 M=false 050a0140
	// seq=102 M=false 050a01e0
	// seq=103 M=false 050a0280
	// seq=104 M=false 058a0320
	// seq=105 M=false 058a0320
	// seq=106 M=false 058a0320
}

func ExampleEventReceiver() {
	var r EventReceiver
	// A sloppy peer: no marker, duration 0, one end packet, repeats.
	packets := []struct {
		ts      uint32
		payload []byte
	}{
		{8000, []byte{1, 0x0a, 0, 0}},
		{8000, []byte{1, 0x0a, 0, 0}},
		{8000, []byte{1, 0x8a, 0x03, 0x20}},
		{9600, []byte{11, 0x8a, 0x03, 0x20}},
		{9600, []byte{11, 0x8a, 0x03, 0x20}},
	}
	for _, p := range packets {
		ev, isNew, err := r.Push(p.ts, p.payload)
		if err != nil {
			fmt.Println(err)
			continue
		}
		if isNew {
			key, _ := DTMFRune(ev.Event)
			fmt.Printf("key %c\n", key)
		}
	}
	// Output:
	// key 1
	// key #
}

func TestEventAllocs(t *testing.T) {
	var (
		s   EventSender
		r   EventReceiver
		buf = make([]byte, 0, 4)
		ts  uint32
	)
	allocs := testing.AllocsPerRun(100, func() {
		s.Start(1, 10, 480, 160)
		for {
			e, _, ok := s.Next()
			if !ok {
				break
			}
			if _, _, err := r.Push(ts, e.AppendTo(buf[:0])); err != nil {
				t.Fatal(err)
			}
		}
		ts += 800
	})
	if allocs != 0 {
		t.Errorf("got %v allocs, want 0", allocs)
	}
}

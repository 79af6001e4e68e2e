//go:build opus && cgo

package opus

import (
	"encoding/binary"
	"math"
	"os"
	"strconv"
	"testing"
)

func tone(n, rate int, freq, amp float64, phase int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(phase+i)/float64(rate)))
	}
	return pcm
}

// goertzel returns the power of x at freq (Hz) for sample rate rate.
func goertzel(x []int16, freq float64, rate int) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + k*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

func energy(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e
}

// TestToneRoundTrip encodes a 1 kHz tone and checks the decoded audio is
// that tone: after the codec's start-up, nearly all the energy sits at
// 1 kHz (Goertzel, with N samples a pure tone gives power E·N/2), the
// level is kept, and a neighbouring frequency carries next to nothing.
func TestToneRoundTrip(t *testing.T) {
	if !Available() {
		t.Fatal("Available() = false in the opus build")
	}
	for _, rate := range []int{8000, 16000} {
		t.Run("rate="+strconv.Itoa(rate), func(t *testing.T) {
			enc, err := NewEncoder(rate)
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			dec, err := NewDecoder(rate)
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			frame := rate / 50
			var in, out []int16
			pkt := make([]byte, 0, MaxPacketSize)
			for i := range 50 {
				pcm := tone(frame, rate, 1000, 10000, i*frame)
				in = append(in, pcm...)
				if pkt, err = enc.Encode(pkt[:0], pcm); err != nil {
					t.Fatal(err)
				}
				if out, err = dec.Decode(out, pkt); err != nil {
					t.Fatal(err)
				}
			}
			if len(out) != len(in) {
				t.Fatalf("got %d samples, want %d", len(out), len(in))
			}
			block := out[len(out)-rate/5:] // last 200 ms
			n := float64(len(block))
			at := goertzel(block, 1000, rate) / (n / 2)
			off := goertzel(block, 1500, rate) / (n / 2)
			e := energy(block)
			if at < 0.9*e {
				t.Errorf("got %.1f%% of the energy at 1 kHz, want ≥ 90%%", 100*at/e)
			}
			if off > 0.01*e {
				t.Errorf("got %.2f%% of the energy at 1.5 kHz, want < 1%%", 100*off/e)
			}
			ein := energy(in[len(in)-rate/5:])
			if db := 10 * math.Log10(e/ein); math.Abs(db) > 3 {
				t.Errorf("got level change %.1f dB, want within ±3 dB", db)
			}
		})
	}
}

// TestPLC: a lost packet (nil) is concealed with a frame as long as the
// last one, which continues the signal rather than going silent.
func TestPLC(t *testing.T) {
	for _, tc := range []struct{ rate, frame int }{{8000, 160}, {16000, 320}, {16000, 160}} {
		enc, _ := NewEncoder(tc.rate)
		dec, _ := NewDecoder(tc.rate)
		var pkt []byte
		var err error
		for i := range 10 {
			pkt, err = enc.Encode(pkt[:0], tone(tc.frame, tc.rate, 440, 8000, i*tc.frame))
			if err != nil {
				t.Fatal(err)
			}
			if _, err = dec.Decode(nil, pkt); err != nil {
				t.Fatal(err)
			}
		}
		got, err := dec.Decode(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.frame {
			t.Errorf("rate %d: got %d concealed samples, want %d", tc.rate, len(got), tc.frame)
		}
		if energy(got) == 0 {
			t.Errorf("rate %d: concealment is silence", tc.rate)
		}
		enc.Close()
		dec.Close()
	}
}

func readSpeech(t *testing.T) []int16 {
	t.Helper()
	b, err := os.ReadFile("../../testdata/workloads/audio/speech-16k-s16le.raw")
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

// TestFEC drops every 7th packet of 4 s of speech and rebuilds it twice:
// by concealment (Decode nil) and from the FEC data of the next packet
// (DecodeFEC). Measured against the loss-free decode of the same frames,
// FEC must be much closer than concealment, which shows the redundancy was
// sent and used.
func TestFEC(t *testing.T) {
	const rate, frame = 16000, 320
	speech := readSpeech(t)[:4*rate]
	enc, err := NewEncoder(rate)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	if err := enc.SetBitrate(24000); err != nil {
		t.Fatal(err)
	}
	if err := enc.SetPacketLossPercent(20); err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for i := 0; i+frame <= len(speech); i += frame {
		p, err := enc.Encode(nil, speech[i:i+frame])
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	clean, _ := NewDecoder(rate)
	plc, _ := NewDecoder(rate)
	fec, _ := NewDecoder(rate)
	defer clean.Close()
	defer plc.Close()
	defer fec.Close()
	var errPLC, errFEC, ref float64
	for i, p := range pkts {
		want, err := clean.Decode(nil, p)
		if err != nil {
			t.Fatal(err)
		}
		if i%7 != 3 || i+1 == len(pkts) {
			plc.Decode(nil, p)
			fec.Decode(nil, p)
			continue
		}
		gotPLC, err := plc.Decode(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		gotFEC, err := fec.DecodeFEC(nil, pkts[i+1], frame)
		if err != nil {
			t.Fatal(err)
		}
		if len(gotPLC) != frame || len(gotFEC) != frame {
			t.Fatalf("packet %d: got %d and %d samples, want %d", i, len(gotPLC), len(gotFEC), frame)
		}
		for j := range want {
			w := float64(want[j])
			ref += w * w
			errPLC += (float64(gotPLC[j]) - w) * (float64(gotPLC[j]) - w)
			errFEC += (float64(gotFEC[j]) - w) * (float64(gotFEC[j]) - w)
		}
	}
	snrPLC := 10 * math.Log10(ref/errPLC)
	snrFEC := 10 * math.Log10(ref/errFEC)
	t.Logf("lost frames: SNR %.1f dB with PLC, %.1f dB with FEC", snrPLC, snrFEC)
	if snrFEC < snrPLC+3 {
		t.Errorf("got FEC SNR %.1f dB, want ≥ PLC SNR %.1f dB + 3 dB", snrFEC, snrPLC)
	}
}

func TestZeroAllocs(t *testing.T) {
	enc, _ := NewEncoder(16000)
	dec, _ := NewDecoder(16000)
	defer enc.Close()
	defer dec.Close()
	pcm := tone(320, 16000, 700, 5000, 0)
	pkt := make([]byte, 0, MaxPacketSize)
	out := make([]int16, 0, 320)
	var err error
	if got := testing.AllocsPerRun(50, func() { pkt, err = enc.Encode(pkt[:0], pcm) }); got != 0 || err != nil {
		t.Errorf("Encode: got %v allocs (err %v), want 0", got, err)
	}
	if got := testing.AllocsPerRun(50, func() { out, err = dec.Decode(out[:0], pkt) }); got != 0 || err != nil {
		t.Errorf("Decode: got %v allocs (err %v), want 0", got, err)
	}
	if got := testing.AllocsPerRun(50, func() { out, err = dec.Decode(out[:0], nil) }); got != 0 || err != nil {
		t.Errorf("Decode(nil): got %v allocs (err %v), want 0", got, err)
	}
}

func TestErrors(t *testing.T) {
	if _, err := NewEncoder(44100); err == nil {
		t.Errorf("NewEncoder(44100): got nil error, want one")
	}
	if _, err := NewDecoder(11025); err == nil {
		t.Errorf("NewDecoder(11025): got nil error, want one")
	}
	enc, _ := NewEncoder(8000)
	if _, err := enc.Encode(nil, make([]int16, 100)); err == nil {
		t.Errorf("Encode of 100 samples (not a frame size): got nil error, want one")
	}
	enc.Close()
	if _, err := enc.Encode(nil, make([]int16, 160)); err == nil {
		t.Errorf("Encode after Close: got nil error, want one")
	}
	dec, _ := NewDecoder(8000)
	dec.Close()
	if _, err := dec.Decode(nil, nil); err == nil {
		t.Errorf("Decode after Close: got nil error, want one")
	}
}

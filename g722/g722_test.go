package g722

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

const (
	vectors   = "../testdata/vectors/g722"
	workloads = "../testdata/workloads/audio"
)

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func readPCM(tb testing.TB, path string) []int16 {
	tb.Helper()
	b := readFile(tb, path)
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

func pcmHash(pcm []int16) string {
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestEncodeVectors: spandsp and FFmpeg produce these bitstreams byte for
// byte; so must we.
func TestEncodeVectors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"signal16k", filepath.Join(vectors, "signal16k.s16le"), filepath.Join(vectors, "signal16k.g722")},
		{"speech", filepath.Join(workloads, "speech-16k-s16le.raw"), filepath.Join(workloads, "speech-16k.g722")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pcm := readPCM(t, tc.in)
			want := readFile(t, tc.want)
			got := NewEncoder().Encode(nil, pcm)
			if len(got) != len(want) {
				t.Fatalf("got %d octets, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("octet %d: got 0x%02x, want 0x%02x", i, got[i], want[i])
				}
			}
		})
	}
}

// TestDecodeVectors: the decoder equals FFmpeg's (saturating) decoder on
// every sample, and spandsp's everywhere except where spandsp's output
// wraps around, where ours is saturated.
func TestDecodeVectors(t *testing.T) {
	data := readFile(t, filepath.Join(vectors, "signal16k.g722"))
	got := NewDecoder().Decode(nil, data)
	ffmpeg := readPCM(t, filepath.Join(vectors, "signal16k.g722.decoded.ffmpeg.s16le"))
	if len(got) != len(ffmpeg) {
		t.Fatalf("got %d samples, want %d", len(got), len(ffmpeg))
	}
	for i := range ffmpeg {
		if got[i] != ffmpeg[i] {
			t.Fatalf("sample %d: got %d, want %d (FFmpeg)", i, got[i], ffmpeg[i])
		}
	}
	spandsp := readPCM(t, filepath.Join(vectors, "signal16k.g722.decoded.spandsp.s16le"))
	wrapped := 0
	for i := range spandsp {
		if got[i] == spandsp[i] {
			continue
		}
		saturated := (got[i] == math.MaxInt16 && spandsp[i] < 0) || (got[i] == math.MinInt16 && spandsp[i] > 0)
		if !saturated || i < 2*16000 || i >= 3*16000+64 { // + codec delay
			t.Fatalf("sample %d: got %d, spandsp %d: not a wrap-around in the overdriven segment", i, got[i], spandsp[i])
		}
		wrapped++
	}
	if wrapped != 1748 {
		t.Errorf("got %d samples where spandsp wraps, want 1748 (vectors README)", wrapped)
	}
}

// TestDecodeModes checks 56 and 48 kbit/s decoding. The speech digests are
// of libspandsp 0.0.6's g722_decode at 56000/48000 (unpacked, fed each
// octet shifted right by 1 or 2), which we equal exactly. On the test
// signal spandsp wraps around in the overdriven segment (1340 and 1642
// samples) where we saturate; those digests are of our output, checked
// against spandsp sample by sample outside the wrapped samples.
func TestDecodeModes(t *testing.T) {
	tests := []struct {
		file string
		rate int
		want string
	}{
		{filepath.Join(workloads, "speech-16k.g722"), 64000, "c5d8d785804e69ecd7a868ce18a0f96482e1b89f9ee63681d067111de83f2d19"},
		{filepath.Join(workloads, "speech-16k.g722"), 56000, "7a122f902ba46045e26e69077a7421ffbe443be68073c383141065e547aeb74d"},
		{filepath.Join(workloads, "speech-16k.g722"), 48000, "9ee7cadce0a0a49aa26b834a1aee27e6ab447b1120d987a477f5678cd14aa48c"},
		{filepath.Join(vectors, "signal16k.g722"), 56000, "c91c0993492501e3a1ba0d29f82cbd9aec3d25ff011523f81490a6f929a6f9e3"},
		{filepath.Join(vectors, "signal16k.g722"), 48000, "b9f8c414b4d766ce71c2abe602e06bbfe1e3e8d52bd113845c18b66462ba1f7b"},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.file)+"/"+strconv.Itoa(tc.rate), func(t *testing.T) {
			d, err := NewDecoderRate(tc.rate)
			if err != nil {
				t.Fatal(err)
			}
			if d.Bitrate() != tc.rate {
				t.Errorf("got bit rate %d, want %d", d.Bitrate(), tc.rate)
			}
			if got := pcmHash(d.Decode(nil, readFile(t, tc.file))); got != tc.want {
				t.Errorf("got sha256 %s, want %s", got, tc.want)
			}
		})
	}
}

func TestNewDecoderRate(t *testing.T) {
	for _, rate := range []int{0, 8000, 16000, 32000, 63999, 64001} {
		d, err := NewDecoderRate(rate)
		if !errors.Is(err, ErrBitrate) || d != nil {
			t.Errorf("NewDecoderRate(%d): got %v, %v; want nil, ErrBitrate", rate, d, err)
		}
	}
}

// TestModesIgnoreAuxBits: at 56 and 48 kbit/s the low 1 or 2 bits of each
// octet carry data, not audio.
func TestModesIgnoreAuxBits(t *testing.T) {
	data := readFile(t, filepath.Join(workloads, "speech-16k.g722"))[:3200]
	for _, tc := range []struct {
		rate int
		mask byte
	}{{56000, 0xfe}, {48000, 0xfc}} {
		masked := make([]byte, len(data))
		flipped := make([]byte, len(data))
		for i, c := range data {
			masked[i] = c & tc.mask
			flipped[i] = c | ^tc.mask
		}
		d1, _ := NewDecoderRate(tc.rate)
		d2, _ := NewDecoderRate(tc.rate)
		if !slices.Equal(d1.Decode(nil, masked), d2.Decode(nil, flipped)) {
			t.Errorf("%d: auxiliary bits changed the audio", tc.rate)
		}
	}
}

// TestRoundTripSNR: speech through encoder and decoder comes back with the
// codec delay of 22 samples (two 24-tap QMFs) and an SNR above 20 dB.
func TestRoundTripSNR(t *testing.T) {
	pcm := readPCM(t, filepath.Join(workloads, "speech-16k-s16le.raw"))
	out := NewDecoder().Decode(nil, NewEncoder().Encode(nil, pcm))
	const delay = 22
	var sig, noise float64
	for i := delay; i < len(out); i++ {
		s := float64(pcm[i-delay])
		e := float64(out[i]) - s
		sig += s * s
		noise += e * e
	}
	if snr := 10 * math.Log10(sig/noise); snr < 20 {
		t.Errorf("got SNR %.1f dB, want ≥ 20 dB", snr)
	}
}

// TestChunking: any split of the input, odd sizes included, gives the same
// output as one call; Reset restarts the stream.
func TestChunking(t *testing.T) {
	pcm := readPCM(t, filepath.Join(workloads, "speech-16k-s16le.raw"))[:16000]
	whole := NewEncoder().Encode(nil, pcm)
	dec := NewDecoder().Decode(nil, whole)
	for _, size := range []int{1, 3, 7, 160, 319, 320, 321, 1001} {
		enc := NewEncoder()
		var got []byte
		for i := 0; i < len(pcm); i += size {
			got = enc.Encode(got, pcm[i:min(i+size, len(pcm))])
		}
		if !bytes.Equal(got, whole) {
			t.Errorf("encode in chunks of %d differs from one call", size)
		}
		d := NewDecoder()
		var gotPCM []int16
		for i := 0; i < len(whole); i += size {
			gotPCM = d.Decode(gotPCM, whole[i:min(i+size, len(whole))])
		}
		if !slices.Equal(gotPCM, dec) {
			t.Errorf("decode in chunks of %d differs from one call", size)
		}
	}
	enc := NewEncoder()
	enc.Encode(nil, pcm[:1001]) // leaves a held sample
	enc.Reset()
	if got := enc.Encode(nil, pcm); !bytes.Equal(got, whole) {
		t.Errorf("encoder after Reset differs from a new one")
	}
	d, _ := NewDecoderRate(48000)
	d.Decode(nil, whole[:500])
	d.Reset()
	fresh, _ := NewDecoderRate(48000)
	if !slices.Equal(d.Decode(nil, whole), fresh.Decode(nil, whole)) || d.Bitrate() != 48000 {
		t.Errorf("decoder after Reset differs from a new one")
	}
}

func TestAppend(t *testing.T) {
	pcm := readPCM(t, filepath.Join(workloads, "speech-16k-s16le.raw"))[:320]
	got := NewEncoder().Encode([]byte{1, 2}, pcm)
	want := append([]byte{1, 2}, NewEncoder().Encode(nil, pcm)...)
	if !bytes.Equal(got, want) {
		t.Errorf("encode does not append to dst")
	}
	dec := NewDecoder().Decode([]int16{-5}, got[2:])
	if len(dec) != 321 || dec[0] != -5 {
		t.Errorf("got %d samples starting %d, want 321 starting -5", len(dec), dec[0])
	}
}

func TestZeroAllocs(t *testing.T) {
	pcm := readPCM(t, filepath.Join(workloads, "speech-16k-s16le.raw"))[:320]
	enc := NewEncoder()
	dec := NewDecoder()
	octets := make([]byte, 0, 160)
	out := make([]int16, 0, 320)
	if got := testing.AllocsPerRun(100, func() { octets = enc.Encode(octets[:0], pcm) }); got != 0 {
		t.Errorf("Encode: got %v allocs per frame, want 0", got)
	}
	if got := testing.AllocsPerRun(100, func() { out = dec.Decode(out[:0], octets) }); got != 0 {
		t.Errorf("Decode: got %v allocs per frame, want 0", got)
	}
}

func TestRTP(t *testing.T) {
	if got := PayloadLen(20); got != 160 {
		t.Errorf("PayloadLen(20): got %d, want 160", got)
	}
	if got := RTPTimestampIncrement(160); got != 160 {
		t.Errorf("RTPTimestampIncrement(160): got %d, want 160", got)
	}
	// 20 ms of 16 kHz audio is 320 samples and 160 octets.
	octets := NewEncoder().Encode(nil, make([]int16, SampleRate/50))
	if len(octets) != PayloadLen(20) {
		t.Errorf("20 ms encodes to %d octets, want %d", len(octets), PayloadLen(20))
	}
}

// TestZeroValue: a zero Encoder and Decoder behave like new ones.
func TestZeroValue(t *testing.T) {
	pcm := readPCM(t, filepath.Join(workloads, "speech-16k-s16le.raw"))[:3200]
	var e Encoder
	got := e.Encode(nil, pcm)
	want := NewEncoder().Encode(nil, pcm)
	if !bytes.Equal(got, want) {
		t.Errorf("zero Encoder output differs from NewEncoder's")
	}
	var d Decoder
	if d.Bitrate() != 64000 {
		t.Errorf("zero Decoder: got bit rate %d, want 64000", d.Bitrate())
	}
	if !slices.Equal(d.Decode(nil, want), NewDecoder().Decode(nil, want)) {
		t.Errorf("zero Decoder output differs from NewDecoder's")
	}
}

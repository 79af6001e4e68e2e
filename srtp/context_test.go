package srtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func rtpPacket(seq uint16, ssrc uint32, payload byte) []byte {
	p := []byte{0x80, 0x00, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	return append(p, bytes.Repeat([]byte{payload}, 20)...)
}

func pair(t *testing.T, p Profile, opts ...Option) (enc, dec *Context) {
	t.Helper()
	key, salt := bytes.Repeat([]byte{7}, p.KeyLen()), bytes.Repeat([]byte{9}, p.SaltLen())
	return mustContext(t, p, key, salt, opts...), mustContext(t, p, key, salt, opts...)
}

// TestROCRollover sends across the 65535→0 wrap, delivering packets out of
// order around it, and checks the receiver's index estimate (RFC 3711
// §3.3.1) and ROC follow, for both cipher families.
func TestROCRollover(t *testing.T) {
	for _, p := range []Profile{ProfileAES128CMSHA1_80, ProfileAEADAES256GCM} {
		t.Run(p.String(), func(t *testing.T) {
			enc, dec := pair(t, p)
			const ssrc = 0xdecafbad
			var prot [][]byte
			for i := 0; i < 12; i++ {
				seq := uint16(65530 + i) // wraps after 5 packets
				out, err := enc.EncryptRTP(nil, rtpPacket(seq, ssrc, byte(i)))
				if err != nil {
					t.Fatal(err)
				}
				prot = append(prot, out)
			}
			if roc, _ := enc.ROC(ssrc); roc != 1 {
				t.Fatalf("sender ROC: got %d, want 1", roc)
			}
			// Deliver with reordering across the wrap: 0 1 2 3 6 4 5 7 9 8 11 10.
			for _, i := range []int{0, 1, 2, 3, 6, 4, 5, 7, 9, 8, 11, 10} {
				got, err := dec.DecryptRTP(nil, prot[i])
				if err != nil {
					t.Fatalf("packet %d (seq %d): %v", i, uint16(65530+i), err)
				}
				if want := rtpPacket(uint16(65530+i), ssrc, byte(i)); !bytes.Equal(got, want) {
					t.Errorf("packet %d: got %x, want %x", i, got, want)
				}
			}
			if roc, _ := dec.ROC(ssrc); roc != 1 {
				t.Errorf("receiver ROC: got %d, want 1", roc)
			}
		})
	}
}

func TestSetROC(t *testing.T) {
	enc, _ := pair(t, ProfileAES128CMSHA1_80)
	enc.SetROC(1, 7)
	prot, err := enc.EncryptRTP(nil, rtpPacket(100, 1, 0xaa))
	if err != nil {
		t.Fatal(err)
	}
	// A receiver that does not know the ROC fails; one told it succeeds.
	_, dec := pair(t, ProfileAES128CMSHA1_80)
	if _, err := dec.DecryptRTP(nil, prot); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("without SetROC: got %v, want ErrAuthFailed", err)
	}
	dec.SetROC(1, 7)
	if _, err := dec.DecryptRTP(nil, prot); err != nil {
		t.Errorf("with SetROC: got %v, want nil", err)
	}
	if roc, ok := dec.ROC(1); roc != 7 || !ok {
		t.Errorf("ROC: got %d, %v, want 7, true", roc, ok)
	}
}

// TestSetIndex: a receiver that takes up a stream at its highest index
// 65535 (a rekey at the wrap) reads SEQ 0 as index 65536, where SetROC
// with the ROC of that index (0) would read it as index 0 and fail.
func TestSetIndex(t *testing.T) {
	enc, _ := pair(t, ProfileAES128CMSHA1_80)
	enc.SetIndex(1, 65534)
	if _, err := enc.EncryptRTP(nil, rtpPacket(65535, 1, 0xaa)); err != nil {
		t.Fatal(err)
	}
	prot, err := enc.EncryptRTP(nil, rtpPacket(0, 1, 0xbb))
	if err != nil {
		t.Fatal(err)
	}
	if idx, ok := enc.Index(1); idx != 65536 || !ok {
		t.Errorf("sender's index: got %d, %v, want 65536, true", idx, ok)
	}
	_, byROC := pair(t, ProfileAES128CMSHA1_80)
	byROC.SetROC(1, 0)
	if _, err := byROC.DecryptRTP(nil, prot); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("with SetROC(0): got %v, want ErrAuthFailed", err)
	}
	_, dec := pair(t, ProfileAES128CMSHA1_80)
	if _, ok := dec.Index(1); ok {
		t.Error("Index of a stream not seen: got one")
	}
	dec.SetIndex(1, 65535)
	if _, err := dec.DecryptRTP(nil, prot); err != nil {
		t.Errorf("with SetIndex(65535): got %v, want nil", err)
	}
	if idx, ok := dec.Index(1); idx != 65536 || !ok {
		t.Errorf("receiver's index: got %d, %v, want 65536, true", idx, ok)
	}
}

func TestReplayWindow(t *testing.T) {
	tests := []struct {
		window   int
		old      uint16 // sequence delivered after seq 1000
		wantFail bool
	}{
		{0, 1000, false},   // disabled: duplicates pass
		{64, 1000, true},   // duplicate
		{64, 937, false},   // 63 behind: inside
		{64, 936, true},    // 64 behind: outside
		{128, 873, false},  // default window
		{128, 872, true},   // just outside
		{1000, 1, false},   // rounded up to 1024
		{5000, 1000, true}, // capped at 1024, duplicate
	}
	for _, tt := range tests {
		enc, dec := pair(t, ProfileAES128CMSHA1_80, WithReplayWindow(tt.window))
		old, err := enc.EncryptRTP(nil, rtpPacket(tt.old, 5, 1))
		if err != nil {
			t.Fatal(err)
		}
		top, err := enc.EncryptRTP(nil, rtpPacket(1000, 5, 2))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dec.DecryptRTP(nil, top); err != nil {
			t.Fatal(err)
		}
		_, err = dec.DecryptRTP(nil, old)
		if gotFail := errors.Is(err, ErrReplayed); gotFail != tt.wantFail {
			t.Errorf("window %d, seq %d after 1000: got %v, want replayed=%v", tt.window, tt.old, err, tt.wantFail)
		}
	}
}

func TestReplayWindowShift(t *testing.T) {
	var w replayWindow
	w.init(128)
	seen := map[uint64]bool{}
	// Accept a pseudo-random walk and check every index against a model.
	x := uint64(1)
	top := uint64(0)
	for i := 0; i < 3000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		idx := top + x>>60 // jump ahead up to 15
		if x>>59&1 == 1 && top > 200 {
			idx = top - x>>57&255 // or look back up to 255
		}
		fresh := !seen[idx] && (len(seen) == 0 || idx > top || top-idx < 128)
		if got := w.check(idx); got != fresh {
			t.Fatalf("step %d idx %d top %d: check got %v, want %v", i, idx, top, got, fresh)
		}
		if fresh {
			w.accept(idx)
			seen[idx] = true
			top = max(top, idx)
		}
	}
}

func TestMalformedAndClosed(t *testing.T) {
	enc, dec := pair(t, ProfileAES128CMSHA1_80)
	for _, pkt := range [][]byte{nil, {0x80}, make([]byte, 11), {0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 1}} {
		if _, err := enc.EncryptRTP(nil, pkt); err == nil {
			t.Errorf("EncryptRTP(%x): got nil error", pkt)
		}
		if _, err := dec.DecryptRTP(nil, pkt); err == nil {
			t.Errorf("DecryptRTP(%x): got nil error", pkt)
		}
		if len(pkt) < 8 {
			if _, err := enc.EncryptRTCP(nil, pkt); err == nil {
				t.Errorf("EncryptRTCP(%x): got nil error", pkt)
			}
		}
		if _, err := dec.DecryptRTCP(nil, pkt); err == nil {
			t.Errorf("DecryptRTCP(%x): got nil error", pkt)
		}
	}
	if _, err := NewContext(ProfileAES128CMSHA1_80, make([]byte, 15), make([]byte, 14)); err == nil {
		t.Error("NewContext with a short key: got nil error")
	}
	if _, err := NewContext(ProfileAEADAES128GCM, make([]byte, 16), make([]byte, 14)); err == nil {
		t.Error("NewContext GCM with a 14-octet salt: got nil error")
	}
	if _, err := NewContext(Profile(0), nil, nil); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("NewContext(0): got %v, want ErrUnknownProfile", err)
	}
	enc.Close()
	if enc.rtp.keys.encKey != [32]byte{} || enc.rtp.mac.ipad != [128]byte{} || enc.rtcp.keys.authKey != [20]byte{} {
		t.Error("Close left key material")
	}
	if _, err := enc.EncryptRTP(nil, rtpPacket(1, 1, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: got %v, want ErrClosed", err)
	}
}

func TestProfiles(t *testing.T) {
	tests := []struct {
		name                           string
		key, salt, tag, rtcpTag, authK int
	}{
		{"AES_CM_128_HMAC_SHA1_80", 16, 14, 10, 10, 20},
		{"AES_CM_128_HMAC_SHA1_32", 16, 14, 4, 10, 20},
		{"AES_256_CM_HMAC_SHA1_80", 32, 14, 10, 10, 20},
		{"AES_256_CM_HMAC_SHA1_32", 32, 14, 4, 10, 20},
		{"AEAD_AES_128_GCM", 16, 12, 16, 16, 0},
		{"AEAD_AES_256_GCM", 32, 12, 16, 16, 0},
	}
	for _, tt := range tests {
		p, err := ParseProfile(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		got := []int{p.KeyLen(), p.SaltLen(), p.AuthTagLen(), p.RTCPAuthTagLen(), p.AuthKeyLen()}
		want := []int{tt.key, tt.salt, tt.tag, tt.rtcpTag, tt.authK}
		if p.String() != tt.name || !equalInts(got, want) {
			t.Errorf("%s: got %s %v, want %v", tt.name, p, got, want)
		}
	}
	if _, err := ParseProfile("NULL_HMAC_SHA1_80"); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("ParseProfile(NULL): got %v, want ErrUnknownProfile", err)
	}
}

func equalInts(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// TestZeroAllocs asserts that protecting and unprotecting SRTP and SRTCP
// into a sized dst does not allocate, with the replay check on.
func TestZeroAllocs(t *testing.T) {
	for _, p := range Profiles() {
		t.Run(p.String(), func(t *testing.T) {
			enc, dec := pair(t, p)
			pkt := rtpPacket(1, 42, 0x55)
			rtcp := unhex(t, "80c800061234abcde1a2b3c4d5e6f7080000028000000004000000d1")
			const runs = 100
			var prot, rprot [runs + 2][]byte
			for i := range prot {
				binary.BigEndian.PutUint16(pkt[2:], uint16(i))
				prot[i], _ = enc.EncryptRTP(nil, pkt)
				rprot[i], _ = enc.EncryptRTCP(nil, rtcp)
			}
			dst := make([]byte, 0, 1500)
			seq := uint16(1000)
			if a := testing.AllocsPerRun(runs, func() {
				seq++
				binary.BigEndian.PutUint16(pkt[2:], seq)
				dst, _ = enc.EncryptRTP(dst[:0], pkt)
			}); a != 0 {
				t.Errorf("EncryptRTP: got %v allocs, want 0", a)
			}
			if a := testing.AllocsPerRun(runs, func() { dst, _ = enc.EncryptRTCP(dst[:0], rtcp) }); a != 0 {
				t.Errorf("EncryptRTCP: got %v allocs, want 0", a)
			}
			i, j := 0, 0
			if a := testing.AllocsPerRun(runs, func() {
				var err error
				if dst, err = dec.DecryptRTP(dst[:0], prot[i]); err != nil {
					t.Fatal(err)
				}
				i++
			}); a != 0 {
				t.Errorf("DecryptRTP: got %v allocs, want 0", a)
			}
			if a := testing.AllocsPerRun(runs, func() {
				var err error
				if dst, err = dec.DecryptRTCP(dst[:0], rprot[j]); err != nil {
					t.Fatal(err)
				}
				j++
			}); a != 0 {
				t.Errorf("DecryptRTCP: got %v allocs, want 0", a)
			}
		})
	}
}

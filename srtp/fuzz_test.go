package srtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecryptRTP feeds arbitrary packets to DecryptRTP for every profile.
// It must never panic; a failed packet must leave dst untouched; and a packet
// that does verify (a seed, or a mutation outside the authenticated part
// that the profile ignores) must be exactly what a sender with the same ROC
// produces from the plaintext.
func FuzzDecryptRTP(f *testing.F) {
	var v struct {
		Sessions []struct {
			Suite string
			RTP   []struct{ Protected string }
		}
	}
	loadJSON(f, "libsrtp_generated.json", &v)
	for _, s := range v.Sessions {
		for _, r := range s.RTP {
			f.Add(uint8(generatedSuites[s.Suite]-1), unhex(f, r.Protected))
		}
	}
	f.Add(uint8(1), []byte{0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0xff, 0xff})
	contexts := map[Profile][2][]byte{}
	var raw struct {
		Sessions []struct {
			Suite      string
			MasterKey  string `json:"master_key"`
			MasterSalt string `json:"master_salt"`
		}
	}
	loadJSON(f, "libsrtp_generated.json", &raw)
	for _, s := range raw.Sessions {
		contexts[generatedSuites[s.Suite]] = [2][]byte{unhex(f, s.MasterKey), unhex(f, s.MasterSalt)}
	}
	f.Fuzz(func(t *testing.T, profile uint8, pkt []byte) {
		p := Profile(profile%6 + 1)
		k := contexts[p]
		dec := mustContext(t, p, k[0], k[1])
		dst := make([]byte, 2, 64)
		got, err := dec.DecryptRTP(dst, pkt)
		if err != nil {
			if len(got) != 2 || !bytes.Equal(dst[:cap(dst)], make([]byte, cap(dst))) {
				t.Fatalf("failed decrypt changed dst: %v", err)
			}
			return
		}
		plain := got[2:]
		enc := mustContext(t, p, k[0], k[1])
		roc, _ := dec.ROC(binary.BigEndian.Uint32(pkt[8:]))
		enc.SetROC(binary.BigEndian.Uint32(pkt[8:]), roc)
		again, err := enc.EncryptRTP(nil, plain)
		if err != nil || !bytes.Equal(again, pkt) {
			t.Fatalf("re-encrypt: got %x, %v, want %x", again, err, pkt)
		}
		if _, err := dec.DecryptRTP(nil, pkt); !errors.Is(err, ErrReplayed) {
			t.Fatalf("second decrypt: got %v, want ErrReplayed", err)
		}
	})
}

// FuzzDecryptRTCP is FuzzDecryptRTP for SRTCP.
func FuzzDecryptRTCP(f *testing.F) {
	var v struct {
		Sessions []struct {
			Suite      string
			MasterKey  string `json:"master_key"`
			MasterSalt string `json:"master_salt"`
			RTCP       []struct{ Protected string }
		}
	}
	loadJSON(f, "libsrtp_generated.json", &v)
	contexts := map[Profile][2][]byte{}
	for _, s := range v.Sessions {
		p := generatedSuites[s.Suite]
		contexts[p] = [2][]byte{unhex(f, s.MasterKey), unhex(f, s.MasterSalt)}
		for _, r := range s.RTCP {
			f.Add(uint8(p-1), unhex(f, r.Protected))
		}
	}
	f.Fuzz(func(t *testing.T, profile uint8, pkt []byte) {
		p := Profile(profile%6 + 1)
		k := contexts[p]
		dec := mustContext(t, p, k[0], k[1])
		dst := make([]byte, 2, 64)
		got, err := dec.DecryptRTCP(dst, pkt)
		if err != nil {
			if len(got) != 2 || !bytes.Equal(dst[:cap(dst)], make([]byte, cap(dst))) {
				t.Fatalf("failed decrypt changed dst: %v", err)
			}
			return
		}
		if len(got)-2 != len(pkt)-p.MaxOverhead() {
			t.Fatalf("plaintext length: got %d, want %d", len(got)-2, len(pkt)-p.MaxOverhead())
		}
		if _, err := dec.DecryptRTCP(nil, pkt); !errors.Is(err, ErrReplayed) {
			t.Fatalf("second decrypt: got %v, want ErrReplayed", err)
		}
	})
}

// FuzzParseCrypto checks that whatever ParseCrypto accepts formats to text
// that parses back to the same value, and formats identically again.
func FuzzParseCrypto(f *testing.F) {
	for _, s := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4",
		"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1066|7:1;inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=1",
		"3 AEAD_AES_256_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJyg UNENCRYPTED_SRTCP",
		"4 F8_128_HMAC_SHA1_80 inline:AAAA|2^7",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCrypto(s)
		if err != nil {
			return
		}
		out := c.String()
		c2, err := ParseCrypto(out)
		if err != nil {
			t.Fatalf("reparse %q: %v", out, err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip: got %+v, want %+v", c2, c)
		}
		if out2 := c2.String(); out2 != out {
			t.Fatalf("format again: got %q, want %q", out2, out)
		}
	})
}

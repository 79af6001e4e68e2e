package srtp

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestParseCrypto(t *testing.T) {
	key30 := bytes.Repeat([]byte{0x3c}, 30)
	tests := []struct {
		in   string
		want Crypto
		out  string // formatted; "" means same as in
	}{
		{
			// RFC 4568 §4 example.
			in: "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4",
			want: Crypto{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Keys: []CryptoKey{{
				KeySalt: unhex(t, "3d2d6e40255e7821426a75667239293f2c2335685c603d265d7b71695051"), Lifetime: 1 << 20, MKI: 1, MKILength: 4}}},
		},
		{
			in:   "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" + b64(key30) + "|1066|7:1;inline:" + b64(key30) + " KDR=1 UNENCRYPTED_SRTCP",
			want: Crypto{Tag: 2, Suite: "AES_CM_128_HMAC_SHA1_32", Keys: []CryptoKey{{KeySalt: key30, Lifetime: 1066, MKI: 7, MKILength: 1}, {KeySalt: key30}}, SessionParams: []string{"KDR=1", "UNENCRYPTED_SRTCP"}},
			out:  "2 AES_CM_128_HMAC_SHA1_32 inline:" + b64(key30) + "|1066|7:1;inline:" + b64(key30) + " KDR=1 UNENCRYPTED_SRTCP",
		},
		{
			// Unpadded base64 (46 octets for AES-256), MKI without lifetime.
			in:   "3 AES_256_CM_HMAC_SHA1_80 inline:" + strings.TrimRight(b64(bytes.Repeat([]byte{1}, 46)), "=") + "|5:2",
			want: Crypto{Tag: 3, Suite: "AES_256_CM_HMAC_SHA1_80", Keys: []CryptoKey{{KeySalt: bytes.Repeat([]byte{1}, 46), MKI: 5, MKILength: 2}}},
			out:  "3 AES_256_CM_HMAC_SHA1_80 inline:" + b64(bytes.Repeat([]byte{1}, 46)) + "|5:2",
		},
		{
			in:   "4 AEAD_AES_128_GCM inline:" + b64(bytes.Repeat([]byte{2}, 28)),
			want: Crypto{Tag: 4, Suite: "AEAD_AES_128_GCM", Keys: []CryptoKey{{KeySalt: bytes.Repeat([]byte{2}, 28)}}},
		},
		{
			// Unknown suite: kept, key length unchecked.
			in:   "5 F8_128_HMAC_SHA1_80 inline:AAAA",
			want: Crypto{Tag: 5, Suite: "F8_128_HMAC_SHA1_80", Keys: []CryptoKey{{KeySalt: []byte{0, 0, 0}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.in[:20], func(t *testing.T) {
			got, err := ParseCrypto(tt.in)
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			out := tt.out
			if out == "" {
				out = tt.in
			}
			if s := got.String(); s != out {
				t.Errorf("String: got %q, want %q", s, out)
			}
		})
	}
}

func b64(b []byte) string {
	return string(Crypto{Keys: []CryptoKey{{KeySalt: b}}}.AppendTo(nil)[len("0  inline:"):])
}

func TestParseCryptoErrors(t *testing.T) {
	good := b64(bytes.Repeat([]byte{9}, 30))
	for _, in := range []string{
		"",
		"1 AES_CM_128_HMAC_SHA1_80",
		"x AES_CM_128_HMAC_SHA1_80 inline:" + good,
		"1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + good,
		"1 AES-CM AES_CM_128_HMAC_SHA1_80 inline:" + good,
		"1 AES_CM_128_HMAC_SHA1_80 outline:" + good,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + good[:20],
		"1 AES_CM_128_HMAC_SHA1_80 inline:!!!!",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + good + "|2^64",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + good + "|0",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + good + "|1:0",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + good + "|1:129",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + good + "|256:1",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + good + "|1:4|2^20",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + good + "|2^20|2^20",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + good + "|2^20|1:4|x",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + good + ";",
	} {
		if c, err := ParseCrypto(in); err == nil {
			t.Errorf("ParseCrypto(%q): got %+v, want error", in, c)
		}
	}
}

func TestCryptoNewContext(t *testing.T) {
	for _, p := range Profiles() {
		t.Run(p.String(), func(t *testing.T) {
			offer, err := NewCrypto(1, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseCrypto(offer.String())
			if err != nil || !reflect.DeepEqual(got, offer) {
				t.Fatalf("round trip: got %+v, %v, want %+v", got, err, offer)
			}
			if gp, err := got.Profile(); gp != p || err != nil {
				t.Errorf("Profile: got %v, %v, want %v", gp, err, p)
			}
			enc, err := offer.NewContext()
			if err != nil {
				t.Fatal(err)
			}
			dec, err := got.NewContext()
			if err != nil {
				t.Fatal(err)
			}
			pkt := unhex(t, "800f1234decafbadcafebabeabababababababababababababababab")
			prot, err := enc.EncryptRTP(nil, pkt)
			if err != nil {
				t.Fatal(err)
			}
			if len(prot) != len(pkt)+p.AuthTagLen() {
				t.Errorf("protected length: got %d, want %d", len(prot), len(pkt)+p.AuthTagLen())
			}
			plain, err := dec.DecryptRTP(nil, prot)
			if err != nil || !bytes.Equal(plain, pkt) {
				t.Errorf("DecryptRTP: got %x, %v, want %x", plain, err, pkt)
			}
		})
	}
	bad := []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(make([]byte, 30)) + "|1:4",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(make([]byte, 30)) + " KDR=4",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(make([]byte, 30)) + " UNAUTHENTICATED_SRTP",
		"1 F8_128_HMAC_SHA1_80 inline:" + b64(make([]byte, 30)),
	}
	for _, in := range bad {
		c, err := ParseCrypto(in)
		if err != nil {
			t.Fatalf("ParseCrypto(%q): %v", in, err)
		}
		if _, err := c.NewContext(); err == nil {
			t.Errorf("NewContext for %q: got nil error, want an error", in)
		}
	}
}

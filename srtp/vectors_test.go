package srtp

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

const vectorDir = "../testdata/vectors/srtp/"

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		tb.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func loadJSON(tb testing.TB, name string, v any) {
	tb.Helper()
	data, err := os.ReadFile(vectorDir + name)
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		tb.Fatal(err)
	}
}

// newSessionContext builds a Context from session keys directly, for the
// RFC 7714 vectors, which skip key derivation.
func newSessionContext(tb testing.TB, p Profile, key, salt []byte, opts ...Option) *Context {
	tb.Helper()
	c := newContext(p, opts)
	for _, k := range []*sessionKeys{&c.rtp.keys, &c.rtcp.keys} {
		k.keyLen, k.saltLen = copy(k.encKey[:], key), copy(k.salt[:], salt)
	}
	if err := c.initTransforms(); err != nil {
		tb.Fatal(err)
	}
	return c
}

func mustContext(tb testing.TB, p Profile, key, salt []byte, opts ...Option) *Context {
	tb.Helper()
	c, err := NewContext(p, key, salt, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// checkTampered flips one bit at each of several offsets of a protected
// packet and checks that decryption fails with ErrAuthFailed (or, for a
// changed sequence number or index that lands in the replay window,
// ErrReplayed), leaving every octet of dst's capacity untouched.
func checkTampered(t *testing.T, newDec func() *Context, rtcp bool, prot []byte) {
	t.Helper()
	offsets := []int{1, 2, 3, 7, 11, len(prot) / 2, len(prot) - 5, len(prot) - 1}
	if len(prot) > 13 {
		offsets = append(offsets, 12, 13)
	}
	for _, off := range offsets {
		bad := bytes.Clone(prot)
		bad[off] ^= 0x04
		dst := make([]byte, 3, 2048)
		dec := newDec()
		var err error
		var got []byte
		if rtcp {
			got, err = dec.DecryptRTCP(dst, bad)
		} else {
			got, err = dec.DecryptRTP(dst, bad)
		}
		if err == nil {
			t.Errorf("tampered at %d: got no error, want failure", off)
			continue
		}
		if !errors.Is(err, ErrAuthFailed) && !errors.Is(err, ErrReplayed) {
			t.Errorf("tampered at %d: got %v, want ErrAuthFailed", off, err)
		}
		if len(got) != 3 {
			t.Errorf("tampered at %d: got len %d, want dst unchanged (3)", off, len(got))
		}
		if !bytes.Equal(dst[:cap(dst)], make([]byte, cap(dst))) {
			t.Errorf("tampered at %d: dst holds written octets after failure", off)
		}
	}
}

var generatedSuites = map[string]Profile{
	"aes128_cm_sha1_80": ProfileAES128CMSHA1_80,
	"aes128_cm_sha1_32": ProfileAES128CMSHA1_32,
	"aes256_cm_sha1_80": ProfileAES256CMSHA1_80,
	"aes256_cm_sha1_32": ProfileAES256CMSHA1_32,
	"aead_aes_128_gcm":  ProfileAEADAES128GCM,
	"aead_aes_256_gcm":  ProfileAEADAES256GCM,
}

func TestLibSRTPGenerated(t *testing.T) {
	var f struct {
		Sessions []struct {
			ID, Suite  string
			MasterKey  string `json:"master_key"`
			MasterSalt string `json:"master_salt"`
			RTP        []struct {
				ROC       uint32
				Seq       uint16
				Plain     string
				Protected string
			}
			RTCP []struct {
				Index     uint32 `json:"srtcp_index"`
				Plain     string
				Protected string
			}
		}
	}
	loadJSON(t, "libsrtp_generated.json", &f)
	if len(f.Sessions) != 6 {
		t.Fatalf("got %d sessions, want 6", len(f.Sessions))
	}
	for _, s := range f.Sessions {
		t.Run(s.ID, func(t *testing.T) {
			p, ok := generatedSuites[s.Suite]
			if !ok {
				t.Fatalf("unknown suite %q", s.Suite)
			}
			key, salt := unhex(t, s.MasterKey), unhex(t, s.MasterSalt)
			newDec := func() *Context { return mustContext(t, p, key, salt) }
			enc, dec := newDec(), newDec()
			for _, v := range s.RTP {
				plain, prot := unhex(t, v.Plain), unhex(t, v.Protected)
				got, err := enc.EncryptRTP(nil, plain)
				if err != nil || !bytes.Equal(got, prot) {
					t.Errorf("EncryptRTP seq %d: got %x, %v, want %x", v.Seq, got, err, prot)
				}
				got, err = dec.DecryptRTP(nil, prot)
				if err != nil || !bytes.Equal(got, plain) {
					t.Errorf("DecryptRTP seq %d: got %x, %v, want %x", v.Seq, got, err, plain)
				}
				if _, err := dec.DecryptRTP(nil, prot); !errors.Is(err, ErrReplayed) {
					t.Errorf("DecryptRTP replay seq %d: got %v, want ErrReplayed", v.Seq, err)
				}
				checkTampered(t, newDec, false, prot)
			}
			for _, v := range s.RTCP {
				plain, prot := unhex(t, v.Plain), unhex(t, v.Protected)
				got, err := enc.EncryptRTCP(nil, plain)
				if err != nil || !bytes.Equal(got, prot) {
					t.Errorf("EncryptRTCP index %d: got %x, %v, want %x", v.Index, got, err, prot)
				}
				got, err = dec.DecryptRTCP(nil, prot)
				if err != nil || !bytes.Equal(got, plain) {
					t.Errorf("DecryptRTCP index %d: got %x, %v, want %x", v.Index, got, err, plain)
				}
				if _, err := dec.DecryptRTCP(nil, prot); !errors.Is(err, ErrReplayed) {
					t.Errorf("DecryptRTCP replay index %d: got %v, want ErrReplayed", v.Index, err)
				}
				checkTampered(t, newDec, true, prot)
			}
		})
	}
}

func TestLibSRTPKnownAnswer(t *testing.T) {
	var f struct {
		Vectors []struct {
			Suite                  string
			MasterKey              string `json:"master_key"`
			MasterSalt             string `json:"master_salt"`
			RTP, SRTP, RTCP, SRTCP string
		}
	}
	loadJSON(t, "libsrtp_known_answer.json", &f)
	for _, v := range f.Vectors {
		t.Run(v.Suite, func(t *testing.T) {
			name, isRTCP := strings.CutSuffix(v.Suite, " (SRTCP)")
			p, err := ParseProfile(name)
			if err != nil {
				t.Fatal(err)
			}
			key, salt := unhex(t, v.MasterKey), unhex(t, v.MasterSalt)
			newDec := func() *Context { return mustContext(t, p, key, salt) }
			enc, dec := newDec(), newDec()
			plain, prot := unhex(t, v.RTP), unhex(t, v.SRTP)
			encrypt, decrypt := enc.EncryptRTP, dec.DecryptRTP
			if isRTCP {
				plain, prot = unhex(t, v.RTCP), unhex(t, v.SRTCP)
				encrypt, decrypt = enc.EncryptRTCP, dec.DecryptRTCP
			}
			got, err := encrypt(nil, plain)
			if err != nil || !bytes.Equal(got, prot) {
				t.Errorf("encrypt: got %x, %v, want %x", got, err, prot)
			}
			got, err = decrypt(nil, prot)
			if err != nil || !bytes.Equal(got, plain) {
				t.Errorf("decrypt: got %x, %v, want %x", got, err, plain)
			}
			checkTampered(t, newDec, isRTCP, prot)
		})
	}
}

func TestRFC3711KeystreamB2(t *testing.T) {
	var f struct {
		SessionKey  string `json:"session_key"`
		SessionSalt string `json:"session_salt"`
		Segment     int    `json:"keystream_segment_octets"`
		Blocks      []struct{ Counter, Keystream string }
		SHA256      string `json:"sha256_of_whole_segment"`
	}
	loadJSON(t, "rfc3711_b2_aes_cm_keystream.json", &f)
	c := newSessionContext(t, ProfileAES128CMSHA1_80, unhex(t, f.SessionKey), unhex(t, f.SessionSalt))
	ks := make([]byte, f.Segment)
	c.rtp.xorCM(ks, ks, 0, 0)
	for _, b := range f.Blocks {
		ctr := unhex(t, b.Counter)
		n := int(ctr[14])<<8 | int(ctr[15])
		if got, want := ks[16*n:16*n+16], unhex(t, b.Keystream); !bytes.Equal(got, want) {
			t.Errorf("block %d: got %x, want %x", n, got, want)
		}
	}
	if got := sha256.Sum256(ks); hex.EncodeToString(got[:]) != f.SHA256 {
		t.Errorf("segment SHA-256: got %x, want %s", got, f.SHA256)
	}
	// The slow reference path must agree with whatever xorCM used.
	ref := make([]byte, f.Segment)
	var iv [16]byte
	c.rtp.cmIV(&iv, 0, 0)
	keystream(c.rtp.block, &iv, ref)
	if !bytes.Equal(ref, ks) {
		t.Errorf("reference keystream differs from xorCM")
	}
}

func TestRFC3711KeyDerivationB3(t *testing.T) {
	var f struct {
		MasterKey  string            `json:"master_key"`
		MasterSalt string            `json:"master_salt"`
		Derived    []map[string]any  `json:"derived"`
		Extra      map[string]string `json:"srtcp_labels_extra"`
	}
	loadJSON(t, "rfc3711_b3_key_derivation.json", &f)
	block, err := aes.NewCipher(unhex(t, f.MasterKey))
	if err != nil {
		t.Fatal(err)
	}
	salt := unhex(t, f.MasterSalt)
	want := map[byte]string{}
	for _, d := range f.Derived {
		out, _ := d["output"].(string)
		if o, ok := d["output_94"].(string); ok {
			out = o
		}
		want[byte(d["label"].(float64))] = out
	}
	for l, s := range f.Extra {
		if len(l) == 1 && l[0] >= '0' && l[0] <= '9' {
			want[l[0]-'0'] = s
		}
	}
	if len(want) != 6 {
		t.Fatalf("got %d labels, want 6", len(want))
	}
	for label, w := range want {
		wb := unhex(t, w)
		got := make([]byte, len(wb))
		deriveKey(block, salt, label, got)
		if !bytes.Equal(got, wb) {
			t.Errorf("label %d: got %x, want %x", label, got, wb)
		}
	}
}

func TestRFC6188KeyDerivation(t *testing.T) {
	var f map[string]json.RawMessage
	loadJSON(t, "rfc6188_kdf.json", &f)
	for _, name := range []string{"aes256", "aes192"} {
		var v struct {
			MasterKey string `json:"master_key"`
			Salt      string `json:"master_salt"`
			EncKey    string `json:"enc_key"`
			SaltOut   string `json:"salt"`
			AuthKey   string `json:"auth_key"`
		}
		if err := json.Unmarshal(f[name], &v); err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			block, err := aes.NewCipher(unhex(t, v.MasterKey))
			if err != nil {
				t.Fatal(err)
			}
			for label, w := range map[byte]string{labelRTPEncryption: v.EncKey, labelRTPSalt: v.SaltOut, labelRTPAuth: v.AuthKey} {
				wb := unhex(t, w)
				got := make([]byte, len(wb))
				deriveKey(block, unhex(t, v.Salt), label, got)
				if !bytes.Equal(got, wb) {
					t.Errorf("label %d: got %x, want %x", label, got, wb)
				}
			}
		})
	}
}

var hexLine = regexp.MustCompile(`^\s+[0-9a-f]{2,8}(\s+[0-9a-f]{2,8})*\s*$`)

// rfcBlock returns the hex dump that follows the line containing heading
// after the line starting with section, in an RFC 7714 vector file.
func rfcBlock(t *testing.T, file, section, heading string) []byte {
	t.Helper()
	data, err := os.ReadFile(vectorDir + "rfc7714/" + file)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	inSection, inBlock := false, false
	var out strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !inSection:
			inSection = strings.HasPrefix(line, section)
		case !inBlock:
			inBlock = strings.Contains(line, heading)
		case hexLine.MatchString(line):
			out.WriteString(line)
		case strings.TrimSpace(line) == "" && out.Len() == 0:
		default:
			return unhex(t, out.String())
		}
	}
	if out.Len() == 0 {
		t.Fatalf("%s: no %q in %s", file, heading, section)
	}
	return unhex(t, out.String())
}

func TestRFC7714(t *testing.T) {
	key128 := unhex(t, "000102030405060708090a0b0c0d0e0f")
	key256 := unhex(t, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	salt := []byte("Quid pro quo")
	tests := []struct {
		file, section, in, out string
		p                      Profile
		key                    []byte
		opts                   []Option
		decryptOnly            bool
	}{
		{"rtp-vectors.txt", "16.1.1.", "Encrypting the following", "Encrypted and tagged packet", ProfileAEADAES128GCM, key128, nil, false},
		{"rtp-vectors.txt", "16.2.1.", "Encrypting the following", "Encrypted and tagged packet", ProfileAEADAES256GCM, key256, nil, false},
		{"rtp-vectors.txt", "16.1.3.", "Tagging the following", "Tagged packet", ProfileAEADAES128GCM, key128, []Option{WithUnencryptedSRTP()}, false},
		{"rtp-vectors.txt", "16.2.3.", "Tagging the following", "Tagged packet", ProfileAEADAES256GCM, key256, []Option{WithUnencryptedSRTP()}, false},
		{"rtcp-vectors.txt", "17.1.", "Encrypting the following", "Encrypted and tagged packet", ProfileAEADAES128GCM, key128, nil, false},
		{"rtcp-vectors.txt", "17.2.", "Verified and decrypted packet", "Decrypting the following", ProfileAEADAES256GCM, key256, nil, false},
		{"rtcp-vectors.txt", "17.3.", "Tagging the following", "Tagged packet", ProfileAEADAES128GCM, key128, []Option{WithUnencryptedSRTCP()}, false},
		{"rtcp-vectors.txt", "17.4.", "Verified packet", "Verifying the following", ProfileAEADAES256GCM, key256, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.section, func(t *testing.T) {
			plain := rfcBlock(t, tt.file, tt.section, tt.in)
			prot := rfcBlock(t, tt.file, tt.section, tt.out)
			rtcp := tt.file == "rtcp-vectors.txt"
			newDec := func() *Context { return newSessionContext(t, tt.p, tt.key, salt, tt.opts...) }
			enc, dec := newDec(), newDec()
			encrypt, decrypt := enc.EncryptRTP, dec.DecryptRTP
			if rtcp {
				encrypt, decrypt = enc.EncryptRTCP, dec.DecryptRTCP
				enc.rtcpStream(0x4d617273).index = 0x5d4 - 1
			}
			if !tt.decryptOnly {
				got, err := encrypt(nil, plain)
				if err != nil || !bytes.Equal(got, prot) {
					t.Errorf("encrypt: got %x, %v, want %x", got, err, prot)
				}
			}
			got, err := decrypt(nil, prot)
			if err != nil || !bytes.Equal(got, plain) {
				t.Errorf("decrypt: got %x, %v, want %x", got, err, plain)
			}
			checkTampered(t, newDec, rtcp, prot)
		})
	}
}

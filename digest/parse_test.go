package digest

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		name, in string
		want     Challenge
	}{
		{"workload", `Digest realm="biloxi.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5, qop="auth"`,
			Challenge{Realm: "biloxi.example.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", Opaque: "5ccc069c403ebaf9f0171e9517f40e41", Algorithm: MD5, QOP: "auth"}},
		{"whitespace and case", " digest  REALM = \"r\" ,\t nonce=n1/2+3=,STALE=TRUE , algorithm = \"SHA-256\",,",
			Challenge{Realm: "r", Nonce: "n1/2+3=", Stale: true, Algorithm: SHA256}},
		{"escapes", `Digest realm="a \"quoted\" \\ realm", nonce="x"`,
			Challenge{Realm: `a "quoted" \ realm`, Nonce: "x"}},
		{"RFC 7616 §3.9.2", `Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true`,
			Challenge{Realm: "api@example.org", QOP: "auth", Algorithm: SHA512_256, Nonce: "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
				Opaque: "HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", Charset: "UTF-8", Userhash: true}},
		{"domain, qop list, unknown params", `Digest realm="r", domain="sip:a sip:b", qop="auth,auth-int", stale=false, x-foo=bar, x-q="a,b"`,
			Challenge{Realm: "r", Domain: "sip:a sip:b", QOP: "auth,auth-int",
				Params: []Param{{Name: "x-foo", Value: "bar"}, {Name: "x-q", Value: "a,b", Quoted: true}}}},
		{"scheme only", "Digest", Challenge{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChallenge(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			again, err := ParseChallenge(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip of %q: got %+v, %v, want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name, in string
		want     Credentials
	}{
		{"workload", `Digest username="bob", realm="biloxi.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:biloxi.example.com", response="6ee55767aa534112c59e5da204578bfb", algorithm=MD5, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001`,
			Credentials{Username: "bob", Realm: "biloxi.example.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", URI: "sip:biloxi.example.com",
				Response: "6ee55767aa534112c59e5da204578bfb", Algorithm: MD5, Cnonce: "0a4f113b", Opaque: "5ccc069c403ebaf9f0171e9517f40e41", QOP: "auth", NC: 1}},
		{"quoted tokens, short nc, userhash", `DIGEST Username="h", qop="auth-int", nc=1f, userhash=TRUE, username*=UTF-8''J%C3%A4s`,
			Credentials{Username: "h", QOP: "auth-int", NC: 0x1f, Userhash: true,
				Params: []Param{{Name: "username*", Value: "UTF-8''J%C3%A4s"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredentials(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			again, err := ParseCredentials(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip of %q: got %+v, %v, want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		offset   int
	}{
		{"empty", "", 0},
		{"basic scheme", `Basic realm="x"`, 0},
		{"no space after scheme", `Digest,realm="x"`, 6},
		{"no equals", `Digest realm`, 12},
		{"unterminated", `Digest realm="abc`, 13},
		{"trailing backslash", `Digest realm="abc\`, 13},
		{"garbage after value", `Digest realm="a" b`, 17},
		{"missing name", `Digest ="a"`, 7},
		{"duplicate", `Digest nonce="a", Nonce="b"`, 18},
		{"bad nc", `Digest nc=xyz`, 7},
		{"long nc", `Digest nc=000000001`, 7},
		{"two challenges", `Digest realm="a", Digest realm="b"`, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.name == "bad nc" || tt.name == "long nc" {
				_, err = ParseCredentials(tt.in)
			} else {
				_, err = ParseChallenge(tt.in)
				_, err2 := ParseCredentials(tt.in)
				if err2 == nil {
					t.Errorf("ParseCredentials(%q): got nil error", tt.in)
				}
			}
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want a *ParseError wrapping ErrMalformed", err)
			}
			if pe.Offset != tt.offset {
				t.Errorf("offset: got %d, want %d (%v)", pe.Offset, tt.offset, err)
			}
		})
	}
}

func TestSerializeQuoting(t *testing.T) {
	c := Challenge{Realm: `say "hi" \o/`, Algorithm: "odd algorithm", Params: []Param{{Name: "a", Value: "x y"}, {Name: "bad name", Value: "v"}}}
	got := c.String()
	want := `Digest realm="say \"hi\" \\o/", algorithm="odd algorithm", a="x y"`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// TestIndexSpecial compares the eight-bytes-at-a-time scan with
// strings.IndexAny for every byte value at every position of short strings,
// over two backgrounds (with and without the high bit set).
func TestIndexSpecial(t *testing.T) {
	for _, fill := range []byte{'a', 0xa2} {
		for n := 0; n <= 20; n++ {
			for pos := 0; pos < n; pos++ {
				for c := 0; c < 256; c++ {
					b := bytes.Repeat([]byte{fill}, n)
					b[pos] = byte(c)
					if pos+3 < n {
						b[pos+3] = '\\'
					}
					s := string(b)
					if got, want := indexSpecial(s), strings.IndexAny(s, "\"\\"); got != want {
						t.Fatalf("indexSpecial(%q): got %d, want %d", s, got, want)
					}
				}
			}
		}
	}
}

package digest

import (
	"reflect"
	"testing"
)

// fuzzSeeds returns header values from the vectors and the workloads.
func fuzzSeeds(t testing.TB) (chals, creds []string) {
	rfc, sip := loadVectors(t)
	for _, v := range append(rfc, sip...) {
		c := v.challenge()
		chals = append(chals, c.String())
		if v.Authorization != "" {
			creds = append(creds, v.Authorization)
		}
	}
	chals = append(chals,
		headerValue(t, "401-register.sip", "WWW-Authenticate"),
		`Digest realm="a \"b\" \\", domain="sip:a sip:b", qop="auth,auth-int", stale=TRUE, x=y, z=""`,
		"digest  realm = r ,, nonce=n/+=",
	)
	creds = append(creds,
		headerValue(t, "register-auth.sip", "Authorization"),
		`Digest username="\"q\"", nc=1f, userhash=true, username*=UTF-8''x`,
	)
	return chals, creds
}

// FuzzParseChallenge checks that a challenge that parses serializes to a
// value that parses to the same challenge, and that serializing is stable.
func FuzzParseChallenge(f *testing.F) {
	chals, _ := fuzzSeeds(f)
	for _, s := range chals {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseChallenge(s)
		if err != nil {
			return
		}
		out := c.String()
		again, err := ParseChallenge(out)
		if err != nil {
			t.Fatalf("ParseChallenge(%q) = %v after serializing %q", out, err, s)
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip of %q via %q:\ngot  %#v\nwant %#v", s, out, again, c)
		}
		if out2 := again.String(); out2 != out {
			t.Fatalf("serialization not stable: got %q, want %q", out2, out)
		}
	})
}

// FuzzParseCredentials is FuzzParseChallenge for credentials.
func FuzzParseCredentials(f *testing.F) {
	_, creds := fuzzSeeds(f)
	for _, s := range creds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCredentials(s)
		if err != nil {
			return
		}
		out := c.String()
		again, err := ParseCredentials(out)
		if err != nil {
			t.Fatalf("ParseCredentials(%q) = %v after serializing %q", out, err, s)
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip of %q via %q:\ngot  %#v\nwant %#v", s, out, again, c)
		}
		if out2 := again.String(); out2 != out {
			t.Fatalf("serialization not stable: got %q, want %q", out2, out)
		}
	})
}

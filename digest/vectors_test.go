package digest

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// vector is one case of testdata/vectors/digest/digest_vectors.json.
type vector struct {
	Source           string  `json:"source"`
	Algorithm        string  `json:"algorithm"`
	Username         string  `json:"username"`
	Realm            string  `json:"realm"`
	Password         string  `json:"password"`
	Nonce            string  `json:"nonce"`
	Opaque           string  `json:"opaque"`
	Method           string  `json:"method"`
	URI              string  `json:"uri"`
	QOP              *string `json:"qop"`
	NC               string  `json:"nc"`
	Cnonce           string  `json:"cnonce"`
	Charset          string  `json:"charset"`
	Userhash         bool    `json:"userhash"`
	BodyHex          string  `json:"body_hex"`
	HA1              string  `json:"HA1"`
	HA2              string  `json:"HA2"`
	ExpectedResponse string  `json:"expected_response"`
	ExpectedUserhash string  `json:"expected_userhash"`
	RFCPrintedResp   string  `json:"rfc_printed_response"`
	Authorization    string  `json:"authorization_header_value"`
}

func loadVectors(t testing.TB) (rfc, sip []vector) {
	t.Helper()
	raw, err := os.ReadFile("../testdata/vectors/digest/digest_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		RFC []vector `json:"rfc_examples"`
		SIP []vector `json:"sip_computed"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.RFC) != 4 || len(f.SIP) != 10 {
		t.Fatalf("got %d RFC and %d SIP vectors, want 4 and 10", len(f.RFC), len(f.SIP))
	}
	return f.RFC, f.SIP
}

func (v *vector) qop() string {
	if v.QOP == nil {
		return ""
	}
	return *v.QOP
}

func (v *vector) body(t *testing.T) []byte {
	b, err := hex.DecodeString(v.BodyHex)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (v *vector) challenge() Challenge {
	return Challenge{Realm: v.Realm, Nonce: v.Nonce, Opaque: v.Opaque,
		Algorithm: Algorithm(v.Algorithm), QOP: v.qop(), Charset: v.Charset, Userhash: v.Userhash}
}

func TestVectors(t *testing.T) {
	rfc, sip := loadVectors(t)
	for _, v := range append(rfc, sip...) {
		name := v.Algorithm + "/" + v.qop() + "/" + v.Method + "/" + v.Username
		t.Run(name, func(t *testing.T) {
			h, sess := Algorithm(v.Algorithm).parse()
			if h == hashNone {
				t.Fatalf("algorithm %q not supported", v.Algorithm)
			}
			nc, _ := parseNC(v.NC)
			in := inputs{h: h, sess: sess, username: v.Username, realm: v.Realm, password: v.Password,
				nonce: v.Nonce, cnonce: v.Cnonce, qop: v.qop(), nc: nc,
				method: v.Method, uri: v.URI, body: v.body(t)}
			var a, b, r [maxHex]byte
			var buf scratch
			if got := string(in.ha1(&a, &buf)); got != v.HA1 {
				t.Errorf("HA1: got %s, want %s", got, v.HA1)
			}
			if got := string(in.ha2(&b, &buf)); got != v.HA2 {
				t.Errorf("HA2: got %s, want %s", got, v.HA2)
			}
			if got := string(in.response(&r)); got != v.ExpectedResponse {
				t.Errorf("response: got %s, want %s", got, v.ExpectedResponse)
			}

			// The same through the public client API.
			chal := v.challenge()
			cr, err := Respond(&chal, &Options{Username: v.Username, Password: v.Password,
				Request: Request{Method: v.Method, URI: v.URI, Body: v.body(t)}, Cnonce: v.Cnonce, NC: nc})
			if err != nil {
				t.Fatal(err)
			}
			if cr.Response != v.ExpectedResponse {
				t.Errorf("Respond: got %s, want %s", cr.Response, v.ExpectedResponse)
			}
			if v.ExpectedUserhash != "" {
				// RFC 7616 §3.9.2 with the erratum: real SHA-512/256.
				if !cr.Userhash || cr.Username != v.ExpectedUserhash {
					t.Errorf("userhash: got %v %s, want true %s", cr.Userhash, cr.Username, v.ExpectedUserhash)
				}
				if cr.Response == v.RFCPrintedResp {
					t.Errorf("response equals the erroneous value printed in RFC 7616")
				}
			}

			// The server side accepts it, and refuses a wrong password.
			if err := Check(&cr, Request{Method: v.Method, URI: v.URI, Body: v.body(t)}, v.Username, v.Password); err != nil {
				t.Errorf("Check: got %v, want nil", err)
			}
			if err := Check(&cr, Request{Method: v.Method, Body: v.body(t)}, v.Username, v.Password+"x"); !errors.Is(err, ErrBadResponse) {
				t.Errorf("Check with a wrong password: got %v, want %v", err, ErrBadResponse)
			}

			// The ready-made header value parses to what Respond built.
			if v.Authorization != "" {
				want, err := ParseCredentials(v.Authorization)
				if err != nil {
					t.Fatal(err)
				}
				cr.Opaque = "" // the SIP vectors carry no opaque
				if !reflect.DeepEqual(cr, want) {
					t.Errorf("credentials:\ngot  %+v\nwant %+v", cr, want)
				}
				if got := cr.String(); got != v.Authorization {
					t.Errorf("String:\ngot  %s\nwant %s", got, v.Authorization)
				}
			}
		})
	}
}

// headerValue returns the value of the first header called name in a
// workload message (the digest package does not depend on sipmsg).
func headerValue(t testing.TB, file, name string) string {
	t.Helper()
	raw, err := os.ReadFile("../testdata/workloads/sip/" + file)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		n, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(n), name) {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s: no %s header", file, name)
	return ""
}

// workload is testdata/workloads/sip/digest.txt.
type workload struct {
	username, password, method, uri, cnonce, response string
}

func loadWorkload(t testing.TB) workload {
	t.Helper()
	raw, err := os.ReadFile("../testdata/workloads/sip/digest.txt")
	if err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			kv[k] = strings.TrimSpace(v)
		}
	}
	return workload{kv["username"], kv["password"], kv["method"], kv["uri"], kv["cnonce"], kv["response"]}
}

func TestWorkload(t *testing.T) {
	w := loadWorkload(t)
	chal, err := ParseChallenge(headerValue(t, "401-register.sip", "WWW-Authenticate"))
	if err != nil {
		t.Fatal(err)
	}
	sent, err := ParseCredentials(headerValue(t, "register-auth.sip", "Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	cr, err := Respond(&chal, &Options{Username: w.username, Password: w.password,
		Request: Request{Method: w.method, URI: w.uri}, Cnonce: w.cnonce, NC: 1})
	if err != nil {
		t.Fatal(err)
	}
	if cr.Response != w.response {
		t.Errorf("response: got %s, want %s", cr.Response, w.response)
	}
	if !reflect.DeepEqual(cr, sent) {
		t.Errorf("credentials:\ngot  %+v\nwant %+v (the REGISTER's Authorization)", cr, sent)
	}
	if err := Check(&sent, Request{Method: w.method, URI: w.uri}, w.username, w.password); err != nil {
		t.Errorf("Check: got %v, want nil", err)
	}
}

package digest_test

import (
	"fmt"

	"github.com/xphone-go/xphone/digest"
)

// A UAC answers the WWW-Authenticate challenge of a 401 to its REGISTER.
// The fixed cnonce makes the output reproducible; leave Cnonce nil in real
// code.
func Example() {
	chal, err := digest.ParseChallenge(`Digest realm="biloxi.example.com", ` +
		`nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ` +
		`opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5, qop="auth"`)
	if err != nil {
		fmt.Println(err)
		return
	}
	client := &digest.Client{
		Username: "bob",
		Password: "zanzibar",
		Cnonce:   func() string { return "0a4f113b" },
	}
	cred, err := client.Authorize(&chal, digest.Request{Method: "REGISTER", URI: "sip:biloxi.example.com"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Authorization:", cred.String())
	// Output:
	// Authorization: Digest username="bob", realm="biloxi.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:biloxi.example.com", response="6ee55767aa534112c59e5da204578bfb", algorithm=MD5, qop=auth, nc=00000001, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41"
}

// A registrar challenges a REGISTER and verifies the answer.
func ExampleServer() {
	server := &digest.Server{Realm: "example.com", Secret: []byte("a secret shared by the registrars")}
	chals := server.Challenges(false) // one WWW-Authenticate header each

	// The UAC's side.
	client := &digest.Client{Username: "alice", Password: "s3cr3t"}
	req := digest.Request{Method: "REGISTER", URI: "sip:example.com"}
	cred, _ := client.Authorize(&chals[digest.Strongest(chals)], req)
	header := cred.String()

	// The registrar's side, with the password it stores for alice.
	got, err := digest.ParseCredentials(header)
	if err != nil {
		fmt.Println("400 Bad Request:", err)
		return
	}
	fmt.Println(got.Algorithm, server.Verify(&got, req, "alice", "s3cr3t"))
	fmt.Println("replayed:", server.Verify(&got, req, "alice", "s3cr3t"))
	// Output:
	// SHA-256 <nil>
	// replayed: digest: replayed nonce count
}

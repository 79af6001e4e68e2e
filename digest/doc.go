// Package digest implements HTTP Digest access authentication as SIP uses
// it: RFC 2617 and RFC 7616 with the SIP rules of RFC 3261 §22 and the
// algorithms RFC 8760 adds (MD5, SHA-256, SHA-512-256 and their -sess
// variants; qop auth and auth-int; userhash).
//
// The package works on header values as strings and imports only the
// standard library: a SIP stack hands it the value of a WWW-Authenticate or
// Proxy-Authenticate header and writes back the value of an Authorization
// or Proxy-Authorization header.
//
// # Parsing and serializing
//
// ParseChallenge and ParseCredentials read one Digest challenge or answer.
// They accept the whitespace, empty list elements, quoted-strings with
// escapes and parameter-name case that RFC 7235 allows, keep unknown
// parameters, and return values that share memory with the input. AppendTo
// and String write them back; parsing the output gives the same value.
//
// # Client
//
// A Client holds one account's username and password and answers
// challenges with Client.Authorize, counting nonces per realm. When a 401
// or 407 offers several challenges, Strongest picks the one to answer. A
// challenge with Stale set means the nonce expired, not that the password
// is wrong: retry with the new nonce (Challenge.Rejects tells the two
// apart). Respond is the stateless computation underneath.
//
// # Server
//
// A Server issues challenges with stateless nonces (issue time and an HMAC
// under a secret) and verifies answers with Server.Verify: the response in
// constant time, the nonce's authenticity and age (ErrStale), and nonce
// counts that may each be used once (ErrReplay), tracked in a bounded
// table. Check
// verifies only the response, for servers with their own nonces.
//
// # Performance
//
// Answering a challenge (parse, compute, serialize) allocates twice (the
// response and the serialized value) and checking an answer not at all:
// the hashes are computed into fixed arrays and hex-encoded on the stack.
package digest

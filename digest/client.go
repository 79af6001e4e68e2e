package digest

import (
	"crypto/rand"
	"errors"
	"strings"
	"sync"
)

// ErrUnsupported means a challenge or credentials use an algorithm or
// quality of protection this package does not implement, or that the
// server did not offer.
var ErrUnsupported = errors.New("digest: unsupported algorithm or qop")

// Request is what a digest covers of the request being authorized.
type Request struct {
	Method string // the SIP method, e.g. "REGISTER" (A2, RFC 3261 §22.4)
	URI    string // the Request-URI, sent as the digest-uri
	Body   []byte // the message body, hashed with qop=auth-int
}

// Options are the inputs of Respond.
type Options struct {
	Username string
	Password string
	Request
	Cnonce string // client nonce; required with a qop or a -sess algorithm
	NC     uint32 // nonce count; 0 means 1
	// QOP is the quality of protection to use: "auth" or "auth-int". Empty
	// picks auth when offered, else auth-int; a challenge without qop is
	// answered without one (RFC 2069 compatibility).
	QOP string
}

// Respond answers chal statelessly: it computes the credentials for one
// request from o (RFC 7616 §3.4). Algorithm, realm, nonce and opaque are
// echoed from chal; with chal.Userhash the username is sent hashed (RFC 7616
// §3.4.4). It returns an error wrapping ErrUnsupported for an algorithm or
// qop it cannot use. Most callers want a Client, which counts nonces and
// makes cnonces. Safe for concurrent use.
func Respond(chal *Challenge, o *Options) (Credentials, error) {
	h, sess := chal.Algorithm.parse()
	if h == hashNone {
		return Credentials{}, unsupported("algorithm " + string(chal.Algorithm))
	}
	qop, err := pickQOP(chal, o.QOP)
	if err != nil {
		return Credentials{}, err
	}
	nc := o.NC
	if nc == 0 {
		nc = 1
	}
	if o.Cnonce == "" && (qop != "" || sess) {
		return Credentials{}, errors.New("digest: empty cnonce")
	}
	in := inputs{
		h: h, sess: sess,
		username: o.Username, realm: chal.Realm, password: o.Password,
		nonce: chal.Nonce, cnonce: o.Cnonce, qop: qop, nc: nc,
		method: o.Method, uri: o.URI, body: o.Body,
	}
	var out [maxHex]byte
	c := Credentials{
		Username:  o.Username,
		Realm:     chal.Realm,
		Nonce:     chal.Nonce,
		URI:       o.URI,
		Response:  string(in.response(&out)),
		Algorithm: chal.Algorithm,
		Opaque:    chal.Opaque,
		QOP:       qop,
	}
	if qop != "" || sess {
		c.Cnonce = o.Cnonce
	}
	if qop != "" {
		c.NC = nc
	}
	if chal.Userhash {
		c.Username = string(userHash(h, &out, o.Username, chal.Realm))
		c.Userhash = true
	}
	return c, nil
}

func unsupported(what string) error {
	return &wrapped{msg: "digest: unsupported " + what, err: ErrUnsupported}
}

// wrapped is an error with its own text that unwraps to a sentinel.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

// pickQOP chooses the qop to answer chal with (RFC 7616 §3.4: the client
// picks one the server offered).
func pickQOP(chal *Challenge, want string) (string, error) {
	if chal.QOP == "" {
		if want != "" {
			return "", unsupported("qop " + want + ": the challenge offers none")
		}
		return "", nil
	}
	if want != "" {
		if (isQOP(want, "auth") || isQOP(want, "auth-int")) && chal.HasQOP(want) {
			return strings.ToLower(want), nil
		}
		return "", unsupported("qop " + want)
	}
	if chal.HasQOP("auth") {
		return "auth", nil
	}
	if chal.HasQOP("auth-int") {
		return "auth-int", nil
	}
	return "", unsupported("qop " + chal.QOP)
}

// Client answers challenges for one account and remembers, per realm, the
// last nonce it answered, the nonce count and the cnonce, so that the next
// request with the same nonce sends nc+1 (RFC 7616 §3.4) and a new nonce
// starts again at 1.
//
// The zero value with Username and Password set is ready to use. Set the
// fields before first use and do not change them afterwards. A Client is
// safe for concurrent use; its methods do not block on I/O.
//
// A challenge with Stale set (RFC 7616 §3.3) is answered like any other: the
// new nonce restarts the count and the same password is used. Callers use
// Challenge.Rejects to tell a stale nonce from refused credentials.
type Client struct {
	Username string
	Password string
	// Cnonce returns a fresh client nonce. Nil means 16 bytes from
	// crypto/rand in hex. One cnonce is used for all requests under the
	// same nonce, which also fixes the HA1 of the -sess algorithms.
	Cnonce func() string

	mu     sync.Mutex
	realms []nonceState // at most maxRealms, most recently used last
}

// maxRealms bounds the per-realm state a Client keeps.
const maxRealms = 8

type nonceState struct {
	realm, nonce, cnonce string
	nc                   uint32
}

// Authorize returns the credentials for req answering chal, counting the
// nonce and making a cnonce as needed. Put the result in an Authorization
// header for a 401 or a Proxy-Authorization header for a 407 (RFC 3261
// §22.2, §22.3). Errors wrap ErrUnsupported for a challenge it cannot
// answer. Safe for concurrent use.
func (c *Client) Authorize(chal *Challenge, req Request) (Credentials, error) {
	if !chal.Supported() {
		return Credentials{}, unsupported("challenge algorithm=" + string(chal.Algorithm) + " qop=" + chal.QOP)
	}
	c.mu.Lock()
	st := c.state(chal)
	st.nc++
	o := Options{Username: c.Username, Password: c.Password, Request: req, Cnonce: st.cnonce, NC: st.nc}
	c.mu.Unlock()
	return Respond(chal, &o)
}

// state returns the nonce state for chal's realm, starting a new count and
// cnonce when the nonce changed. c.mu is held.
func (c *Client) state(chal *Challenge) *nonceState {
	for i := range c.realms {
		st := &c.realms[i]
		if st.realm != chal.Realm {
			continue
		}
		if st.nonce != chal.Nonce {
			st.nonce = strings.Clone(chal.Nonce)
			st.cnonce = c.newCnonce()
			st.nc = 0
		}
		return st
	}
	if len(c.realms) == maxRealms {
		c.realms = append(c.realms[:0], c.realms[1:]...)
	}
	c.realms = append(c.realms, nonceState{
		realm:  strings.Clone(chal.Realm),
		nonce:  strings.Clone(chal.Nonce),
		cnonce: c.newCnonce(),
	})
	return &c.realms[len(c.realms)-1]
}

func (c *Client) newCnonce() string {
	if c.Cnonce != nil {
		return c.Cnonce()
	}
	var r [16]byte
	var h [32]byte
	rand.Read(r[:]) // never returns an error (crypto/rand, Go 1.24)
	return string(hexTo(h[:], r[:]))
}

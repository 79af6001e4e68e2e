package digest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"hash"
	"io"
	"slices"
	"sync"
	"time"
)

// Errors of Check and Server.Verify. Each tells the caller what to answer:
// a new challenge with stale=true for ErrStale, a new challenge for the
// others (401/407), 400 for ErrMalformed from the parsers.
var (
	// ErrBadResponse means the credentials are wrong: the response does not
	// match the password, or the username, realm or uri do not match.
	ErrBadResponse = errors.New("digest: credentials do not match")
	// ErrBadNonce means the nonce (or opaque) was not issued by this server
	// or is malformed.
	ErrBadNonce = errors.New("digest: nonce not issued by this server")
	// ErrStale means the response was right but its nonce expired: send a
	// new challenge with Stale set, and do not count it as a failed login
	// (RFC 7616 §3.3).
	ErrStale = errors.New("digest: stale nonce")
	// ErrReplay means the nonce count was used before (or is far below the
	// highest one seen): the request replays one already accepted (RFC 7616
	// §3.4, §5.5). Counts reordered in flight, within 64 of the highest,
	// are accepted once each.
	ErrReplay = errors.New("digest: replayed nonce count")
)

// Check verifies only the response of cr for req against the account's
// plain username and password, without looking at the nonce: it is the
// building block of Server.Verify for servers with their own nonce scheme.
// When cr.Userhash is set, cr.Username must be the userhash of username
// (RFC 7616 §3.4.4). The response is compared in constant time. Errors wrap
// ErrBadResponse or ErrUnsupported. Safe for concurrent use; does not
// allocate when it returns nil.
func Check(cr *Credentials, req Request, username, password string) error {
	h, sess := cr.Algorithm.parse()
	if h == hashNone {
		return unsupported("algorithm " + string(cr.Algorithm))
	}
	if cr.QOP != "" && !isQOP(cr.QOP, "auth") && !isQOP(cr.QOP, "auth-int") {
		return unsupported("qop " + cr.QOP)
	}
	var out [maxHex]byte
	if cr.Userhash {
		uh := userHash(h, &out, username, cr.Realm)
		if !equalFoldBytes(uh, cr.Username) {
			return ErrBadResponse
		}
	} else if cr.Username != username {
		return ErrBadResponse
	}
	if req.URI != "" && req.URI != cr.URI {
		return &wrapped{msg: "digest: uri does not match the Request-URI", err: ErrBadResponse}
	}
	in := inputs{
		h: h, sess: sess,
		username: username, realm: cr.Realm, password: password,
		nonce: cr.Nonce, cnonce: cr.Cnonce, qop: cr.QOP, nc: cr.NC,
		method: req.Method, uri: cr.URI, body: req.Body,
	}
	want := in.response(&out)
	// Decode the sent response so that upper-case hex also matches, and
	// compare the digests in constant time.
	var got, exp [maxHex / 2]byte
	n := len(want) / 2
	ok := unhexTo(got[:n], cr.Response)
	unhexTo(exp[:n], want)
	if subtle.ConstantTimeCompare(got[:n], exp[:n]) != 1 || !ok {
		return ErrBadResponse
	}
	return nil
}

func equalFoldBytes(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c, d := b[i], s[i]
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// Server issues challenges and verifies the answers for one realm, with
// stateless nonces: a nonce carries its issue time and an HMAC over it
// under Secret, so any server sharing Secret can check it and nothing is
// stored until a nonce is first answered. Nonces expire after
// NonceLifetime; the nonce counts of answered nonces are tracked, within
// MaxNonces entries, to refuse replays.
//
// Set the fields before first use and do not change them afterwards. A
// Server is safe for concurrent use; its methods do not block on I/O.
type Server struct {
	Realm string
	// Secret keys the nonce HMAC. Empty means 32 random bytes chosen at
	// first use, so that nonces do not survive a restart.
	Secret []byte
	// Algorithms are offered in this order, one challenge each (RFC 8760
	// §2.3). Nil means SHA-256 then MD5.
	Algorithms []Algorithm
	// QOP is the qop-options list offered; empty means "auth".
	QOP string
	// Opaque, when set, is sent in challenges and must come back unchanged.
	Opaque string
	// NonceLifetime is how long a nonce is accepted; 0 means 5 minutes.
	NonceLifetime time.Duration
	// MaxNonces bounds the table of nonce counts; 0 means 4096. When it is
	// full the oldest entry is dropped, and nonces issued before the
	// dropped one are then answered with ErrStale (never accepted again).
	MaxNonces int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand supplies the random part of nonces and must be safe for
	// concurrent use; nil means crypto/rand.
	Rand io.Reader

	once   sync.Once
	mu     sync.Mutex
	mac    hash.Hash // HMAC-SHA-256 under Secret, guarded by mu
	realm  []byte    // Realm, bound into the nonce MAC
	in     [16]byte  // MAC input scratch, guarded by mu
	sum    [sha256.Size]byte
	counts map[nonceID]nonceCount
	order  []nonceID // ring of the keys of counts, oldest at head
	head   int
	// horizon is the newest issue time among dropped entries: nonces
	// issued at or before it are no longer tracked and cannot be accepted.
	horizon int64
}

// A nonce is hex(issued[8] | random[8] | mac[16]): 64 characters.
const (
	nonceRawLen = 32
	nonceMACLen = 16
)

type nonceID [16]byte // issued time and random part

// nonceCount is what the server remembers of an answered nonce: the
// highest count seen and a window of the 64 counts up to it, bit i for
// count nc-i, so that requests reordered in flight are still accepted once.
type nonceCount struct {
	issued int64
	nc     uint32
	seen   uint64
}

// replayWindow is how far below the highest count a late count may arrive.
const replayWindow = 64

// accept records count n and reports whether it was new.
func (e *nonceCount) accept(n uint32) bool {
	switch {
	case n > e.nc:
		if d := n - e.nc; d < replayWindow {
			e.seen = e.seen<<d | 1
		} else {
			e.seen = 1
		}
		e.nc = n
		return true
	case e.nc-n >= replayWindow:
		return false
	default:
		bit := uint64(1) << (e.nc - n)
		if e.seen&bit != 0 {
			return false
		}
		e.seen |= bit
		return true
	}
}

func (s *Server) init() {
	secret := s.Secret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		s.random(secret)
	}
	s.mac = hmac.New(sha256.New, secret)
	s.realm = []byte(s.Realm)
	s.counts = make(map[nonceID]nonceCount)
}

func (s *Server) random(b []byte) {
	if s.Rand != nil {
		if _, err := io.ReadFull(s.Rand, b); err == nil {
			return
		}
	}
	rand.Read(b) // never returns an error (crypto/rand, Go 1.24)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) lifetime() time.Duration {
	if s.NonceLifetime > 0 {
		return s.NonceLifetime
	}
	return 5 * time.Minute
}

func (s *Server) maxNonces() int {
	if s.MaxNonces > 0 {
		return s.MaxNonces
	}
	return 4096
}

func (s *Server) algorithms() []Algorithm {
	if s.Algorithms != nil {
		return s.Algorithms
	}
	return defaultAlgorithms
}

// defaultAlgorithms are offered when Server.Algorithms is nil: SHA-256
// first (a UAS lists its challenges in order of preference, RFC 8760
// §2.3), and MD5 for the many UAs that know no other.
var defaultAlgorithms = []Algorithm{SHA256, MD5}

// sign computes the MAC of a nonce's first 16 bytes, bound to the realm.
// s.mu is held.
func (s *Server) sign(dst []byte, id []byte) {
	// Copies through fields of s keep the caller's arrays off the heap.
	s.mac.Reset()
	copy(s.in[:], id)
	s.mac.Write(s.in[:])
	s.mac.Write(s.realm)
	copy(dst, s.mac.Sum(s.sum[:0]))
}

// Nonce returns a fresh nonce: its issue time from Now, 8 random bytes and
// an HMAC-SHA-256 tag under Secret, in hex. Safe for concurrent use.
func (s *Server) Nonce() string {
	s.once.Do(s.init)
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(s.now().UnixNano()))
	s.random(raw[8:16])
	s.mu.Lock()
	s.sign(raw[16:], raw[:16])
	s.mu.Unlock()
	var h [2 * nonceRawLen]byte
	return string(hexTo(h[:], raw[:]))
}

// Challenges returns the challenges to send in a 401 (WWW-Authenticate) or
// 407 (Proxy-Authenticate), one per algorithm in Algorithms, all with one
// fresh nonce; stale marks them as the answer to ErrStale. Safe for
// concurrent use.
func (s *Server) Challenges(stale bool) []Challenge {
	qop := s.QOP
	if qop == "" {
		qop = "auth"
	}
	nonce := s.Nonce()
	algs := s.algorithms()
	cs := make([]Challenge, len(algs))
	for i, a := range algs {
		cs[i] = Challenge{Realm: s.Realm, Nonce: nonce, Opaque: s.Opaque, Stale: stale, Algorithm: a, QOP: qop}
	}
	return cs
}

// Verify checks credentials received in an Authorization or
// Proxy-Authorization header for req against the account's plain username
// and password: realm, offered algorithm and qop, the nonce's HMAC and age,
// the response (in constant time, see Check) and the nonce count. It
// returns nil, or an error that wraps ErrBadResponse, ErrBadNonce, ErrStale,
// ErrReplay or ErrUnsupported. A stale nonce is reported only when the
// response is otherwise right (RFC 7616 §3.3). Safe for concurrent use;
// does not allocate when it accepts a nonce it already tracks.
func (s *Server) Verify(cr *Credentials, req Request, username, password string) error {
	s.once.Do(s.init)
	if cr.Realm != s.Realm {
		return &wrapped{msg: "digest: realm does not match", err: ErrBadResponse}
	}
	if !slices.ContainsFunc(s.algorithms(), func(a Algorithm) bool { return a.key() == cr.Algorithm.key() }) {
		return unsupported("algorithm " + string(cr.Algorithm))
	}
	offered := Challenge{QOP: s.QOP}
	if offered.QOP == "" {
		offered.QOP = "auth"
	}
	if cr.QOP == "" || !offered.HasQOP(cr.QOP) {
		return unsupported("qop " + cr.QOP)
	}
	if s.Opaque != "" && cr.Opaque != s.Opaque {
		return &wrapped{msg: "digest: opaque does not match", err: ErrBadNonce}
	}
	var raw [nonceRawLen]byte
	if !unhexTo(raw[:], cr.Nonce) {
		return ErrBadNonce
	}
	var tag [nonceMACLen]byte
	s.mu.Lock()
	s.sign(tag[:], raw[:16])
	s.mu.Unlock()
	if subtle.ConstantTimeCompare(tag[:], raw[16:]) != 1 {
		return ErrBadNonce
	}
	if err := Check(cr, req, username, password); err != nil {
		return err
	}
	issued := int64(binary.BigEndian.Uint64(raw[:8]))
	now := s.now().UnixNano()
	if now-issued > int64(s.lifetime()) {
		return ErrStale
	}
	if issued-now > int64(time.Minute) {
		return ErrBadNonce // from the future: another server's clock, or forged
	}
	return s.count(nonceID(raw[:16]), issued, cr.NC)
}

// key folds an algorithm to a comparable value (hash and -sess).
func (a Algorithm) key() int {
	h, sess := a.parse()
	if sess {
		return int(h) + 16
	}
	return int(h)
}

// count records nc for the nonce id and refuses a count seen before or
// more than replayWindow below the highest. The table holds at most
// maxNonces entries; when it is full the oldest is dropped and the horizon
// moves past its issue time.
func (s *Server) count(id nonceID, issued int64, nc uint32) error {
	if nc == 0 {
		return ErrReplay // counts start at 1 (RFC 7616 §3.4)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.counts[id]; ok {
		if !e.accept(nc) {
			return ErrReplay
		}
		s.counts[id] = e
		return nil
	}
	if issued <= s.horizon {
		return ErrStale
	}
	max := s.maxNonces()
	if len(s.order) < max {
		s.order = append(s.order, id)
	} else {
		old := s.order[s.head]
		if e, ok := s.counts[old]; ok && e.issued > s.horizon {
			s.horizon = e.issued
		}
		delete(s.counts, old)
		s.order[s.head] = id
		s.head = (s.head + 1) % max
	}
	s.counts[id] = nonceCount{issued: issued, nc: nc, seen: 1}
	return nil
}

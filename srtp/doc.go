// Package srtp implements the Secure Real-time Transport Protocol: SRTP and
// SRTCP packet protection (RFC 3711) with AES counter mode and HMAC-SHA1,
// AES-256 (RFC 6188) and AES-GCM (RFC 7714), and the SDES "a=crypto" key
// exchange attribute (RFC 4568). It uses only the standard library and does
// not import an RTP package: it reads the few header fields it needs.
//
// # Profiles
//
// [ParseProfile] maps the suite names of "a=crypto" to a [Profile]:
// AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80,
// AES_256_CM_HMAC_SHA1_32, AEAD_AES_128_GCM and AEAD_AES_256_GCM. A Profile
// reports its key, salt and tag lengths. The _32 suites shorten only the
// SRTP tag; SRTCP keeps 80 bits (RFC 4568 §6.2.2).
//
// # Contexts
//
// A [Context] is one direction of a session under one master key and salt,
// from which it derives the session keys with a key derivation rate of 0
// (RFC 3711 §4.3). It tracks each SSRC's rollover counter, estimating packet
// indices across 65535→0 sequence wraps and reordering (RFC 3711 §3.3.1),
// keeps a replay window per SSRC for SRTP and SRTCP (128 packets by
// default, [WithReplayWindow]), and numbers outgoing SRTCP packets from 1.
// [Context.SetROC] sets the ROC of a stream joined mid-session.
//
// EncryptRTP, DecryptRTP, EncryptRTCP and DecryptRTCP append to a dst slice;
// with enough spare capacity they do not allocate. Decryption verifies the
// tag before any plaintext is written, and leaves dst unchanged on failure.
// Failures callers branch on are [ErrAuthFailed] and [ErrReplayed].
// [Context.Close] zeroizes the key material the package holds.
//
// MKI fields in packets, key derivation rates other than 0, and master key
// lifetimes are not implemented: [Crypto.NewContext] refuses attributes that
// ask for them.
//
// # Performance
//
// For the AES-CM profiles the keystream is produced through the standard
// library's assembly AES-GCM with a nonce chosen so that GCM's counter blocks
// are exactly those of AES-CM (see fastctr.go), and HMAC-SHA1 restarts from
// saved inner and outer pad states, so a 172-octet packet costs about as
// much as raw AES-CTR plus HMAC-SHA1 or less.
package srtp

// Package stun implements Session Traversal Utilities for NAT (STUN,
// RFC 8489, which obsoletes RFC 5389): the message format, the attributes
// a media stack needs, short- and long-term credentials, a Binding client
// with the RFC's retransmission schedule, and the first-byte
// demultiplexing of STUN, DTLS, ZRTP, TURN channel data and RTP/RTCP that
// share one socket (RFC 7983).
//
// It imports only the standard library and can be used on its own.
//
// # Messages
//
// Message.Decode parses a message into a reusable Message without
// allocating: the attribute values are views into the caller's buffer.
// Typed getters decode XOR-MAPPED-ADDRESS, MAPPED-ADDRESS, ERROR-CODE,
// UNKNOWN-ATTRIBUTES and PASSWORD-ALGORITHM(S); the text attributes
// (USERNAME, REALM, NONCE, SOFTWARE) are read with Message.Get.
// Message.UnknownRequired lists the comprehension-required attributes this
// package does not know. A Builder appends a message to a caller's buffer,
// padding attribute values with zeros, and computes MESSAGE-INTEGRITY,
// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT as the last steps.
//
// # Credentials
//
// An Integrity holds a key with its HMAC pads already absorbed; make one per
// credential (NewShortTermIntegrity, NewLongTermIntegrity) and reuse it.
// Keys are derived from the UTF-8 bytes of the password, username and
// realm as given: the OpaqueString (PRECIS, formerly SASLprep) preparation
// of RFC 8489 §9 is left to the caller, which makes no difference for
// ASCII credentials.
//
// # Client
//
// Bind sends a Binding request over a net.PacketConn the caller owns (for
// instance the RTP socket) and returns the server-reflexive address. It
// retransmits on the RFC 8489 §6.2.1 schedule, honours its context, matches
// the response by transaction ID and tolerates unrelated packets on the
// socket. Classify sorts packets on a shared socket by their first byte.
//
// Nothing in the package is safe for concurrent use unless its
// documentation says so; values of different Messages, Builders and
// Integrities may be used from different goroutines.
package stun

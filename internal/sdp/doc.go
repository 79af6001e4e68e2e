// Package sdp parses and formats session descriptions (RFC 8866, which
// obsoletes RFC 4566) and negotiates a call's audio stream by the offer/answer
// model of RFC 3264. It uses the standard library and the srtp package, for
// the SDES a=crypto attribute (RFC 4568).
//
// # Parsing and formatting
//
// Parse reads a body into a Description: session-level lines, then one
// Media per m= line. Lines may end in CRLF or LF; AppendTo always writes CRLF
// in the order of RFC 8866 §5. Attributes and lines of unknown type are kept
// verbatim, so a body parsed, formatted and parsed again gives an equal
// Description (FuzzParse checks it). Parse refuses bodies over MaxSize
// bytes, MaxLines lines or MaxMedia media descriptions, and reports
// malformed input as a *ParseError with the line number.
//
// Media has accessors for what a voice call needs: Codecs (a=rtpmap and
// a=fmtp, with the RFC 3551 static payload types), Transport (RTP/AVP,
// RTP/SAVP, and the AVPF and DTLS profiles of WebRTC), RTCP (a=rtcp,
// RFC 3605), RTCPMux (RFC 5761), Ptime, Cryptos; Description.Direction
// gives a stream's direction, reading an old-style hold (c=0.0.0.0) as the
// peer not receiving.
//
// # Offer and answer
//
// A Session is one side of a call's offer/answer exchanges. Its Config lists
// the local media address and port, the codecs (PCMU, PCMA, G722, Opus) in
// order of preference, RFC 4733 telephone-event, rtcp-mux and the SRTP mode.
//
//   - Offer builds an initial offer or a re-offer; SetDirection(SendOnly)
//     before it puts the peer on hold and SetDirection(SendRecv) resumes.
//     ProcessAnswer reads the peer's answer.
//   - Answer answers a peer's offer: one audio stream with one codec (the
//     offerer's first that we support, or ours with PreferLocalOrder) under
//     the offer's payload type, telephone-event at the codec's clock rate,
//     the mirrored direction; all other m= lines get port 0 (RFC 3264 §6).
//   - Offers and answers that cannot be met fail with an error wrapping
//     ErrNotAcceptable, which a UA turns into 488 Not Acceptable Here.
//   - Each exchange yields a Negotiated: codec, payload types, clock rate,
//     ptime, DTMF payload types, the peer's RTP and RTCP addresses, our
//     direction, rtcp-mux and the SRTP keys of both directions.
//
// The o= version rises by one each time our description changes, and stays
// when a re-offer or re-answer is identical (RFC 3264 §8). Payload type
// numbers, once agreed, are kept in later offers (RFC 3264 §8.3.2), and so
// are the m= lines of the session.
//
// # SRTP
//
// SRTPOff uses RTP/AVP only. SRTPMandatory offers RTP/SAVP with one
// a=crypto per configured suite and accepts only exchanges that end in SRTP.
// SRTPOptional is best-effort SRTP as most SIP endpoints do it: since an m=
// line has a single profile, it offers RTP/AVP with a=crypto lines, and uses
// SRTP when the answer accepts one of them. An answer takes the first
// a=crypto of the offer whose suite is configured and which the srtp package
// can honour (one key, no MKI, no session parameters), and replies with the
// same tag and suite and a fresh key of ours (RFC 4568 §5.1.2). Our keys stay
// the same through re-offers and answers for the session's life, as most
// peers expect. SDES keys travel in the SIP body in
// clear text: use them with SIP over TLS.
//
// WebRTC offers (RTP/SAVPF, UDP/TLS/RTP/SAVPF) need ICE and DTLS-SRTP,
// which this package does not do: their streams are answered with port 0
// and, when no other audio stream is usable, the offer is not acceptable.
package sdp

// Package rtp implements the RTP and RTCP wire formats (RFC 3550), RTP
// header extensions (RFC 8285), the telephone-event payload for DTMF
// (RFC 4733), XR VoIP metrics (RFC 3611 §4.7) and the receiver
// statistics of RFC 3550 Appendix A.
//
// It imports only the standard library and is usable on its own.
//
// # Packets without allocation
//
// Parsers fill caller-owned structs and return views: after
// (*Packet).Unmarshal or (*Compound).Unmarshal, byte slices such as
// Packet.Payload point into the buffer that was parsed and are valid until
// that buffer is reused. Slices inside the structs (CSRC lists, report
// blocks, SDES chunks) are reused across calls, so parsing a steady stream
// into the same struct does not allocate. Clone makes an independent copy.
//
// Encoders write into a caller buffer: (*Packet).MarshalTo and AppendTo,
// (*Compound).AppendTo and the AppendTo methods of each RTCP packet type.
//
// # Concurrency
//
// No type in this package is safe for concurrent use; give each goroutine
// its own Packet, Compound, Stats, EventSender and EventReceiver.
//
// # DTMF
//
// TelephoneEvent is the four-byte payload of RFC 4733 §2.3. EventSender
// yields the payloads of one key press in the order RFC 4733 §2.5.1
// prescribes, and EventReceiver turns a stream of telephone-event packets
// from any peer, however sloppy, into exactly one report per key press.
//
// # Statistics
//
// Stats follows one source as RFC 3550 Appendix A.1, A.3 and A.8 describe
// and fills ReceptionReport blocks; SequenceUnwrapper and
// TimestampUnwrapper extend 16- and 32-bit counters; NTPTime and friends
// convert between time.Time and the NTP timestamps of sender reports.
package rtp

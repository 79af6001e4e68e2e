package xphone

import "time"

// CallStats is a snapshot of a call's media counters, from the start of
// media to the moment Stats was called (or the end of the call). Counters
// never decrease during a call.
type CallStats struct {
	// Codec is the negotiated codec; empty before media starts.
	Codec Codec
	// SRTP reports whether media is encrypted.
	SRTP bool

	// PacketsSent and BytesSent count RTP packets and their payload bytes
	// sent (telephone-events included, RTCP excluded).
	PacketsSent, BytesSent uint64
	// PacketsReceived and BytesReceived count RTP packets and payload
	// bytes accepted (after SRTP authentication, duplicates excluded).
	PacketsReceived, BytesReceived uint64
	// PacketsLost is the cumulative number of packets lost as RFC 3550
	// §6.4.1 defines it: expected minus received, which duplicates can
	// make negative.
	PacketsLost int64
	// PacketsLate counts packets that arrived after their playout time
	// and were discarded by the jitter buffer.
	PacketsLate uint64
	// FramesConcealed counts 20 ms frames synthesized by packet loss
	// concealment.
	FramesConcealed uint64
	// Jitter is the interarrival jitter estimate of RFC 3550 §6.4.1.
	Jitter time.Duration
	// RTT is the round-trip time from the peer's last RTCP report (RFC
	// 3550 §6.4.1, LSR/DLSR); zero until one arrived.
	RTT time.Duration
	// RemotePacketsLost and RemoteJitter are what the peer reported about
	// our stream in its last RTCP report.
	RemotePacketsLost int64
	RemoteJitter      time.Duration

	// InboundDropped counts frames and packets dropped because the
	// application read a tap (PCMReader, RTPReader, RTPRawReader) too
	// slowly: the oldest is dropped when a channel is full.
	InboundDropped uint64
	// OutboundDropped counts frames dropped because the application wrote
	// PCMWriter or RTPWriter faster than real time: the newest is dropped
	// when the send queue is full.
	OutboundDropped uint64
	// DTMFDropped counts digits received but not passed to the OnDTMF
	// callback because 1,024 of the call's events already waited behind
	// a callback that did not return.
	DTMFDropped uint64
}

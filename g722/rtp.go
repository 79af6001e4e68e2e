package g722

// RTP parameters of G.722 (RFC 3551 §4.5.2, Table 4).
//
// The audio is sampled at 16 000 Hz but, for historical reasons, the RTP
// clock rate of the G722 encoding name is 8000 Hz: the RTP timestamp
// advances by one per octet, i.e. by half the number of PCM samples. A 20 ms
// packet carries 320 samples in 160 octets and advances the timestamp by
// 160. Octets go into the payload in stream order, each with the higher
// sub-band bits first (the layout Encode produces and Decode expects).
const (
	// SampleRate is the PCM sample rate at the codec interface, in Hz.
	SampleRate = 16000
	// RTPClockRate is the RTP timestamp rate for G722, in Hz (RFC 3551
	// §4.5.2), and the rate to put in SDP ("a=rtpmap:9 G722/8000").
	RTPClockRate = 8000
	// PayloadType is the static RTP payload type of G722 (RFC 3551 Table 4).
	PayloadType = 9
)

// RTPTimestampIncrement returns how far the RTP timestamp advances for a
// payload of payloadLen octets: one tick per octet at the 8000 Hz clock.
func RTPTimestampIncrement(payloadLen int) uint32 {
	return uint32(payloadLen)
}

// PayloadLen returns the number of octets, and the RTP timestamp increment,
// of a frame of the given duration in milliseconds: 8 per millisecond (160
// for 20 ms), carrying twice as many PCM samples.
func PayloadLen(ms int) int {
	return ms * RTPClockRate / 1000
}

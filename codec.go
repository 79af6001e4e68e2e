package xphone

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/xphone-go/xphone/rtp"
)

// Codec is an audio codec, named by its SDP encoding name (RFC 3551 §6,
// RFC 7587). The zero value means no codec has been negotiated yet.
type Codec string

// The codecs xphone runs. Opus needs the build tag "opus" and libopus.
const (
	CodecPCMU Codec = "PCMU" // G.711 µ-law, 8 kHz
	CodecPCMA Codec = "PCMA" // G.711 A-law, 8 kHz
	CodecG722 Codec = "G722" // G.722, 16 kHz audio on an 8 kHz RTP clock (RFC 3551 §4.5.2)
	CodecOpus Codec = "opus" // Opus, 16 kHz audio at the API (RFC 7587)
)

// ParseCodec returns the codec named s, ignoring case ("pcmu", "G722",
// "Opus"), or an error wrapping ErrInvalidConfig for an unknown name.
func ParseCodec(s string) (Codec, error) {
	for _, c := range [...]Codec{CodecPCMU, CodecPCMA, CodecG722, CodecOpus} {
		if strings.EqualFold(s, string(c)) {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: unknown codec %q", ErrInvalidConfig, s)
}

// SampleRate returns the rate of the PCM frames a call with codec c hands
// to the application when Config.PCMRate is zero: 8000 Hz for PCMU and
// PCMA, 16000 Hz for G722 and Opus. It returns 0 for an unknown codec.
func (c Codec) SampleRate() int {
	switch c {
	case CodecPCMU, CodecPCMA:
		return 8000
	case CodecG722, CodecOpus:
		return 16000
	}
	return 0
}

// FrameSize returns the number of samples in one 20 ms PCM frame at
// c.SampleRate(): 160 or 320.
func (c Codec) FrameSize() int { return c.SampleRate() / 50 }

// PhoneState is the registration state of a Phone.
type PhoneState uint8

// The phone states.
const (
	// PhoneDisconnected: Connect has not been called, or Disconnect has
	// returned. It is the zero value.
	PhoneDisconnected PhoneState = iota
	// PhoneConnecting: Connect is running its first registration.
	PhoneConnecting
	// PhoneRegistered: the registrar accepted our binding; calls can be
	// placed and received.
	PhoneRegistered
	// PhoneUnregistered: connected, but the registration failed or
	// lapsed; the phone is retrying with backoff.
	PhoneUnregistered
	// PhoneListening: connected without registration (Config.Host empty
	// with ListenAddr set, or registration disabled): INVITEs are taken
	// directly and Dial works.
	PhoneListening
)

var phoneStateNames = [...]string{"Disconnected", "Connecting", "Registered", "Unregistered", "Listening"}

// String returns the state's name, e.g. "Registered".
func (s PhoneState) String() string {
	if int(s) < len(phoneStateNames) {
		return phoneStateNames[s]
	}
	return "PhoneState(" + strconv.Itoa(int(s)) + ")"
}

// DTMFMode says how digits are sent and which ways of receiving them are
// accepted. The zero value means the default, DTMFRFC4733.
type DTMFMode uint8

// The DTMF modes.
const (
	// DTMFRFC4733 sends and receives RTP telephone-events (RFC 4733).
	DTMFRFC4733 DTMFMode = iota + 1
	// DTMFInfo sends SIP INFO with application/dtmf-relay (RFC 2976
	// transport, the de facto body of Cisco and Asterisk) and does not
	// offer telephone-event.
	DTMFInfo
	// DTMFBoth sends telephone-events when the peer accepted them and
	// SIP INFO otherwise, and receives both.
	DTMFBoth
)

// String returns "rfc4733", "info" or "both".
func (m DTMFMode) String() string {
	switch m {
	case 0:
		return "default"
	case DTMFRFC4733:
		return "rfc4733"
	case DTMFInfo:
		return "info"
	case DTMFBoth:
		return "both"
	}
	return "DTMFMode(" + strconv.Itoa(int(m)) + ")"
}

// SRTPMode says whether media is encrypted with SRTP (RFC 3711), keyed by
// SDES (RFC 4568). Keys travel in SDP, so use SRTP with the "tls"
// transport. The zero value means the default: SRTPOff in a Config, the
// Config's mode in DialOptions.
type SRTPMode uint8

// The SRTP modes.
const (
	// SRTPOff offers and accepts plain RTP only.
	SRTPOff SRTPMode = iota + 1
	// SRTPOptional offers SRTP and plain RTP together (best effort, as
	// RTP/AVP with a=crypto) and accepts either.
	SRTPOptional
	// SRTPMandatory offers RTP/SAVP only and refuses calls without SRTP
	// (488 Not Acceptable Here).
	SRTPMandatory
)

// String returns "off", "optional" or "mandatory".
func (m SRTPMode) String() string {
	switch m {
	case 0:
		return "default"
	case SRTPOff:
		return "off"
	case SRTPOptional:
		return "optional"
	case SRTPMandatory:
		return "mandatory"
	}
	return "SRTPMode(" + strconv.Itoa(int(m)) + ")"
}

// ValidateDTMF returns nil if every character of digits is a DTMF key
// (0-9, *, #, A-D, lower case accepted; RFC 4733 §3.2) and digits is not
// empty, else an error wrapping ErrInvalidDTMF. SendDTMF implementations
// check their argument with it.
func ValidateDTMF(digits string) error {
	if digits == "" {
		return fmt.Errorf("%w: no digits", ErrInvalidDTMF)
	}
	for _, r := range digits {
		if _, ok := rtp.DTMFEvent(r); !ok {
			return fmt.Errorf("%w: %q", ErrInvalidDTMF, r)
		}
	}
	return nil
}

package rtp

import (
	"encoding/binary"
	"errors"
)

// RTCP packet types (RFC 3550 §12.1, RFC 3611 §2).
const (
	TypeSR   = 200 // sender report
	TypeRR   = 201 // receiver report
	TypeSDES = 202 // source description
	TypeBYE  = 203 // goodbye
	TypeAPP  = 204 // application-defined
	TypeXR   = 207 // extended report (RFC 3611)
)

// SDESType is an SDES item type (RFC 3550 §6.5).
type SDESType uint8

// SDES item types (RFC 3550 §12.2).
const (
	SDESEnd   SDESType = 0
	SDESCNAME SDESType = 1
	SDESName  SDESType = 2
	SDESEmail SDESType = 3
	SDESPhone SDESType = 4
	SDESLoc   SDESType = 5
	SDESTool  SDESType = 6
	SDESNote  SDESType = 7
	SDESPriv  SDESType = 8
)

// XRTypeVoIPMetrics is the block type of the VoIP Metrics report block
// (RFC 3611 §4.7).
const XRTypeVoIPMetrics = 7

var (
	errRTCPPadding = errors.New("rtp: invalid RTCP padding")
	errRTCPCount   = errors.New("rtp: RTCP count field disagrees with packet length")
	errRTCPSDES    = errors.New("rtp: malformed SDES chunk")
	errRTCPXR      = errors.New("rtp: malformed XR report block")
)

// ReceptionReport is a report block of an SR or RR (RFC 3550 §6.4.1).
type ReceptionReport struct {
	SSRC uint32
	// FractionLost is the fraction of packets lost since the previous
	// report, in units of 1/256.
	FractionLost uint8
	// PacketsLost is the cumulative number of packets lost, a signed
	// 24-bit value (negative when duplicates outnumber losses).
	PacketsLost int32
	// HighestSequence is the extended highest sequence number received.
	HighestSequence uint32
	// Jitter is the interarrival jitter in RTP timestamp units.
	Jitter uint32
	// LastSR is the middle 32 bits of the NTP timestamp of the last SR
	// received from the source (0 if none).
	LastSR uint32
	// DelaySinceLastSR is the delay since that SR in units of 1/65536 s.
	DelaySinceLastSR uint32
}

// SenderReport is an RTCP SR packet (RFC 3550 §6.4.1).
type SenderReport struct {
	SSRC        uint32
	NTPTime     uint64 // 64-bit NTP timestamp (see NTPTime)
	RTPTime     uint32
	PacketCount uint32
	OctetCount  uint32
	Reports     []ReceptionReport
	// ProfileExtension holds profile-specific extension bytes after the
	// report blocks (a multiple of 4 bytes); a view after Unmarshal.
	ProfileExtension []byte
}

// ReceiverReport is an RTCP RR packet (RFC 3550 §6.4.2).
type ReceiverReport struct {
	SSRC             uint32
	Reports          []ReceptionReport
	ProfileExtension []byte
}

// SDESItem is one item of an SDES chunk. Text is a view after Unmarshal.
type SDESItem struct {
	Type SDESType
	Text []byte
}

// SDESChunk is the list of items describing one source (RFC 3550 §6.5).
type SDESChunk struct {
	Source uint32
	Items  []SDESItem
}

// Item returns the text of the first item of type t, and whether there
// was one.
func (c *SDESChunk) Item(t SDESType) ([]byte, bool) {
	for i := range c.Items {
		if c.Items[i].Type == t {
			return c.Items[i].Text, true
		}
	}
	return nil, false
}

// SourceDescription is an RTCP SDES packet (RFC 3550 §6.5).
type SourceDescription struct {
	Chunks []SDESChunk
}

// Goodbye is an RTCP BYE packet (RFC 3550 §6.6).
type Goodbye struct {
	Sources []uint32
	Reason  []byte // optional; a view after Unmarshal
}

// App is an RTCP APP packet (RFC 3550 §6.7).
type App struct {
	Subtype uint8 // 5 bits
	SSRC    uint32
	Name    [4]byte
	Data    []byte // a multiple of 4 bytes; a view after Unmarshal
}

// VoIPMetrics is the VoIP Metrics report block of RFC 3611 §4.7. Values
// are as on the wire; 127 (or 0x7f for the scores) usually means "not
// available", as the RFC defines per field.
type VoIPMetrics struct {
	SSRC              uint32
	LossRate          uint8 // fraction lost, 1/256
	DiscardRate       uint8 // fraction discarded, 1/256
	BurstDensity      uint8
	GapDensity        uint8
	BurstDuration     uint16 // ms
	GapDuration       uint16 // ms
	RoundTripDelay    uint16 // ms
	EndSystemDelay    uint16 // ms
	SignalLevel       int8   // dBm
	NoiseLevel        int8   // dBm
	RERL              uint8  // residual echo return loss, dB
	Gmin              uint8
	RFactor           uint8
	ExtRFactor        uint8
	MOSLQ             uint8 // MOS ×10
	MOSCQ             uint8 // MOS ×10
	RXConfig          uint8
	JBNominal         uint16 // ms
	JBMaximum         uint16 // ms
	JBAbsoluteMaximum uint16 // ms
}

// XRBlock is an XR report block of a type this package does not decode.
type XRBlock struct {
	Type         uint8
	TypeSpecific uint8
	Body         []byte // after the 4-byte block header; a view after Unmarshal
}

// ExtendedReport is an RTCP XR packet (RFC 3611 §2). VoIP Metrics blocks
// are decoded; other blocks are kept in Blocks.
type ExtendedReport struct {
	SSRC        uint32
	VoIPMetrics []VoIPMetrics
	Blocks      []XRBlock
}

// RawPacket is an RTCP packet of a type Compound does not decode (for
// example RTPFB or PSFB feedback, RFC 4585).
type RawPacket struct {
	Type  uint8
	Count uint8  // the 5-bit count/subtype field
	Body  []byte // after the 4-byte header, padding removed; a view
}

// Compound is a parsed RTCP compound packet (RFC 3550 §6.1), its packets
// grouped by type. Order within each type is wire order.
//
// Unmarshal into the same Compound reuses every slice, so a steady stream
// of similar packets is parsed without allocation. Byte slices are views
// of the parsed buffer, valid until that buffer is reused. Not safe for
// concurrent use.
type Compound struct {
	SenderReports      []SenderReport
	ReceiverReports    []ReceiverReport
	SourceDescriptions []SourceDescription
	Goodbyes           []Goodbye
	Apps               []App
	ExtendedReports    []ExtendedReport
	Unknown            []RawPacket
}

// Reset empties c, keeping its memory for reuse.
func (c *Compound) Reset() {
	c.SenderReports = c.SenderReports[:0]
	c.ReceiverReports = c.ReceiverReports[:0]
	c.SourceDescriptions = c.SourceDescriptions[:0]
	c.Goodbyes = c.Goodbyes[:0]
	c.Apps = c.Apps[:0]
	c.ExtendedReports = c.ExtendedReports[:0]
	c.Unknown = c.Unknown[:0]
}

// CNAME returns the CNAME the compound gives for ssrc, if any.
func (c *Compound) CNAME(ssrc uint32) ([]byte, bool) {
	for i := range c.SourceDescriptions {
		for j := range c.SourceDescriptions[i].Chunks {
			ch := &c.SourceDescriptions[i].Chunks[j]
			if ch.Source == ssrc {
				if t, ok := ch.Item(SDESCNAME); ok {
					return t, true
				}
			}
		}
	}
	return nil, false
}

// next extends s by one element, reusing the element's old memory when
// s has capacity, and returns a pointer to it.
func next[T any](s []T) ([]T, *T) {
	if len(s) < cap(s) {
		s = s[:len(s)+1]
	} else {
		var zero T
		s = append(s, zero)
	}
	return s, &s[len(s)-1]
}

// Unmarshal parses an RTCP compound packet (or a single RTCP packet) into
// c, replacing its contents. Each packet's header is validated (version
// 2, length within buf, padding per RFC 3550 §6.4.1); packets of unknown
// type are kept in Unknown and skipped. Unmarshal does not require the
// first packet to be an SR or RR, so it also reads reduced-size RTCP
// (RFC 5506). On error c holds the packets parsed before the bad one.
func (c *Compound) Unmarshal(buf []byte) error {
	c.Reset()
	if len(buf) == 0 {
		return ErrShortPacket
	}
	for len(buf) > 0 {
		if len(buf) < 4 {
			return ErrShortPacket
		}
		if buf[0]>>6 != 2 {
			return ErrVersion
		}
		size := 4 * (int(binary.BigEndian.Uint16(buf[2:])) + 1)
		if size > len(buf) {
			return ErrShortPacket
		}
		count := buf[0] & 0x1f
		typ := buf[1]
		body := buf[4:size:size]
		if buf[0]&0x20 != 0 {
			pad := 0
			if len(body) > 0 {
				pad = int(body[len(body)-1])
			}
			// RFC 3550 §6.4.1: the count includes itself and is a
			// multiple of four.
			if pad == 0 || pad%4 != 0 || pad > len(body) {
				return errRTCPPadding
			}
			body = body[:len(body)-pad]
		}
		buf = buf[size:]
		var err error
		switch typ {
		case TypeSR:
			var p *SenderReport
			c.SenderReports, p = next(c.SenderReports)
			err = p.unmarshal(count, body)
		case TypeRR:
			var p *ReceiverReport
			c.ReceiverReports, p = next(c.ReceiverReports)
			err = p.unmarshal(count, body)
		case TypeSDES:
			var p *SourceDescription
			c.SourceDescriptions, p = next(c.SourceDescriptions)
			err = p.unmarshal(count, body)
		case TypeBYE:
			var p *Goodbye
			c.Goodbyes, p = next(c.Goodbyes)
			err = p.unmarshal(count, body)
		case TypeAPP:
			var p *App
			c.Apps, p = next(c.Apps)
			err = p.unmarshal(count, body)
		case TypeXR:
			var p *ExtendedReport
			c.ExtendedReports, p = next(c.ExtendedReports)
			err = p.unmarshal(body)
		default:
			c.Unknown = append(c.Unknown, RawPacket{Type: typ, Count: count, Body: body})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func parseReports(dst []ReceptionReport, count uint8, body []byte) ([]ReceptionReport, []byte, error) {
	dst = dst[:0]
	if len(body) < 24*int(count) {
		return dst, nil, errRTCPCount
	}
	for range count {
		cum := binary.BigEndian.Uint32(body[4:]) & 0xffffff
		dst = append(dst, ReceptionReport{
			SSRC:             binary.BigEndian.Uint32(body),
			FractionLost:     body[4],
			PacketsLost:      int32(cum<<8) >> 8, // sign-extend 24 bits
			HighestSequence:  binary.BigEndian.Uint32(body[8:]),
			Jitter:           binary.BigEndian.Uint32(body[12:]),
			LastSR:           binary.BigEndian.Uint32(body[16:]),
			DelaySinceLastSR: binary.BigEndian.Uint32(body[20:]),
		})
		body = body[24:]
	}
	return dst, body, nil
}

// extensionOrNil keeps a trailing profile extension only when present.
func extensionOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func (p *SenderReport) unmarshal(count uint8, body []byte) error {
	if len(body) < 24 {
		return ErrShortPacket
	}
	p.SSRC = binary.BigEndian.Uint32(body)
	p.NTPTime = binary.BigEndian.Uint64(body[4:])
	p.RTPTime = binary.BigEndian.Uint32(body[12:])
	p.PacketCount = binary.BigEndian.Uint32(body[16:])
	p.OctetCount = binary.BigEndian.Uint32(body[20:])
	var err error
	p.Reports, body, err = parseReports(p.Reports, count, body[24:])
	p.ProfileExtension = extensionOrNil(body)
	return err
}

func (p *ReceiverReport) unmarshal(count uint8, body []byte) error {
	if len(body) < 4 {
		return ErrShortPacket
	}
	p.SSRC = binary.BigEndian.Uint32(body)
	var err error
	p.Reports, body, err = parseReports(p.Reports, count, body[4:])
	p.ProfileExtension = extensionOrNil(body)
	return err
}

// unmarshal reads count chunks; each is an SSRC, items, a null item and
// padding to the next 32-bit boundary (RFC 3550 §6.5).
func (p *SourceDescription) unmarshal(count uint8, body []byte) error {
	p.Chunks = p.Chunks[:0]
	for range count {
		if len(body) < 4 {
			return errRTCPSDES
		}
		var ch *SDESChunk
		p.Chunks, ch = next(p.Chunks)
		ch.Source = binary.BigEndian.Uint32(body)
		ch.Items = ch.Items[:0]
		i := 4
		for {
			if i >= len(body) {
				return errRTCPSDES
			}
			t := SDESType(body[i])
			if t == SDESEnd {
				i++
				break
			}
			if i+2 > len(body) {
				return errRTCPSDES
			}
			l := int(body[i+1])
			i += 2
			if i+l > len(body) {
				return errRTCPSDES
			}
			ch.Items = append(ch.Items, SDESItem{Type: t, Text: body[i : i+l : i+l]})
			i += l
		}
		i = (i + 3) &^ 3
		if i > len(body) {
			return errRTCPSDES
		}
		body = body[i:]
	}
	return nil
}

func (p *Goodbye) unmarshal(count uint8, body []byte) error {
	p.Sources = p.Sources[:0]
	p.Reason = nil
	if len(body) < 4*int(count) {
		return errRTCPCount
	}
	for range count {
		p.Sources = append(p.Sources, binary.BigEndian.Uint32(body))
		body = body[4:]
	}
	if len(body) > 0 {
		l := int(body[0])
		if 1+l > len(body) {
			return ErrShortPacket
		}
		p.Reason = body[1 : 1+l : 1+l]
	}
	return nil
}

func (p *App) unmarshal(count uint8, body []byte) error {
	if len(body) < 8 {
		return ErrShortPacket
	}
	p.Subtype = count
	p.SSRC = binary.BigEndian.Uint32(body)
	copy(p.Name[:], body[4:8])
	p.Data = body[8:len(body):len(body)]
	return nil
}

func (p *ExtendedReport) unmarshal(body []byte) error {
	if len(body) < 4 {
		return ErrShortPacket
	}
	p.SSRC = binary.BigEndian.Uint32(body)
	p.VoIPMetrics = p.VoIPMetrics[:0]
	p.Blocks = p.Blocks[:0]
	body = body[4:]
	// RFC 3611 §3: BT, type-specific, block length in words minus one
	// (the 4-byte block header excluded).
	for len(body) > 0 {
		if len(body) < 4 {
			return errRTCPXR
		}
		bt, spec := body[0], body[1]
		l := 4 * int(binary.BigEndian.Uint16(body[2:]))
		if 4+l > len(body) {
			return errRTCPXR
		}
		b := body[4 : 4+l : 4+l]
		body = body[4+l:]
		if bt == XRTypeVoIPMetrics && l == 32 {
			p.VoIPMetrics = append(p.VoIPMetrics, parseVoIPMetrics(b))
			continue
		}
		p.Blocks = append(p.Blocks, XRBlock{Type: bt, TypeSpecific: spec, Body: b})
	}
	return nil
}

func parseVoIPMetrics(b []byte) VoIPMetrics {
	return VoIPMetrics{
		SSRC:              binary.BigEndian.Uint32(b),
		LossRate:          b[4],
		DiscardRate:       b[5],
		BurstDensity:      b[6],
		GapDensity:        b[7],
		BurstDuration:     binary.BigEndian.Uint16(b[8:]),
		GapDuration:       binary.BigEndian.Uint16(b[10:]),
		RoundTripDelay:    binary.BigEndian.Uint16(b[12:]),
		EndSystemDelay:    binary.BigEndian.Uint16(b[14:]),
		SignalLevel:       int8(b[16]),
		NoiseLevel:        int8(b[17]),
		RERL:              b[18],
		Gmin:              b[19],
		RFactor:           b[20],
		ExtRFactor:        b[21],
		MOSLQ:             b[22],
		MOSCQ:             b[23],
		RXConfig:          b[24],
		JBNominal:         binary.BigEndian.Uint16(b[26:]),
		JBMaximum:         binary.BigEndian.Uint16(b[28:]),
		JBAbsoluteMaximum: binary.BigEndian.Uint16(b[30:]),
	}
}

// IsRTCP reports whether a packet received on a multiplexed RTP/RTCP port
// is RTCP: its second octet is in 192–223, the range RTP payload types
// must avoid when RTP and RTCP share a port (RFC 5761 §4). It checks only
// that octet and the version bits.
func IsRTCP(buf []byte) bool {
	return len(buf) >= 2 && buf[0]>>6 == 2 && buf[1] >= 192 && buf[1] <= 223
}

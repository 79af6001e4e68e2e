package rtp

import (
	"encoding/binary"
	"errors"
)

var (
	errRTCPTooMany  = errors.New("rtp: more than 31 items for an RTCP count field")
	errRTCPAlign    = errors.New("rtp: RTCP data is not a multiple of 4 bytes")
	errRTCPTextLen  = errors.New("rtp: RTCP text longer than 255 bytes")
	errRTCPTooLarge = errors.New("rtp: RTCP packet longer than 262144 bytes")
	errRTCPSubtype  = errors.New("rtp: APP subtype larger than 31")
)

// appendHeader appends the 4-byte common header (RFC 3550 §6.4.1) for a
// packet of size bytes in all.
func appendHeader(dst []byte, count uint8, typ uint8, size int) ([]byte, error) {
	if size > 4*0x10000 {
		return dst, errRTCPTooLarge
	}
	return append(dst, 0x80|count, typ, byte((size/4-1)>>8), byte(size/4-1)), nil
}

func appendReports(dst []byte, rs []ReceptionReport) []byte {
	for i := range rs {
		r := &rs[i]
		dst = binary.BigEndian.AppendUint32(dst, r.SSRC)
		dst = binary.BigEndian.AppendUint32(dst, uint32(r.FractionLost)<<24|uint32(clampLost(r.PacketsLost))&0xffffff)
		dst = binary.BigEndian.AppendUint32(dst, r.HighestSequence)
		dst = binary.BigEndian.AppendUint32(dst, r.Jitter)
		dst = binary.BigEndian.AppendUint32(dst, r.LastSR)
		dst = binary.BigEndian.AppendUint32(dst, r.DelaySinceLastSR)
	}
	return dst
}

// clampLost limits a cumulative loss to the signed 24-bit field
// (RFC 3550 §6.4.1, A.3).
func clampLost(n int32) int32 {
	return min(max(n, -0x800000), 0x7fffff)
}

// MarshalSize returns the length of the marshaled packet in bytes.
func (p *SenderReport) MarshalSize() int {
	return 28 + 24*len(p.Reports) + len(p.ProfileExtension)
}

// AppendTo appends the SR to dst. It allocates only when dst lacks
// capacity.
func (p *SenderReport) AppendTo(dst []byte) ([]byte, error) {
	if len(p.Reports) > 31 {
		return dst, errRTCPTooMany
	}
	if len(p.ProfileExtension)%4 != 0 {
		return dst, errRTCPAlign
	}
	size := p.MarshalSize()
	dst = grow(dst, size)
	dst, err := appendHeader(dst, uint8(len(p.Reports)), TypeSR, size)
	if err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint32(dst, p.SSRC)
	dst = binary.BigEndian.AppendUint64(dst, p.NTPTime)
	dst = binary.BigEndian.AppendUint32(dst, p.RTPTime)
	dst = binary.BigEndian.AppendUint32(dst, p.PacketCount)
	dst = binary.BigEndian.AppendUint32(dst, p.OctetCount)
	dst = appendReports(dst, p.Reports)
	return append(dst, p.ProfileExtension...), nil
}

// MarshalSize returns the length of the marshaled packet in bytes.
func (p *ReceiverReport) MarshalSize() int {
	return 8 + 24*len(p.Reports) + len(p.ProfileExtension)
}

// AppendTo appends the RR to dst. It allocates only when dst lacks
// capacity.
func (p *ReceiverReport) AppendTo(dst []byte) ([]byte, error) {
	if len(p.Reports) > 31 {
		return dst, errRTCPTooMany
	}
	if len(p.ProfileExtension)%4 != 0 {
		return dst, errRTCPAlign
	}
	size := p.MarshalSize()
	dst = grow(dst, size)
	dst, err := appendHeader(dst, uint8(len(p.Reports)), TypeRR, size)
	if err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint32(dst, p.SSRC)
	dst = appendReports(dst, p.Reports)
	return append(dst, p.ProfileExtension...), nil
}

// MarshalSize returns the length of the marshaled packet in bytes.
func (p *SourceDescription) MarshalSize() int {
	n := 4
	for i := range p.Chunks {
		n += p.Chunks[i].size()
	}
	return n
}

// size is the chunk's length: SSRC, items, at least one null octet, and
// padding to a 32-bit boundary (RFC 3550 §6.5).
func (c *SDESChunk) size() int {
	n := 4
	for i := range c.Items {
		n += 2 + len(c.Items[i].Text)
	}
	return (n + 1 + 3) &^ 3
}

// AppendTo appends the SDES packet to dst. It allocates only when dst
// lacks capacity.
func (p *SourceDescription) AppendTo(dst []byte) ([]byte, error) {
	if len(p.Chunks) > 31 {
		return dst, errRTCPTooMany
	}
	for i := range p.Chunks {
		for _, it := range p.Chunks[i].Items {
			if len(it.Text) > 255 {
				return dst, errRTCPTextLen
			}
			if it.Type == SDESEnd {
				return dst, errRTCPSDES
			}
		}
	}
	size := p.MarshalSize()
	dst = grow(dst, size)
	dst, err := appendHeader(dst, uint8(len(p.Chunks)), TypeSDES, size)
	if err != nil {
		return dst, err
	}
	for i := range p.Chunks {
		c := &p.Chunks[i]
		start := len(dst)
		dst = binary.BigEndian.AppendUint32(dst, c.Source)
		for _, it := range c.Items {
			dst = append(dst, byte(it.Type), byte(len(it.Text)))
			dst = append(dst, it.Text...)
		}
		for end := start + c.size(); len(dst) < end; {
			dst = append(dst, 0)
		}
	}
	return dst, nil
}

// MarshalSize returns the length of the marshaled packet in bytes.
func (p *Goodbye) MarshalSize() int {
	n := 4 + 4*len(p.Sources)
	if len(p.Reason) > 0 {
		n += (1 + len(p.Reason) + 3) &^ 3
	}
	return n
}

// AppendTo appends the BYE packet to dst. It allocates only when dst
// lacks capacity.
func (p *Goodbye) AppendTo(dst []byte) ([]byte, error) {
	if len(p.Sources) > 31 {
		return dst, errRTCPTooMany
	}
	if len(p.Reason) > 255 {
		return dst, errRTCPTextLen
	}
	size := p.MarshalSize()
	dst = grow(dst, size)
	start := len(dst)
	dst, err := appendHeader(dst, uint8(len(p.Sources)), TypeBYE, size)
	if err != nil {
		return dst, err
	}
	for _, s := range p.Sources {
		dst = binary.BigEndian.AppendUint32(dst, s)
	}
	if len(p.Reason) > 0 {
		dst = append(dst, byte(len(p.Reason)))
		dst = append(dst, p.Reason...)
		for len(dst)-start < size {
			dst = append(dst, 0)
		}
	}
	return dst, nil
}

// MarshalSize returns the length of the marshaled packet in bytes.
func (p *App) MarshalSize() int { return 12 + len(p.Data) }

// AppendTo appends the APP packet to dst. It allocates only when dst
// lacks capacity.
func (p *App) AppendTo(dst []byte) ([]byte, error) {
	if p.Subtype > 31 {
		return dst, errRTCPSubtype
	}
	if len(p.Data)%4 != 0 {
		return dst, errRTCPAlign
	}
	size := p.MarshalSize()
	dst = grow(dst, size)
	dst, err := appendHeader(dst, p.Subtype, TypeAPP, size)
	if err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint32(dst, p.SSRC)
	dst = append(dst, p.Name[:]...)
	return append(dst, p.Data...), nil
}

// MarshalSize returns the length of the marshaled packet in bytes.
func (p *ExtendedReport) MarshalSize() int {
	n := 8 + 36*len(p.VoIPMetrics)
	for i := range p.Blocks {
		n += 4 + len(p.Blocks[i].Body)
	}
	return n
}

// AppendTo appends the XR packet to dst: VoIP Metrics blocks first, then
// the other blocks. It allocates only when dst lacks capacity.
func (p *ExtendedReport) AppendTo(dst []byte) ([]byte, error) {
	for i := range p.Blocks {
		if l := len(p.Blocks[i].Body); l%4 != 0 || l > 4*0xffff {
			return dst, errRTCPAlign
		}
	}
	size := p.MarshalSize()
	dst = grow(dst, size)
	dst, err := appendHeader(dst, 0, TypeXR, size)
	if err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint32(dst, p.SSRC)
	for i := range p.VoIPMetrics {
		m := &p.VoIPMetrics[i]
		dst = append(dst, XRTypeVoIPMetrics, 0, 0, 8) // RFC 3611 §4.7: block length 8
		dst = binary.BigEndian.AppendUint32(dst, m.SSRC)
		dst = append(dst, m.LossRate, m.DiscardRate, m.BurstDensity, m.GapDensity)
		dst = binary.BigEndian.AppendUint16(dst, m.BurstDuration)
		dst = binary.BigEndian.AppendUint16(dst, m.GapDuration)
		dst = binary.BigEndian.AppendUint16(dst, m.RoundTripDelay)
		dst = binary.BigEndian.AppendUint16(dst, m.EndSystemDelay)
		dst = append(dst, byte(m.SignalLevel), byte(m.NoiseLevel), m.RERL, m.Gmin,
			m.RFactor, m.ExtRFactor, m.MOSLQ, m.MOSCQ, m.RXConfig, 0)
		dst = binary.BigEndian.AppendUint16(dst, m.JBNominal)
		dst = binary.BigEndian.AppendUint16(dst, m.JBMaximum)
		dst = binary.BigEndian.AppendUint16(dst, m.JBAbsoluteMaximum)
	}
	for i := range p.Blocks {
		b := &p.Blocks[i]
		dst = append(dst, b.Type, b.TypeSpecific)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(b.Body)/4))
		dst = append(dst, b.Body...)
	}
	return dst, nil
}

// MarshalSize returns the length of the marshaled packet in bytes.
func (p *RawPacket) MarshalSize() int { return 4 + len(p.Body) }

// AppendTo appends the packet to dst with its original type and count.
func (p *RawPacket) AppendTo(dst []byte) ([]byte, error) {
	if p.Count > 31 {
		return dst, errRTCPSubtype
	}
	if len(p.Body)%4 != 0 {
		return dst, errRTCPAlign
	}
	dst, err := appendHeader(grow(dst, p.MarshalSize()), p.Count, p.Type, p.MarshalSize())
	if err != nil {
		return dst, err
	}
	return append(dst, p.Body...), nil
}

// MarshalSize returns the length of the marshaled compound in bytes.
func (c *Compound) MarshalSize() int {
	n := 0
	for i := range c.SenderReports {
		n += c.SenderReports[i].MarshalSize()
	}
	for i := range c.ReceiverReports {
		n += c.ReceiverReports[i].MarshalSize()
	}
	for i := range c.SourceDescriptions {
		n += c.SourceDescriptions[i].MarshalSize()
	}
	for i := range c.ExtendedReports {
		n += c.ExtendedReports[i].MarshalSize()
	}
	for i := range c.Apps {
		n += c.Apps[i].MarshalSize()
	}
	for i := range c.Unknown {
		n += c.Unknown[i].MarshalSize()
	}
	for i := range c.Goodbyes {
		n += c.Goodbyes[i].MarshalSize()
	}
	return n
}

// AppendTo appends the compound packet to dst in the order RFC 3550 §6.1
// asks for: SRs, RRs, SDES, XR, APP, other packets, BYE last. It
// allocates only when dst lacks capacity (MarshalSize tells how much).
// On error, dst is returned with a partial packet appended.
func (c *Compound) AppendTo(dst []byte) ([]byte, error) {
	dst = grow(dst, c.MarshalSize())
	var err error
	for i := range c.SenderReports {
		if dst, err = c.SenderReports[i].AppendTo(dst); err != nil {
			return dst, err
		}
	}
	for i := range c.ReceiverReports {
		if dst, err = c.ReceiverReports[i].AppendTo(dst); err != nil {
			return dst, err
		}
	}
	for i := range c.SourceDescriptions {
		if dst, err = c.SourceDescriptions[i].AppendTo(dst); err != nil {
			return dst, err
		}
	}
	for i := range c.ExtendedReports {
		if dst, err = c.ExtendedReports[i].AppendTo(dst); err != nil {
			return dst, err
		}
	}
	for i := range c.Apps {
		if dst, err = c.Apps[i].AppendTo(dst); err != nil {
			return dst, err
		}
	}
	for i := range c.Unknown {
		if dst, err = c.Unknown[i].AppendTo(dst); err != nil {
			return dst, err
		}
	}
	for i := range c.Goodbyes {
		if dst, err = c.Goodbyes[i].AppendTo(dst); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

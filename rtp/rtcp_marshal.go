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

// putHeader writes the 4-byte common header (RFC 3550 §6.4.1) for a
// packet of size bytes in all; size ≤ maxRTCPSize.
func putHeader(b []byte, count uint8, typ uint8, size int) {
	b[0] = 0x80 | count
	b[1] = typ
	binary.BigEndian.PutUint16(b[2:], uint16(size/4-1))
}

const maxRTCPSize = 4 * 0x10000

// extend grows dst by n bytes and returns it with the new bytes.
func extend(dst []byte, n int) ([]byte, []byte) {
	dst = grow(dst, n)
	l := len(dst)
	dst = dst[:l+n]
	return dst, dst[l:]
}

// packet is implemented by every RTCP packet type.
type packet interface {
	MarshalSize() int
	check() error
	put(b []byte)
}

// appendPacket validates p and appends it to dst.
func appendPacket(dst []byte, p packet) ([]byte, error) {
	if err := p.check(); err != nil {
		return dst, err
	}
	size := p.MarshalSize()
	if size > maxRTCPSize {
		return dst, errRTCPTooLarge
	}
	dst, b := extend(dst, size)
	p.put(b)
	return dst, nil
}

func putReports(b []byte, rs []ReceptionReport) []byte {
	for i := range rs {
		r := &rs[i]
		_ = b[23]
		binary.BigEndian.PutUint32(b, r.SSRC)
		binary.BigEndian.PutUint32(b[4:], uint32(r.FractionLost)<<24|uint32(clampLost(r.PacketsLost))&0xffffff)
		binary.BigEndian.PutUint32(b[8:], r.HighestSequence)
		binary.BigEndian.PutUint32(b[12:], r.Jitter)
		binary.BigEndian.PutUint32(b[16:], r.LastSR)
		binary.BigEndian.PutUint32(b[20:], r.DelaySinceLastSR)
		b = b[24:]
	}
	return b
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
func (p *SenderReport) AppendTo(dst []byte) ([]byte, error) { return appendPacket(dst, p) }

func (p *SenderReport) check() error {
	if len(p.Reports) > 31 {
		return errRTCPTooMany
	}
	if len(p.ProfileExtension)%4 != 0 {
		return errRTCPAlign
	}
	return nil
}

func (p *SenderReport) put(b []byte) {
	putHeader(b, uint8(len(p.Reports)), TypeSR, len(b))
	_ = b[27]
	binary.BigEndian.PutUint32(b[4:], p.SSRC)
	binary.BigEndian.PutUint64(b[8:], p.NTPTime)
	binary.BigEndian.PutUint32(b[16:], p.RTPTime)
	binary.BigEndian.PutUint32(b[20:], p.PacketCount)
	binary.BigEndian.PutUint32(b[24:], p.OctetCount)
	copy(putReports(b[28:], p.Reports), p.ProfileExtension)
}

// MarshalSize returns the length of the marshaled packet in bytes.
func (p *ReceiverReport) MarshalSize() int {
	return 8 + 24*len(p.Reports) + len(p.ProfileExtension)
}

// AppendTo appends the RR to dst. It allocates only when dst lacks
// capacity.
func (p *ReceiverReport) AppendTo(dst []byte) ([]byte, error) { return appendPacket(dst, p) }

func (p *ReceiverReport) check() error {
	if len(p.Reports) > 31 {
		return errRTCPTooMany
	}
	if len(p.ProfileExtension)%4 != 0 {
		return errRTCPAlign
	}
	return nil
}

func (p *ReceiverReport) put(b []byte) {
	putHeader(b, uint8(len(p.Reports)), TypeRR, len(b))
	binary.BigEndian.PutUint32(b[4:], p.SSRC)
	copy(putReports(b[8:], p.Reports), p.ProfileExtension)
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
func (p *SourceDescription) AppendTo(dst []byte) ([]byte, error) { return appendPacket(dst, p) }

func (p *SourceDescription) check() error {
	if len(p.Chunks) > 31 {
		return errRTCPTooMany
	}
	for i := range p.Chunks {
		for _, it := range p.Chunks[i].Items {
			if len(it.Text) > 255 {
				return errRTCPTextLen
			}
			if it.Type == SDESEnd {
				return errRTCPSDES
			}
		}
	}
	return nil
}

func (p *SourceDescription) put(b []byte) {
	putHeader(b, uint8(len(p.Chunks)), TypeSDES, len(b))
	b = b[4:]
	for i := range p.Chunks {
		c := &p.Chunks[i]
		binary.BigEndian.PutUint32(b, c.Source)
		n := 4
		for _, it := range c.Items {
			b[n] = byte(it.Type)
			b[n+1] = byte(len(it.Text))
			n += 2 + copy(b[n+2:], it.Text)
		}
		end := (n + 4) &^ 3
		clear(b[n:end])
		b = b[end:]
	}
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
func (p *Goodbye) AppendTo(dst []byte) ([]byte, error) { return appendPacket(dst, p) }

func (p *Goodbye) check() error {
	if len(p.Sources) > 31 {
		return errRTCPTooMany
	}
	if len(p.Reason) > 255 {
		return errRTCPTextLen
	}
	return nil
}

func (p *Goodbye) put(b []byte) {
	putHeader(b, uint8(len(p.Sources)), TypeBYE, len(b))
	n := 4
	for _, s := range p.Sources {
		binary.BigEndian.PutUint32(b[n:], s)
		n += 4
	}
	if len(p.Reason) > 0 {
		b[n] = byte(len(p.Reason))
		n += 1 + copy(b[n+1:], p.Reason)
		clear(b[n:])
	}
}

// MarshalSize returns the length of the marshaled packet in bytes.
func (p *App) MarshalSize() int { return 12 + len(p.Data) }

// AppendTo appends the APP packet to dst. It allocates only when dst
// lacks capacity.
func (p *App) AppendTo(dst []byte) ([]byte, error) { return appendPacket(dst, p) }

func (p *App) check() error {
	if p.Subtype > 31 {
		return errRTCPSubtype
	}
	if len(p.Data)%4 != 0 {
		return errRTCPAlign
	}
	return nil
}

func (p *App) put(b []byte) {
	putHeader(b, p.Subtype, TypeAPP, len(b))
	binary.BigEndian.PutUint32(b[4:], p.SSRC)
	copy(b[8:12], p.Name[:])
	copy(b[12:], p.Data)
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
func (p *ExtendedReport) AppendTo(dst []byte) ([]byte, error) { return appendPacket(dst, p) }

func (p *ExtendedReport) check() error {
	for i := range p.Blocks {
		if l := len(p.Blocks[i].Body); l%4 != 0 || l > 4*0xffff {
			return errRTCPAlign
		}
	}
	return nil
}

func (p *ExtendedReport) put(b []byte) {
	putHeader(b, 0, TypeXR, len(b))
	binary.BigEndian.PutUint32(b[4:], p.SSRC)
	b = b[8:]
	for i := range p.VoIPMetrics {
		m := &p.VoIPMetrics[i]
		_ = b[35]
		// RFC 3611 §4.7: block type 7, block length 8.
		b[0], b[1], b[2], b[3] = XRTypeVoIPMetrics, 0, 0, 8
		binary.BigEndian.PutUint32(b[4:], m.SSRC)
		b[8], b[9], b[10], b[11] = m.LossRate, m.DiscardRate, m.BurstDensity, m.GapDensity
		binary.BigEndian.PutUint16(b[12:], m.BurstDuration)
		binary.BigEndian.PutUint16(b[14:], m.GapDuration)
		binary.BigEndian.PutUint16(b[16:], m.RoundTripDelay)
		binary.BigEndian.PutUint16(b[18:], m.EndSystemDelay)
		b[20], b[21], b[22], b[23] = byte(m.SignalLevel), byte(m.NoiseLevel), m.RERL, m.Gmin
		b[24], b[25], b[26], b[27] = m.RFactor, m.ExtRFactor, m.MOSLQ, m.MOSCQ
		b[28], b[29] = m.RXConfig, 0
		binary.BigEndian.PutUint16(b[30:], m.JBNominal)
		binary.BigEndian.PutUint16(b[32:], m.JBMaximum)
		binary.BigEndian.PutUint16(b[34:], m.JBAbsoluteMaximum)
		b = b[36:]
	}
	for i := range p.Blocks {
		x := &p.Blocks[i]
		b[0], b[1] = x.Type, x.TypeSpecific
		binary.BigEndian.PutUint16(b[2:], uint16(len(x.Body)/4))
		b = b[4+copy(b[4:], x.Body):]
	}
}

// MarshalSize returns the length of the marshaled packet in bytes.
func (p *RawPacket) MarshalSize() int { return 4 + len(p.Body) }

// AppendTo appends the packet to dst with its original type and count.
func (p *RawPacket) AppendTo(dst []byte) ([]byte, error) { return appendPacket(dst, p) }

func (p *RawPacket) check() error {
	if p.Count > 31 {
		return errRTCPSubtype
	}
	if len(p.Body)%4 != 0 {
		return errRTCPAlign
	}
	return nil
}

func (p *RawPacket) put(b []byte) {
	putHeader(b, p.Count, p.Type, len(b))
	copy(b[4:], p.Body)
}

// MarshalSize returns the length of the marshaled compound in bytes.
func (c *Compound) MarshalSize() int {
	n := 0
	c.each(func(p packet) bool { n += p.MarshalSize(); return true })
	return n
}

// each calls f for every packet in marshal order until f returns false.
func (c *Compound) each(f func(packet) bool) {
	for i := range c.SenderReports {
		if !f(&c.SenderReports[i]) {
			return
		}
	}
	for i := range c.ReceiverReports {
		if !f(&c.ReceiverReports[i]) {
			return
		}
	}
	for i := range c.SourceDescriptions {
		if !f(&c.SourceDescriptions[i]) {
			return
		}
	}
	for i := range c.ExtendedReports {
		if !f(&c.ExtendedReports[i]) {
			return
		}
	}
	for i := range c.Apps {
		if !f(&c.Apps[i]) {
			return
		}
	}
	for i := range c.Unknown {
		if !f(&c.Unknown[i]) {
			return
		}
	}
	for i := range c.Goodbyes {
		if !f(&c.Goodbyes[i]) {
			return
		}
	}
}

// AppendTo appends the compound packet to dst in the order RFC 3550 §6.1
// asks for: SRs, RRs, SDES, XR, APP, other packets, BYE last. It
// allocates only when dst lacks capacity (MarshalSize tells how much).
// On error dst is returned unchanged.
func (c *Compound) AppendTo(dst []byte) ([]byte, error) {
	var err error
	total := 0
	c.each(func(p packet) bool {
		if err = p.check(); err != nil {
			return false
		}
		size := p.MarshalSize()
		if size > maxRTCPSize {
			err = errRTCPTooLarge
			return false
		}
		total += size
		return true
	})
	if err != nil {
		return dst, err
	}
	dst, b := extend(dst, total)
	c.each(func(p packet) bool {
		n := p.MarshalSize()
		p.put(b[:n])
		b = b[n:]
		return true
	})
	return dst, nil
}

package sdp

import "strconv"

// AppendTo appends the description in SDP form to dst, with CRLF line
// endings, and returns the extended slice. Lines come in the order of RFC
// 8866 §5; lines of unknown type are written after each section's
// attributes. Values are written as they are: they must not contain CR or LF.
func (d *Description) AppendTo(dst []byte) []byte {
	dst = append(dst, "v="...)
	dst = strconv.AppendInt(dst, int64(d.Version), 10)
	dst = crlf(dst)
	o := &d.Origin
	dst = append(dst, "o="...)
	dst = append(dst, orDash(o.Username)...)
	dst = append(dst, ' ')
	if o.SessionID == "" {
		dst = append(dst, '0')
	}
	dst = append(dst, o.SessionID...)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, o.SessionVersion, 10)
	dst = append(dst, ' ')
	dst = append(dst, orDefault(o.NetType, "IN")...)
	dst = append(dst, ' ')
	dst = append(dst, orDefault(o.AddrType, "IP4")...)
	dst = append(dst, ' ')
	dst = append(dst, orDefault(o.Address, "0.0.0.0")...)
	dst = crlf(dst)
	dst = line(dst, "s=", d.SessionName)
	if d.Information != "" {
		dst = line(dst, "i=", d.Information)
	}
	if d.URI != "" {
		dst = line(dst, "u=", d.URI)
	}
	for _, e := range d.Emails {
		dst = line(dst, "e=", e)
	}
	for _, p := range d.Phones {
		dst = line(dst, "p=", p)
	}
	dst = appendConnection(dst, d.Connection)
	dst = appendBandwidths(dst, d.Bandwidths)
	if len(d.Times) == 0 {
		dst = append(dst, "t=0 0\r\n"...)
	}
	for _, t := range d.Times {
		dst = append(dst, "t="...)
		dst = strconv.AppendUint(dst, t.Start, 10)
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, t.Stop, 10)
		dst = crlf(dst)
		for _, r := range t.Repeats {
			dst = line(dst, "r=", r)
		}
	}
	if d.TimeZones != "" {
		dst = line(dst, "z=", d.TimeZones)
	}
	if d.Key != "" {
		dst = line(dst, "k=", d.Key)
	}
	dst = appendAttributes(dst, d.Attributes)
	dst = appendExtra(dst, d.Extra)
	for i := range d.Media {
		dst = d.Media[i].appendTo(dst)
	}
	return dst
}

// String returns the description in SDP form, as AppendTo writes it.
func (d *Description) String() string { return string(d.AppendTo(nil)) }

func (m *Media) appendTo(dst []byte) []byte {
	dst = append(dst, "m="...)
	dst = append(dst, m.Type...)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(m.Port), 10)
	if m.NumPorts > 0 {
		dst = append(dst, '/')
		dst = strconv.AppendInt(dst, int64(m.NumPorts), 10)
	}
	dst = append(dst, ' ')
	dst = append(dst, m.Proto...)
	for _, f := range m.Formats {
		dst = append(dst, ' ')
		dst = append(dst, f...)
	}
	dst = crlf(dst)
	if m.Information != "" {
		dst = line(dst, "i=", m.Information)
	}
	dst = appendConnection(dst, m.Connection)
	dst = appendBandwidths(dst, m.Bandwidths)
	if m.Key != "" {
		dst = line(dst, "k=", m.Key)
	}
	dst = appendAttributes(dst, m.Attributes)
	return appendExtra(dst, m.Extra)
}

func appendConnection(dst []byte, c Connection) []byte {
	if c.IsZero() {
		return dst
	}
	dst = append(dst, "c="...)
	dst = append(dst, orDefault(c.NetType, "IN")...)
	dst = append(dst, ' ')
	dst = append(dst, orDefault(c.AddrType, "IP4")...)
	dst = append(dst, ' ')
	dst = append(dst, c.Address...)
	return crlf(dst)
}

func appendBandwidths(dst []byte, bs []Bandwidth) []byte {
	for _, b := range bs {
		dst = append(dst, "b="...)
		dst = append(dst, b.Type...)
		dst = append(dst, ':')
		dst = strconv.AppendUint(dst, b.Value, 10)
		dst = crlf(dst)
	}
	return dst
}

func appendAttributes(dst []byte, as []Attribute) []byte {
	for _, a := range as {
		dst = append(dst, "a="...)
		dst = append(dst, a.Key...)
		if a.Value != "" {
			dst = append(dst, ':')
			dst = append(dst, a.Value...)
		}
		dst = crlf(dst)
	}
	return dst
}

func appendExtra(dst []byte, ls []Line) []byte {
	for _, l := range ls {
		dst = append(dst, l.Type, '=')
		dst = append(dst, l.Value...)
		dst = crlf(dst)
	}
	return dst
}

func line(dst []byte, prefix, v string) []byte {
	dst = append(dst, prefix...)
	dst = append(dst, v...)
	return crlf(dst)
}

func crlf(dst []byte) []byte { return append(dst, '\r', '\n') }

func orDash(s string) string { return orDefault(s, "-") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

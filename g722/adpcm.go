package g722

// band is the ADPCM state of one sub-band: the adaptive predictor of
// Block 4 (two poles, six zeros) and the quantiser scale factor of Block 3.
// All arithmetic is on int32 holding the 16-bit quantities of the standard,
// with its saturations written out.
type band struct {
	s      int32    // predicted signal SL/SH (Block 4 PREDIC)
	sz     int32    // zero-section output SZL/SZH (FILTEZ)
	r1, r2 int32    // reconstructed signal RLT/RH, delayed by 1 and 2
	p1, p2 int32    // partially reconstructed signal PLT/PH, delayed
	a1, a2 int32    // pole coefficients AL1, AL2
	d      [6]int32 // quantised difference DLT delayed by 1…6
	b      [6]int32 // zero coefficients BL1…BL6
	nb     int32    // log scale factor NBL/NBH (Block 3)
	det    int32    // scale factor DETL/DETH (Block 3)
}

func (s *band) reset(det int32) {
	*s = band{det: det}
}

// sat16 limits x to the 16-bit two's complement range, as the standard's
// arithmetic does after additions.
func sat16(x int32) int32 {
	return min(max(x, -32768), 32767)
}

// predict runs Block 4 (RECONS, PARREC, UPPOL2, UPPOL1, UPZERO, DELAYA,
// FILTEP, FILTEZ, PREDIC) for the quantised difference dx of this sample
// and leaves the prediction of the next sample in s.s.
func (s *band) predict(dx int32) {
	// RECONS and PARREC.
	r0 := sat16(s.s + dx)
	p0 := sat16(s.sz + dx)

	// UPPOL2: second pole coefficient. Signs are the top bits of the
	// 16-bit values (0 counts as positive).
	sg0, sg1, sg2 := p0>>15, s.p1>>15, s.p2>>15
	wd1 := sat16(s.a1 << 2)
	wd2 := wd1
	if sg0 == sg1 {
		wd2 = min(-wd1, 32767)
	}
	wd3 := int32(-128)
	if sg0 == sg2 {
		wd3 = 128
	}
	a2 := min(max(wd2>>7+wd3+(s.a2*32512)>>15, -12288), 12288)

	// UPPOL1: first pole coefficient, limited to ±(15360 - AL2).
	wd1 = -192
	if sg0 == sg1 {
		wd1 = 192
	}
	a1 := sat16(wd1 + (s.a1*32640)>>15)
	lim := 15360 - a2
	a1 = min(max(a1, -lim), lim)

	// UPZERO: sign-sign update of the six zero coefficients with the
	// delayed differences before they move (DELAYA).
	var g int32
	if dx != 0 {
		g = 128
	}
	sgx := dx >> 15
	d := &s.d
	b := &s.b
	for i := range 6 {
		step := g
		if d[i]>>15 != sgx {
			step = -g
		}
		b[i] = sat16(step + (b[i]*32640)>>15)
	}

	// DELAYA.
	d[5], d[4], d[3], d[2], d[1], d[0] = d[4], d[3], d[2], d[1], d[0], dx
	s.r2, s.r1 = s.r1, r0
	s.p2, s.p1 = s.p1, p0
	s.a1, s.a2 = a1, a2

	// FILTEP: pole section.
	sp := sat16((a1*sat16(r0+r0))>>15 + (a2*sat16(s.r2+s.r2))>>15)

	// FILTEZ: zero section.
	sz := (b[0]*sat16(d[0]+d[0]))>>15 +
		(b[1]*sat16(d[1]+d[1]))>>15 +
		(b[2]*sat16(d[2]+d[2]))>>15 +
		(b[3]*sat16(d[3]+d[3]))>>15 +
		(b[4]*sat16(d[4]+d[4]))>>15 +
		(b[5]*sat16(d[5]+d[5]))>>15
	s.sz = sat16(sz)

	// PREDIC.
	s.s = sat16(sp + s.sz)
}

// adaptLow runs Blocks 3L LOGSCL and SCALEL for the 4-bit code c4.
func (s *band) adaptLow(c4 int32) {
	nb := (s.nb*127)>>7 + wl4[c4&15]
	nb = min(max(nb, 0), maxNBL)
	s.nb = nb
	s.det = detLow[nb>>6]
}

// adaptHigh runs Blocks 3H LOGSCH and SCALEH for the 2-bit code ih.
func (s *band) adaptHigh(ih int32) {
	nb := (s.nb*127)>>7 + wh2[ih&3]
	nb = min(max(nb, 0), maxNBH)
	s.nb = nb
	s.det = detHigh[nb>>6]
}

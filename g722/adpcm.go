package g722

// band is the ADPCM state of one sub-band: the adaptive predictor of
// Block 4 (two poles, six zeros) and the quantiser scale factor of Block 3.
// All arithmetic is on int32 holding the 16-bit quantities of the standard,
// with its saturations written out.
type band struct {
	s        int32    // predicted signal SL/SH (Block 4 PREDIC)
	sz       int32    // zero-section output SZL/SZH (FILTEZ)
	rr1, rr2 int32    // 2·RLT/RH delayed by 1 and 2, saturated (as FILTEP uses them)
	p1, p2   int32    // partially reconstructed signal PLT/PH, delayed
	a1, a2   int32    // pole coefficients AL1, AL2
	dd       [6]int32 // 2·DLT delayed by 1…6, saturated (as FILTEZ uses them; same sign as DLT)
	b        [6]int32 // zero coefficients BL1…BL6
	nb       int32    // log scale factor NBL/NBH (Block 3)
	det      int32    // scale factor DETL/DETH (Block 3)
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
//
// Sign tests are done branch-free: for two 16-bit values x and y,
// (x^y)>>31 is 0 when their sign bits agree and -1 when they differ, and
// (v^m)-m negates v exactly when m is -1. Saturations that the value
// ranges make impossible are left out; the comments say why.
func (s *band) predict(dx int32) {
	// PARREC. (RECONS, RLT = SL + DLT, is only needed doubled, below.)
	p0 := sat16(s.sz + dx)

	// UPPOL2: second pole coefficient. The sign of 0 is positive.
	m01 := (p0 ^ s.p1) >> 31 // signs of P(0) and P(1) differ
	m02 := (p0 ^ s.p2) >> 31 // signs of P(0) and P(2) differ
	wd1 := sat16(s.a1 << 2)
	same := ^m01
	wd2 := min((wd1^same)-same, 32767) // -WD1 when the signs agree
	wd3 := (128 ^ m02) - m02           // ±128
	a2 := min(max(wd2>>7+wd3+(s.a2*32512)>>15, -12288), 12288)

	// UPPOL1: first pole coefficient, limited to ±(15360 - AL2). No
	// saturation of the sum: |AL1| ≤ 27648 before the update.
	a1 := (192 ^ m01) - m01 + (s.a1*32640)>>15
	lim := 15360 - a2
	a1 = min(max(a1, -lim), lim)

	// UPZERO: sign-sign update of the six zero coefficients with the
	// delayed differences before they move (DELAYA). |BL·32640>>15| ≤
	// 32640, so adding ±128 cannot leave the 16-bit range.
	g := ((dx | -dx) >> 31) & 128 // 0 when DLT = 0, else 128
	dd := &s.dd
	b := &s.b
	m := (dd[0] ^ dx) >> 31
	b[0] = (g ^ m) - m + (b[0]*32640)>>15
	m = (dd[1] ^ dx) >> 31
	b[1] = (g ^ m) - m + (b[1]*32640)>>15
	m = (dd[2] ^ dx) >> 31
	b[2] = (g ^ m) - m + (b[2]*32640)>>15
	m = (dd[3] ^ dx) >> 31
	b[3] = (g ^ m) - m + (b[3]*32640)>>15
	m = (dd[4] ^ dx) >> 31
	b[4] = (g ^ m) - m + (b[4]*32640)>>15
	m = (dd[5] ^ dx) >> 31
	b[5] = (g ^ m) - m + (b[5]*32640)>>15

	// DELAYA, keeping 2·DLT and 2·RLT as the filters use them. Doubling
	// then saturating RLT = sat(SL+DLT) equals saturating 2·(SL+DLT).
	dd[5], dd[4], dd[3], dd[2], dd[1], dd[0] = dd[4], dd[3], dd[2], dd[1], dd[0], sat16(dx+dx)
	s.rr2, s.rr1 = s.rr1, sat16(2*(s.s+dx))
	s.p2, s.p1 = s.p1, p0
	s.a1, s.a2 = a1, a2

	// FILTEP: pole section.
	sp := sat16((a1*s.rr1)>>15 + (a2*s.rr2)>>15)

	// FILTEZ: zero section.
	sz := sat16((b[0]*dd[0])>>15 + (b[1]*dd[1])>>15 + (b[2]*dd[2])>>15 +
		(b[3]*dd[3])>>15 + (b[4]*dd[4])>>15 + (b[5]*dd[5])>>15)
	s.sz = sz

	// PREDIC.
	s.s = sat16(sp + sz)
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

package g722

// Constants of ITU-T G.722: quantiser decision levels, inverse quantiser
// outputs, scale factor multipliers, the antilog table and the QMF
// coefficients. Values are the standard's; the layout (combined and
// precomputed tables) is this package's.

// qmf holds the 12 distinct coefficients h0…h11 of the 24-tap transmit and
// receive QMF (h(23-i) = h(i)), scaled by 2^13.
const (
	h0  = 3
	h1  = -11
	h2  = 12
	h3  = 32
	h4  = -210
	h5  = 951
	h6  = 3876
	h7  = -805
	h8  = 362
	h9  = -156
	h10 = 53
	h11 = -11
)

// q6 holds the lower sub-band quantiser decision levels (Block 1L
// QUANTL) for intervals 1…29.
var q6 = [30]uint32{
	0, 35, 72, 110, 150, 190, 233, 276,
	323, 370, 422, 473, 530, 587, 650, 714,
	786, 858, 940, 1023, 1121, 1219, 1339, 1458,
	1612, 1765, 1980, 2195, 2557, 2919,
}

// q6Max is the largest decision level; any bound above it gives interval 30.
const q6Max = 2920

// intervalBelow[q] is the quantiser interval (1…30) of a magnitude whose
// decision bound is q: one more than the number of levels q6[1…29] ≤ q.
var intervalBelow [q6Max + 1]uint8

func init() {
	i := 1
	for q := range intervalBelow {
		for i < 30 && q6[i] <= uint32(q) {
			i++
		}
		intervalBelow[q] = uint8(i)
	}
}

// lowCode maps a quantiser interval (1…30) and the sign of the difference
// signal to the 6-bit lower sub-band code I_L (Block 1L QUANTL): index interval for
// a non-negative difference, interval+32 for a negative one.
var lowCode = [64]int32{
	// non-negative: interval 1 → 61 … interval 30 → 32
	0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47,
	46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0,
	// negative: interval 1 → 63, 2 → 62, 3 → 31 … 30 → 4
	0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
	18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0,
}

// qm6, qm5 and qm4 are the inverse quantiser outputs of the lower sub-band
// for 6-, 5- and 4-bit codes (Block 5L INVQBL and Block 2L INVQAL),
// indexed by the code.
var qm6 = [64]int32{
	-136, -136, -136, -136, -24808, -21904, -19008, -16704,
	-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
	-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
	-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
	24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
	10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
	4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
	1688, 1360, 1040, 728, 432, 136, -432, -136,
}

var qm5 = [32]int32{
	-280, -280, -23352, -17560, -14120, -11664, -9752, -8184,
	-6864, -5712, -4696, -3784, -2960, -2208, -1520, -880,
	23352, 17560, 14120, 11664, 9752, 8184, 6864, 5712,
	4696, 3784, 2960, 2208, 1520, 880, 280, -280,
}

var qm4 = [16]int32{
	0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
	20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
}

// wl4 is the lower sub-band log scale factor multiplier W_L (Block 3L LOGSCL)
// indexed directly by the 4-bit code (the standard goes through RIL → IL4).
var wl4 = [16]int32{
	-60, 3042, 1198, 538, 334, 172, 58, -30,
	3042, 1198, 538, 334, 172, 58, -30, -60,
}

// qm2 is the higher sub-band inverse quantiser output (Block 2H INVQAH) and wh2 the
// higher sub-band log scale factor multiplier W_H (Block 3H LOGSCH), both indexed by
// the 2-bit code I_H.
var (
	qm2 = [4]int32{-7408, -1616, 7408, 1616}
	wh2 = [4]int32{798, -214, 798, -214}
)

// highCode maps (sign, magnitude interval) to I_H (Block 1H QUANTH): index
// interval for a non-negative difference, 2+interval for a negative one.
var highCode = [4]int32{3, 2, 1, 0}

// ilb is the antilogarithm table of Blocks 3L SCALEL and 3H SCALEH.
var ilb = [32]int32{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
	2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
	2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
	3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

// Limits of the log scale factors (Block 3L LOGSCL, 3H LOGSCH).
const (
	maxNBL = 18432
	maxNBH = 22528
)

// detLow and detHigh hold the scale factor DET (Blocks 3L SCALEL and 3H
// SCALEH) for every value of NB>>6, since DET depends on NB only through its
// top bits. Built once at package initialisation.
var (
	detLow  [maxNBL>>6 + 1]int32
	detHigh [maxNBH>>6 + 1]int32
)

func init() {
	for i := range detLow {
		detLow[i] = scale(int32(i)<<6, 8)
	}
	for i := range detHigh {
		detHigh[i] = scale(int32(i)<<6, 10)
	}
}

// scale computes DET from NB as Blocks 3L/3H do: antilog of the 5 fraction
// bits, shifted by the integer part, times 4.
func scale(nb, bias int32) int32 {
	frac := (nb >> 6) & 31
	shift := bias - nb>>11
	var v int32
	if shift < 0 {
		v = ilb[frac] << -shift
	} else {
		v = ilb[frac] >> shift
	}
	return v << 2
}

package g722

// qmfLine is the 24-sample delay line shared by the transmit and receive
// quadrature mirror filters of G.722. Each new pair
// of samples is written twice, 24 apart, so the current window is always
// the contiguous x[head:head+24] (oldest first) and nothing is shifted.
type qmfLine struct {
	x    [48]int32
	head int // even, 0…22
}

// push stores the samples a (older) and b (newer) and returns the two
// polyphase sums over the new window: odd = Σ x[2i]·h(i) and
// even = Σ x[2i+1]·h(11-i), in the numbering where x[23] is b.
func (q *qmfLine) push(a, b int32) (odd, even int32) {
	h := q.head
	x := (*[26]int32)(q.x[h:])
	x[0] = a
	x[1] = b
	x[24] = a
	x[25] = b
	h += 2
	if h == 24 {
		h = 0
	}
	q.head = h
	w := (*[24]int32)(q.x[h : h+24])
	odd = w[0]*h0 + w[2]*h1 + w[4]*h2 + w[6]*h3 + w[8]*h4 + w[10]*h5 +
		w[12]*h6 + w[14]*h7 + w[16]*h8 + w[18]*h9 + w[20]*h10 + w[22]*h11
	even = w[1]*h11 + w[3]*h10 + w[5]*h9 + w[7]*h8 + w[9]*h7 + w[11]*h6 +
		w[13]*h5 + w[15]*h4 + w[17]*h3 + w[19]*h2 + w[21]*h1 + w[23]*h0
	return odd, even
}

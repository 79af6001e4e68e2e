package jitter

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// netConfig describes a simulated sender and network. Everything is driven
// by a seeded random source and a fake clock, so runs are reproducible.
type netConfig struct {
	duration time.Duration
	seed     uint64
	latency  time.Duration                  // fixed one-way delay
	jitter   func(*rand.Rand) time.Duration // extra delay per packet
	// jitterFrom and jitterUntil limit the jitter to packets sent in
	// [jitterFrom, jitterUntil) when jitterUntil > 0.
	jitterFrom, jitterUntil time.Duration
	// Gilbert loss model: P(good→lossy), P(lossy→lossy).
	lossEnter, lossStay float64
	maxBurst            int // longest loss burst, 0 for no limit
	// outageFrom and outageUntil lose every packet sent in between.
	outageFrom, outageUntil time.Duration
	dup                     float64 // probability a packet is delivered twice
	skew                    float64 // sender clock runs 1+skew times faster
	talk, pause             time.Duration
	ssrcChangeAt            time.Duration
	seq0                    uint16
	ts0                     uint32
}

type simPacket struct {
	idx          int
	pkt          Packet
	send, arrive time.Duration
}

type simResult struct {
	sent, netLost           int
	ready, missing, silence int
	spanTicks, spanSilence  int // ticks between the first and last Ready
	delays                  []time.Duration
	targets                 []time.Duration // TargetDelay at every tick
	playDelays              []time.Duration // Stats.Delay at every tick
	resyncFrames            int
	stats                   Stats
	firstReady, lastReady   int
}

func uniformJitter(d time.Duration) func(*rand.Rand) time.Duration {
	return func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(d) + 1)) }
}

func normalJitter(mean, sd time.Duration) func(*rand.Rand) time.Duration {
	return func(r *rand.Rand) time.Duration {
		return max(0, mean+time.Duration(r.NormFloat64()*float64(sd)))
	}
}

// simulate sends 20 ms PCMU-like frames over the simulated network into a
// Buffer and pops it every 20 ms of receiver time. It checks the
// invariants every run must keep: no frame played twice, frames played in
// send order, each Ready frame matching the packet sent.
func simulate(t *testing.T, nc netConfig) simResult {
	t.Helper()
	const frame = 20 * time.Millisecond
	rng := rand.New(rand.NewPCG(nc.seed, 0x6a17))
	var pkts []simPacket
	var res simResult
	ssrc, seq, ts0 := uint32(0x11111111), nc.seq0, nc.ts0
	changed := false
	lossy, burst := false, 0
	talking := false
	cycle := nc.talk + nc.pause
	for k := 0; ; k++ {
		media := time.Duration(k) * frame
		if media >= nc.duration {
			break
		}
		if nc.ssrcChangeAt > 0 && !changed && media >= nc.ssrcChangeAt {
			changed = true
			ssrc, seq, ts0 = 0x22222222, seq+30000, ts0+0x40000000
			talking = false
		}
		if cycle > 0 && media%cycle >= nc.talk {
			talking = false
			continue // DTX: nothing sent, timestamps keep running
		}
		send := time.Duration(float64(media) / (1 + nc.skew))
		p := simPacket{idx: k, send: send, pkt: Packet{
			SSRC: ssrc, Seq: seq, Timestamp: ts0 + uint32(k*160), Marker: !talking,
		}}
		talking = true
		seq++
		res.sent++
		if lossy {
			lossy = rng.Float64() < nc.lossStay && (nc.maxBurst == 0 || burst < nc.maxBurst)
		} else {
			lossy = rng.Float64() < nc.lossEnter
		}
		if lossy {
			burst++
		} else {
			burst = 0
		}
		if lossy || (send >= nc.outageFrom && send < nc.outageUntil) {
			res.netLost++
			continue
		}
		p.arrive = send + nc.latency
		if nc.jitter != nil && (nc.jitterUntil == 0 || (send >= nc.jitterFrom && send < nc.jitterUntil)) {
			p.arrive += nc.jitter(rng)
		}
		pkts = append(pkts, p)
		if rng.Float64() < nc.dup {
			d := p
			d.arrive += time.Duration(rng.Int64N(int64(40 * time.Millisecond)))
			pkts = append(pkts, d)
		}
	}
	slices.SortStableFunc(pkts, func(a, b simPacket) int { return int(a.arrive - b.arrive) })
	byIdx := make(map[int]*simPacket, len(pkts))
	for i := range pkts {
		byIdx[pkts[i].idx] = &pkts[i]
	}

	b := New(Config{})
	epoch := time.Unix(1_000_000, 0)
	payload := make([]byte, 160)
	played := make(map[int]bool)
	lastIdx := -1
	res.firstReady = -1
	var statuses []Status
	next := 0
	ticks := int((nc.duration+time.Second)/frame) + 1
	for tick := 0; tick < ticks; tick++ {
		now := time.Duration(tick) * frame
		for next < len(pkts) && pkts[next].arrive <= now {
			p := pkts[next]
			binary.BigEndian.PutUint32(payload, uint32(p.idx))
			p.pkt.Payload = payload
			b.Push(p.pkt, epoch.Add(p.arrive))
			clear(payload[:4]) // the buffer must have copied it
			next++
		}
		f, st := b.Pop(epoch.Add(now))
		statuses = append(statuses, st)
		s := b.Stats()
		res.targets = append(res.targets, s.TargetDelay)
		res.playDelays = append(res.playDelays, s.Delay)
		switch st {
		case Ready:
			idx := int(binary.BigEndian.Uint32(f.Payload))
			sp := byIdx[idx]
			if sp == nil || sp.pkt.Seq != f.Seq || sp.pkt.Timestamp != f.Timestamp || sp.pkt.SSRC != f.SSRC {
				t.Fatalf("tick %d: frame %+v does not match the packet sent as %d", tick, f, idx)
			}
			if played[idx] {
				t.Fatalf("tick %d: frame %d played twice", tick, idx)
			}
			if idx <= lastIdx {
				t.Fatalf("tick %d: frame %d played after %d", tick, idx, lastIdx)
			}
			if f.Resync {
				res.resyncFrames++
			}
			played[idx] = true
			lastIdx = idx
			res.ready++
			res.delays = append(res.delays, now-sp.send-nc.latency)
			if res.firstReady < 0 {
				res.firstReady = tick
			}
			res.lastReady = tick
		case Missing:
			res.missing++
		case Silence:
			res.silence++
		}
	}
	for _, st := range statuses[res.firstReady : res.lastReady+1] {
		res.spanTicks++
		if st == Silence {
			res.spanSilence++
		}
	}
	res.stats = b.Stats()
	return res
}

func (r simResult) continuity() float64 {
	return 1 - float64(r.spanSilence)/float64(r.spanTicks)
}

func (r simResult) playedFraction() float64 {
	return float64(r.ready) / float64(r.sent-r.netLost)
}

func (r simResult) delayStats() (mean, p95 time.Duration) {
	d := slices.Clone(r.delays)
	slices.Sort(d)
	var sum time.Duration
	for _, v := range d {
		sum += v
	}
	return sum / time.Duration(len(d)), d[int(math.Ceil(0.95*float64(len(d))))-1]
}

// tickAt returns the tick index at time d.
func tickAt(d time.Duration) int { return int(d / (20 * time.Millisecond)) }

func TestSimulatedNetworks(t *testing.T) {
	const ms = time.Millisecond
	type check func(t *testing.T, r simResult)
	tests := []struct {
		name string
		nc   netConfig
		// Lower bounds on continuity (ticks in span that were Ready or
		// Missing) and on the fraction of delivered frames played.
		continuity, played float64
		// Upper bounds on the delay added beyond the fixed latency: the
		// jitter configured plus one frame (ticks quantize the playout).
		mean, p95 time.Duration
		check     check
	}{
		{"clean", netConfig{duration: 20 * time.Second, latency: 40 * ms},
			1, 0.998, 25 * ms, 25 * ms, func(t *testing.T, r simResult) {
				if s := r.stats; s.Lost+s.Late+s.Inserted > 0 || s.TargetDelay != DefaultMinDelay {
					t.Errorf("got lost %d late %d inserted %d target %v, want 0 0 0 %v",
						s.Lost, s.Late, s.Inserted, s.TargetDelay, DefaultMinDelay)
				}
			}},
		{"uniform jitter 30ms", netConfig{duration: 30 * time.Second, latency: 40 * ms, jitter: uniformJitter(30 * ms)},
			1, 0.97, 50 * ms, 60 * ms, targetWithin(25*ms, 35*ms)},
		{"normal jitter 15±8ms", netConfig{duration: 30 * time.Second, latency: 40 * ms, jitter: normalJitter(15*ms, 8*ms)},
			1, 0.97, 55 * ms, 65 * ms, targetWithin(25*ms, 45*ms)},
		{"reordering jitter 0-80ms", netConfig{duration: 30 * time.Second, latency: 40 * ms, jitter: uniformJitter(80 * ms)},
			0.99, 0.97, 100 * ms, 110 * ms, func(t *testing.T, r simResult) {
				if r.stats.Reordered < 100 {
					t.Errorf("reordered: got %d, want >= 100", r.stats.Reordered)
				}
				targetWithin(70*ms, 90*ms)(t, r)
			}},
		{"loss bursts up to 80ms", netConfig{duration: 30 * time.Second, seed: 2, latency: 40 * ms, jitter: uniformJitter(10 * ms),
			lossEnter: 0.03, lossStay: 0.6, maxBurst: 4},
			1, 0.99, 30 * ms, 35 * ms, func(t *testing.T, r simResult) {
				// Every lost frame is concealed, never replaced by silence.
				if s := r.stats; s.Lost != uint64(r.netLost) || s.Concealed < s.Lost {
					t.Errorf("got lost %d concealed %d, want lost %d and concealed >= lost", s.Lost, s.Concealed, r.netLost)
				}
			}},
		{"outage 600ms", netConfig{duration: 10 * time.Second, latency: 40 * ms, outageFrom: 5 * time.Second, outageUntil: 5600 * ms},
			0.95, 0.997, 25 * ms, 25 * ms, func(t *testing.T, r simResult) {
				// Concealed for MaxConceal, then silence until the packets
				// come back; the 30 missing sequence numbers count as lost.
				if s := r.stats; s.Lost != 30 || r.spanSilence < 24 || r.spanSilence > 26 {
					t.Errorf("got lost %d, silence %d ticks, want 30 and 25±1", s.Lost, r.spanSilence)
				}
			}},
		{"duplicates", netConfig{duration: 20 * time.Second, seed: 3, latency: 40 * ms, jitter: uniformJitter(10 * ms), dup: 0.05},
			1, 0.99, 30 * ms, 35 * ms, func(t *testing.T, r simResult) {
				if r.stats.Duplicate < 20 {
					t.Errorf("duplicates: got %d, want >= 20", r.stats.Duplicate)
				}
			}},
		{"sender 0.1% fast", netConfig{duration: 120 * time.Second, latency: 40 * ms, jitter: uniformJitter(10 * ms), skew: 0.001},
			1, 0.99, 35 * ms, 40 * ms, func(t *testing.T, r simResult) {
				// 120 ms of drift, absorbed by skipping about 6 frames.
				if s := r.stats; s.Skipped < 5 || s.Skipped > 9 {
					t.Errorf("skipped: got %d, want 5..9", s.Skipped)
				}
			}},
		{"sender 0.1% slow", netConfig{duration: 120 * time.Second, latency: 40 * ms, jitter: uniformJitter(10 * ms), skew: -0.001},
			1, 0.99, 35 * ms, 40 * ms, func(t *testing.T, r simResult) {
				// 120 ms of drift, absorbed by about 6 frames of concealment
				// inserted (proactively, or by holding on an underrun) on
				// top of the 5 after the last packet; none lost or late.
				if s := r.stats; s.Concealed < 5+4 || s.Concealed > 5+9 || s.Late+s.Lost > 0 {
					t.Errorf("got concealed %d late %d lost %d, want 9..14, 0, 0", s.Concealed, s.Late, s.Lost)
				}
			}},
		{"DTX talkspurts", netConfig{duration: 30 * time.Second, latency: 40 * ms, jitter: uniformJitter(15 * ms),
			talk: 1500 * ms, pause: 800 * ms},
			0, 0.995, 35 * ms, 40 * ms, func(t *testing.T, r simResult) {
				// 13 pauses of 40 frames: silence, not loss.
				s := r.stats
				if s.Lost != 0 || r.spanSilence < 13*(40-5-2) {
					t.Errorf("got lost %d, silence %d ticks, want 0 and >= %d", s.Lost, r.spanSilence, 13*(40-5-2))
				}
				if r.missing > 13*5+5 {
					t.Errorf("missing: got %d, want <= %d", r.missing, 13*5+5)
				}
			}},
		{"sequence and timestamp wrap", netConfig{duration: 20 * time.Second, latency: 40 * ms, jitter: uniformJitter(20 * ms),
			seq0: 65000, ts0: math.MaxUint32 - 160*300},
			1, 0.98, 40 * ms, 45 * ms, func(t *testing.T, r simResult) {
				if s := r.stats; s.Resyncs != 0 || s.Lost != 0 {
					t.Errorf("got resyncs %d lost %d, want 0 0", s.Resyncs, s.Lost)
				}
			}},
		{"SSRC change", netConfig{duration: 20 * time.Second, latency: 40 * ms, jitter: uniformJitter(20 * ms),
			ssrcChangeAt: 10 * time.Second, seq0: 1000, ts0: 5000},
			0.99, 0.98, 40 * ms, 45 * ms, func(t *testing.T, r simResult) {
				if s := r.stats; s.Resyncs != 1 || r.resyncFrames != 2 {
					t.Errorf("got resyncs %d, resync frames %d, want 1 and 2", s.Resyncs, r.resyncFrames)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := simulate(t, tt.nc)
			mean, p95 := r.delayStats()
			s := r.stats
			t.Logf("continuity %.4f played %.4f mean %v p95 %v target %v stats %+v",
				r.continuity(), r.playedFraction(), mean, p95, s.TargetDelay, s)
			if got := r.continuity(); got < tt.continuity {
				t.Errorf("continuity: got %.4f, want >= %.4f", got, tt.continuity)
			}
			if got := r.playedFraction(); got < tt.played {
				t.Errorf("played fraction: got %.4f, want >= %.4f", got, tt.played)
			}
			if mean > tt.mean || p95 > tt.p95 {
				t.Errorf("added delay: got mean %v p95 %v, want <= %v and %v", mean, p95, tt.mean, tt.p95)
			}
			if s.Played != uint64(r.ready) || s.Concealed != uint64(r.missing) {
				t.Errorf("stats: got played %d concealed %d, want %d and %d", s.Played, s.Concealed, r.ready, r.missing)
			}
			if r.ready+int(s.Late)+int(s.Skipped)+int(s.Dropped) < r.sent-r.netLost {
				t.Errorf("frames unaccounted for: played %d late %d skipped %d dropped %d, delivered %d",
					r.ready, s.Late, s.Skipped, s.Dropped, r.sent-r.netLost)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func targetWithin(lo, hi time.Duration) func(*testing.T, simResult) {
	return func(t *testing.T, r simResult) {
		t.Helper()
		if got := r.stats.TargetDelay; got < lo || got > hi {
			t.Errorf("target delay: got %v, want %v..%v", got, lo, hi)
		}
	}
}

// TestAdaptation runs 10 s of a calm network, 20 s of 0-60 ms jitter, then
// 30 s calm again: the target and the actual delay must grow with the
// jitter and come back down after it.
func TestAdaptation(t *testing.T) {
	const ms = time.Millisecond
	r := simulate(t, netConfig{duration: 60 * time.Second, latency: 40 * ms,
		jitter: uniformJitter(60 * ms), jitterFrom: 10 * time.Second, jitterUntil: 30 * time.Second})
	tests := []struct {
		at                 time.Duration
		targetLo, targetHi time.Duration
		delayLo, delayHi   time.Duration
	}{
		{9 * time.Second, 20 * ms, 20 * ms, 5 * ms, 35 * ms},
		{12 * time.Second, 50 * ms, 65 * ms, 0, 200 * ms}, // grown within 2 s
		{25 * time.Second, 50 * ms, 65 * ms, 40 * ms, 80 * ms},
		{40 * time.Second, 20 * ms, 20 * ms, 5 * ms, 35 * ms}, // back within 10 s
		{59 * time.Second, 20 * ms, 20 * ms, 5 * ms, 35 * ms},
	}
	for _, tt := range tests {
		i := tickAt(tt.at)
		target, delay := r.targets[i], r.playDelays[i]
		if target < tt.targetLo || target > tt.targetHi {
			t.Errorf("at %v: target got %v, want %v..%v", tt.at, target, tt.targetLo, tt.targetHi)
		}
		if delay < tt.delayLo || delay > tt.delayHi {
			t.Errorf("at %v: delay got %v, want %v..%v", tt.at, delay, tt.delayLo, tt.delayHi)
		}
	}
	if got := r.continuity(); got < 0.99 {
		t.Errorf("continuity: got %.4f, want >= 0.99", got)
	}
	if got := r.playedFraction(); got < 0.97 {
		t.Errorf("played fraction: got %.4f, want >= 0.97", got)
	}
}

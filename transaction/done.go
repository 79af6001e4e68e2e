package transaction

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/xphone-go/xphone/internal/transport"
	"github.com/xphone-go/xphone/sipmsg"
)

// A server transaction whose TU part is over and that only waits out
// Timer J (a non-INVITE request over an unreliable transport, RFC 3261
// §17.2.2) or Timer L (an INVITE answered with a 2xx, RFC 6026 §7.1)
// leaves the layer's map for a record in its done log. A record is what
// matching a retransmission needs: the key, the method, the To tag a
// CANCEL is answered with, and, for Timer J, the final response and where
// it went. Both timers are 64*T1, so records come due in the order they
// were written: the log is a queue of byte chunks read from the front, and
// an index from a hash of the key to a record's position finds one.
// Neither holds a pointer per record. Under load that is hundreds of
// thousands of records waiting their 32 s, which the garbage collector
// then never scans, each costing its bytes rather than a struct, a key
// string and a map slot.
//
// A record ends at its due tick exactly: Layer.findDone does not match
// one that is due, and Layer.counts drops those first. Dropping them from
// the log is lazier. Each retirement drops up to doneStep due records,
// which keeps pace with the one it adds, and a timer set lazySlack after
// the oldest record's due tick drops the rest once traffic stops. A timer
// for every due tick fired 100 times a second under load, each time in a
// new goroutine that woke a thread and contended for Layer.mu with the
// reader: a tenth of minuas's CPU at 2,000 calls/s.

// doneStep is how many due records one retirement drops at most.
const doneStep = 2

// doneChunk is the size of the log's chunks; a record larger than a chunk
// gets a chunk of its own.
const doneChunk = 64 << 10

// doneHeader is the fixed part of a record: due tick, key hash, flags,
// Via port, and the lengths of branch, host, method, tag, source and
// response.
const doneHeader = 8 + 8 + 1 + 4 + 2 + 2 + 1 + 2 + 1 + 4

// Record flags.
const (
	doneInvite = 1 << iota
	doneCancel
)

// doneLog is the layer's record of retired server transactions; guarded
// by Layer.mu.
type doneLog struct {
	seed   maphash.Seed
	index  map[uint64]uint64 // key hash → position (chunk sequence << 32 | offset)
	peak   int               // the most entries index has had since it was made
	chunks [][]byte          // chunks[0] holds the oldest record
	first  uint64            // sequence number of chunks[0]
	head   int               // offset of the oldest record in chunks[0]
	next   int64             // due tick of the oldest record; 0: none
	t      Timer
	armed  bool
}

// doneRec is a record read from the log; its slices are views of the log,
// valid while Layer.mu is held.
type doneRec struct {
	due                  int64
	hash                 uint64
	flags                byte
	port                 int
	branch, host, method []byte
	tag                  []byte
	src                  []byte // protocol, then netip.AddrPort's binary form; empty for Timer L
	resp                 []byte // the final response to re-send; empty for Timer L
}

func (d *doneLog) init() {
	d.seed = maphash.MakeSeed()
	d.index = make(map[uint64]uint64)
}

// hash returns the index key of a server transaction's key.
func (d *doneLog) hash(k serverKey) uint64 {
	var h maphash.Hash
	h.SetSeed(d.seed)
	h.WriteString(k.branch)
	h.WriteByte(0)
	h.WriteString(k.host)
	var b [5]byte
	binary.LittleEndian.PutUint32(b[:], uint32(k.port))
	if k.cancel {
		b[4] = 1
	}
	h.Write(b[:])
	return h.Sum64()
}

// add appends a record for k, due at tick due, and indexes it. A record
// whose key hash collides with a live one's replaces it in the index (with
// a seeded 64-bit hash, a chance of about n²/2⁶⁵ among n records).
func (d *doneLog) add(k serverKey, due int64, invite bool, method, tag string, src transport.Addr, resp []byte) {
	var srcb [1 + 16 + 2 + 64]byte
	sb := srcb[:0]
	if len(resp) > 0 {
		sb = append(sb, byte(src.Protocol))
		sb, _ = src.AddrPort.AppendBinary(sb)
		if len(sb) > 255 {
			sb = sb[:0] // an IPv6 zone too long to keep: nowhere to re-send
			resp = nil
		}
	}
	n := doneHeader + len(k.branch) + len(k.host) + len(method) + len(tag) + len(sb) + len(resp)
	last := len(d.chunks) - 1
	if last < 0 || cap(d.chunks[last])-len(d.chunks[last]) < n {
		d.chunks = append(d.chunks, make([]byte, 0, max(doneChunk, n)))
		last++
	}
	c := d.chunks[last]
	pos := (d.first+uint64(last))<<32 | uint64(len(c))
	h := d.hash(k)
	var flags byte
	if invite {
		flags |= doneInvite
	}
	if k.cancel {
		flags |= doneCancel
	}
	c = binary.LittleEndian.AppendUint64(c, uint64(due))
	c = binary.LittleEndian.AppendUint64(c, h)
	c = append(c, flags)
	c = binary.LittleEndian.AppendUint32(c, uint32(k.port))
	c = binary.LittleEndian.AppendUint16(c, uint16(len(k.branch)))
	c = binary.LittleEndian.AppendUint16(c, uint16(len(k.host)))
	c = append(c, byte(len(method)))
	c = binary.LittleEndian.AppendUint16(c, uint16(len(tag)))
	c = append(c, byte(len(sb)))
	c = binary.LittleEndian.AppendUint32(c, uint32(len(resp)))
	c = append(c, k.branch...)
	c = append(c, k.host...)
	c = append(c, method...)
	c = append(c, tag...)
	c = append(c, sb...)
	c = append(c, resp...)
	d.chunks[last] = c
	if d.next == 0 {
		d.next = due
	}
	d.index[h] = pos
	d.peak = max(d.peak, len(d.index))
}

// fits reports whether a record with these parts can be written: the
// lengths must fit their fields.
func doneFits(k serverKey, method, tag string, resp []byte) bool {
	return len(k.branch) <= 0xffff && len(k.host) <= 0xffff && len(method) <= 0xff &&
		len(tag) <= 0xffff && uint64(len(resp)) <= 0xffffffff
}

// read decodes the record at offset off of chunk c and returns it with
// its size.
func readDone(c []byte, off int) (r doneRec, size int) {
	b := c[off:]
	r.due = int64(binary.LittleEndian.Uint64(b))
	r.hash = binary.LittleEndian.Uint64(b[8:])
	r.flags = b[16]
	r.port = int(binary.LittleEndian.Uint32(b[17:]))
	nb := int(binary.LittleEndian.Uint16(b[21:]))
	nh := int(binary.LittleEndian.Uint16(b[23:]))
	nm := int(b[25])
	nt := int(binary.LittleEndian.Uint16(b[26:]))
	ns := int(b[28])
	nr := int(binary.LittleEndian.Uint32(b[29:]))
	p := doneHeader
	next := func(n int) []byte {
		s := b[p : p+n : p+n]
		p += n
		return s
	}
	r.branch, r.host, r.method, r.tag, r.src, r.resp = next(nb), next(nh), next(nm), next(nt), next(ns), next(nr)
	return r, p
}

// find returns the record of k.
func (d *doneLog) find(k serverKey) (doneRec, bool) {
	pos, ok := d.index[d.hash(k)]
	if !ok {
		return doneRec{}, false
	}
	i := int(pos>>32 - d.first)
	r, _ := readDone(d.chunks[i], int(uint32(pos)))
	if string(r.branch) != k.branch || string(r.host) != k.host || r.port != k.port ||
		r.flags&doneCancel != 0 != k.cancel {
		return doneRec{}, false // another key with the same hash
	}
	return r, true
}

// expire drops the records due by tick now, at most limit of them when
// limit is positive, and returns the due tick of the oldest one left, or 0
// (which it also keeps in d.next).
func (d *doneLog) expire(now int64, limit int) int64 {
	d.next = 0
	for len(d.chunks) > 0 {
		c := d.chunks[0]
		if d.head >= len(c) {
			if len(d.chunks) == 1 && len(c) < cap(c) {
				break // still being written
			}
			d.chunks[0] = nil
			d.chunks = d.chunks[1:]
			d.first++
			d.head = 0
			continue
		}
		r, size := readDone(c, d.head)
		if r.due > now || limit == 0 { // not due, or due but left for the next call
			d.next = r.due
			break
		}
		limit--
		if d.index[r.hash] == d.first<<32|uint64(d.head) {
			delete(d.index, r.hash)
		}
		d.head += size
	}
	d.index, d.peak = shrink(d.index, d.peak)
	return d.next
}

// reset drops every record.
func (d *doneLog) reset() {
	clear(d.index)
	d.chunks, d.head, d.next = nil, 0, 0
}

// source decodes a record's source address.
func (r *doneRec) source() (transport.Addr, bool) {
	if len(r.src) < 1 {
		return transport.Addr{}, false
	}
	var ap netip.AddrPort
	if err := ap.UnmarshalBinary(r.src[1:]); err != nil {
		return transport.Addr{}, false
	}
	return transport.Addr{Protocol: transport.Protocol(r.src[0]), AddrPort: ap}, true
}

// retired is what a request matched to a done record needs, copied out of
// the log.
type retired struct {
	method string
	tag    string
	resp   []byte // nil: absorb the retransmission
	src    transport.Addr
}

func (r *doneRec) retired() *retired {
	out := &retired{method: methodName(string(r.method)), tag: string(r.tag)}
	if src, ok := r.source(); ok && len(r.resp) > 0 {
		out.resp, out.src = append([]byte(nil), r.resp...), src
	}
	return out
}

// retire moves s from the layer's map to the done log, where it waits out
// Timer J or L, and reports whether it did: RFC 2543 transactions, which
// match on the request they keep, stay. resp is the final response to
// re-send, nil for an INVITE. s.mu is held.
func (l *Layer) retire(s *srv, tag string, resp []byte) bool {
	k := s.key.s
	if s.key.legacy || !doneFits(k, s.method, tag, resp) {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.servers[k] != s {
		return false
	}
	delete(l.servers, k)
	l.servers, l.serversPeak = shrink(l.servers, l.serversPeak)
	now, due := l.longQ.nowDue()
	l.done.add(k, due, s.invite, s.method, tag, s.src, resp)
	if l.done.next <= now {
		l.done.expire(now, doneStep)
	}
	if !l.done.armed {
		l.armDone(l.done.next + lazySlack)
	}
	s.waitAt = due
	return true
}

// findRetired returns the done record of k, or nil.
func (l *Layer) findRetired(k matchKey) *retired {
	if k.legacy {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, ok := l.findDone(k.s); ok {
		return d.retired()
	}
	return nil
}

// findDone returns the record of k unless it is due: its Timer J or L
// has fired, though the record may not be dropped yet. l.mu is held.
func (l *Layer) findDone(k serverKey) (doneRec, bool) {
	r, ok := l.done.find(k)
	if !ok || r.due <= l.tick() {
		return doneRec{}, false
	}
	return r, true
}

// sweepDone drops every due record; l.mu is held.
func (l *Layer) sweepDone() { l.done.expire(l.tick(), -1) }

// resend answers a retransmission of a retired transaction's request:
// the final response again for a non-INVITE request (RFC 3261 §17.2.2),
// nothing for an INVITE answered with a 2xx (RFC 6026 §7.1). A send that
// fails ends the transaction (§17.2.4): its record is no longer found.
func (l *Layer) resend(k serverKey, r *retired, m *sipmsg.Message) {
	if m.Method != r.method || r.resp == nil {
		return // absorbed, or the branch reused for another method
	}
	resp, err := sipmsg.Parse(r.resp)
	if err != nil {
		return
	}
	if err := l.sender.Send(context.Background(), resp, r.src); err != nil {
		l.mu.Lock()
		if _, ok := l.done.find(k); ok {
			delete(l.done.index, l.done.hash(k))
		}
		l.mu.Unlock()
	}
}

// armDone sets the done log's timer for tick at; l.mu is held.
func (l *Layer) armDone(at int64) {
	d := max(l.epoch.Add(time.Duration(at-1)*waitTick).Sub(l.clock.Now()), 0)
	if l.done.t == nil {
		l.done.t = l.clock.AfterFunc(d, l.expireDone)
	} else {
		l.done.t.Reset(d)
	}
	l.done.armed = true
}

// expireDone runs lazySlack after the oldest record was due, when
// retirements have not dropped it, and drops every due record.
func (l *Layer) expireDone() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done.armed = false
	if l.closed {
		return
	}
	if next := l.done.expire(l.tick(), -1); next != 0 {
		l.armDone(next + lazySlack)
	}
}

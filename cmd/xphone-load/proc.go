package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// hist is a fixed-resolution latency histogram with atomic buckets, safe
// for concurrent use.
type hist struct {
	res     time.Duration
	buckets []atomic.Uint64
	sum     atomic.Int64 // ns
	max     atomic.Int64 // ns
	n       atomic.Uint64
}

func newHist(res, span time.Duration) *hist {
	return &hist{res: res, buckets: make([]atomic.Uint64, int(span/res)+1)}
}

func (h *hist) add(d time.Duration) {
	d = max(d, 0)
	i := min(int(d/h.res), len(h.buckets)-1)
	h.buckets[i].Add(1)
	h.sum.Add(int64(d))
	h.n.Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

func (h *hist) mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / int64(n))
}

// quantile returns the upper edge of the bucket holding quantile q, or the
// maximum when q falls in the overflow bucket.
func (h *hist) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(n)))
	var c uint64
	for i := range h.buckets {
		c += h.buckets[i].Load()
		if c >= want {
			if i == len(h.buckets)-1 {
				break
			}
			return time.Duration(i+1) * h.res
		}
	}
	return time.Duration(h.max.Load())
}

// sample is one reading of the counters the RESULT line differences.
type sample struct {
	self, uas           int64 // utime+stime, clock ticks
	machBusy, machTotal int64 // first line of /proc/stat
	rcvbufErr, inErr    int64 // Udp line of /proc/net/snmp
}

func sampleAll(uasPID int) sample {
	s := sample{self: procTicks(os.Getpid())}
	if uasPID > 0 {
		s.uas = procTicks(uasPID)
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		for i, v := range strings.Fields(line)[1:] {
			if i >= 8 { // guest and guest_nice are already in user and nice
				break
			}
			x, _ := strconv.ParseInt(v, 10, 64)
			s.machTotal += x
			if i != 3 && i != 4 { // idle, iowait
				s.machBusy += x
			}
		}
	}
	if b, err := os.ReadFile("/proc/net/snmp"); err == nil {
		var hdr []string
		for line := range strings.SplitSeq(string(b), "\n") {
			if !strings.HasPrefix(line, "Udp: ") {
				continue
			}
			f := strings.Fields(line)
			if hdr == nil {
				hdr = f
				continue
			}
			for i := range min(len(f), len(hdr)) {
				x, _ := strconv.ParseInt(f[i], 10, 64)
				switch hdr[i] {
				case "RcvbufErrors":
					s.rcvbufErr = x
				case "InErrors":
					s.inErr = x
				}
			}
			break
		}
	}
	return s
}

// procTicks returns utime+stime of a process in clock ticks (proc(5)).
func procTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return 0
	}
	f := strings.Fields(s[i+2:]) // f[0] is field 3, state
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// memStatus returns "hwm_mb=X rss_mb=Y threads=Z" from /proc/PID/status.
func memStatus(pid int) string {
	hwm, rss, thr := "?", "?", "?"
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			switch f[0] {
			case "VmHWM:":
				kb, _ := strconv.ParseFloat(f[1], 64)
				hwm = fmt.Sprintf("%.1f", kb/1024)
			case "VmRSS:":
				kb, _ := strconv.ParseFloat(f[1], 64)
				rss = fmt.Sprintf("%.1f", kb/1024)
			case "Threads:":
				thr = f[1]
			}
		}
	}
	return fmt.Sprintf("hwm_mb=%s rss_mb=%s threads=%s", hwm, rss, thr)
}

package balancer

import (
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds (seconds) of the upstream latency
// histogram: from the attempt's start to the node's response headers.
var latencyBuckets = [...]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// nodeStats are a node's response counters, updated with atomics on the
// request path and read by /metrics and /status.
type nodeStats struct {
	codes    [600]atomic.Uint64 // responses by status code (100..599)
	buckets  [len(latencyBuckets)]atomic.Uint64
	overflow atomic.Uint64 // slower than the last bucket
	sumNanos atomic.Uint64
}

// observe records a response with code that took d.
func (s *nodeStats) observe(code int, d time.Duration) {
	if code >= 100 && code < len(s.codes) {
		s.codes[code].Add(1)
	}
	s.sumNanos.Add(uint64(d.Nanoseconds()))
	sec := d.Seconds()
	for i, ub := range latencyBuckets {
		if sec <= ub {
			s.buckets[i].Add(1)
			return
		}
	}
	s.overflow.Add(1)
}

// Stats are the balancer's counters beyond the per-node ones of NodeStatus.
type Stats struct {
	Retries    uint64 // attempts sent to a second node after the first failed
	NoLiveNode uint64 // requests answered 503: no node was live
}

type balancerCounters struct {
	retries, noLiveNode atomic.Uint64
}

// Stats returns the balancer-wide counters.
func (b *Balancer) Stats() Stats {
	return Stats{Retries: b.st.retries.Load(), NoLiveNode: b.st.noLiveNode.Load()}
}

// NodeCodes is a node's responses by status code.
type NodeCodes map[int]uint64

// Latency is a cumulative latency histogram: Counts[i] responses took at
// most Bounds[i] seconds; Count is the total, Sum the seconds summed.
type Latency struct {
	Bounds []float64
	Counts []uint64
	Count  uint64
	Sum    float64
}

// snapshot copies the codes and the histogram.
func (s *nodeStats) snapshot() (NodeCodes, Latency) {
	codes := NodeCodes{}
	for c := 100; c < len(s.codes); c++ {
		if n := s.codes[c].Load(); n > 0 {
			codes[c] = n
		}
	}
	l := Latency{Bounds: latencyBuckets[:], Counts: make([]uint64, len(latencyBuckets))}
	var cum uint64
	for i := range latencyBuckets {
		cum += s.buckets[i].Load()
		l.Counts[i] = cum
	}
	l.Count = cum + s.overflow.Load()
	l.Sum = time.Duration(s.sumNanos.Load()).Seconds()
	return codes, l
}

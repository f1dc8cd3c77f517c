package bench

import (
	"math"
	"math/bits"
	"slices"
	"time"
)

// Histogram records latencies in log-linear buckets, like HdrHistogram:
// values below 128 ns are exact; above, each power of two is split into
// 128 buckets, so a reported quantile is within 1/128 (0.8 %) of the
// recorded value. Memory is fixed (about 37 KiB) whatever the count.
// Values above 2^40 ns (18 min) are recorded as 2^40 ns.
//
// A Histogram is not safe for concurrent use: each worker records into
// its own and the results are merged.
type Histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum      float64 // ns
	min, max int64   // ns
}

const (
	subBits     = 7
	subCount    = 1 << subBits // buckets per power of two
	maxExp      = 40           // 2^40 ns is the largest value tracked
	histBuckets = (maxExp - subBits + 1) * subCount
	maxTracked  = int64(1)<<maxExp - 1
)

// bucketOf maps a value (ns) to its bucket index.
func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - 1 - subBits // >= 0
	sub := v >> shift                            // in [subCount, 2*subCount)
	return (shift+1)*subCount + int(sub-subCount)
}

// bucketRange returns the lowest and highest value (ns) of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i)
	}
	shift := i/subCount - 1
	sub := int64(i%subCount + subCount)
	return sub << shift, (sub+1)<<shift - 1
}

// Record adds one latency. Negative values count as 0.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	v = min(v, maxTracked)
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.counts[bucketOf(v)]++
	h.n++
	h.sum += float64(v)
}

// Merge adds every value recorded in o.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of values recorded.
func (h *Histogram) Count() int64 { return int64(h.n) }

// Quantile returns the q-quantile (0 < q <= 1) by the nearest-rank rule:
// the value at rank ceil(q*n), reported as the highest value of its bucket
// (never above the largest value recorded). 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := rankOf(q, int(h.n))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= uint64(rank) {
			lo, hi := bucketRange(i)
			return time.Duration(min(max(hi, h.min, lo), h.max))
		}
	}
	return time.Duration(h.max)
}

// Summary returns the usual figures.
func (h *Histogram) Summary() Summary {
	if h.n == 0 {
		return Summary{}
	}
	return Summary{
		Count: int64(h.n),
		Min:   time.Duration(h.min),
		Mean:  time.Duration(h.sum / float64(h.n)),
		P50:   h.Quantile(0.50),
		P90:   h.Quantile(0.90),
		P99:   h.Quantile(0.99),
		P999:  h.Quantile(0.999),
		Max:   time.Duration(h.max),
	}
}

// Summary is a latency distribution in a few figures.
type Summary struct {
	Count                               int64
	Min, Mean, P50, P90, P99, P999, Max time.Duration
}

// rankOf is the 1-based nearest rank of quantile q among n values.
func rankOf(q float64, n int) int {
	r := int(math.Ceil(q * float64(n)))
	return min(max(r, 1), n)
}

// Percentile returns the exact q-quantile (nearest rank) of samples,
// which must be sorted ascending. 0 when empty.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[rankOf(q, len(sorted))-1]
}

// Summarize sorts samples in place and returns their exact figures.
func Summarize(samples []time.Duration) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	slices.Sort(samples)
	var sum float64
	for _, d := range samples {
		sum += float64(d)
	}
	return Summary{
		Count: int64(len(samples)),
		Min:   samples[0],
		Mean:  time.Duration(sum / float64(len(samples))),
		P50:   Percentile(samples, 0.50),
		P90:   Percentile(samples, 0.90),
		P99:   Percentile(samples, 0.99),
		P999:  Percentile(samples, 0.999),
		Max:   samples[len(samples)-1],
	}
}

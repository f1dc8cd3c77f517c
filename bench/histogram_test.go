package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of 4 is the 2nd", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"median of 5 is the 3rd", ms(1, 2, 3, 4, 5), 0.5, 3 * time.Millisecond},
		{"p90 of 10 is the 9th", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.9, 9 * time.Millisecond},
		{"p99 of 10 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{"p100 is the max", ms(1, 2, 3), 1, 3 * time.Millisecond},
		{"q 0 is the min", ms(1, 2, 3), 0, time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.samples, tc.q); got != tc.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tc.samples, tc.q, got, tc.want)
			}
		})
	}
}

func TestPercentileOf1000(t *testing.T) {
	s := make([]time.Duration, 1000)
	for i := range s {
		s[i] = time.Duration(1000-i) * time.Microsecond // reversed: Summarize sorts
	}
	sum := Summarize(s)
	want := Summary{Count: 1000, Min: time.Microsecond, Mean: 500500 * time.Nanosecond,
		P50: 500 * time.Microsecond, P90: 900 * time.Microsecond, P99: 990 * time.Microsecond,
		P999: 999 * time.Microsecond, Max: 1000 * time.Microsecond}
	if sum != want {
		t.Errorf("Summarize:\n got %+v\nwant %+v", sum, want)
	}
}

func TestBucketsCoverValuesInOrder(t *testing.T) {
	prevHi := int64(-1)
	for i := range histBuckets {
		lo, hi := bucketRange(i)
		if lo != prevHi+1 || hi < lo {
			t.Fatalf("bucket %d = [%d, %d], previous ended at %d", i, lo, hi, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d = [%d, %d] but bucketOf gives %d, %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		// Relative width: below 1/128 of the value.
		if lo >= subCount && float64(hi-lo+1)/float64(lo) > 1.0/subCount+1e-12 {
			t.Fatalf("bucket %d = [%d, %d] is too wide", i, lo, hi)
		}
		prevHi = hi
	}
	if prevHi != maxTracked {
		t.Errorf("last bucket ends at %d, want %d", prevHi, maxTracked)
	}
}

func TestHistogramMatchesExactPercentiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	samples := make([]time.Duration, 0, 50000)
	for range 50000 {
		// Log-normal-ish: 20 µs .. ~100 ms.
		d := time.Duration(20_000 * (1 + r.ExpFloat64()*r.ExpFloat64()*50))
		samples = append(samples, d)
		h.Record(d)
	}
	slices.Sort(samples)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 1} {
		exact := Percentile(samples, q)
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/subCount {
			t.Errorf("q %v: histogram %v, exact %v: want within +1/%d", q, got, exact, subCount)
		}
	}
	s := h.Summary()
	if s.Count != 50000 || s.Min != samples[0] || s.Max != samples[len(samples)-1] {
		t.Errorf("summary %+v: count, min or max differ from the samples", s)
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Summary() != (Summary{}) {
		t.Error("empty histogram is not zero")
	}
	h.Record(-5)
	h.Record(100)
	h.Record(time.Hour) // clamped
	if h.Count() != 3 || h.Quantile(0.01) != 0 || h.Quantile(0.5) != 100 {
		t.Errorf("count %d, q0.01 %v, q0.5 %v", h.Count(), h.Quantile(0.01), h.Quantile(0.5))
	}
	if got := h.Quantile(1); got != time.Duration(maxTracked) {
		t.Errorf("max = %v, want clamped %v", got, time.Duration(maxTracked))
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all Histogram
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	a.Merge(nil)
	a.Merge(&Histogram{})
	if a.Summary() != all.Summary() {
		t.Errorf("merged %+v, want %+v", a.Summary(), all.Summary())
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	d := 123 * time.Microsecond
	for b.Loop() {
		h.Record(d)
		d += 17
	}
}

package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one request of a worker's closed loop. It returns an error when
// the request failed (transport error or unexpected answer).
type Op func(ctx context.Context) error

// Load describes one closed-loop run: Concurrency workers, each sending
// its next request when the previous one is answered, until Duration has
// passed or, when Requests > 0, until Requests requests were sent in all.
type Load struct {
	Concurrency int
	Duration    time.Duration // 0 with Requests > 0: no time limit
	Requests    int64         // total request budget; 0: no budget
}

// Result is what a run measured. Latency holds successful requests only.
type Result struct {
	Requests int64 // answered successfully
	Errors   int64
	FirstErr error
	Elapsed  time.Duration // from the start of the first worker to the end of the last
	Latency  Histogram
}

// Rate is successful requests per second.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Merge adds o (another round of the same target): counts and latencies
// add up, elapsed times too, so Rate is the overall rate.
func (r *Result) Merge(o *Result) {
	r.Requests += o.Requests
	r.Errors += o.Errors
	if r.FirstErr == nil {
		r.FirstErr = o.FirstErr
	}
	r.Elapsed += o.Elapsed
	r.Latency.Merge(&o.Latency)
}

// Run runs l. newOp is called once per worker (index 0..Concurrency-1)
// before the clock starts, so per-worker setup (a first request that
// creates a session) is not measured; an error from it ends the run.
// Requests in flight when the time is up are waited for and counted.
// Run returns when every worker has stopped; ctx's end stops them early.
func Run(ctx context.Context, l Load, newOp func(worker int) (Op, error)) (*Result, error) {
	if l.Concurrency < 1 {
		return nil, fmt.Errorf("bench: concurrency %d: want at least 1", l.Concurrency)
	}
	if l.Duration <= 0 && l.Requests <= 0 {
		return nil, fmt.Errorf("bench: a load needs a duration or a request count")
	}
	ops := make([]Op, l.Concurrency)
	for i := range ops {
		op, err := newOp(i)
		if err != nil {
			return nil, fmt.Errorf("worker %d setup: %w", i, err)
		}
		ops[i] = op
	}
	var (
		budget   atomic.Int64
		wg       sync.WaitGroup
		results  = make([]Result, l.Concurrency)
		start    = time.Now()
		deadline time.Time
	)
	budget.Store(l.Requests)
	if l.Duration > 0 {
		deadline = start.Add(l.Duration)
	}
	for i, op := range ops {
		res := &results[i]
		wg.Go(func() {
			for ctx.Err() == nil {
				if l.Requests > 0 && budget.Add(-1) < 0 {
					return
				}
				t0 := time.Now()
				err := op(ctx)
				t1 := time.Now()
				if err != nil {
					res.Errors++
					if res.FirstErr == nil {
						res.FirstErr = err
					}
				} else {
					res.Requests++
					res.Latency.Record(t1.Sub(t0))
				}
				if !deadline.IsZero() && !t1.Before(deadline) {
					return
				}
			}
		})
	}
	wg.Wait()
	total := &Result{Elapsed: time.Since(start)}
	for i := range results {
		e := total.Elapsed
		total.Merge(&results[i])
		total.Elapsed = e
	}
	return total, ctx.Err()
}

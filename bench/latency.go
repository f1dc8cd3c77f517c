package bench

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"time"
)

// latencyResult is the replication latency measure.
type latencyResult struct {
	Samples []time.Duration // visible on the peer, after the writer's answer
	Lost    int             // not visible within the timeout
	Polls   int64           // reads of the peer in all
}

// replicationLatency takes n samples: each writes a value of size bytes in
// a new session on target (/set: the session's CREATED and its first
// DELTA), then reads the peer's /get with the same cookie every poll until
// it returns that value. A sample is the time from the writer's answer to
// the first read that saw the value, so it includes one read's round trip.
// A new session per sample keeps the peer's JvmRouteBinderValve (which
// moves a session it serves to its own route) out of the next sample.
func replicationLatency(ctx context.Context, c *http.Client, target, peer string, n, size int, poll, timeout time.Duration, seed uint64) (*latencyResult, error) {
	r := rand.New(rand.NewPCG(seed, 0))
	res := &latencyResult{Samples: make([]time.Duration, 0, n)}
	get := joinURL(peer, "/get?k=lat")
	for i := range n {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		v := randomValue(r, size)
		u, _ := setURL(target, "lat", v)
		w := newAgent(c)
		if err := w.expect(ctx, string(u), "ok "); err != nil {
			return res, fmt.Errorf("sample %d: %w", i+1, err)
		}
		t0 := time.Now()
		p := newAgent(c)
		p.cookie = w.cookie
		for {
			code, body, err := p.get(ctx, get)
			res.Polls++
			if err != nil {
				return res, fmt.Errorf("sample %d: read peer: %w", i+1, err)
			}
			if code == http.StatusOK && bytes.Equal(bytes.TrimSpace(body), v) {
				res.Samples = append(res.Samples, time.Since(t0))
				break
			}
			if time.Since(t0) > timeout {
				res.Lost++
				break
			}
			pause(poll)
		}
	}
	return res, nil
}

// pause waits d. Below a millisecond it yields in a loop instead of
// sleeping: a timer that short fires a millisecond or more late on a busy
// machine, which would show up as replication latency that isn't.
func pause(d time.Duration) {
	if d <= 0 {
		return
	}
	if d >= time.Millisecond {
		time.Sleep(d)
		return
	}
	for end := time.Now().Add(d); time.Now().Before(end); {
		runtime.Gosched()
	}
}

package balancertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// LoadConfig describes a closed-loop load: Concurrency workers, each with its
// own session (its first response's JSESSIONID cookie is sent on every later
// request), GET URL until Duration passes or Requests are done.
type LoadConfig struct {
	URL         string
	Concurrency int           // Default: 8.
	Duration    time.Duration // Default: 5s unless Requests is set.
	Requests    int           // total requests; 0 = until Duration.
	Client      *http.Client  // Default: keep-alive client with Concurrency idle conns per host.
}

// LoadResult is what Load measured.
type LoadResult struct {
	Requests int           // successful (2xx) responses
	Errors   int           // transport errors and non-2xx
	Elapsed  time.Duration //
	RPS      float64       // Requests / Elapsed
	P50, P99 time.Duration // latency of successful requests
	ByNode   map[string]int
}

func (r LoadResult) String() string {
	return fmt.Sprintf("%d req in %v = %.0f req/s, p50 %v, p99 %v, errors %d",
		r.Requests, r.Elapsed.Round(time.Millisecond), r.RPS, r.P50, r.P99, r.Errors)
}

// Load runs the load and returns when every worker is done or ctx ends.
func Load(ctx context.Context, c LoadConfig) (LoadResult, error) {
	if c.URL == "" {
		return LoadResult{}, errors.New("balancertest: no URL")
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.Duration <= 0 && c.Requests <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.Client == nil {
		c.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.Concurrency, DisableCompression: true}}
		defer c.Client.CloseIdleConnections()
	}
	if c.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Duration)
		defer cancel()
	}
	var (
		mu      sync.Mutex
		lat     []time.Duration
		errs    int
		byNode  = map[string]int{}
		left    = c.Requests
		wg      sync.WaitGroup
		started = time.Now()
	)
	take := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if c.Requests <= 0 {
			return true
		}
		if left == 0 {
			return false
		}
		left--
		return true
	}
	for range c.Concurrency {
		wg.Go(func() {
			var cookie string
			local := make([]time.Duration, 0, 1024)
			nodes := map[string]int{}
			bad := 0
			for ctx.Err() == nil && take() {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
				if err != nil {
					bad++
					break
				}
				if cookie != "" {
					req.Header.Set("Cookie", "JSESSIONID="+cookie)
				}
				t0 := time.Now()
				resp, err := c.Client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						bad++
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				d := time.Since(t0)
				if resp.StatusCode/100 != 2 {
					bad++
					continue
				}
				for _, ck := range resp.Cookies() {
					if ck.Name == "JSESSIONID" {
						cookie = ck.Value
					}
				}
				local = append(local, d)
				nodes[resp.Header.Get("X-Node")]++
			}
			mu.Lock()
			lat = append(lat, local...)
			errs += bad
			for k, v := range nodes {
				byNode[k] += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res := LoadResult{Requests: len(lat), Errors: errs, Elapsed: time.Since(started), ByNode: byNode}
	if res.Elapsed > 0 {
		res.RPS = float64(res.Requests) / res.Elapsed.Seconds()
	}
	res.P50, res.P99 = Percentile(lat, 0.50), Percentile(lat, 0.99)
	return res, nil
}

// Percentile returns the q-quantile (0..1) of d (sorted in place); 0 when empty.
func Percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	if !slices.IsSorted(d) {
		slices.Sort(d)
	}
	i := int(q * float64(len(d)-1))
	return d[i]
}

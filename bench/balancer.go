package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

const secBalancer = "small GET /get?k=x with a session cookie (closed loop, a session per worker)"

// Balancer runs "gomcat bench balancer": the same small GETs against each
// URL given (a node directly, gomcat balancer, HAProxy), in interleaved
// rounds so the load is comparable, and compares them.
func Balancer(ctx context.Context, cfg BalancerConfig) (*Report, error) {
	if cfg.Progress == nil {
		cfg.Progress = DefaultBalancerConfig().Progress
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Title: "gomcat bench balancer", Machine: ThisMachine()}
	if cfg.Direct == "" && cfg.Balancer == "" && cfg.HAProxy == "" {
		rep.Title += ": self-contained (node1 + node2, gomcat balancer, HAProxy on 127.0.0.1)"
		return rep, selfContainedBalancer(ctx, cfg, rep)
	}
	return rep, measureFrontEnds(ctx, cfg, rep)
}

// measureFrontEnds measures the URLs of cfg.
func measureFrontEnds(ctx context.Context, cfg BalancerConfig, rep *Report) error {
	c := NewClient(cfg.Concurrency + 1)
	defer c.CloseIdleConnections()
	seed := rand.Uint64()
	var ts []target
	idx := map[string]int{}
	for _, x := range []struct{ name, url string }{{"direct", cfg.Direct}, {"balancer", cfg.Balancer}, {"haproxy", cfg.HAProxy}} {
		if x.url == "" {
			continue
		}
		idx[x.name] = len(ts)
		ts = append(ts, target{name: x.name, newOp: getOps(c, x.url, seed+uint64(len(ts)))})
		rep.Note("%s: %s", x.name, x.url)
	}
	fmt.Fprintf(cfg.Progress, "bench: GET /get with a session, %d workers, %v per target\n", cfg.Concurrency, cfg.Duration)
	res, err := interleave(ctx, ts, cfg.Concurrency, cfg.Duration, cfg.Round, cfg.Warmup, cfg.Progress)
	if err != nil {
		return err
	}
	for i, t := range ts {
		rep.Add(secBalancer, Row{Metric: t.name, Value: throughputValue(res[i])})
		if res[i].FirstErr != nil {
			rep.Note("%s: first error: %v", t.name, res[i].FirstErr)
		}
	}
	bal, okBal := idx["balancer"]
	if d, ok := idx["direct"]; ok && okBal {
		added := res[bal].Latency.Quantile(0.5) - res[d].Latency.Quantile(0.5)
		rep.Add(secBalancer, Row{Metric: "balancer adds at p50", Value: signed(added), Goal: "≤ 150 µs", Verdict: verdict(added <= 150*time.Microsecond)})
	}
	if h, ok := idx["haproxy"]; ok && okBal && res[h].Rate() > 0 {
		ratio := res[bal].Rate() / res[h].Rate()
		rep.Add(secBalancer, Row{Metric: "balancer / HAProxy throughput", Value: fmt.Sprintf("%.0f %%", 100*ratio), Goal: "≥ 70 %", Verdict: verdict(ratio >= 0.70)})
	}
	if d, ok := idx["direct"]; ok {
		if h, ok := idx["haproxy"]; ok {
			added := res[h].Latency.Quantile(0.5) - res[d].Latency.Quantile(0.5)
			rep.Add(secBalancer, Row{Metric: "HAProxy adds at p50", Value: signed(added)})
		}
	}
	return nil
}

// signed formats a latency difference with its sign.
func signed(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	return "+" + FormatDuration(d)
}

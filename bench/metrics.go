package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const secMetrics = "metrics overhead on /set (closed loop, a session per worker)"

// MetricsOverhead measures what the admin listener costs on the request
// path, in one run: two clusters of two nodes on 127.0.0.1, the same
// except that one pair has admin listeners (HTTP metrics middleware,
// collectors) and its target node is scraped every scrape interval during
// the measure, as Prometheus would. /set throughput on the two targets is
// measured in interleaved rounds (see interleave).
//
// With control, both clusters run without admin listeners (an A/A run):
// the "overhead" it reports is the noise floor of the machine.
func MetricsOverhead(ctx context.Context, cfg ReplicationConfig, scrape time.Duration, control bool) (*Report, error) {
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Machine: ThisMachine(), Title: "gomcat bench metrics: /set with and without the admin listener (nodes launched on 127.0.0.1)"}
	seed := rand.Uint64()
	on, err := newCluster(cfg)
	if err != nil {
		return rep, err
	}
	defer on.close()
	on.admin = !control
	off, err := newCluster(cfg)
	if err != nil {
		return rep, err
	}
	defer off.close()
	rep.Note("two clusters of node1+node2 (async replication), own multicast ports and domains; \"on\" nodes have the admin listener on 127.0.0.1, \"off\" nodes none")

	var targets [2]*node
	for i, cl := range []*cluster{on, off} {
		a, err := cl.start(ctx, "node1", false)
		if err != nil {
			return rep, err
		}
		if err := cl.ready(ctx, a); err != nil {
			return rep, err
		}
		b, err := cl.start(ctx, "node2", false)
		if err != nil {
			return rep, err
		}
		if err := cl.ready(ctx, b); err != nil {
			return rep, err
		}
		if _, err := a.waitLog(ctx, lineMemberAdded, 15*time.Second); err != nil {
			return rep, fmt.Errorf("bench: node1 of cluster %d never saw node2: %w", i+1, err)
		}
		targets[i] = a
	}
	adminURL := ""
	if !control {
		if adminURL, err = runAdminURL(targets[0].home); err != nil {
			return rep, err
		}
	} else {
		rep.Note("control run (A/A): both clusters without admin listeners; the differences are the machine's noise")
	}

	sctx, stop := context.WithCancel(ctx)
	var scrapes, scrapeBytes, scrapeErrs atomic.Uint64
	var wg sync.WaitGroup
	if adminURL != "" {
		wg.Go(func() { scrapeLoop(sctx, adminURL+"/metrics", scrape, &scrapes, &scrapeBytes, &scrapeErrs) })
	}

	c := NewClient(cfg.Concurrency + 1)
	defer c.CloseIdleConnections()
	ts := []target{
		{name: "metrics off", newOp: setOps(c, targets[1].url, cfg.Size, seed)},
		{name: fmt.Sprintf("metrics on (scraped every %v)", scrape), newOp: setOps(c, targets[0].url, cfg.Size, seed+1)},
	}
	if control {
		ts[0].name, ts[1].name = "off (control A)", "off (control B)"
	}
	fmt.Fprintf(cfg.Progress, "bench: /set throughput, %d workers, %v per node, values of %d B\n", cfg.Concurrency, cfg.Duration, cfg.Size)
	if cfg.Warmup > 0 {
		if _, err := interleave(ctx, ts, cfg.Concurrency, 2*cfg.Warmup, cfg.Warmup, 0, io.Discard); err != nil {
			stop()
			wg.Wait()
			return rep, fmt.Errorf("/set warmup: %w", err)
		}
	}
	cpu0 := [2]time.Duration{processCPU(targets[1].pid()), processCPU(targets[0].pid())}
	res, err := interleave(ctx, ts, cfg.Concurrency, cfg.Duration, cfg.Round, 0, cfg.Progress)
	cpu1 := [2]time.Duration{processCPU(targets[1].pid()), processCPU(targets[0].pid())}
	stop()
	wg.Wait()
	if err != nil {
		return rep, fmt.Errorf("/set throughput: %w", err)
	}
	for i, t := range ts {
		rep.Add(secMetrics, Row{Metric: t.name, Value: throughputValue(res[i])})
		if res[i].FirstErr != nil {
			rep.Note("%s: first error: %v", t.name, res[i].FirstErr)
		}
	}
	if res[0].Rate() > 0 {
		over := 1 - res[1].Rate()/res[0].Rate()
		rep.Add(secMetrics, Row{Metric: "metrics overhead, throughput", Value: fmt.Sprintf("%.1f %% (on vs off)", 100*over),
			Goal: "≤ 2 %", Verdict: verdict(over <= 0.02)})
	}
	// CPU time per request of the two node1 processes (user + system,
	// over the whole measure: idle heartbeats and, for "on", the scrapes
	// included), steadier than throughput on a shared machine.
	var perReq [2]float64
	for i := range ts {
		if cpu0[i] >= 0 && cpu1[i] > cpu0[i] && res[i].Requests > 0 {
			perReq[i] = float64((cpu1[i] - cpu0[i]).Microseconds()) / float64(res[i].Requests)
			rep.Add(secMetrics, Row{Metric: ts[i].name + ": node1 CPU per request", Value: fmt.Sprintf("%.1f µs (%v for %s requests)",
				perReq[i], (cpu1[i] - cpu0[i]).Round(10*time.Millisecond), FormatCount(res[i].Requests))})
		}
	}
	if perReq[0] > 0 && perReq[1] > 0 {
		over := perReq[1]/perReq[0] - 1
		rep.Add(secMetrics, Row{Metric: "metrics overhead, CPU per request", Value: fmt.Sprintf("%.1f %% (on vs off)", 100*over),
			Goal: "≤ 2 %", Verdict: verdict(over <= 0.02)})
	}
	n := scrapes.Load()
	avg := uint64(0)
	if n > 0 {
		avg = scrapeBytes.Load() / n
	}
	if adminURL == "" {
		return rep, nil
	}
	rep.Add(secMetrics, Row{Metric: "scrapes of " + adminURL + "/metrics", Value: fmt.Sprintf("%d (%d B each, %d errors)", n, avg, scrapeErrs.Load())})
	return rep, nil
}

// runAdminURL reads the admin URL a started node published in its home
// (logs/gomcat.json, runtime/node.RunInfo).
func runAdminURL(home string) (string, error) {
	b, err := os.ReadFile(filepath.Join(home, "logs", "gomcat.json"))
	if err != nil {
		return "", fmt.Errorf("bench: run info: %w", err)
	}
	var ri struct {
		Admin string `json:"admin"`
	}
	if err := json.Unmarshal(b, &ri); err != nil || ri.Admin == "" {
		return "", fmt.Errorf("bench: %s/logs/gomcat.json names no admin listener (%v)", home, err)
	}
	return ri.Admin, nil
}

// scrapeLoop GETs url every interval until ctx ends.
func scrapeLoop(ctx context.Context, url string, every time.Duration, n, bytes, errs *atomic.Uint64) {
	cl := &http.Client{Timeout: 10 * time.Second}
	defer cl.CloseIdleConnections()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := cl.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				errs.Add(1)
			}
			continue
		}
		k, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			errs.Add(1)
			continue
		}
		n.Add(1)
		bytes.Add(uint64(k))
	}
}

// processCPU is the user+system CPU time of pid so far (Linux /proc), or
// -1 where it cannot be read.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64) // field 14: utime, clock ticks
	st, err2 := strconv.ParseInt(f[12], 10, 64) // field 15: stime
	if err1 != nil || err2 != nil {
		return -1
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks
}

package bench

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const secTable = "issue 14's table, Gomcat column (this machine)"

// TableConfig configures Table ("gomcat bench table"): the configs of the
// benches it runs in turn. Progress and InitHome are set on all of them.
type TableConfig struct {
	Replication ReplicationConfig // run twice, async and sync (SendOptions 6), SkipTransfer
	Start       StartConfig       // run for 10,000 and for 100,000 sessions
	Memory      MemoryConfig
	Balancer    BalancerConfig // Concurrency 32 unless set otherwise
	// Baseline is a gomcat binary measured beside this one wherever a
	// bench can ("before"). Default: "".
	Baseline string
	InitHome InitFunc
	Progress io.Writer
}

// DefaultTableConfig returns the benches' defaults, the balancer at 32
// workers (issue 14's -c32).
func DefaultTableConfig() TableConfig {
	c := TableConfig{Replication: DefaultReplicationConfig(), Start: DefaultStartConfig(), Memory: DefaultMemoryConfig(),
		Balancer: DefaultBalancerConfig(), Progress: io.Discard}
	c.Balancer.Concurrency = 32
	return c
}

// tableRun is one bench of the table: its name and how to run it.
type tableRun struct {
	name string
	run  func(context.Context) (*Report, error)
}

// Table runs the replication (async and sync), start (10k and 100k),
// memory and balancer benches in turn and returns a summary in issue 14's
// rows, then every bench's own report. It stops at the first bench that
// fails, returning what it has.
func Table(ctx context.Context, cfg TableConfig) ([]*Report, error) {
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	async := cfg.Replication
	async.SkipTransfer, async.BaselineExe, async.InitHome, async.Progress = true, cfg.Baseline, cfg.InitHome, cfg.Progress
	sync := async
	sync.SendOptions = 6
	s10 := cfg.Start
	s10.Sessions, s10.Baseline, s10.InitHome, s10.Progress = 10_000, cfg.Baseline, cfg.InitHome, cfg.Progress
	s100 := s10
	s100.Sessions = 100_000
	mem := cfg.Memory
	mem.Baseline, mem.InitHome, mem.Progress = cfg.Baseline, cfg.InitHome, cfg.Progress
	lb := cfg.Balancer
	lb.InitHome, lb.Progress = cfg.InitHome, cfg.Progress
	runs := []tableRun{
		{"async", func(ctx context.Context) (*Report, error) { return Replication(ctx, async) }},
		{"sync", func(ctx context.Context) (*Report, error) { return Replication(ctx, sync) }},
		{"start10k", func(ctx context.Context) (*Report, error) { return Start(ctx, s10) }},
		{"start100k", func(ctx context.Context) (*Report, error) { return Start(ctx, s100) }},
		{"memory", func(ctx context.Context) (*Report, error) { return Memory(ctx, mem) }},
		{"balancer", func(ctx context.Context) (*Report, error) { return Balancer(ctx, lb) }},
	}
	reps := map[string]*Report{}
	var all []*Report
	for _, r := range runs {
		fmt.Fprintf(cfg.Progress, "bench table: %s\n", r.name)
		rep, err := r.run(ctx)
		if rep != nil {
			reps[r.name] = rep
			all = append(all, rep)
		}
		if err != nil {
			return append([]*Report{summarize(reps)}, all...), fmt.Errorf("bench table: %s: %w", r.name, err)
		}
	}
	return append([]*Report{summarize(reps)}, all...), nil
}

// summarize picks issue 14's rows out of the benches' reports (by name:
// async, sync, start10k, start100k, memory, balancer); a bench missing or
// a row it did not produce leaves the row out.
func summarize(reps map[string]*Report) *Report {
	sum := &Report{Title: "gomcat bench table: issue 14's Gomcat column"}
	for _, r := range reps {
		sum.Machine = r.Machine
		break
	}
	add := func(metric, value string) {
		if value != "" {
			sum.Add(secTable, Row{Metric: metric, Value: value})
		}
	}
	for _, mode := range []string{"async", "sync"} {
		r := reps[mode]
		node, solo := rowValue(r, "node1 (+node2)"), rowValue(r, "standalone")
		if n, s := leadingNumber(node), leadingNumber(solo); n > 0 && s > 0 {
			v := fmt.Sprintf("%s = %.0f %% of %s", firstField(node), 100*n/s, firstField(solo))
			if ratio := strings.Fields(rowValue(r, "this binary vs the baseline binary")); len(ratio) > 0 {
				v += " · " + ratio[0] + " before"
			}
			add("/set req/s, "+mode+", vs the same node with no Cluster", v)
		}
	}
	add(`100k × 1 KiB state transfer, "received in"`, rowValue(reps["start100k"], `joining node's log "received in" (after)`))
	add("100k: joining process start → /count == 100k", rowValue(reps["start100k"], "joining node: process start → /count == 100,000 (after)"))
	add("10k: process start → /count == 10k", rowValue(reps["start10k"], "joining node: process start → /count == 10,000 (after)"))
	add("node start → first HTTP 200, cluster on (alone)", rowValue(reps["start10k"], "lone cluster node: process start → first HTTP 200 (after)"))
	add("RSS per session holding a 1 KiB value, creating node", rowValue(reps["memory"], "node1 (created the sessions), value 1.0 KiB (after)"))
	add("RSS per session holding a 1 KiB value, replica", rowValue(reps["memory"], "node2 (holds them by replication), value 1.0 KiB (after)"))
	if r := reps["balancer"]; r != nil {
		b, h, d := rowValue(r, "balancer"), rowValue(r, "haproxy"), rowValue(r, "direct")
		if nb, nh := leadingNumber(b), leadingNumber(h); nb > 0 && nh > 0 {
			add("sticky GETs through the front end, req/s", fmt.Sprintf("gomcat balancer %s vs HAProxy %s (%.0f %%) vs direct %s",
				firstField(b), firstField(h), 100*nb/nh, firstField(d)))
		}
	}
	sum.Note("not measured by gomcat bench: /get vs no Cluster, farm rollout of a 50 MiB bundle; each bench's full report follows")
	return sum
}

// rowValue is the Value of the first row of r whose Metric is metric.
func rowValue(r *Report, metric string) string {
	if r == nil {
		return ""
	}
	for _, s := range r.Sections {
		for _, row := range s.Rows {
			if row.Metric == metric {
				return row.Value
			}
		}
	}
	return ""
}

// firstField is v up to its first " · " (a rate without its latencies).
func firstField(v string) string {
	f, _, _ := strings.Cut(v, " · ")
	return strings.TrimSpace(f)
}

// leadingNumber parses the number v starts with ("14,232 req/s" → 14232).
func leadingNumber(v string) float64 {
	end := strings.IndexFunc(v, func(r rune) bool { return !(r >= '0' && r <= '9' || r == ',' || r == '.') })
	if end < 0 {
		end = len(v)
	}
	n, err := strconv.ParseFloat(strings.ReplaceAll(v[:end], ",", ""), 64)
	if err != nil {
		return 0
	}
	return n
}

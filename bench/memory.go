package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

const secMemoryPer = "memory per session holding one value (VmRSS growth over the fill ÷ sessions)"

// MemoryConfig configures Memory ("gomcat bench memory").
type MemoryConfig struct {
	// Exe is the gomcat binary measured ("after"). Default: the running
	// executable.
	Exe string
	// Baseline is another gomcat binary measured the same way ("before").
	// Default: "" (Exe only).
	Baseline string
	// Sessions created on node1 (and replicated to node2). Default: 100000.
	Sessions int
	// Size of each session's one value, bytes. Default: 1024.
	Size int
	// FillConcurrency is the number of workers of the fill. Default: 64.
	FillConcurrency int
	// InitHome creates node homes. Default: runs "Exe init".
	InitHome InitFunc
	// StartTimeout bounds a node's start and the replication of the fill.
	// Default: 90s.
	StartTimeout time.Duration
	// Progress receives one line per step. Default: io.Discard.
	Progress io.Writer
}

// DefaultMemoryConfig returns the defaults above.
func DefaultMemoryConfig() MemoryConfig {
	return MemoryConfig{Sessions: 100_000, Size: 1024, FillConcurrency: 64, StartTimeout: 90 * time.Second, Progress: io.Discard}
}

// Validate checks the fields.
func (c MemoryConfig) Validate() error {
	switch {
	case c.Sessions < 1 || c.FillConcurrency < 1:
		return fmt.Errorf("%w: sessions %d, fill concurrency %d: want at least 1", ErrConfig, c.Sessions, c.FillConcurrency)
	case c.Size < 1 || c.Size > 1<<20:
		return fmt.Errorf("%w: size %d: want 1 .. 1048576 bytes", ErrConfig, c.Size)
	case c.StartTimeout <= 0:
		return fmt.Errorf("%w: start timeout %v", ErrConfig, c.StartTimeout)
	}
	return nil
}

// Memory measures the resident memory one session costs: per binary a
// node1 + node2 cluster, node1 filled with Sessions sessions of one
// Size-byte value (each a new session), node2 holding them by
// replication; VmRSS of each before and after, divided by the sessions
// added. RSS includes the Go heap's GC headroom (GOGC=100).
func Memory(ctx context.Context, cfg MemoryConfig) (*Report, error) {
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Machine: ThisMachine(), Title: "gomcat bench memory: RSS per session (nodes launched on 127.0.0.1)"}
	exe, err := gomcatBinary(cfg.Exe)
	if err != nil {
		return rep, err
	}
	type bin struct{ label, exe string }
	bins := []bin{{"after", exe}}
	if cfg.Baseline != "" {
		bins = append([]bin{{"before", cfg.Baseline}}, bins...)
	}
	per := map[string][2]float64{}
	seed := rand.Uint64()
	for i, b := range bins {
		p, err := memoryOnce(ctx, cfg, b.exe, seed+uint64(i))
		if err != nil {
			return rep, fmt.Errorf("%s: %w", b.label, err)
		}
		per[b.label] = p
		rep.Note("%s: %s", b.label, b.exe)
	}
	for k, role := range []string{"node1 (created the sessions)", "node2 (holds them by replication)"} {
		for _, b := range bins {
			v := per[b.label][k]
			row := Row{Metric: fmt.Sprintf("%s, value %s (%s)", role, FormatBytes(int64(cfg.Size)), b.label), Value: FormatBytes(int64(v))}
			if len(bins) == 2 && b.label == "after" {
				row.Value += fmt.Sprintf(" (%.2f× before)", v/max(per["before"][k], 1))
			}
			if b.label == "after" && cfg.Size == 1024 {
				row.Goal, row.Verdict = "≤ 1.8 KB", verdict(v <= 1800)
			}
			rep.Add(secMemoryPer, row)
		}
	}
	rep.Note("%s sessions; VmRSS includes the Go heap's GC headroom (GOGC=100): the live heap per session is about half (go test -run '^$' -bench HeapPerSession -benchtime 1x ./deltamgr)",
		FormatCount(int64(cfg.Sessions)))
	return rep, nil
}

// memoryOnce runs one binary's node1 + node2 and returns the RSS bytes
// per session of each.
func memoryOnce(ctx context.Context, cfg MemoryConfig, exe string, seed uint64) ([2]float64, error) {
	var out [2]float64
	rc := DefaultReplicationConfig()
	rc.Exe, rc.InitHome, rc.StartTimeout, rc.Progress = exe, cfg.InitHome, cfg.StartTimeout, cfg.Progress
	cl, err := newCluster(rc)
	if err != nil {
		return out, err
	}
	defer cl.close()
	n1, err := cl.start(ctx, "node1", false)
	if err != nil {
		return out, err
	}
	if err := cl.ready(ctx, n1); err != nil {
		return out, err
	}
	n2, err := cl.start(ctx, "node2", false)
	if err != nil {
		return out, err
	}
	if err := cl.ready(ctx, n2); err != nil {
		return out, err
	}
	if _, err := n1.waitLog(ctx, lineMemberAdded, 15*time.Second); err != nil {
		return out, err
	}
	nodes := []*node{n1, n2}
	var before [2]int64
	for i, n := range nodes {
		if before[i], err = RSS(n.pid()); err != nil {
			return out, err
		}
	}
	fmt.Fprintf(cfg.Progress, "bench: filling %s with %d sessions of %d B\n", n1.name, cfg.Sessions, cfg.Size)
	if err := fillN(ctx, n1.url, cfg.Sessions, cfg.Size, cfg.FillConcurrency, seed); err != nil {
		return out, err
	}
	cli := NewClient(1)
	defer cli.CloseIdleConnections()
	wctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	for {
		got, err := count(wctx, cli, n2.url)
		if err == nil && got >= int64(cfg.Sessions) {
			break
		}
		if wctx.Err() != nil {
			return out, fmt.Errorf("node2 holds %d of %d sessions: %w", got, cfg.Sessions, errors.Join(err, wctx.Err()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, n := range nodes {
		after, err := RSS(n.pid())
		if err != nil {
			return out, err
		}
		out[i] = float64(after-before[i]) * 1024 / float64(cfg.Sessions)
	}
	return out, nil
}

package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

const secStart = "start → serving (process start, timed by the bench; median of the rounds)"

// StartConfig configures Start ("gomcat bench start").
type StartConfig struct {
	// Exe is the gomcat binary measured ("after"). Default: the running
	// executable.
	Exe string
	// Baseline is another gomcat binary measured in the same rounds
	// ("before"), e.g. one built from main. Default: "" (Exe only).
	Baseline string
	// Rounds per binary; each round starts one lone node and one joining
	// node per binary, the binaries in turn. Default: 3.
	Rounds int
	// Sessions held by the member the joining node joins. Default: 10000.
	Sessions int
	// Size of each session's one value, bytes. Default: 1024.
	Size int
	// FillConcurrency is the number of workers of the fill. Default: 64.
	FillConcurrency int
	// Poll is the pause between two GETs of a starting node. Default: 2ms.
	Poll time.Duration
	// InitHome creates node homes. Default: runs "Exe init".
	InitHome InitFunc
	// StartTimeout bounds one start, state transfer included. Default: 90s.
	StartTimeout time.Duration
	// Progress receives one line per step. Default: io.Discard.
	Progress io.Writer
}

// DefaultStartConfig returns the defaults above.
func DefaultStartConfig() StartConfig {
	return StartConfig{Rounds: 3, Sessions: 10_000, Size: 1024, FillConcurrency: 64, Poll: 2 * time.Millisecond,
		StartTimeout: 90 * time.Second, Progress: io.Discard}
}

// Validate checks the fields.
func (c StartConfig) Validate() error {
	switch {
	case c.Rounds < 1 || c.Sessions < 1 || c.FillConcurrency < 1:
		return fmt.Errorf("%w: rounds %d, sessions %d, fill concurrency %d: want at least 1", ErrConfig, c.Rounds, c.Sessions, c.FillConcurrency)
	case c.Size < 1 || c.Size > 1<<20:
		return fmt.Errorf("%w: size %d: want 1 .. 1048576 bytes", ErrConfig, c.Size)
	case c.Poll < 0 || c.StartTimeout <= 0:
		return fmt.Errorf("%w: poll %v, start timeout %v", ErrConfig, c.Poll, c.StartTimeout)
	}
	return nil
}

// startTimes are one binary's samples.
type startTimes struct {
	label, exe      string
	cl              *cluster
	member          *node
	lone, join, all []time.Duration // lone: first 200; join: first 200; all: /count == Sessions
	recv            []time.Duration // the joining node's own "received in"
}

// Start measures how fast a node serves: a lone cluster node (its own
// domain, nobody answers) from process start to its first HTTP 200, and a
// node joining a member that holds Sessions sessions from process start
// to its first 200 and to /count == Sessions (the state transfer done).
// With a Baseline binary both binaries run in the same interleaved rounds,
// each with its own member (own multicast port and domain).
func Start(ctx context.Context, cfg StartConfig) (*Report, error) {
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Machine: ThisMachine(), Title: "gomcat bench start: process start → serving (nodes launched on 127.0.0.1)"}
	exe, err := gomcatBinary(cfg.Exe)
	if err != nil {
		return rep, err
	}
	bins := []*startTimes{{label: "after", exe: exe}}
	if cfg.Baseline != "" {
		bins = append([]*startTimes{{label: "before", exe: cfg.Baseline}}, bins...)
	}
	seed := rand.Uint64()
	for i, b := range bins {
		rc := DefaultReplicationConfig()
		rc.Exe, rc.InitHome, rc.StartTimeout, rc.Progress = b.exe, cfg.InitHome, cfg.StartTimeout, cfg.Progress
		cl, err := newCluster(rc)
		if err != nil {
			return rep, err
		}
		defer cl.close()
		b.cl = cl
		if b.member, err = cl.start(ctx, "member", false); err != nil {
			return rep, err
		}
		if err := cl.ready(ctx, b.member); err != nil {
			return rep, err
		}
		if err := fillN(ctx, b.member.url, cfg.Sessions, cfg.Size, cfg.FillConcurrency, seed+uint64(i)); err != nil {
			return rep, fmt.Errorf("%s: %w", b.label, err)
		}
		rep.Note("%s: %s (member filled with %s sessions × %s; multicast port %d, domain %s)", b.label, b.exe,
			FormatCount(int64(cfg.Sessions)), FormatBytes(int64(cfg.Size)), cl.mcast, cl.domain)
	}
	for r := range cfg.Rounds {
		for k := range bins {
			b := bins[(r+k)%len(bins)]
			lone, _, _, err := startOnce(ctx, cfg, b.cl, fmt.Sprintf("lone%d", r), b.cl.domain+"-lone", 0)
			if err != nil {
				return rep, fmt.Errorf("%s lone start: %w", b.label, err)
			}
			first, all, recv, err := startOnce(ctx, cfg, b.cl, fmt.Sprintf("join%d", r), b.cl.domain, int64(cfg.Sessions))
			if err != nil {
				return rep, fmt.Errorf("%s joining start: %w", b.label, err)
			}
			b.lone, b.join, b.all, b.recv = append(b.lone, lone), append(b.join, first), append(b.all, all), append(b.recv, recv)
			fmt.Fprintf(cfg.Progress, "bench: round %d/%d %-6s lone→200 %s · joining→200 %s · joining→/count==%d %s\n",
				r+1, cfg.Rounds, b.label, FormatDuration(lone), FormatDuration(first), cfg.Sessions, FormatDuration(all))
		}
	}
	var countGoal, recvGoal time.Duration // issue 14's rows: 10k to serve, 100k × 1 KiB received
	switch {
	case cfg.Sessions == 10_000:
		countGoal = 500 * time.Millisecond
	case cfg.Sessions == 100_000 && cfg.Size == 1024:
		countGoal, recvGoal = 1500*time.Millisecond, time.Second
	}
	rows := []struct {
		metric string
		pick   func(*startTimes) []time.Duration
		goal   time.Duration
	}{
		{"lone cluster node: process start → first HTTP 200", func(b *startTimes) []time.Duration { return b.lone }, 300 * time.Millisecond},
		{"joining node: process start → first HTTP 200", func(b *startTimes) []time.Duration { return b.join }, 0},
		{fmt.Sprintf("joining node: process start → /count == %s", FormatCount(int64(cfg.Sessions))), func(b *startTimes) []time.Duration { return b.all }, countGoal},
		{`joining node's log "received in"`, func(b *startTimes) []time.Duration { return b.recv },
			recvGoal},
	}
	for _, row := range rows {
		for _, b := range bins {
			med := medianDuration(row.pick(b))
			out := Row{Metric: row.metric + " (" + b.label + ")", Value: FormatDuration(med)}
			if len(bins) == 2 && b.label == "after" {
				before := medianDuration(row.pick(bins[0]))
				out.Value += fmt.Sprintf(" (%.2f× before)", float64(med)/float64(max(before, 1)))
			}
			if row.goal > 0 && b.label == "after" {
				out.Goal, out.Verdict = "≤ "+FormatDuration(row.goal), verdict(med <= row.goal)
			}
			rep.Add(secStart, out)
		}
	}
	rep.Note("each start is a new process on a fresh home, stopped (SIGTERM) before the next; the bench GETs /count every %v from the moment it starts the process", cfg.Poll)
	return rep, nil
}

// startOnce launches a cluster node called name in domain and returns the
// time from process start to its first 200 on /count and, with want > 0,
// to /count == want, and the "received in" of its log (0 if none). The
// node is stopped before it returns.
func startOnce(ctx context.Context, cfg StartConfig, cl *cluster, name, domain string, want int64) (first, all, recv time.Duration, err error) {
	n, err := cl.startWith(ctx, name, false, "", domain)
	if err != nil {
		return 0, 0, 0, err
	}
	defer n.stop(10 * time.Second)
	cli := NewClient(1)
	defer cli.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	for {
		got, err := count(ctx, cli, n.url)
		if err == nil && first == 0 {
			first = time.Since(n.began)
		}
		if err == nil && got >= want {
			all = time.Since(n.began)
			if want == 0 {
				return first, all, 0, nil
			}
			if l, err := n.waitLog(ctx, lineReceived, time.Second); err == nil { // the log pipe may lag the HTTP answer
				if m := reReceived.FindStringSubmatch(l.Msg); m != nil {
					ms, _ := strconv.Atoi(m[1])
					recv = time.Duration(ms) * time.Millisecond
				}
			}
			return first, all, recv, nil
		}
		select {
		case <-ctx.Done():
			return 0, 0, 0, fmt.Errorf("%s: %w (last: %d sessions, %v); last lines:\n  %v", name, ctx.Err(), got, err, n.log.tail(8))
		case <-n.exited:
			return 0, 0, 0, fmt.Errorf("%s exited: %v; last lines:\n  %v", name, n.exitErr, n.log.tail(8))
		case <-time.After(cfg.Poll):
		}
	}
}

// fillN creates sessions sessions of one size-byte value on base.
func fillN(ctx context.Context, base string, sessions, size, conc int, seed uint64) error {
	cli := NewClient(conc)
	defer cli.CloseIdleConnections()
	res, err := Run(ctx, Load{Concurrency: conc, Requests: int64(sessions)}, fillOps(cli, base, size, seed))
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	if res.Errors > 0 {
		return fmt.Errorf("fill: %d of %d requests failed, first: %w", res.Errors, sessions, res.FirstErr)
	}
	return nil
}

// medianDuration is the median of ds (the lower middle one), 0 if empty.
func medianDuration(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.SortFunc(s, cmp.Compare)
	return s[(len(s)-1)/2]
}

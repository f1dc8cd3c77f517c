package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/bench"
	"github.com/gomcat/gomcat/conf"
)

func benchCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "bench",
		Usage: "measure replication, the balancer, AJP and BackupManager (figures, not pass/fail: exits 0 unless the bench itself fails)",
		Subcommands: []*ucli.Command{
			benchReplicationCommand(),
			benchBalancerCommand(),
			benchAJPCommand(), // bench_ajp.go
			benchMetricsCommand(),
			benchStartCommand(),    // bench_start.go
			benchMemoryCommand(),   // bench_memory.go
			benchTableCommand(),    // bench_table.go
			benchSessionsCommand(), // bench_sessions.go
			benchBackupCommand(),   // bench_backup.go
		},
	}
}

func benchReplicationCommand() *ucli.Command {
	d := bench.DefaultReplicationConfig()
	return &ucli.Command{
		Name:  "replication",
		Usage: "/set throughput with and without replication, replication latency, state transfer time, RSS per session",
		Description: "With --target and --peer: measures running nodes (--baseline: a node without <Cluster>, for the overhead).\n" +
			"Without: launches its own nodes from this binary on 127.0.0.1 (multicast bound to 127.0.0.1, TTL 0,\n" +
			"a random port and domain): a standalone node, node1 + node2, then node3 joining a filled node1.\n" +
			"The homes live in a temporary directory removed at the end.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "target", Usage: "URL of the node that takes the writes (with --peer)"},
			&ucli.StringFlag{Name: "peer", Usage: "URL of the node that must see them (with --target)"},
			&ucli.StringFlag{Name: "baseline", Usage: "URL of a node without a Cluster, for the replication overhead (with --target)"},
			&ucli.DurationFlag{Name: "duration", Value: d.Duration, Usage: "/set throughput measure per node"},
			&ucli.DurationFlag{Name: "round", Value: d.Round, Usage: "length of one interleaved round"},
			&ucli.DurationFlag{Name: "warmup", Value: d.Warmup, Usage: "warmup per node, not measured"},
			&ucli.IntFlag{Name: "concurrency", Value: d.Concurrency, Usage: "workers of the throughput measure, each with its own session"},
			&ucli.IntFlag{Name: "samples", Value: d.Samples, Usage: "replication latency samples"},
			&ucli.DurationFlag{Name: "poll", Value: d.Poll, Usage: "pause between two reads of the peer"},
			&ucli.IntFlag{Name: "sessions", Value: d.Sessions, Usage: "sessions filled before the state transfer"},
			&ucli.IntFlag{Name: "fill-concurrency", Value: d.FillConcurrency, Usage: "workers of the fill"},
			&ucli.IntFlag{Name: "size", Value: d.Size, Usage: "bytes of each value written"},
			&ucli.BoolFlag{Name: "skip-transfer", Usage: "skip the fill, the state transfer and the memory figures"},
			&ucli.BoolFlag{Name: "sealed", Usage: "also measure a pair with a cluster key in the same run: the cost of sealing"},
			&ucli.StringFlag{Name: "baseline-binary", Usage: "another gomcat binary whose own pair is measured in the same /set rounds (\"before\")"},
			&ucli.IntFlag{Name: "send-options", Usage: "channelSendOptions of the clustered nodes (6: sync); 0 keeps the home's 8 (async)"},
		},
		Action: func(c *ucli.Context) error {
			cfg := bench.DefaultReplicationConfig()
			cfg.Target, cfg.Peer, cfg.Baseline = c.String("target"), c.String("peer"), c.String("baseline")
			cfg.Duration, cfg.Round, cfg.Warmup = c.Duration("duration"), c.Duration("round"), c.Duration("warmup")
			cfg.Concurrency, cfg.Samples, cfg.Poll = c.Int("concurrency"), c.Int("samples"), c.Duration("poll")
			cfg.Sessions, cfg.FillConcurrency, cfg.Size = c.Int("sessions"), c.Int("fill-concurrency"), c.Int("size")
			cfg.SkipTransfer, cfg.Sealed = c.Bool("skip-transfer"), c.Bool("sealed")
			cfg.BaselineExe, cfg.SendOptions = c.String("baseline-binary"), c.Int("send-options")
			cfg.InitHome = benchInitHome
			cfg.Progress = c.App.ErrWriter
			rep, err := bench.Replication(c.Context, cfg)
			return printBenchReport(c, rep, err)
		},
	}
}

func benchBalancerCommand() *ucli.Command {
	d := bench.DefaultBalancerConfig()
	return &ucli.Command{
		Name:  "balancer",
		Usage: "small GETs with a session cookie: a node directly vs gomcat balancer vs HAProxy, interleaved",
		Description: "With URLs: measures those. Without: launches node1 + node2 from this binary, \"gomcat balancer\"\n" +
			"with both as backends and, if installed, haproxy (config from gomcat lbconfig's generator), all on 127.0.0.1.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "direct", Usage: "URL of one node"},
			&ucli.StringFlag{Name: "balancer", Usage: "URL of gomcat balancer in front of the nodes"},
			&ucli.StringFlag{Name: "haproxy", Usage: "URL of HAProxy in front of the same nodes"},
			&ucli.DurationFlag{Name: "duration", Value: d.Duration, Usage: "measure per target"},
			&ucli.DurationFlag{Name: "round", Value: d.Round, Usage: "length of one interleaved round"},
			&ucli.DurationFlag{Name: "warmup", Value: d.Warmup, Usage: "warmup per target, not measured"},
			&ucli.IntFlag{Name: "concurrency", Value: d.Concurrency, Usage: "workers, each with its own session"},
			&ucli.StringFlag{Name: "haproxy-bin", Value: "haproxy", Usage: "haproxy binary of the self-contained mode"},
		},
		Action: func(c *ucli.Context) error {
			cfg := bench.DefaultBalancerConfig()
			cfg.Direct, cfg.Balancer, cfg.HAProxy = c.String("direct"), c.String("balancer"), c.String("haproxy")
			cfg.Duration, cfg.Round, cfg.Warmup = c.Duration("duration"), c.Duration("round"), c.Duration("warmup")
			cfg.Concurrency, cfg.HAProxyBin = c.Int("concurrency"), c.String("haproxy-bin")
			cfg.InitHome = benchInitHome
			cfg.Progress = c.App.ErrWriter
			rep, err := bench.Balancer(c.Context, cfg)
			return printBenchReport(c, rep, err)
		},
	}
}

// printBenchReport prints what was measured, even when the bench stopped
// early, and returns err.
func printBenchReport(c *ucli.Context, rep *bench.Report, err error) error {
	if rep != nil && (len(rep.Sections) > 0 || err == nil) {
		rep.Command = benchCommandLine(c)
		fmt.Fprintln(c.App.Writer)
		if _, werr := rep.WriteTo(c.App.Writer); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// benchCommandLine is the command as run, with the flags that were set.
func benchCommandLine(c *ucli.Context) string {
	parts := []string{"gomcat", "bench", c.Command.Name}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if c.IsSet(name) {
			if _, isBool := f.(*ucli.BoolFlag); isBool {
				parts = append(parts, "--"+name)
			} else {
				parts = append(parts, "--"+name, fmt.Sprint(c.Value(name)))
			}
		}
	}
	return strings.Join(parts, " ")
}

// benchInitHome creates a bench node home as "gomcat init" does, with
// the shutdown port off and multicast on loopback, TTL 0; a standalone
// home has no <Cluster>.
func benchInitHome(_ context.Context, dir string, h bench.HomeParams) error {
	p := conf.DefaultTemplateParams()
	p.JvmRoute, p.HTTPPort, p.ShutdownPort, p.ReceiverPort = h.JvmRoute, h.HTTPPort, -1, h.ReceiverPort
	p.McastAddress, p.McastPort, p.McastBind, p.McastTTL = h.McastAddress, h.McastPort, "127.0.0.1", 0
	p.Domain, p.Standalone, p.ClusterKey = h.Domain, h.Standalone, h.ClusterKey
	p.AdminPort = -1
	if h.AdminPort > 0 {
		p.AdminPort = h.AdminPort
	}
	return initHome(dir, p, true)
}

func benchMetricsCommand() *ucli.Command {
	d := bench.DefaultReplicationConfig()
	return &ucli.Command{
		Name:  "metrics",
		Usage: "/set throughput with the admin listener (metrics, scraped) vs without, in one run",
		Description: "Launches two clusters of node1+node2 from this binary on 127.0.0.1, one with admin listeners\n" +
			"(its node1 scraped every --scrape), one without, and measures /set on both node1s in interleaved rounds.",
		Flags: []ucli.Flag{
			&ucli.DurationFlag{Name: "duration", Value: d.Duration, Usage: "/set throughput measure per node"},
			&ucli.DurationFlag{Name: "round", Value: d.Round, Usage: "length of one interleaved round"},
			&ucli.DurationFlag{Name: "warmup", Value: d.Warmup, Usage: "warmup per node, not measured"},
			&ucli.IntFlag{Name: "concurrency", Value: d.Concurrency, Usage: "workers, each with its own session"},
			&ucli.IntFlag{Name: "size", Value: d.Size, Usage: "bytes of each value written"},
			&ucli.DurationFlag{Name: "scrape", Value: time.Second, Usage: "how often the metrics node's /metrics is scraped during the measure"},
			&ucli.BoolFlag{Name: "control", Usage: "A/A run: both clusters without admin listeners (the machine's noise floor)"},
		},
		Action: func(c *ucli.Context) error {
			cfg := bench.DefaultReplicationConfig()
			cfg.Duration, cfg.Round, cfg.Warmup = c.Duration("duration"), c.Duration("round"), c.Duration("warmup")
			cfg.Concurrency, cfg.Size = c.Int("concurrency"), c.Int("size")
			cfg.InitHome = benchInitHome
			cfg.Progress = c.App.ErrWriter
			rep, err := bench.MetricsOverhead(c.Context, cfg, c.Duration("scrape"), c.Bool("control"))
			return printBenchReport(c, rep, err)
		},
	}
}

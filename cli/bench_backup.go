package cli

import (
	"fmt"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/bench"
)

func benchBackupCommand() *ucli.Command {
	d := bench.DefaultBackupConfig()
	return &ucli.Command{
		Name:  "backup",
		Usage: "DeltaManager vs BackupManager on 2, 4, 8 nodes: RSS per node, replication bytes per /set, /set throughput, failover of one node",
		Description: "Per cluster size and manager, launches the nodes from this binary on 127.0.0.1 (admin listeners on 127.0.0.1),\n" +
			"fills --sessions sessions of one --size-byte value through every node, reports VmRSS growth per node,\n" +
			"transport bytes per /set and /set throughput with every node taking writes, then kills -9 the last node\n" +
			"and times the first 200 for one of its sessions on node1.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "nodes", Value: joinInts(d.Nodes), Usage: "cluster sizes measured, comma-separated"},
			&ucli.IntFlag{Name: "sessions", Value: d.Sessions, Usage: "sessions over the whole cluster (100000 allowed)"},
			&ucli.IntFlag{Name: "size", Value: d.Size, Usage: "bytes of each session's value"},
			&ucli.IntFlag{Name: "backups", Value: d.Backups, Usage: "BackupManager backups"},
			&ucli.IntFlag{Name: "fill-concurrency", Value: d.FillConcurrency, Usage: "workers of the fill (per node)"},
			&ucli.DurationFlag{Name: "duration", Value: d.Duration, Usage: "/set throughput measure per cluster"},
			&ucli.IntFlag{Name: "concurrency", Value: d.Concurrency, Usage: "/set workers per node, each with its own session"},
		},
		Action: func(c *ucli.Context) error {
			cfg := bench.DefaultBackupConfig()
			nodes, err := parseInts(c.String("nodes"))
			if err != nil {
				return fmt.Errorf("bench backup: --nodes: %w", err)
			}
			cfg.Nodes, cfg.Sessions, cfg.Size = nodes, c.Int("sessions"), c.Int("size")
			cfg.Backups, cfg.FillConcurrency = c.Int("backups"), c.Int("fill-concurrency")
			cfg.Duration, cfg.Concurrency = c.Duration("duration"), c.Int("concurrency")
			cfg.InitHome = benchInitHome
			cfg.Progress = c.App.ErrWriter
			rep, err := bench.Backup(c.Context, cfg)
			return printBenchReport(c, rep, err)
		},
	}
}

func joinInts(ns []int) string {
	var parts []string
	for _, n := range ns {
		parts = append(parts, strconv.Itoa(n))
	}
	return strings.Join(parts, ",")
}

// parseInts reads "2,4,8".
func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("%q is not a comma-separated list of numbers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/bench"
)

func benchTableCommand() *ucli.Command {
	d := bench.DefaultTableConfig()
	return &ucli.Command{
		Name:  "table",
		Usage: "issue 14's Gomcat column in one command: replication async and sync, start → serving (10k, 100k), RSS per session, balancer vs HAProxy at -c32",
		Description: "Runs the replication (async, then sync), start (10,000 then 100,000 sessions), memory and balancer\n" +
			"benches in turn (a few minutes), prints a summary in the issue's rows, then each bench's own report.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "baseline-binary", Usage: "another gomcat binary measured beside this one wherever a bench can (\"before\")"},
			&ucli.DurationFlag{Name: "duration", Value: d.Replication.Duration, Usage: "throughput measure per target (replication and balancer)"},
			&ucli.IntFlag{Name: "rounds", Value: d.Start.Rounds, Usage: "starts of each kind per binary (start)"},
		},
		Action: func(c *ucli.Context) error {
			cfg := bench.DefaultTableConfig()
			cfg.Baseline = c.String("baseline-binary")
			cfg.Replication.Duration, cfg.Balancer.Duration = c.Duration("duration"), c.Duration("duration")
			cfg.Start.Rounds = c.Int("rounds")
			cfg.InitHome = benchInitHome
			cfg.Progress = c.App.ErrWriter
			reps, err := bench.Table(c.Context, cfg)
			for i, rep := range reps {
				if i == 0 {
					rep.Command = benchCommandLine(c)
				}
				fmt.Fprintln(c.App.Writer)
				if _, werr := rep.WriteTo(c.App.Writer); werr != nil && err == nil {
					err = werr
				}
			}
			return err
		},
	}
}

package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/gomcat/gomcat/bench"
)

func benchMemoryCommand() *ucli.Command {
	d := bench.DefaultMemoryConfig()
	return &ucli.Command{
		Name:  "memory",
		Usage: "RSS per session on the node that created it and on the member that holds it by replication",
		Description: "Launches node1 + node2 from this binary (and from --baseline-binary, one after the other) on 127.0.0.1,\n" +
			"fills node1 with --sessions sessions of one --size-byte value and reports VmRSS growth ÷ sessions on both.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "baseline-binary", Usage: "another gomcat binary measured the same way (\"before\")"},
			&ucli.IntFlag{Name: "sessions", Value: d.Sessions, Usage: "sessions created"},
			&ucli.IntFlag{Name: "size", Value: d.Size, Usage: "bytes of each session's value"},
			&ucli.IntFlag{Name: "fill-concurrency", Value: d.FillConcurrency, Usage: "workers of the fill"},
		},
		Action: func(c *ucli.Context) error {
			cfg := bench.DefaultMemoryConfig()
			cfg.Baseline, cfg.Sessions = c.String("baseline-binary"), c.Int("sessions")
			cfg.Size, cfg.FillConcurrency = c.Int("size"), c.Int("fill-concurrency")
			cfg.InitHome = benchInitHome
			cfg.Progress = c.App.ErrWriter
			rep, err := bench.Memory(c.Context, cfg)
			return printBenchReport(c, rep, err)
		},
	}
}
